#!/usr/bin/env bash
# Objects netdsl does not own are never touched: a host bridge with its
# address and route, a link with the owner prefix but no marker (reported as
# not owned), a foreign nft table. A plan that needs such a name is refused.
source "$(dirname "$0")/lib.sh"
mkns h
ns=$P-h
ip -n "$ns" link add br-host type bridge
ip -n "$ns" link set br-host up
ip -n "$ns" addr add 172.16.0.1/24 dev br-host
ip -n "$ns" route add 172.17.0.0/24 via 172.16.0.254 dev br-host
ip -n "$ns" link add nd-foreign type bridge          # the prefix, but no alias marker
ip -n "$ns" addr add 172.18.0.1/24 dev nd-foreign
ip netns exec "$ns" nft add table inet hostfw
ip netns exec "$ns" nft add chain inet hostfw input '{ type filter hook input priority 0; policy accept; }'

foreign() {
  ip -n "$ns" -d -o link show br-host | sed -E 's/^[0-9]+: //; s/ (hello|tcn|topology_change|gc)_timer +[0-9.]+//g'
  ip -n "$ns" -d -o link show nd-foreign | sed -E 's/^[0-9]+: //; s/ (hello|tcn|topology_change|gc)_timer +[0-9.]+//g'
  ip -n "$ns" -o addr show dev br-host | sed -E 's/^[0-9]+: //'
  ip -n "$ns" -o addr show dev nd-foreign | sed -E 's/^[0-9]+: //'
  ip -n "$ns" route show dev br-host
  ip -n "$ns" route show dev nd-foreign
  ip netns exec "$ns" nft list table inet hostfw
}
before=$(foreign)
out=$("$NETDSL" apply "$FIXTURES/basic.yaml" --netns "$ns" 2>&1) || fail "apply failed: $out"
grep -q "link \`nd-foreign\` has the \`nd\` prefix but not the \`netdsl\` alias; not owned, left alone" <<<"$out" ||
  fail "no not-owned warning: $out"
expect_rc 0 "$NETDSL" plan "$FIXTURES/basic.yaml" --netns "$ns" >/dev/null 2>&1
# Switching to another plan deletes owned objects only.
expect_rc 0 "$NETDSL" apply "$FIXTURES/basic-v2.yaml" --netns "$ns" --allow-disruptive >/dev/null 2>&1
after=$(foreign)
[[ "$before" == "$after" ]] ||
  { diff <(echo "$before") <(echo "$after") || true; fail "non-owned objects changed"; }

# A plan that would create a link whose name a non-owned link already has.
cat >"$NETDSL_STATE_DIR/conflict.yaml" <<'YAML'
format: 1
host: host01
links:
  - {name: nd-foreign, kind: bridge, mtu: 1500}
YAML
snapshot=$(dump "$ns")
rc=0
err=$("$NETDSL" apply "$NETDSL_STATE_DIR/conflict.yaml" --netns "$ns" 2>&1) || rc=$?
[[ $rc -eq 1 ]] || fail "conflicting apply exited $rc, expected 1"
grep -q "link \`nd-foreign\` exists but is not owned by netdsl" <<<"$err" || fail "conflict not reported: $err"
[[ "$snapshot" == "$(dump "$ns")" ]] || fail "a refused apply changed something"
expect_rc 1 "$NETDSL" plan "$NETDSL_STATE_DIR/conflict.yaml" --netns "$ns"
echo "PASS"
