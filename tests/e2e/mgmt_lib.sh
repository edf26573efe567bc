# A host managed from another subnet, for the management tests (sourced after
# lib.sh): namespace $P-host (the hypervisor) reaches $P-peer (the operator's
# side, 10.1.0.2) only through the router $P-rtr, over its NIC `eth0`:
#
#   $P-host eth0 10.0.0.5/24 --- r-h 10.0.0.1/24 [$P-rtr] r-p 10.1.0.1/24 --- eth0 10.1.0.2/24 $P-peer
#
# eth0 carries what a real host's management NIC carries: its addresses
# (IPv4 with a label, IPv6), the default route as iproute2 adds it (proto
# boot), a static route with a metric and a source address, a permanent
# neighbour, and a root qdisc.
NETDSLC=${NETDSLC:-}
[[ -x $NETDSLC ]] || skip "netdslc is not built"
command -v ping >/dev/null || skip "\`ping\` (iputils-ping) is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
HOST=$P-host
RTR=$P-rtr
PEER=$P-peer
LISTENERS=()

mgmt_cleanup() {
  local pid
  for pid in "${LISTENERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  cleanup
}
trap mgmt_cleanup EXIT

# mgmt_topology: (re)creates the three namespaces and eth0's settings.
mgmt_topology() {
  local ns
  for ns in "$HOST" "$RTR" "$PEER"; do ip netns del "$ns" 2>/dev/null || true; done
  mkns host
  mkns rtr
  mkns peer
  ip link add eth0 netns "$HOST" type veth peer name r-h netns "$RTR"
  ip link add eth0 netns "$PEER" type veth peer name r-p netns "$RTR"
  ip netns exec "$RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  ip -n "$RTR" addr add 10.0.0.1/24 dev r-h
  ip -n "$RTR" addr add 2001:db8:5::1/64 dev r-h nodad
  ip -n "$RTR" addr add 10.1.0.1/24 dev r-p
  ip -n "$RTR" link set r-h up
  ip -n "$RTR" link set r-p up
  ip -n "$PEER" addr add 10.1.0.2/24 dev eth0
  ip -n "$PEER" link set eth0 up
  ip -n "$PEER" route add default via 10.1.0.1
  ip -n "$HOST" link set eth0 up
  ip -n "$HOST" addr add 10.0.0.5/24 dev eth0 label eth0:mgmt
  ip -n "$HOST" addr add 2001:db8:5::5/64 dev eth0 nodad
  ip -n "$HOST" route add default via 10.0.0.1
  ip -n "$HOST" route add 10.50.0.0/16 via 10.0.0.1 proto static metric 100 src 10.0.0.5
  ip -n "$HOST" -6 route add 2001:db8:99::/48 via 2001:db8:5::1 metric 300
  # The IPv6 default route via the router's link-local address, as router advertisements give it.
  local ll
  ll=$(ip -n "$RTR" -6 -o addr show dev r-h scope link | sed -nE 's/.* inet6 (fe80::[0-9a-f:]+)\/64.*/\1/p')
  [[ -n $ll ]] || fail "the router has no link-local address"
  ip -n "$HOST" -6 route add default via "$ll" dev eth0 metric 1024
  ip -n "$HOST" neigh add 10.0.0.77 lladdr 02:00:00:00:00:77 dev eth0 nud permanent
  tc -n "$HOST" qdisc add dev eth0 root tbf rate 1gbit burst 100kb latency 50ms
}

# mdump NS: lib.sh's dump, without the notice iproute2 prints on stderr now and
# then while resolving a veth peer's namespace (not state).
mdump() { dump "$1" | grep -v 'Peer netns reference is invalid'; }

# listen NS PORT: a TCP listener in NS that accepts and closes, until the test ends.
listen() {
  ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    c.close()
' "$2" &
  LISTENERS+=($!)
  local i
  for ((i = 0; i < 50; i++)); do
    ip netns exec "$1" bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "listener on port $2 in $1 did not come up"
}

# reach FROM ADDR PORT: ping and a TCP connect from namespace FROM to ADDR.
reach() {
  ip netns exec "$1" ping -c 1 -W 2 "$2" >/dev/null || return 1
  timeout 5 ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null || return 1
}

# mgmt_plan NAME STANZA: compiles host `hv1` (eth0 on switch `sw`) with the
# given management stanza into $NETDSL_STATE_DIR/NAME; prints its linux.yaml.
mgmt_plan() {
  local dir=$NETDSL_STATE_DIR/$1
  mkdir -p "$dir"
  cat >"$dir/fabric.netdsl" <<EOF
host hv1 {
  nic eth0 { switch = sw; uplink = up; }
  $2
}
uplink_port_profile up { sites = []; }
logical_switch sw { uplink_mode = no_team; uplinks = [up]; }
EOF
  "$NETDSLC" build "$dir/fabric.netdsl" -o "$dir/out" --target=linux >/dev/null || fail "netdslc build of $1 failed"
  echo "$dir/out/hosts/hv1/linux.yaml"
}
