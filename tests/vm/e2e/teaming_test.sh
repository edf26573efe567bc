#!/usr/bin/env bash
# Teaming on the 6.1 kernel (VM only: bonds), from `netdslc build` of
# tests/vm/e2e/fabrics/teaming.netdsl: three hosts with two NICs each (veths,
# up before the apply as on a real host) to a switch namespace.
#  - host `ab`, switch independent -> active-backup; its NICs are two plain
#    switch ports. When the active slave loses its link, the bond fails over
#    and a running ping keeps going.
#  - host `xor`, static -> balance-xor; the switch side is a balance-xor bond
#    (a static LAG). Traffic flows, and keeps flowing when one link goes down.
#  - host `lacp`, LACP -> 802.3ad; the switch side is an 802.3ad bond. LACP
#    negotiates: the switch's bond shows the host's bond as its partner on
#    both ports, in one aggregator; traffic flows.
source "$(dirname "$0")/lib.sh"
NETDSLC=${NETDSLC:-}
HERE=$(cd "$(dirname "$0")" && pwd)
require_fabric_tools netdslc ping
require_link bonding ndq-bond type bond

mkdir -p "$NETDSL_STATE_DIR/src"
cp "$HERE/fabrics/teaming.netdsl" "$NETDSL_STATE_DIR/src/fabric.netdsl"
out=$NETDSL_STATE_DIR/out
"$NETDSLC" build "$NETDSL_STATE_DIR/src/fabric.netdsl" -o "$out" >/dev/null || fail "netdslc build failed"
yaml_get() { python3 -c 'import sys, yaml; p = yaml.safe_load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$out/hosts/$1/linux.yaml" "$2"; }
declare -A pa bond mode
for h in ab xor lacp; do
  pa[$h]=$(yaml_get "$h" 'p["addresses"][0]["address"].split("/")[0]')
  bond[$h]=$(yaml_get "$h" '[l["name"] for l in p["links"] if l["kind"] == "bond"][0]')
  mode[$h]=$(yaml_get "$h" '[l["bond"]["mode"] for l in p["links"] if l["kind"] == "bond"][0]')
done
[[ ${mode[ab]} == active-backup && ${mode[xor]} == balance-xor && ${mode[lacp]} == 802.3ad ]] ||
  fail "team modes map to ${mode[ab]}, ${mode[xor]}, ${mode[lacp]}; expected active-backup, balance-xor, 802.3ad"

# The switch: br0; host ab's NICs are plain ports, the others' go into a
# partner bond of the same mode.
mkns sw
S=$P-sw
ip -n "$S" link add br0 type bridge
ip -n "$S" link set br0 up
ip -n "$S" link add pxor type bond mode balance-xor miimon 100
ip -n "$S" link add placp type bond mode 802.3ad miimon 100 lacp_rate fast
for h in ab xor lacp; do
  mkns "$h"
  for i in 0 1; do
    ip link add "${P}$h$i" netns "$P-$h" type veth peer name "$h$i" netns "$S"
    ip -n "$P-$h" link set "${P}$h$i" name "eth$i"
    ip -n "$P-$h" link set "eth$i" up
    case $h in
      ab) ip -n "$S" link set "$h$i" master br0 ;;
      xor) ip -n "$S" link set "$h$i" master pxor ;;
      lacp) ip -n "$S" link set "$h$i" master placp ;;
    esac
  done
done
for b in pxor placp; do ip -n "$S" link set "$b" master br0; ip -n "$S" link set "$b" up; done
for h in ab xor lacp; do
  ip -n "$S" link set "${h}0" up
  ip -n "$S" link set "${h}1" up
done

for h in ab xor lacp; do
  o=$("$NETDSL" apply "$out/hosts/$h/linux.yaml" --netns "$P-$h" 2>&1) || fail "apply on $h failed: $o"
  expect_rc 0 "$NETDSL" plan "$out/hosts/$h/linux.yaml" --netns "$P-$h" >/dev/null
  d=$(ip -n "$P-$h" -d -o link show "${bond[$h]}")
  grep -q "bond mode ${mode[$h]} " <<<"$d" || fail "$h: ${bond[$h]} is not in mode ${mode[$h]}: $d"
  for i in 0 1; do
    ip -n "$P-$h" -o link show "eth$i" | grep -q "master ${bond[$h]} " || fail "$h: eth$i is not a slave of ${bond[$h]}"
  done
done
echo "bonds: ab ${mode[ab]}, xor ${mode[xor]}, lacp ${mode[lacp]}; both NICs enslaved on each"

# bonding_info NS BOND: /proc/net/bonding/BOND as seen from NS.
bonding_info() { ip netns exec "$1" cat "/proc/net/bonding/$2"; }

