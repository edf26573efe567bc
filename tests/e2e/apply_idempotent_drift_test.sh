#!/usr/bin/env bash
# apply converges; a second apply is a no-op with zero mutating netlink
# requests; hand-made drift (a deleted FDB entry, a changed MTU) makes plan
# exit 2 naming it, and apply repairs it.
source "$(dirname "$0")/lib.sh"
mkns h
Y=$FIXTURES/basic.yaml

expect_rc 2 "$NETDSL" plan "$Y" --netns "$P-h" >/dev/null
expect_rc 0 "$NETDSL" apply "$Y" --netns "$P-h" >/dev/null
expect_rc 0 "$NETDSL" plan "$Y" --netns "$P-h" >/dev/null

out=$("$NETDSL" apply "$Y" --netns "$P-h" --stats 2>&1)
grep -q "in sync, nothing to do" <<<"$out" || fail "second apply was not a no-op: $out"
grep -q "stats: 0 mutating netlink requests" <<<"$out" || fail "second apply mutated: $out"

plan_json=$("$NETDSL" plan "$Y" --netns "$P-h" --json) || fail "plan --json failed"
grep -q '"in_sync": true' <<<"$plan_json" || fail "plan --json not in sync: $plan_json"

# Drift by hand.
bridge -n "$P-h" fdb del 00:1d:d8:b7:1c:05 dev nd-vx6001 dst 192.168.0.11
ip -n "$P-h" link set nd-br6001 mtu 1400
rc=0
out=$("$NETDSL" plan "$Y" --netns "$P-h") || rc=$?
[[ $rc -eq 2 ]] || fail "plan after drift exited $rc, expected 2"
grep -q "+ fdb nd-vx6001: 00:1d:d8:b7:1c:05 dst 192.168.0.11" <<<"$out" || fail "plan does not name the FDB drift: $out"
grep -q "~ link nd-br6001: mtu 1400 -> 1450" <<<"$out" || fail "plan does not name the MTU drift: $out"
plan_json=$("$NETDSL" plan "$Y" --netns "$P-h" --json) || true
grep -q '"action": "modify", "object": "link", "name": "nd-br6001", "detail": "mtu 1400 -> 1450"' <<<"$plan_json" ||
  fail "plan --json does not name the MTU drift: $plan_json"

expect_rc 0 "$NETDSL" apply "$Y" --netns "$P-h" >/dev/null
expect_rc 0 "$NETDSL" plan "$Y" --netns "$P-h" >/dev/null
# (no `cmd | grep -q` under pipefail: grep's early exit would SIGPIPE cmd)
fdb=$(bridge -n "$P-h" fdb show dev nd-vx6001)
grep -q "00:1d:d8:b7:1c:05 dst 192.168.0.11" <<<"$fdb" || fail "fdb entry not repaired"
link=$(ip -n "$P-h" link show nd-br6001)
grep -q "mtu 1450" <<<"$link" || fail "mtu not repaired"

# A moved veth guest end (a VM took it) is not drift.
mkns vm
ip -n "$P-h" link set nd-p1g netns "$P-vm"
expect_rc 0 "$NETDSL" plan "$Y" --netns "$P-h" >/dev/null
echo "PASS"
