#!/usr/bin/env bash
# Management continuity (issue 10, defect 1): a host managed from another
# subnet, through a router, whose switch adopts its only NIC `eth0`. The
# NIC's addresses, routes (default route included) and permanent neighbour
# move onto the switch bridge in the steps right after it is attached, each
# route by one in-place replace: the host never loses its default route, and
# the peer still reaches it (ping and TCP) afterwards. The routes keep their
# exact proto/metric/src; the NIC keeps its root qdisc. Later applies leave the
# moved settings alone (`plan` in sync), a failure at any step puts everything
# back exactly as it was, and a plan without the switch moves them back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mgmt_lib.sh"

inherit=$(mgmt_plan inherit "management = inherit;")
empty=$NETDSL_STATE_DIR/empty.yaml
printf 'format: 1\nhost: hv1\n' >"$empty"

mgmt_topology
listen "$HOST" 7000
reach "$PEER" 10.0.0.5 7000 || fail "the peer does not reach the host before the apply"
before=$(mdump "$HOST")

# The plan shows the move.
out=$("$NETDSL" plan "$inherit" --netns "$HOST") && fail "plan reported no changes"
echo "$out"
grep -qE '> address eth0 -> nd-sw-[0-9a-f]+: 10\.0\.0\.5/24' <<<"$out" || fail "plan does not show the address move"
grep -qE '> route table 254 0\.0\.0\.0/0: dev eth0 -> nd-sw-[0-9a-f]+ via 10\.0\.0\.1 metric 0 proto boot' <<<"$out" ||
  fail "plan does not show the default route's move"
grep -qE '^  - (address|route|neighbour|qdisc) ' <<<"$out" && fail "plan deletes something of eth0's: $out"

# Apply while watching the routing table: the default route is replaced, never deleted.
# (Polled, not slept: a marker route, added and deleted, shows that the
# monitor listens, and the moved default route that it has seen the apply.)
ip -n "$HOST" monitor route >"$NETDSL_STATE_DIR/monitor" 2>&1 &
monitor=$!
LISTENERS+=($monitor)
for ((i = 0; i < 600; i++)); do
  ip -n "$HOST" route add 192.0.2.77/32 dev lo
  ip -n "$HOST" route del 192.0.2.77/32 dev lo
  grep -q '192\.0\.2\.77 dev lo' "$NETDSL_STATE_DIR/monitor" && break
  sleep 0.1
done
grep -q '192\.0\.2\.77 dev lo' "$NETDSL_STATE_DIR/monitor" || fail "ip monitor saw nothing in 60 s"
expect_rc 0 "$NETDSL" apply "$inherit" --netns "$HOST"
for ((i = 0; i < 600; i++)); do
  grep -qE '^default via 10\.0\.0\.1 dev nd-sw' "$NETDSL_STATE_DIR/monitor" && break
  sleep 0.1
done
kill "$monitor"
if grep -E '^Deleted .*default' "$NETDSL_STATE_DIR/monitor"; then fail "the default route was deleted during the apply"; fi
grep -qE '^default via 10\.0\.0\.1 dev nd-sw' "$NETDSL_STATE_DIR/monitor" || {
  cat "$NETDSL_STATE_DIR/monitor"
  fail "the monitor did not see the default route move onto the bridge"
}

reach "$PEER" 10.0.0.5 7000 || fail "the peer no longer reaches the host after the apply"
br=$(ip -n "$HOST" -o link show type bridge | sed -nE 's/^[0-9]+: (nd-sw-[0-9a-f]+):.*/\1/p')
[[ -n $br ]] || fail "no switch bridge"
links=$(ip -n "$HOST" -o link show)
grep -qE "^[0-9]+: eth0@.* master $br " <<<"$links" || fail "eth0 is not on $br: $links"
# Exactly as they were, on the bridge: proto, metric, source, label, neighbour.
routes=$(ip -n "$HOST" -d route show | sed 's/ *$//')
grep -qx "unicast default via 10.0.0.1 dev $br proto boot scope global" <<<"$routes" ||
  fail "default route not as it was: $routes"
grep -qx "unicast 10.50.0.0/16 via 10.0.0.1 dev $br proto static scope global src 10.0.0.5 metric 100" <<<"$routes" ||
  fail "static route not as it was: $routes"
