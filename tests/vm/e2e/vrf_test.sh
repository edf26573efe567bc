#!/usr/bin/env bash
# Routing domains on the 6.1 kernel (VM only: VRF), from `netdslc build` of
# tests/vm/e2e/fabrics/vrf.netdsl: two hosts, tenants blue and red with the
# same two subnets (web 10.0.1.0/24, db 10.0.2.0/24) and the same addresses.
# A VM routes through its host's VRF (the anycast gateway .1) to the other
# subnet of its own tenant, on its own host and across hosts, and the answer
# comes from its own tenant's VM (ICMP requests counted at each VM's ingress:
# the other tenant's VM with the same address sees none); an address only the
# other tenant has is never reached, on the same host or another.
source "$(dirname "$0")/lib.sh"
NETDSLC=${NETDSLC:-}
HERE=$(cd "$(dirname "$0")" && pwd)
[[ -x $NETDSLC ]] || skip "netdslc is not built"
python3 -c 'import yaml' 2>/dev/null || skip "python3 yaml module is missing"
command -v ping >/dev/null || skip "\`ping\` (iputils-ping) is not installed"
mkns probe
err=$(ip -n "$P-probe" link add ndq-vrf type vrf table 77 2>&1) || kernel_lacks "VRF" "$err"

mkdir -p "$NETDSL_STATE_DIR/src"
cp "$HERE/fabrics/vrf.netdsl" "$NETDSL_STATE_DIR/src/fabric.netdsl"
out=$NETDSL_STATE_DIR/out
"$NETDSLC" build "$NETDSL_STATE_DIR/src/fabric.netdsl" -o "$out" >/dev/null || fail "netdslc build failed"
vms=$(python3 "$HERE/../../e2e/fabric_vms.py" "$out") || fail "cannot read the VM NICs of the built fabric"

mkns sw
ip -n "$P-sw" link add br0 type bridge
ip -n "$P-sw" link set br0 up
i=0
for h in node1 node2; do
  i=$((i + 1))
  mkns "$h"
  # netdsl does not enable IPv4 forwarding (no plan field sets it; Debian's
  # default is off), and without it a VRF routes nothing: 0 of 14 pairs
  # reached each other here. Enabled by hand, as an operator must today.
  ip netns exec "$P-$h" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv4.conf.default.forwarding=1
  ip link add "${P}u$i" netns "$P-$h" type veth peer name "port$i" netns "$P-sw"
  ip -n "$P-$h" link set "${P}u$i" name eth0
  ip -n "$P-$h" link set eth0 up
  ip -n "$P-sw" link set "port$i" master br0 up
  o=$("$NETDSL" apply "$out/hosts/$h/linux.yaml" --netns "$P-$h" 2>&1) || fail "apply on $h failed: $o"
  expect_rc 0 "$NETDSL" plan "$out/hosts/$h/linux.yaml" --netns "$P-$h" >/dev/null
  [[ $(ip -n "$P-$h" -o link show type vrf | wc -l) -ge 1 ]] || fail "$h: no VRF"
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
declare -A tenant_of ca_of ns_of host_of
while IFS=$'\t' read -r host port guest mac ca bridge; do
  vm="vm-$host-$port"
  mkns "$vm"
  ip -n "$P-$host" link set "$guest" netns "$P-$vm"
  ip -n "$P-$vm" link set "$guest" name eth0
  ip -n "$P-$vm" addr add "$ca/24" dev eth0
  ip -n "$P-$vm" link set eth0 up
  ip -n "$P-$vm" route add default via "${ca%.*}.1"
  ip netns exec "$P-$vm" nft -f - <<EOF2 || fail "nft counter in $vm"
table netdev vmcount {
  chain vmingress { type filter hook ingress device "eth0" priority 0; policy accept;
    icmp type echo-request counter; }
}
EOF2
  tenant_of[$vm]=$(vrf_of_bridge "$bridge")
  [[ -n ${tenant_of[$vm]} ]] || fail "bridge $bridge is in no VRF on any host"
  ca_of[$vm]=$ca host_of[$vm]=$host
