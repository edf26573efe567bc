#!/usr/bin/env bash
# Gateway NAT per routing domain on the 6.1 kernel (VM only: VRF), from
# `netdslc build` of tests/vm/e2e/fabrics/gateway-nat.netdsl (issue 11,
# defect 3): tenants blue and red reuse 10.0.1.0/24 (a VM at 10.0.1.10 each,
# on node1) and are both NATed on host gw. Both reach an "external" namespace
# cabled to gw's eth1; the external side sees each tenant's own NAT address,
# never a CA; replies come back to the right tenant even when both tenants
# send the very same flow (same CA, same ports, same destination: one
# conntrack entry each, in the tenants' zones). Nobody enables forwarding by
# hand: netdsl turns it on for the devices that route, and only for those.
# Before the fix `netdslc check` refused this fabric (ND3102).
# Blue has a second subnet (app, VM b2 at 10.0.2.10) on node1, so node1 routes
# blue itself: b1 and b2 reach the outside through node1's VRF, whose default
# route goes via gw's customer address in blue (issue 13), over the tunnel to
# gw's gateway veth and out through gw's NAT. On e55c523 (default route via
# gw's provider address, which Linux dropped) node1's routing-domain guard
# dropped their packets: b1 could not reach the external side.
source "$(dirname "$0")/lib.sh"
NETDSLC=${NETDSLC:-}
HERE=$(cd "$(dirname "$0")" && pwd)
require_fabric_tools netdslc ping
require_link VRF ndq-vrf type vrf table 77

mkdir -p "$NETDSL_STATE_DIR/src"
cp "$HERE/fabrics/gateway-nat.netdsl" "$NETDSL_STATE_DIR/src/fabric.netdsl"
out=$NETDSL_STATE_DIR/out
o=$("$NETDSLC" build "$NETDSL_STATE_DIR/src/fabric.netdsl" -o "$out" --verify 2>&1) || fail "netdslc build --verify failed: $o"
vms=$(python3 "$HERE/../../e2e/fabric_vms.py" "$out") || fail "cannot read the VM NICs of the built fabric"

# Underlay: node1 and gw on one switch; gw's eth1 cabled to the external side.
mkns sw
ip -n "$P-sw" link add br0 type bridge
ip -n "$P-sw" link set br0 up
mkns ext
i=0
for h in node1 gw; do
  i=$((i + 1))
  mkns "$h"
  ip link add "${P}u$i" netns "$P-$h" type veth peer name "port$i" netns "$P-sw"
  ip -n "$P-$h" link set "${P}u$i" name eth0
  ip -n "$P-$h" link set eth0 up
  ip -n "$P-sw" link set "port$i" master br0 up
done
ip link add "${P}x" netns "$P-gw" type veth peer name ext0 netns "$P-ext"
ip -n "$P-gw" link set "${P}x" name eth1
ip -n "$P-gw" link set eth1 up
ip -n "$P-ext" addr add 198.51.100.1/24 dev ext0
ip -n "$P-ext" link set ext0 up
for h in node1 gw; do
  global_before=$(ip netns exec "$P-$h" cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/forwarding)
  o=$("$NETDSL" apply "$out/hosts/$h/linux.yaml" --netns "$P-$h" 2>&1) || fail "apply on $h failed: $o"
  expect_rc 0 "$NETDSL" plan "$out/hosts/$h/linux.yaml" --netns "$P-$h" >/dev/null
  [[ $(ip netns exec "$P-$h" cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/forwarding) == "$global_before" ]] ||
    fail "$h: apply changed the host-wide forwarding switches"
done
[[ $(ip -n "$P-gw" -o link show type vrf | wc -l) -eq 2 ]] || fail "gw: expected two VRFs: $(ip -n "$P-gw" -o link show type vrf)"

# NAT address of each tenant, from gw's plan: the address on the NAT veth in
# the VRF its bridge is enslaved to on gw.
nat_of_bridge() {
  python3 - "$out/hosts/gw/linux.yaml" "$1" <<'PY'
import sys, yaml
plan = yaml.safe_load(open(sys.argv[1]))
links = {l["name"]: l for l in plan["links"]}
vrf = links[sys.argv[2]]["master"]
for l in plan["links"]:
    if l["kind"] == "veth" and l["master"] == vrf and l["name"].startswith("nd-n"):
        print([a["address"].split("/")[0] for a in plan["addresses"] if a["dev"] == l["name"]][0])
PY
}

# Echo server on the external side: answers each datagram with what it saw.
ip netns exec "$P-ext" timeout 600 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.1", 7007))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d + b"|" + a[0].encode() + b":" + str(a[1]).encode(), a)
' &
server=$!
trap 'kill "$server" 2>/dev/null; cleanup' EXIT
# send VM NAME: one flow from 10.0.1.10:40000 to 198.51.100.1:7007, retried
# until answered; prints the answer (NAME|what the external side saw).
send() {
  ip netns exec "$P-$1" timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 40000))
s.settimeout(3)
for _ in range(10):
    s.sendto(sys.argv[1].encode(), ("198.51.100.1", 7007))
    try:
        print(s.recvfrom(2048)[0].decode())
        sys.exit(0)
    except socket.timeout:
        pass
sys.exit("no answer")
' "$2"
}

