#!/usr/bin/env bash
# Routing domains on the 6.1 kernel (VM only: VRF), from `netdslc build` of
# tests/vm/e2e/fabrics/vrf.netdsl: two hosts, tenants blue and red with the
# same two subnets (web 10.0.1.0/24, db 10.0.2.0/24) and the same addresses.
# Blue has both subnets on both hosts, so both route it (the anycast gateway
# .1, one MAC on every host); red has both only on node1.
#  1. A VM routes through its host's VRF to the other subnet of its own tenant,
#     on its own host and across hosts: every such pair answers, the routed
#     pairs across the two routing hosts too (they had no answer until the
#     routing host held its remote VMs as neighbours on the subnet's bridge:
#     a reply addressed to the anycast gateway MAC stayed on the VM's own host).
#  2. An address only the other tenant has is never reached, on the same host
#     or another.
#  3. Each echo request arrives exactly once, at its target only: every VM
#     counts the requests of each sender (one ICMP size per sending VM) at its
#     ingress; the other tenant's VM with the same address sees none.
source "$(dirname "$0")/lib.sh"
require_fabric_tools ping
require_link VRF ndq-vrf type vrf table 77

fabric_build vrf
underlay_switch eth0 node1 node2
fabric_apply node1 node2
# IPv4 forwarding comes from the plans (`forwarding: true` on the VRFs and
# their bridges), per device: nobody sets it by hand, and the host-wide
# switches stay off (Debian's default; then only what netdsl enabled routes).
for h in node1 node2; do
  vrfs=$(ip -n "$P-$h" -o link show type vrf | awk -F': ' '{ print $2 }')
  [[ -n $vrfs ]] || fail "$h: no VRF"
  for d in $vrfs; do
    [[ $(ip netns exec "$P-$h" cat "/proc/sys/net/ipv4/conf/$d/forwarding") == 1 ]] || fail "$h: forwarding is off on $d"
  done
  [[ $(ip netns exec "$P-$h" cat /proc/sys/net/ipv4/conf/all/forwarding) == 0 ]] || fail "$h: net.ipv4.conf.all.forwarding is on"
done

# Tenants by bridge (VSID): each tenant's web and db bridges share its VRF on
# a host that carries both (a host with only one subnet of a tenant has no VRF
# for it: its VMs reach the other subnet through a host that has one).
vrf_of_bridge() {
  local h v
  for h in node1 node2; do
    v=$(ip -n "$P-$h" -o link show "$1" 2>/dev/null | sed -nE 's/.* master (nd-vrf[0-9]+) .*/\1/p')
    [[ -n $v ]] && { echo "$v"; return; }
  done
}
declare -A tenant_of ca_of host_of size_of
i=0
while IFS=$'\t' read -r host port guest mac ca bridge; do
  vm="vm-$host-$port"
  vm_attach "$host" "$guest" "$vm" "$ca/24"
  ip -n "$P-$vm" route add default via "${ca%.*}.1"
  tenant_of[$vm]=$(vrf_of_bridge "$bridge")
  [[ -n ${tenant_of[$vm]} ]] || fail "bridge $bridge is in no VRF on any host"
  ca_of[$vm]=$ca host_of[$vm]=$host size_of[$vm]=$((100 + i))
  i=$((i + 1))