done <<<"$vms"
((${#tenant_of[@]} == 8)) || fail "expected 8 VM NICs, got ${#tenant_of[@]}"
requests() { ip netns exec "$P-$1" nft list table netdev vmcount | sed -nE 's/.*counter packets ([0-9]+) .*/\1/p'; }

# by_addr TENANT ADDRESS: the VM of TENANT with ADDRESS, or "".
by_addr() { local v; for v in "${!tenant_of[@]}"; do [[ ${tenant_of[$v]} == "$1" && ${ca_of[$v]} == "$2" ]] && echo "$v"; done; }
# has_vrf VM: whether VM's host has a VRF for its tenant (the tenant has both
# subnets there); a VM on a host without one routes through another host.
has_vrf() { ip -n "$P-${host_of[$1]}" -o link show "${tenant_of[$1]}" >/dev/null 2>&1; }
routed=0
unreached=() known=()
for a in "${!tenant_of[@]}"; do
  for b in "${!tenant_of[@]}"; do
    [[ ${tenant_of[$a]} == "${tenant_of[$b]}" && ${ca_of[$a]%.*} != "${ca_of[$b]%.*}" ]] || continue
    declare -A before=()
    for v in "${!tenant_of[@]}"; do before[$v]=$(requests "$v"); done
    if ! ip netns exec "$P-$a" ping -c 2 -W 5 "${ca_of[$b]}" >/dev/null; then
      # Known defect (reported with issue 12, not fixed yet): across hosts
      # that both route the tenant (both carry its VRF and its anycast
      # gateway MAC), the routed frame arrives with the receiving host's own
      # gateway MAC as source and gets no answer. Listed, not failed on.
      if [[ ${host_of[$a]} != "${host_of[$b]}" ]] && has_vrf "$a" && has_vrf "$b"; then
        known+=("$a (${host_of[$a]}) -> $b (${host_of[$b]}, ${ca_of[$b]}) in ${tenant_of[$a]}")
        continue
      fi
      where="its host has the VRF"
      has_vrf "$a" || where="its host ${host_of[$a]} has no VRF for ${tenant_of[$a]}"
      unreached+=("$a (${host_of[$a]}) cannot reach $b (${host_of[$b]}, ${ca_of[$b]}) in ${tenant_of[$a]}: $where")
      continue
    fi
    for v in "${!tenant_of[@]}"; do
      got=$(($(requests "$v") - before[$v]))
      if [[ $v == "$b" ]]; then
        ((got >= 1)) || fail "$b (the target) saw no echo request"
      elif ((got != 0)); then
        fail "pinging ${ca_of[$b]} from $a (${tenant_of[$a]}) sent $got echo requests to $v (${tenant_of[$v]}, ${ca_of[$v]})"
      fi
    done
    routed=$((routed + 1))
  done
done
((${#unreached[@]} == 0)) || { printf '  %s\n' "${unreached[@]}" >&2; fail "${#unreached[@]} routed pairs unreachable ($routed reached)"; }
((routed >= 6)) || fail "only $routed routed pairs"
((${#known[@]} == 0)) || { echo "KNOWN DEFECT: ${#known[@]} routed pairs across two routing hosts unreachable:"; printf '  %s\n' "${known[@]}"; }
echo "$routed routed pairs (web <-> db of one tenant, same host and across hosts), each answered by its own tenant's VM only"

for a in "${!tenant_of[@]}"; do
  for b in "${!tenant_of[@]}"; do
    [[ ${tenant_of[$a]} != "${tenant_of[$b]}" ]] || continue
    [[ -z $(by_addr "${tenant_of[$a]}" "${ca_of[$b]}") ]] || continue   # an address a's own tenant has too
    before=$(requests "$b")
    if ip netns exec "$P-$a" ping -c 2 -W 1 "${ca_of[$b]}" >/dev/null 2>&1; then
      fail "$a (${tenant_of[$a]}) reached $b (${tenant_of[$b]}) at ${ca_of[$b]}"
    fi
    [[ $(requests "$b") == "$before" ]] || fail "$a's pings reached $b of the other tenant (unanswered)"
  done
done
echo "no VM reaches an address only the other tenant has"
echo "PASS"