# LACP: the switch's bond has the host's bond as partner on both ports, one
# aggregator, and the host's ports reach collecting+distributing (actor port
# state bits 0x10 and 0x20) with sync (0x08). Polled: the host's bond uses the
# slow LACP rate (a PDU every 30 s), so this may take a minute.
host_mac=$(ip -n "$P-lacp" -o link show "${bond[lacp]}" | sed -nE 's/.*link\/ether ([0-9a-f:]+).*/\1/p')
lacp_ok() {
  local info hinfo partners aggs st
  info=$(bonding_info "$S" placp)
  partners=$(grep -c "Partner Mac Address: $host_mac" <<<"$info" || true)
  aggs=$(sed -nE 's/^Aggregator ID: ([0-9]+)/\1/p' <<<"$info" | sort -u | wc -l)
  [[ $partners -ge 1 && $aggs -eq 1 ]] || return 1
  grep -q 'Partner Mac Address: 00:00:00:00:00:00' <<<"$info" && return 1
  hinfo=$(bonding_info "$P-lacp" "${bond[lacp]}")
  # the actor's port state of each slave: the first `port state:` after `details actor`
  for st in $(awk '/details actor lacp pdu/ { a = 1 } a && /port state:/ { print $3; a = 0 }' <<<"$hinfo"); do
    (((st & 0x38) == 0x38)) || return 1
  done
  [[ $(awk '/details actor lacp pdu/' <<<"$hinfo" | wc -l) -eq 2 ]]
}
ok=0
for _ in $(seq 240); do
  lacp_ok && { ok=1; break; }
  sleep 0.5
done
((ok)) || fail "LACP did not negotiate with the switch's 802.3ad bond: switch: $(bonding_info "$S" placp); host: $(bonding_info "$P-lacp" "${bond[lacp]}")"
echo "LACP negotiated: the switch's bond sees $host_mac as partner, both ports in one aggregator"

for a in ab xor lacp; do
  for b in ab xor lacp; do
    [[ $a == "$b" ]] && continue
    ip netns exec "$P-$a" ping -c 1 -W 5 "${pa[$b]}" >/dev/null || fail "$a cannot reach $b (${pa[$b]}) over the teams"
  done
done
echo "every host reaches every other host's PA over its team"

# Failover of active-backup with traffic running.
active() { bonding_info "$P-ab" "${bond[ab]}" | sed -nE 's/^Currently Active Slave: (.*)/\1/p'; }
first=$(active)
[[ $first == eth0 || $first == eth1 ]] || fail "host ab: no active slave: $(bonding_info "$P-ab" "${bond[ab]}")"
# A ping every 0.2 s (timestamped replies) runs across the loss of the active
# slave's carrier: replies must go on after it (no fixed loss budget: a loaded
# host slows the guest, so only "it continued" is asserted).
ip netns exec "$P-ab" ping -D -i 0.2 -c 40 -W 5 "${pa[lacp]}" >"$NETDSL_STATE_DIR/ping.out" 2>&1 &
pinger=$!
for _ in $(seq 100); do grep -q 'icmp_seq=' "$NETDSL_STATE_DIR/ping.out" && break; sleep 0.2; done
down_at=$(date +%s.%N)
ip -n "$S" link set "ab${first#eth}" down   # the switch port of the active slave: carrier lost
wait "$pinger" || true
second=$(active)
[[ -n $second && $second != "$first" ]] || fail "host ab did not fail over from $first: $(bonding_info "$P-ab" "${bond[ab]}")"
received=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' "$NETDSL_STATE_DIR/ping.out")
after=$(awk -v t="$down_at" -F'[][]' '/icmp_seq=/ && $2 + 0 > t + 0 { n++ } END { print n + 0 }' "$NETDSL_STATE_DIR/ping.out")
((after >= 5)) || fail "traffic did not continue across the failover ($after replies after the link went down): $(cat "$NETDSL_STATE_DIR/ping.out")"
ip netns exec "$P-ab" ping -c 1 -W 5 "${pa[xor]}" >/dev/null || fail "host ab unreachable after failing over to $second"
echo "active-backup failed over $first -> $second; $received of 40 pings answered, $after of them after the link went down"

# balance-xor: one link down on the switch side, traffic goes on over the other.
ip -n "$S" link set xor0 down
noticed=0
for _ in $(seq 60); do
  bonding_info "$P-xor" "${bond[xor]}" | grep -A1 'Slave Interface: eth0' | grep -q 'MII Status: down' && { noticed=1; break; }
  sleep 0.5
done
((noticed)) || fail "balance-xor: the bond did not notice eth0's link going down: $(bonding_info "$P-xor" "${bond[xor]}")"
for b in ab lacp; do
  ip netns exec "$P-xor" ping -c 3 -W 5 "${pa[$b]}" >/dev/null || fail "balance-xor: no traffic to $b with one link down"
done
echo "balance-xor carries traffic on the remaining link"
echo "PASS"
