#!/usr/bin/env bash
# VLAN sites on the 6.1 kernel (VM only: 802.1Q devices), from `netdslc build`
# of tests/vm/e2e/fabrics/vlan-sites.netdsl: two hosts with one trunk NIC each
# to a switch namespace. The provider network (PAs) is on VLAN 20, so the
# VXLAN tenant's packets cross the wire tagged 20; the VLAN-isolated VM network
# `campus` is on VLAN 30. VMs reach their peers across hosts; the switch sees
# VXLAN only inside VLAN 20, the campus frames only inside VLAN 30, and no
# untagged IP (but the hosts' own IGMP reports, counted apart), ARP or IPv6.
source "$(dirname "$0")/lib.sh"
require_fabric_tools ping
require_link bridge ndq-br type bridge
require_link 802.1Q ndq-vlan link ndq-br type vlan id 2

fabric_build vlan-sites
underlay_switch --no-ipv6 eth0 node1 node2
[[ -z ${NETDSL_IN_VM:-} ]] || sysctl -qw net.netfilter.nf_log_all_netns=1 2>/dev/null || true
ip netns exec "$P-sw" nft -f - <<'EOF2' || fail "nft counters in the switch"
table bridge wire {
  chain wirefwd { type filter hook forward priority 0; policy accept;
    vlan id 20 vlan type ip udp dport 4789 counter comment "vxlan in vlan 20";
    vlan id 30 counter comment "vlan 30";
    vlan id != { 20, 30 } counter comment "other vlan";
    ether type ip ip protocol igmp counter comment "untagged igmp";
    ether type ip ip protocol != igmp counter comment "untagged ip";
    ether type ip ip protocol != igmp log prefix "ndwire-untagged " counter;
    ether type arp counter comment "untagged arp";
    ether type ip6 counter comment "untagged ip6";
  }
}
EOF2
fabric_apply node1 node2
for h in node1 node2; do
  pa_dev=$(python3 -c 'import sys, yaml; p = yaml.safe_load(open(sys.argv[1])); print(p["addresses"][0]["dev"])' "$out/hosts/$h/linux.yaml")
  ip -n "$P-$h" -d -o link show "$pa_dev" | grep -q 'vlan protocol 802.1Q id 20 ' || fail "$h: the PA is not on a VLAN 20 device: $(ip -n "$P-$h" -d -o link show "$pa_dev")"
done

declare -A seg_of ca_of
while IFS=$'\t' read -r host port guest mac ca bridge; do
  vm="vm-$host-$port"
  vm_attach --no-ipv6 "$host" "$guest" "$vm" "$ca/24"
  seg_of[$vm]=$bridge ca_of[$vm]=$ca
done <<<"$vms"
((${#seg_of[@]} == 4)) || fail "expected 4 VM NICs, got ${#seg_of[@]}"
pairs=0
for a in "${!seg_of[@]}"; do
  for b in "${!seg_of[@]}"; do
    [[ $a == "$b" || ${seg_of[$a]} != "${seg_of[$b]}" ]] && continue
    ip netns exec "$P-$a" ping -c 2 -W 5 "${ca_of[$b]}" >/dev/null || fail "$a cannot reach $b (${ca_of[$b]})"
    pairs=$((pairs + 1))
  done
done
((pairs == 4)) || fail "expected 4 pairs, got $pairs"
echo "VMs reach their peers across hosts (VXLAN over VLAN 20, VLAN 30)"

wire=$(ip netns exec "$P-sw" nft list table bridge wire)
count() { sed -nE "s/.*counter packets ([0-9]+) .*comment \"$1\".*/\\1/p" <<<"$wire"; }
[[ $(count "vxlan in vlan 20") -ge 4 ]] || fail "no VXLAN tagged 20 on the wire: $wire"
[[ $(count "vlan 30") -ge 4 ]] || fail "no campus frames tagged 30 on the wire: $wire"
for c in "other vlan" "untagged ip" "untagged arp" "untagged ip6"; do
  [[ $(count "$c") == 0 ]] || { dmesg | grep ndwire-untagged | tail -5; fail "$(count "$c") frames of kind \`$c\` on the wire: $wire"; }
done
echo "on the wire: $(count "vxlan in vlan 20") VXLAN packets tagged 20, $(count "vlan 30") frames tagged 30, nothing untagged but $(count "untagged igmp") IGMP reports (the hosts' own multicast membership, not VM traffic)"
echo "PASS"
