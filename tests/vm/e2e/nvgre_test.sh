#!/usr/bin/env bash
# NVGRE on the 6.1 kernel (VM only: gretap), the seed demo's tenant on three
# hosts (tests/vm/e2e/fabrics/nvgre.netdsl: tenant A with subnets web and db,
# tenant B with the same addresses; team hosts with one NIC `Ethernet`).
# `netdslc build`, each host's linux.yaml applied into its own namespace
# (NICs are veths to a switch namespace), VMs are namespaces on the guest ends.
#  1. Loop-free (the regression test of the NVGRE loop, issue 11 defect 1):
#     one broadcast ARP from a VM reaches every other VM of its subnet exactly
#     once (nft counters at each VM's ingress), never the other tenant, never
#     its sender again; on the wire the sending host sends one GRE copy per
#     remote host and nobody forwards it further.
#  2. Every VM reaches every VM of its subnet across hosts and resolves it to
#     the right MAC; no VM reaches an address only the other tenant has.
#  3. On the wire every GRE packet carries the key VSID << 8 (RFC 7637), the
#     key bit and protocol 0x6558, and nothing else crosses the underlay.
#  4. Control: with the gretaps' isolation turned off by hand (netdsl's NVGRE
#     mapping before split horizon), the same broadcast loops and check 1 sees it.
source "$(dirname "$0")/lib.sh"
require_fabric_tools ping arping
require_link gretap ndq-gre type gretap key 1

fabric_build nvgre
# The underlay: a switch namespace whose bridge counts GRE by key.
underlay_switch --no-ipv6 Ethernet host01 host02 host03
fabric_apply host01 host02 host03

declare -A seg_of ca_of mac_of host_of
while IFS=$'\t' read -r host port guest mac ca bridge; do
  vm="vm-$host-$port"
  vm_attach --no-ipv6 "$host" "$guest" "$vm" "$ca/24"
  seg_of[$vm]=$bridge ca_of[$vm]=$ca mac_of[$vm]=$mac host_of[$vm]=$host