done <<<"$vms"
((${#tenant_of[@]} == 8)) || fail "expected 8 VM NICs, got ${#tenant_of[@]}"
# Every VM counts echo requests at its ingress by sender (IP length = 28 + the
# sender's ICMP payload size).
for v in "${!tenant_of[@]}"; do
  rules=
  for a in "${!tenant_of[@]}"; do rules+="    icmp type echo-request ip length $((28 + size_of[$a])) counter comment \"$a\""$'\n'; done
  ip netns exec "$P-$v" nft -f - <<EOF || fail "nft counters in $v"
table netdev vmcount {
  chain vmingress { type filter hook ingress device "eth0" priority 0; policy accept;
$rules  }
}
EOF
done

# has_vrf VM: whether VM's host has a VRF for its tenant (the tenant has both
# subnets there); a VM on a host without one routes through another host.
has_vrf() { ip -n "$P-${host_of[$1]}" -o link show "${tenant_of[$1]}" >/dev/null 2>&1; }
declare -A want=()  # "RECEIVER SENDER" -> requests expected
routed=0 across_routing=0
for a in "${!tenant_of[@]}"; do
  for b in "${!tenant_of[@]}"; do
    [[ ${tenant_of[$a]} == "${tenant_of[$b]}" && ${ca_of[$a]%.*} != "${ca_of[$b]%.*}" ]] || continue
    if ! ip netns exec "$P-$a" ping -c 1 -W 5 -s "${size_of[$a]}" "${ca_of[$b]}" >/dev/null; then
      where="its host routes ${tenant_of[$a]}"
      has_vrf "$a" || where="its host ${host_of[$a]} has no VRF for ${tenant_of[$a]}"
      has_vrf "$b" && [[ ${host_of[$a]} != "${host_of[$b]}" ]] && has_vrf "$a" && where="both hosts route ${tenant_of[$a]} (anycast gateway)"
      fail "$a (${host_of[$a]}) cannot reach $b (${host_of[$b]}, ${ca_of[$b]}) in ${tenant_of[$a]}: $where"
    fi
    want["$b $a"]=1
    routed=$((routed + 1))
    [[ ${host_of[$a]} != "${host_of[$b]}" ]] && has_vrf "$a" && has_vrf "$b" && across_routing=$((across_routing + 1))
  done
done
((routed >= 14)) || fail "only $routed routed pairs"
((across_routing >= 4)) || fail "only $across_routing routed pairs across two routing hosts"
echo "$routed routed pairs (web <-> db of one tenant, same host and across hosts; $across_routing across two hosts that both route the tenant) answered"

# Addresses only the other tenant has: all at once (each ping waits 2 s for
# an answer that must not come).
pids=() what=()
for a in "${!tenant_of[@]}"; do
  for b in "${!tenant_of[@]}"; do
    [[ ${tenant_of[$a]} != "${tenant_of[$b]}" ]] || continue
    own=0
    for v in "${!tenant_of[@]}"; do [[ ${tenant_of[$v]} == "${tenant_of[$a]}" && ${ca_of[$v]} == "${ca_of[$b]}" ]] && own=1; done
    ((own)) && continue   # an address a's own tenant has too
    ip netns exec "$P-$a" ping -c 1 -W 2 -s "${size_of[$a]}" "${ca_of[$b]}" >/dev/null 2>&1 &
    pids+=($!) what+=("$a (${tenant_of[$a]}) reached $b (${tenant_of[$b]}) at ${ca_of[$b]}")
  done
done
((${#pids[@]} >= 8)) || fail "only ${#pids[@]} cross-tenant probes"
for k in "${!pids[@]}"; do
  ! wait "${pids[$k]}" || fail "${what[$k]}"
done
echo "no VM reaches an address only the other tenant has (${#pids[@]} probes)"

# Every request arrived where it was sent, once, and nowhere else.
for v in "${!tenant_of[@]}"; do
  counts=$(ip netns exec "$P-$v" nft list table netdev vmcount)
  for a in "${!tenant_of[@]}"; do
    got=$(sed -nE "s/.*ip length $((28 + size_of[$a])) counter packets ([0-9]+) .*/\\1/p" <<<"$counts")
    [[ -n $got ]] || fail "no counter for $a in $v: $counts"
    [[ $got == "${want["$v $a"]:-0}" ]] ||
      fail "$v (${tenant_of[$v]}, ${ca_of[$v]}) saw $got echo requests from $a (${tenant_of[$a]}), expected ${want["$v $a"]:-0}"
  done
done
echo "each echo request arrived once, at its own tenant's target only"
echo "PASS"