declare -A nat_of seen_by ca_of
n=0
while IFS=$'\t' read -r host port guest mac ca bridge; do
  [[ $ca == 10.0.1.10 || $ca == 10.0.2.10 ]] || fail "unexpected VM NIC $port on $host ($ca)"
  vm="vm-$port"
  n=$((n + 1))
  mkns "$vm"
  ip -n "$P-$host" link set "$guest" netns "$P-$vm"
  ip -n "$P-$vm" link set "$guest" name eth0
  ip -n "$P-$vm" addr add "$ca/24" dev eth0
  ip -n "$P-$vm" link set eth0 up
  ip -n "$P-$vm" route add default via "${ca%.*}.1"
  ca_of[$vm]=$ca
  nat_of[$vm]=$(nat_of_bridge "$bridge")
  [[ ${nat_of[$vm]} == 198.51.100.* ]] || fail "no NAT address for $vm (bridge $bridge)"
  ip netns exec "$P-$vm" ping -c 2 -W 5 198.51.100.1 >/dev/null || fail "$vm (10.0.1.10 behind ${nat_of[$vm]}) cannot reach the external side"
done <<<"$vms"
((n == 3)) || fail "expected 3 VM NICs, got $n"
same_ca=$(for vm in "${!ca_of[@]}"; do if [[ ${ca_of[$vm]} == 10.0.1.10 ]]; then echo "$vm"; fi; done | sort)
vm_a=$(head -1 <<<"$same_ca")
vm_b=$(tail -1 <<<"$same_ca")
[[ $vm_a != "$vm_b" ]] || fail "expected two VMs at 10.0.1.10"
[[ ${nat_of[$vm_a]} != "${nat_of[$vm_b]}" ]] || fail "both tenants have NAT address ${nat_of[$vm_a]}"
echo "all three VMs (both tenants at 10.0.1.10, blue's b2 at 10.0.2.10) ping the external side through gw"

# Blue is routed on node1, which is not the gateway: node1's VRF holds the
# default route via gw's customer address, and what b1/b2 sent reached gw
# through its gateway veth (nd-g<vsid>: the CA with the lookup record's MAC).
[[ $(ip -n "$P-node1" -o link show type vrf | wc -l) -eq 1 ]] || fail "node1: expected one VRF (blue): $(ip -n "$P-node1" -o link show type vrf)"
vrf1=$(ip -n "$P-node1" -o link show type vrf | awk -F': ' '{print $2}' | cut -d@ -f1)
gw_ca=$(ip -n "$P-node1" route show vrf "$vrf1" default | awk '/via/ {print $3}')
[[ $gw_ca == 10.0.1.* || $gw_ca == 10.0.2.* ]] || fail "node1's $vrf1 has no default route via gw's customer address: $(ip -n "$P-node1" route show vrf "$vrf1")"
gdev=$(ip -n "$P-gw" -o addr show | awk -v ca="$gw_ca/32" '$4 == ca {print $2}')
[[ $gdev == nd-g* ]] || fail "gw holds $gw_ca on '${gdev:-nothing}', not on a gateway veth"
rx=$(ip netns exec "$P-gw" cat "/sys/class/net/$gdev/statistics/rx_packets")
((rx > 0)) || fail "nothing node1 routed came in on gw's $gdev"
echo "node1 routes blue: default via gw's customer address $gw_ca, received on gw's $gdev ($rx packets)"
b2=$(for vm in "${!ca_of[@]}"; do if [[ ${ca_of[$vm]} == 10.0.2.10 ]]; then echo "$vm"; fi; done)
[[ -n $b2 ]] || fail "no VM at 10.0.2.10"
answer=$(send "$b2" "$b2") || fail "$b2 (blue's app subnet, routed by node1) got no answer to its flow"
saw=${answer#*|}
[[ ${saw%:*} == "${nat_of[$b2]}" ]] || fail "the external side saw $saw for $b2, not blue's NAT address ${nat_of[$b2]}"
echo "$b2 (10.0.2.10, routed by node1) is seen outside as $saw"

# The same flow from both tenants, one after the other (the first's conntrack
# entry still alive): each answer comes back to its sender, and the external
# side saw the sender's own NAT address.
for vm in "$vm_a" "$vm_b" "$vm_a" "$vm_b"; do
  answer=$(send "$vm" "$vm") || fail "$vm got no answer to its flow"
  [[ ${answer%%|*} == "$vm" ]] || fail "$vm got the answer to another tenant's flow: $answer"
  saw=${answer#*|}
  [[ ${saw%:*} == "${nat_of[$vm]}" ]] || fail "the external side saw $saw for $vm, not its NAT address ${nat_of[$vm]}"
  seen_by[$vm]=$saw
done
echo "same flow from both tenants: the external side saw ${seen_by[$vm_a]} and ${seen_by[$vm_b]}; each answer went back to its own tenant"
ct=$(ip netns exec "$P-gw" cat /proc/net/nf_conntrack 2>/dev/null | grep -c 'dport=7007' || true)
[[ -z $ct || $ct -ge 2 ]] || fail "gw holds $ct conntrack entries for the flow, expected one per tenant"

# Forwarding: on for the VRFs, their bridges and the NAT veths; the host-wide switches untouched.
for d in $(ip -n "$P-gw" -o link show type vrf | awk -F': ' '{print $2}' | cut -d@ -f1); do
  [[ $(ip netns exec "$P-gw" cat "/proc/sys/net/ipv4/conf/$d/forwarding") == 1 ]] || fail "forwarding off on $d"
done
[[ $(ip netns exec "$P-gw" cat /proc/sys/net/ipv4/conf/eth1/forwarding) == "$(ip netns exec "$P-gw" cat /proc/sys/net/ipv4/conf/default/forwarding)" ]] ||
  fail "forwarding changed on eth1, which netdsl does not route through"
echo "PASS"