done <<<"$vms"
((${#seg_of[@]} == 8)) || fail "expected 8 VM NICs, got ${#seg_of[@]}"

# --- 1. One broadcast, one copy per port. ---------------------------------
probe_ip=10.0.1.250  # in no VM's use
for vm in "${!seg_of[@]}"; do
  ip netns exec "$P-$vm" nft -f - <<EOF || fail "nft counter in $vm"
table netdev vmcount {
  chain vmingress { type filter hook ingress device "eth0" priority 0; policy accept;
    arp operation request arp daddr ip $probe_ip counter; }
}
EOF
done
ip netns exec "$P-sw" nft -f - <<'EOF' || fail "nft counters in the switch"
table bridge wire {
  chain wirefwd { type filter hook forward priority 0; policy accept;
    ip protocol gre counter comment "gre"; }
}
EOF
counter_of() {  # NS TABLE FAMILY: the packet count of the table's first counter
  ip netns exec "$1" nft list table "$3" "$2" | sed -nE 's/.*counter packets ([0-9]+) .*/\1/p' | head -1
}
sender=vm-host01-nd-p1
# broadcast_counts: sends one ARP request from $sender, waits until every VM
# of its segment has seen it (no fixed sleep: a loaded host delays, never
# hurries, the copies), lets extra copies arrive for 3 s more, then prints
# `VM COUNT WANT` per VM and `wire GRE 2`.
broadcast_counts() {
  local vm want got done_all
  ip netns exec "$P-$sender" busybox arping -c 1 -w 1 -I eth0 "$probe_ip" >/dev/null 2>&1 || true
  for _ in $(seq 120); do
    done_all=1
    for vm in "${!seg_of[@]}"; do
      [[ ${seg_of[$vm]} == "${seg_of[$sender]}" && $vm != "$sender" ]] || continue
      got=$(counter_of "$P-$vm" vmcount netdev)
      [[ ${got:-0} -ge 1 ]] || { done_all=0; break; }
    done
    ((done_all)) && break
    sleep 0.5
  done
  sleep 3
  for vm in "${!seg_of[@]}"; do
    want=0
    [[ ${seg_of[$vm]} == "${seg_of[$sender]}" && $vm != "$sender" ]] && want=1
    echo "$vm $(counter_of "$P-$vm" vmcount netdev) $want"
  done
  echo "wire $(counter_of "$P-sw" wire bridge) 2"
}
bad=0
while read -r vm got want; do
  [[ $got == "$want" ]] && continue
  if [[ $vm == wire ]]; then
    echo "  underlay: $got GRE packets for one broadcast from host01, expected 2 (one per remote host)" >&2
  else
    echo "  $vm (${seg_of[$vm]}, on ${host_of[$vm]}): $got copies of the broadcast, expected $want" >&2
  fi
  bad=1
done < <(broadcast_counts)
((bad == 0)) || fail "one broadcast did not give exactly one copy per port of its segment (NVGRE loop?)"
echo "one broadcast: one copy at each VM of its segment, none elsewhere, 2 GRE packets on the wire"

# --- 3 (armed before the traffic of 2). GRE keys on the wire. --------------
keys=$(python3 -c 'import glob, yaml, sys
ks = set()
for p in glob.glob(sys.argv[1] + "/hosts/*/linux.yaml"):
    for l in yaml.safe_load(open(p))["links"]:
        if l["kind"] == "gretap": ks.add(l["gretap"]["key"])
print(" ".join(str(k) for k in sorted(ks)))' "$out")
vsids=$(printf '%s\n' "${seg_of[@]}" | sed 's/nd-br//' | sort -u | tr '\n' ' ')
want_keys=$(for v in $vsids; do echo $((v << 8)); done | sort -n | tr '\n' ' ')
[[ "$keys " == "$want_keys" ]] || fail "gretap keys in the plans ($keys) are not VSID << 8 for VSIDs $vsids ($want_keys)"
{
  echo 'table bridge keys {'
  echo '  chain wirefwd { type filter hook forward priority 0; policy accept;'
  for k in $keys; do
    printf '    ip protocol gre @th,0,16 0x2000 @th,16,16 0x6558 @th,32,32 %d counter comment "key %d";\n' "$k" "$k"
  done
  printf '    ip protocol gre @th,32,32 != { %s } counter comment "other";\n' "$(echo $keys | sed 's/ /, /g')"
  echo '    ip protocol != gre ether type ip counter comment "not gre";'
  echo '  }'
  echo '}'
} | ip netns exec "$P-sw" nft -f - || fail "nft key counters in the switch"

# --- 2. Reachability and isolation. ---------------------------------------
pairs=0
for a in "${!seg_of[@]}"; do
  for b in "${!seg_of[@]}"; do
    [[ $a == "$b" || ${seg_of[$a]} != "${seg_of[$b]}" ]] && continue
    ip netns exec "$P-$a" ping -c 1 -W 5 "${ca_of[$b]}" >/dev/null || fail "$a cannot reach $b (${ca_of[$b]}) in ${seg_of[$a]}"
    got=$(ip -n "$P-$a" neigh show "${ca_of[$b]}" | awk '{for (k = 1; k < NF; k++) if ($k == "lladdr") print $(k + 1)}')
    [[ $got == "${mac_of[$b]}" ]] || fail "$a resolved ${ca_of[$b]} to $got, not $b's ${mac_of[$b]}"
    pairs=$((pairs + 1))
  done
done
((pairs == 14)) || fail "expected 14 same-subnet pairs, got $pairs"
echo "$pairs same-subnet pairs reach each other across hosts"
for a in "${!seg_of[@]}"; do
  for b in "${!seg_of[@]}"; do
    [[ ${seg_of[$a]} == "${seg_of[$b]}" ]] && continue
    [[ ${ca_of[$b]%.*} == "${ca_of[$a]%.*}" ]] || continue  # other subnet: the VRF test's business
    taken=0
    for c in "${!seg_of[@]}"; do
      [[ ${seg_of[$c]} == "${seg_of[$a]}" && ${ca_of[$c]} == "${ca_of[$b]}" ]] && taken=1
    done
    ((taken)) && continue
    if ip netns exec "$P-$a" ping -c 2 -W 1 "${ca_of[$b]}" >/dev/null 2>&1; then
      fail "$a (${seg_of[$a]}) reached $b (${seg_of[$b]}) at ${ca_of[$b]}"
    fi
  done
done
echo "no VM reaches the other tenant"

gre_counts=$(ip netns exec "$P-sw" nft list table bridge keys)
for k in $keys; do
  n=$(sed -nE "s/.*counter packets ([0-9]+) .*comment \"key $k\".*/\1/p" <<<"$gre_counts")
  [[ -n $n && $n -gt 0 ]] || fail "no GRE packet with key $k (VSID $((k >> 8))) on the wire: $gre_counts"
  echo "key $k = VSID $((k >> 8)) << 8: $n GRE packets"
done
for c in other "not gre"; do
  n=$(sed -nE "s/.*counter packets ([0-9]+) .*comment \"$c\".*/\1/p" <<<"$gre_counts")
  [[ $n == 0 ]] || fail "$n packets of kind \`$c\` crossed the underlay: $gre_counts"
done
# --- 4. The check of 1 can fail: without split horizon it sees the loop. ---
# Every gretap of the three hosts made an ordinary (not isolated) bridge port
# again, as netdsl mapped NVGRE before split horizon (issue 11 defect 1): the
# same one broadcast must now come back to its sender and arrive more than
# once elsewhere. Then isolation is restored (the storm stops).
reset_counters() {
  local vm
  for vm in "${!seg_of[@]}"; do ip netns exec "$P-$vm" nft reset counters table netdev vmcount >/dev/null; done
  ip netns exec "$P-sw" nft reset counters table bridge wire >/dev/null
}
set_isolation() {  # on|off
  local h g
  for h in host01 host02 host03; do
    # (Bridge ports only: gretap0, the module's fallback device, is in none.)
    for g in $(ip -n "$P-$h" -o link show type gretap | grep ' master ' | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip -n "$P-$h" link set dev "$g" type bridge_slave isolated "$1"
    done
  done
}
reset_counters
set_isolation off
looped=0
while read -r vm got want; do
  [[ $vm == wire ]] && { echo "without split horizon: $got GRE packets on the wire"; continue; }
  ((got > 1)) && looped=1
  [[ $vm == "$sender" ]] && echo "without split horizon: the sender saw its own broadcast $got times"
done < <(broadcast_counts)
set_isolation on
((looped)) || fail "with the gretaps not isolated, one broadcast still gave at most one copy per VM: the check of 1 cannot see a loop"
echo "control: without split horizon the same check sees the loop"
echo "PASS"