routes=$(ip -n "$HOST" -6 -d route show | sed 's/ *$//')
grep -qx "unicast 2001:db8:99::/48 via 2001:db8:5::1 dev $br proto boot scope global metric 300 pref medium" <<<"$routes" ||
  fail "IPv6 route not as it was: $routes"
addrs=$(ip -n "$HOST" -o addr show)
grep -qE "^[0-9]+: $br +inet 10\.0\.0\.5/24 .* $br:mgmt" <<<"$addrs" || fail "address or label not moved: $addrs"
grep -qE "^[0-9]+: $br +inet6 2001:db8:5::5/64" <<<"$addrs" || fail "IPv6 address not moved: $addrs"
[[ -z $(grep -E "^[0-9]+: eth0 " <<<"$addrs" | grep -v ' fe80::') ]] || fail "eth0 kept addresses: $addrs"
neigh=$(ip -n "$HOST" neigh show nud permanent | sed 's/ *$//')
grep -qx "10.0.0.77 dev $br lladdr 02:00:00:00:00:77 PERMANENT" <<<"$neigh" || fail "neighbour not moved: $neigh"
qdiscs=$(tc -n "$HOST" qdisc show dev eth0)
grep -q "qdisc tbf" <<<"$qdiscs" || fail "eth0's root qdisc was removed: $qdiscs"
[[ $(grep -oE "^[0-9]+: $br:.*link/ether [0-9a-f:]+" <<<"$links" | grep -o 'ether .*') == \
   $(grep -oE "^[0-9]+: eth0@.*link/ether [0-9a-f:]+" <<<"$links" | grep -o 'ether .*') ]] ||
  fail "the bridge does not have eth0's MAC: $links"

# Later runs leave the moved settings alone.
expect_rc 0 "$NETDSL" plan "$inherit" --netns "$HOST"
out=$("$NETDSL" apply "$inherit" --netns "$HOST")
grep -q "in sync, nothing to do" <<<"$out" || fail "second apply changed something: $out"
reach "$PEER" 10.0.0.5 7000 || fail "the peer no longer reaches the host after the second apply"

# A plan without the switch gives eth0 its settings back, exactly.
expect_rc 0 "$NETDSL" apply "$empty" --netns "$HOST"
after=$(mdump "$HOST")
if [[ "$before" != "$after" ]]; then
  diff <(echo "$before") <(echo "$after") || true
  fail "the settings did not go back to eth0 exactly"
fi
reach "$PEER" 10.0.0.5 7000 || fail "the peer does not reach the host after the switch went away"
[[ ! -e $NETDSL_STATE_DIR/$(state_key "$HOST").hosted ]] || fail "the record of moved settings was left behind"

# A failure at any step of the adoption restores eth0 exactly.
n=$("$NETDSL" apply "$inherit" --netns "$HOST" --dry-run | sed -nE 's/.* in ([0-9]+) steps?$/\1/p')
[[ $n -ge 3 ]] || fail "expected at least 3 steps, got '$n'"
for k in $(seq 1 "$n"); do
  err=$(NETDSL_FAULT_AT_STEP=$k "$NETDSL" apply "$inherit" --netns "$HOST" 2>&1) && fail "apply with a fault at step $k succeeded"
  grep -q "rolled back $k step" <<<"$err" || fail "no rollback at step $k: $err"
  after=$(mdump "$HOST")
  if [[ "$before" != "$after" ]]; then
    diff <(echo "$before") <(echo "$after") || true
    fail "state differs after a fault at step $k"
  fi
  reach "$PEER" 10.0.0.5 7000 || fail "the peer does not reach the host after a fault at step $k"
done
echo "rolled back every one of $n steps"

# Killed at any step, the next apply recovers and converges.
for k in $(seq 1 "$n"); do
  NETDSL_KILL_AT_STEP=$k "$NETDSL" apply "$inherit" --netns "$HOST" >/dev/null 2>&1 && fail "apply with a kill at step $k exited 0"
  expect_rc 0 "$NETDSL" apply "$empty" --netns "$HOST"
  after=$(mdump "$HOST")
  if [[ "$before" != "$after" ]]; then
    diff <(echo "$before") <(echo "$after") || true
    fail "state differs after recovering from a kill at step $k"
  fi
done
echo "recovered from a kill at every one of $n steps"
echo "PASS"
