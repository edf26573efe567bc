#!/bin/bash
# Two "hosts" and two "VMs" as network namespaces of our own: the hosts' eth0
# are a veth pair (the underlay), each host runs its linux.batch, each VM gets
# its veth guest end with its CA. Then VM 1 pings VM 2 over VXLAN, and once
# more from an address that is not its CA (the nft IP guard must drop it).
# Usage: ping-over-vxlan.sh H1_BATCH H2_BATCH CA1/LEN CA2
set -uo pipefail
b1=$1 b2=$2 ca1=$3 ca2=$4
p="ndlit-px-$$"
cleanup() { for n in h1 h2 vm1 vm2; do ip netns del "$p-$n" 2>/dev/null; done; }
trap cleanup EXIT
for n in h1 h2 vm1 vm2; do ip netns add "$p-$n" || exit 1; done
ip -n "$p-h1" link add eth0 type veth peer name eth0 netns "$p-h2" || exit 1
for h in h1 h2; do ip -n "$p-$h" link add eth1 type veth peer name eth1-peer || exit 1; done
ip netns exec "$p-h1" sh -e "$b1" || { echo "h1 batch failed"; exit 1; }
ip netns exec "$p-h2" sh -e "$b2" || { echo "h2 batch failed"; exit 1; }
ip -n "$p-h1" link set nd-p1g netns "$p-vm1"
ip -n "$p-h2" link set nd-p1g netns "$p-vm2"
ip -n "$p-vm1" address add "$ca1" dev nd-p1g
ip -n "$p-vm2" address add "$ca2/${ca1#*/}" dev nd-p1g
for v in vm1 vm2; do ip -n "$p-$v" link set lo up; ip -n "$p-$v" link set nd-p1g up; done
# Let the bridges leave the listening state (stp is off, but carrier needs a moment).
sleep 1
if ip netns exec "$p-vm1" ping -c 2 -W 2 "$ca2" > /dev/null; then echo "ping from CA: ok"; else echo "ping from CA: lost"; fi
ip -n "$p-vm1" address add 10.1.0.250/32 dev nd-p1g
if ip netns exec "$p-vm1" ping -c 2 -W 1 -I 10.1.0.250 "$ca2" > /dev/null 2>&1; then echo "ping from a spoofed address: ok"; else echo "ping from a spoofed address: lost"; fi
ip netns exec "$p-h1" nft list chain bridge netdsl forward | grep -c 'ip guard' | sed 's/^/ip guard rules: /'
