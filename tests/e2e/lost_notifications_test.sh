#!/usr/bin/env bash
# When the kernel drops notifications (the monitor socket overflows; forced
# here with the test-only NETDSL_MONITOR_RCVBUF), apply must notice that its
# notification log is incomplete, verify by reading back instead (FDB get
# requests, neighbour dump), and still succeed with the exact state.
source "$(dirname "$0")/lib.sh"
mkns h
ns=$P-h
plan=$NETDSL_STATE_DIR/plan.yaml
{
  printf 'format: 1\nhost: h\nrequires: [bridge, vxlan]\nlinks:\n'
  printf '  - {name: nd-br1, kind: bridge, mtu: 1450}\n'
  printf '  - {name: nd-vx1, kind: vxlan, mtu: 1450, master: nd-br1, vxlan: {id: 1, local: 192.168.0.1}}\n'
  printf 'fdb:\n'
  for i in $(seq 1 3000); do printf '  - {dev: nd-vx1, mac: "02:00:00:00:%02x:%02x", dst: 192.168.1.%d}\n' $((i / 256)) $((i % 256)) $((i % 250 + 1)); done
  printf 'neighbours:\n'
  for i in $(seq 1 3000); do printf '  - {dev: nd-br1, address: 10.0.%d.%d, mac: "02:00:00:01:%02x:%02x"}\n' $((i / 256)) $((i % 256)) $((i / 256)) $((i % 256)); done
} >"$plan"

out=$(NETDSL_MONITOR_RCVBUF=4096 "$NETDSL" apply "$plan" --netns "$ns" --stats 2>&1) || fail "apply failed: $out"
grep -q "notification log was incomplete" <<<"$out" || fail "the lost notifications went unnoticed: $out"
grep -qE "[1-9][0-9]* get requests" <<<"$out" || fail "FDB not read back by get requests: $out"
expect_rc 0 "$NETDSL" plan "$plan" --netns "$ns" >/dev/null
[[ $(bridge -n "$ns" fdb show dev nd-vx1 | grep -c ' dst ') -eq 3000 ]] || fail "FDB entries missing"
[[ $(ip -n "$ns" neigh show dev nd-br1 nud permanent | wc -l) -eq 3000 ]] || fail "neighbours missing"
echo "PASS"
