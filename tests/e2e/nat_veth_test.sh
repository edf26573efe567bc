#!/usr/bin/env bash
# The gateway NAT veth's runtime pieces (issue 11, defect 3): `veth.peer_master`
# puts the peer end on an owned bridge (up) right after the pair is created,
# and `forwarding: true` turns on net.ipv4.conf.DEV.forwarding of that device
# only (never ip_forward or `all`). Both are owned state: plan reads them back
# (drift is repaired), a move of the peer to another bridge and forwarding on
# an existing link are undone at every failed step, and the namespace is as
# it was after each fault. (The VRF around the veth needs a real kernel:
# vm.gateway_nat.)
source "$(dirname "$0")/lib.sh"
command -v ping >/dev/null || skip "\`ping\` (iputils-ping) is not installed"
mkns h
ns=$P-h
mkns ext
ip link add eth9 netns "$ns" type veth peer name ext0 netns "$P-ext"
ip -n "$P-ext" addr add 10.99.0.2/24 dev ext0
ip -n "$P-ext" link set ext0 up
ip -n "$ns" link set eth9 up  # as a cabled NIC is (a veth first set up gets a noqueue qdisc)
A=$FIXTURES/nat-veth.yaml
B=$FIXTURES/nat-veth-moved.yaml

# Per-device IPv4 forwarding of every link, and the host-wide switches.
fwd() {
  ip netns exec "$ns" sh -c 'for f in /proc/sys/net/ipv4/conf/*/forwarding; do echo "$f $(cat "$f")"; done
                              echo "ip_forward $(cat /proc/sys/net/ipv4/ip_forward)"'
}
# A bridge's offload limits follow its ports (a port added and removed leaves
# them raised): derived by the kernel, not configuration.
state() {
  dump "$ns" | sed -E 's/ (tso|gso|gro)_max_(size|segs) [0-9]+//g'
  echo "== forwarding"
  fwd
}
default_fwd=$(ip netns exec "$ns" cat /proc/sys/net/ipv4/conf/default/forwarding)
global_before=$(ip netns exec "$ns" sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/forwarding /proc/sys/net/ipv4/conf/default/forwarding')

expect_rollback_at_every_step "$A" "$ns" state
ip -n "$ns" -o link show nd-n1001x | grep -q "master nd-ext " || fail "peer not on nd-ext: $(ip -n "$ns" -o link show nd-n1001x)"
ip -n "$ns" -o link show nd-n1001x | grep -q "state UP\|,UP" || fail "peer is down: $(ip -n "$ns" -o link show nd-n1001x)"
ip -n "$ns" -o link show nd-n1001x | grep -q "alias netdsl" || ip -n "$ns" link show nd-n1001x | grep -q "alias netdsl" ||
  fail "peer has no marker"
for d in nd-n1001 nd-br1; do
  [[ "$(ip netns exec "$ns" cat /proc/sys/net/ipv4/conf/$d/forwarding)" == 1 ]] || fail "forwarding is off on $d"
done
if [[ "$default_fwd" == 0 ]]; then
  for d in nd-n1001x nd-ext nd-br2 eth9; do
    [[ "$(ip netns exec "$ns" cat /proc/sys/net/ipv4/conf/$d/forwarding)" == 0 ]] || fail "forwarding turned on for $d"
  done
fi
[[ "$global_before" == "$(ip netns exec "$ns" sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/forwarding /proc/sys/net/ipv4/conf/default/forwarding')" ]] ||
  fail "the host-wide forwarding switches changed"
echo "peer on nd-ext and up; forwarding on nd-n1001 and nd-br1 only"

# The peer is a working port of nd-ext: an "external" namespace cabled to
# nd-ext (through eth9, an adopted NIC) reaches the address on nd-n1001.
ip netns exec "$P-ext" ping -c 1 -W 3 10.99.0.1 >/dev/null || fail "the external side does not reach 10.99.0.1 through nd-ext and the peer"
echo "external namespace -> nd-ext -> nd-n1001x -> nd-n1001: reached"

# Drift: the peer released by hand, forwarding turned off by hand.
ip -n "$ns" link set nd-n1001x nomaster
ip netns exec "$ns" sh -c 'echo 0 > /proc/sys/net/ipv4/conf/nd-n1001/forwarding'
expect_drift_repaired "$A" "$ns" "~ link nd-n1001x: master none -> nd-ext" "~ link nd-n1001: forwarding on"
ip netns exec "$P-ext" ping -c 1 -W 3 10.99.0.1 >/dev/null || fail "not reached after the repair"
echo "drift named and repaired"

# The peer moves to nd-ext2 and nd-br2 starts forwarding: every step rolled back.
expect_rollback_at_every_step "$B" "$ns" state
ip -n "$ns" -o link show nd-n1001x | grep -q "master nd-ext2 " || fail "peer not moved to nd-ext2"
[[ "$(ip netns exec "$ns" cat /proc/sys/net/ipv4/conf/nd-br2/forwarding)" == 1 ]] || fail "forwarding is off on nd-br2"
ip netns exec "$P-ext" ping -c 2 -W 1 10.99.0.1 >/dev/null 2>&1 && fail "still reached through nd-ext after the move"
echo "moved; every failed step undone"
echo "PASS"
