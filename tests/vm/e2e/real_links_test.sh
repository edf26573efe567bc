#!/usr/bin/env bash
# The link kinds this machine's kernel lacks (tests/e2e/missing_feature_test.sh
# proves apply refuses them there) applied for real on the 6.1 kernel: bond
# (802.3ad, layer3+4, miimon, with an adopted NIC that is up), vlan, vrf,
# gretap (key, local, remote, an isolated bridge port). The kernel shows every
# attribute the plan asked for; plan is in sync and a second apply a no-op;
# a failure injected at every step, and a kill -9 at every step followed by
# recovery, leave the namespace exactly as it was; hand-made drift (the bond
# released, the gretap not isolated) is named by plan and repaired.
source "$(dirname "$0")/lib.sh"
Y=$(cd "$(dirname "$0")" && pwd)/fixtures/real-links.yaml
require_link bond ndq-bond type bond
require_link vrf ndq-vrf type vrf table 7
require_link gretap ndq-gretap type gretap key 1  # (no key, no remote: the fallback gretap0's, EEXIST)
mkns h
ns=$P-h
ip -n "$ns" link add eth0 type veth peer name eth0p
ip -n "$ns" link set eth0 up

steps_of() { "$NETDSL" apply "$Y" --netns "$ns" --dry-run | sed -nE 's/.* in ([0-9]+) steps?$/\1/p'; }
before=$(dump "$ns")
n=$(steps_of)
[[ -n $n && $n -ge 5 ]] || fail "expected a multi-step apply, got '$n'"
for k in $(seq 1 "$n"); do
  err=$(NETDSL_FAULT_AT_STEP=$k "$NETDSL" apply "$Y" --netns "$ns" 2>&1) && fail "apply with a fault at step $k succeeded"
  grep -q "error: step $k/$n (" <<<"$err" || fail "step $k did not fail as injected: $err"
  [[ "$before" == "$(dump "$ns")" ]] || { diff <(echo "$before") <(dump "$ns") || true; fail "state differs after a fault at step $k"; }
done
echo "a failure at each of $n steps rolled back exactly"
for k in $(seq 1 "$n"); do
  rc=0
  NETDSL_KILL_AT_STEP=$k "$NETDSL" apply "$Y" --netns "$ns" >/dev/null 2>&1 || rc=$?
  [[ $rc -eq 137 ]] || fail "apply with NETDSL_KILL_AT_STEP=$k exited $rc, expected 137"
  printf 'format: 1\nhost: host01\n' >"$NETDSL_STATE_DIR/empty.yaml"
  out=$("$NETDSL" apply "$NETDSL_STATE_DIR/empty.yaml" --netns "$ns" 2>&1) || fail "recovery after a kill at step $k failed: $out"
  grep -q "was rolled back" <<<"$out" || fail "recovery not reported after a kill at step $k: $out"
  [[ "$before" == "$(dump "$ns")" ]] || { diff <(echo "$before") <(dump "$ns") || true; fail "state differs after recovering a kill at step $k"; }
done
echo "a kill -9 at each of $n steps recovered exactly"

expect_rc 0 "$NETDSL" apply "$Y" --netns "$ns" >/dev/null
expect_rc 0 "$NETDSL" plan "$Y" --netns "$ns" >/dev/null
out=$("$NETDSL" apply "$Y" --netns "$ns" --stats 2>&1)
grep -q "stats: 0 mutating netlink requests" <<<"$out" || fail "second apply was not a no-op: $out"
link() { ip -n "$ns" -d -o link show "$1"; }
want() {  # LINK REGEX WHAT
  link "$1" | grep -qE -- "$2" || fail "$1: $3 not as planned: $(link "$1")"
}
want nd-bo 'master nd-sw ' "master"
want nd-bo 'bond mode 802\.3ad .*miimon 100 .*xmit_hash_policy layer3\+4 ' "bond mode, miimon, hash policy"
want eth0 '[<,]UP[,>].* master nd-bo ' "adopted NIC (enslaved and up)"
want nd-v20 '^[0-9]+: nd-v20@nd-sw: ' "vlan lower link"
want nd-v20 'vlan protocol 802\.1Q id 20 ' "vlan id"
want nd-vrf1001 'vrf table 1001 ' "vrf table"
want nd-br4096 'master nd-vrf1001 ' "vrf member"
want nd-g1 'gretap remote 192\.168\.20\.11 local 192\.168\.20\.10 .*ikey 0\.16\.0\.0 okey 0\.16\.0\.0 ' "gretap remote, local, keys (1048576)"
want nd-g1 'master nd-br4096 .*isolated on ' "isolated bridge port"
ip -n "$ns" route show table 1001 | grep -q '^10\.0\.9\.0/24 via 10\.0\.1\.254 dev nd-br4096' || fail "route in table 1001 missing: $(ip -n "$ns" route show table 1001)"
ip -n "$ns" -o addr show dev nd-v20 | grep -q '192\.168\.20\.10/24' || fail "address on the vlan device missing"
echo "the kernel shows every planned attribute of bond, vlan, vrf and gretap"

ip -n "$ns" link set eth0 nomaster
ip -n "$ns" link set dev nd-g1 type bridge_slave isolated off
expect_drift_repaired "$Y" "$ns" "~ adopted eth0: master none -> nd-bo" "~ link nd-g1: isolated"
want eth0 '[<,]UP[,>].* master nd-bo ' "adopted NIC after the repair"
echo "drift named and repaired"
echo "PASS"
