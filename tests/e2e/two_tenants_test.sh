#!/usr/bin/env bash
# Three namespaced hosts joined by a veth underlay through a switch namespace;
# each host gets its hand-written linux.yaml (two VXLAN tenants with the same
# customer addresses); VMs are namespaces on the veth guest ends. Every VM
# reaches every VM of its tenant across hosts; no VM reaches the other tenant,
# even at the same address; a second apply finds nothing to do.
source "$(dirname "$0")/lib.sh"
command -v ping >/dev/null || skip "\`ping\` (iputils-ping) is not installed"
DIR=${TENANT_DIR:-$FIXTURES/two-tenants}
mkns sw
ip -n "$P-sw" link add br0 type bridge
ip -n "$P-sw" link set br0 up
for i in 1 2 3; do
  mkns "h$i"
  ip link add "${P}u$i" netns "$P-h$i" type veth peer name "port$i" netns "$P-sw"
  ip -n "$P-h$i" link set "${P}u$i" name eth0
  ip -n "$P-sw" link set "port$i" master br0 up
done

for i in 1 2 3; do
  yaml=$DIR/host$i.yaml
  [[ -f $yaml ]] || yaml=$DIR/hosts/host0$i/linux.yaml
  expect_rc 2 "$NETDSL" plan "$yaml" --netns "$P-h$i" >/dev/null
  expect_rc 0 "$NETDSL" apply "$yaml" --netns "$P-h$i"
  # The VMs take the guest ends of their ports.
  for t in 1 2; do
    vm=vm$t$i
    mkns "$vm"
    ip -n "$P-h$i" link set "nd-p${t}g" netns "$P-$vm"
    ip -n "$P-$vm" addr add "10.0.0.$i/24" dev "nd-p${t}g"
    ip -n "$P-$vm" link set "nd-p${t}g" up
  done
done
for i in 1 2 3; do
  yaml=$DIR/host$i.yaml
  [[ -f $yaml ]] || yaml=$DIR/hosts/host0$i/linux.yaml
  out=$("$NETDSL" apply "$yaml" --netns "$P-h$i" --stats 2>&1) || fail "second apply on host$i failed: $out"
  grep -q "stats: 0 mutating netlink requests" <<<"$out" || fail "second apply on host$i was not a no-op: $out"
  expect_rc 0 "$NETDSL" plan "$yaml" --netns "$P-h$i" >/dev/null
done

# Reachability inside each tenant, across hosts (VXLAN over the underlay).
for t in 1 2; do
  for i in 1 2 3; do
    for j in 1 2 3; do
      [[ $i == "$j" ]] && continue
      ip netns exec "$P-vm$t$i" ping -c 1 -W 2 "10.0.0.$j" >/dev/null ||
        fail "tenant $t: vm on host$i cannot reach 10.0.0.$j"
      mac=$(ip -n "$P-vm$t$i" neigh show 10.0.0.$j | awk '{for (k = 1; k < NF; k++) if ($k == "lladdr") print $(k + 1)}')
      want=00:1d:d8:b7:${t}0:0$j
      [[ $mac == "$want" ]] || fail "tenant $t: 10.0.0.$j from host$i resolved to $mac, not $want (leak across tenants?)"
    done
  done
done
echo "every VM reaches every VM of its tenant"

# Isolation: with red's 10.0.0.2 gone, the red VM on host1 must not reach the
# blue VM that has the same address.
ip -n "$P-vm12" addr flush dev nd-p1g
ip -n "$P-vm11" neigh flush dev nd-p1g
if ip netns exec "$P-vm11" ping -c 2 -W 1 10.0.0.2 >/dev/null 2>&1; then
  fail "red vm on host1 reached 10.0.0.2 although only the blue tenant has it"
fi
ip netns exec "$P-vm21" ping -c 1 -W 2 10.0.0.2 >/dev/null || fail "blue tenant lost its own reachability"
echo "no VM reaches the other tenant"
echo "PASS"
