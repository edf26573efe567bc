# Sourced by probes.sh and safety_cost.sh: the probe responder and a fresh
# namespace on its underlay.
#
# underlay_scratch NAME: $tmp (a scratch directory, NETDSL_STATE_DIR under it),
# $ns (NAME$$, the namespace applied into) and $peer (NAMEpeer$$, the
# responder's), all removed, and the responder killed, by an EXIT trap.
underlay_scratch() {
  tmp=$(mktemp -d)
  ns=$1$$
  peer=$1peer$$
  export NETDSL_STATE_DIR=$tmp/state
  listener=
  trap underlay_cleanup EXIT
}
underlay_cleanup() {
  [[ -n $listener ]] && kill "$listener" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip netns del "$peer" 2>/dev/null || true
  rm -rf "$tmp"
}

# start_responder: answers ARP and ICMP for all of 192.168.0.0/16 (a local
# route, "AnyIP"), and TCP on port 7 of 192.168.255.254; sets $listener.
start_responder() {
  ip netns add "$peer"
  ip -n "$peer" link set lo up
  ip -n "$peer" route add local 192.168.0.0/16 dev lo
  ip netns exec "$peer" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7)); s.listen(64)
while True: s.accept()[0].close()' &
  listener=$!
}

# underlay_setup: a fresh namespace $ns on the underlay; underlay_teardown deletes it.
underlay_setup() {
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add up0 netns "$ns" type veth peer name "dn$$" netns "$peer"
  ip -n "$peer" link set "dn$$" up
  # The way back to the bench host: more specific than the local /16, in its table.
  ip -n "$peer" route replace 192.168.0.1/32 dev "dn$$" table local
  ip -n "$ns" addr add 192.168.0.1/16 dev up0
  ip -n "$ns" link set up0 up
  ip -n "$ns" route add default via 192.168.255.254
}
underlay_teardown() {
  ip -n "$peer" link del "dn$$"  # at once; the namespace itself goes asynchronously
  ip netns del "$ns"
  sleep 1
}
