#!/usr/bin/env bash
# Bridge port isolation (`isolated: true`, the NVGRE split horizon): apply sets
# it, the kernel then forwards between an isolated and a non-isolated port but
# never between two isolated ones; plan reads it back (a port whose isolation
# was turned off by hand is drift, repaired by apply); a port moved to another
# bridge is isolated again there; a failure at every step leaves the
# namespace as it was.
source "$(dirname "$0")/lib.sh"
command -v ping >/dev/null || skip "\`ping\` (iputils-ping) is not installed"
mkns h
ns=$P-h
A=$FIXTURES/isolated.yaml
B=$FIXTURES/isolated-moved.yaml

expect_rollback_at_every_step "$A" "$ns" dump "$ns"
for p in nd-p1 nd-p2; do
  ip -n "$ns" -d link show "$p" | grep -q 'isolated on' || fail "$p is not isolated: $(ip -n "$ns" -d link show "$p")"
done
ip -n "$ns" -d link show nd-p3 | grep -q 'isolated off' || fail "nd-p3 is isolated"

for i in 1 2 3; do
  mkns "vm$i"
  ip -n "$ns" link set "nd-p${i}g" netns "$P-vm$i"
  ip -n "$P-vm$i" addr add "10.9.0.$i/24" dev "nd-p${i}g"
  ip -n "$P-vm$i" link set "nd-p${i}g" up
done
ip netns exec "$P-vm1" ping -c 1 -W 3 10.9.0.3 >/dev/null || fail "isolated port 1 cannot reach non-isolated port 3"
ip netns exec "$P-vm2" ping -c 1 -W 3 10.9.0.3 >/dev/null || fail "isolated port 2 cannot reach non-isolated port 3"
ip netns exec "$P-vm1" ping -c 2 -W 1 10.9.0.2 >/dev/null 2>&1 && fail "isolated port 1 reached isolated port 2"
echo "isolated <-> not isolated: forwarded; isolated <-> isolated: not"

# Drift: isolation turned off by hand.
ip -n "$ns" link set dev nd-p1 type bridge_slave isolated off
rc=0
out=$("$NETDSL" plan "$A" --netns "$ns") || rc=$?
[[ $rc -eq 2 ]] || fail "plan after drift exited $rc, expected 2: $out"
grep -q "~ link nd-p1: isolated" <<<"$out" || fail "plan does not name the isolation drift: $out"
expect_rc 0 "$NETDSL" apply "$A" --netns "$ns" >/dev/null
ip -n "$ns" -d link show nd-p1 | grep -q 'isolated on' || fail "isolation not repaired"
ip netns exec "$P-vm1" ping -c 2 -W 1 10.9.0.2 >/dev/null 2>&1 && fail "isolated port 1 reached isolated port 2 after the repair"

# Moved to another bridge: isolated there too; every step rolled back.
expect_rollback_at_every_step "$B" "$ns" dump "$ns"
ip -n "$ns" -d -o link show nd-p2 | grep -q "master nd-br2 .*isolated on" || fail "nd-p2 not isolated in nd-br2: $(ip -n "$ns" -d link show nd-p2)"
echo "PASS"
