#!/usr/bin/env bash
# Probes (issue 10, "Confirm or revert, and probes"): before changing
# anything apply picks the probes that pass (the main table's default
# gateway, --probe ADDR[:PORT]); a plan that would cut the host off — a wrong
# management gateway, an address in the wrong subnet, or the wrong address
# in the right one (the router forwards only for 10.0.0.5) — fails its probe
# after the change and is rolled back, naming the probe, leaving the host
# exactly as it was and reachable. A probe that fails before is reported and
# not used; --no-probes really does without.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mgmt_lib.sh"

good=$(mgmt_plan good "management { nic = eth0; address = 10.0.0.5/24; gateway = 10.0.0.1; }")
wrong_gw=$(mgmt_plan wrong-gw "management { nic = eth0; address = 10.0.0.5/24; gateway = 10.0.0.9; }")
wrong_net=$(mgmt_plan wrong-net "management { nic = eth0; address = 10.0.9.5/24; gateway = 10.0.9.1; }")
wrong_addr=$(mgmt_plan wrong-addr "management { nic = eth0; address = 10.0.0.6/24; gateway = 10.0.0.1; }")
empty=$NETDSL_STATE_DIR/empty.yaml
printf 'format: 1\nhost: hv1\n' >"$empty"

mgmt_topology
# The operator's firewall: from the host's subnet only the management address is forwarded.
ip netns exec "$RTR" nft -f - <<'EOF'
table inet acl {
  chain forward { type filter hook forward priority 0; policy accept;
    iifname "r-h" ip saddr != 10.0.0.5 drop
  }
}
EOF
listen "$HOST" 7000
listen "$PEER" 7001
before=$(mdump "$HOST")

# rejected PLAN PROBE-TEXT [APPLY ARGS...]: the apply fails its probe and rolls back exactly.
rejected() {
  local plan=$1 want=$2 err after
  shift 2
  err=$("$NETDSL" apply "$plan" --netns "$HOST" "$@" 2>&1) && fail "apply of $(basename "$(dirname "$(dirname "$(dirname "$plan")")")") succeeded: $err"
  echo "$err"
  grep -qF "$want" <<<"$err" || fail "the error does not name the probe ($want): $err"
  grep -q "rolled back .* is as it was" <<<"$err" || fail "no rollback reported: $err"
  after=$(mdump "$HOST")
  if [[ "$before" != "$after" ]]; then
    diff <(echo "$before") <(echo "$after") || true
    fail "the host is not as it was after the rejected apply"
  fi
  reach "$PEER" 10.0.0.5 7000 || fail "the peer does not reach the host after the rollback"
}

rejected "$wrong_gw" "probe \`default gateway 10.0.0.1\` passed before the apply and fails after it (the default route now goes via 10.0.0.9"
# An address in another subnet: eth0's static route via 10.0.0.1 cannot follow
# onto the bridge, and the move fails before any probe runs (still all or nothing).
err=$("$NETDSL" apply "$wrong_net" --netns "$HOST" 2>&1) && fail "apply of wrong-net succeeded"
grep -q "replace route 10.50.0.0/16 table 254 dev \`nd-sw-[0-9a-f]*\` via 10.0.0.1: Nexthop has invalid gateway" <<<"$err" ||
  fail "unexpected error: $err"
[[ "$before" == "$(mdump "$HOST")" ]] || fail "the host is not as it was after the failed move"
# Without such routes, the probe of the default gateway catches it.
ip -n "$HOST" route del 10.50.0.0/16
ip -n "$HOST" -6 route del 2001:db8:99::/48
before=$(mdump "$HOST")
rejected "$wrong_net" "probe \`default gateway 10.0.0.1\` passed before the apply and fails after it (the default route now goes via 10.0.9.1"
rejected "$wrong_addr" "probe \`--probe 10.1.0.2:7001\` passed before the apply and fails after it" --probe 10.1.0.2:7001

# A probe that fails before is reported and not used; the right plan goes through.
out=$("$NETDSL" apply "$good" --netns "$HOST" --probe 10.1.0.2:7999 --probe 10.1.0.2:7001 --stats 2>&1) ||
  fail "the right plan was refused: $out"
# Both default gateways (IPv4, and IPv6 via the router's fe80:: address) and the listening peer.
grep -q "stats: 3 probes pass before the apply, 1 do not" <<<"$out" || fail "probes used: $out"
grep -q "note: probe \`--probe 10.1.0.2:7999\` fails before the apply" <<<"$out" || fail "no note on the failing probe: $out"
reach "$PEER" 10.0.0.5 7000 || fail "the peer does not reach the host after the right plan"
expect_rc 0 "$NETDSL" plan "$good" --netns "$HOST"
# Dropping the switch gives eth0 the declared settings (as Hyper-V gives a
# removed switch's management settings back to the NIC): still reachable.
expect_rc 0 "$NETDSL" apply "$empty" --netns "$HOST"
reach "$PEER" 10.0.0.5 7000 || fail "the peer does not reach the host once the switch is gone"
addrs=$(ip -n "$HOST" -o addr show dev eth0)
grep -q 'inet 10.0.0.5/24' <<<"$addrs" || fail "eth0 did not get the management address: $addrs"
expect_rc 0 "$NETDSL" plan "$empty" --netns "$HOST"

# Without probes nothing stops the wrong gateway: they are what protects the host.
mgmt_topology
listen "$HOST" 7000
listen "$PEER" 7001
reach "$PEER" 10.0.0.5 7000 || fail "no reach in the fresh topology"
expect_rc 0 "$NETDSL" apply "$wrong_gw" --netns "$HOST" --no-probes
reach "$PEER" 10.0.0.5 7000 && fail "the wrong gateway did not cut the host off (the test proves nothing)"
echo "PASS"
