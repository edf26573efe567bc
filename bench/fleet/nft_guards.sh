#!/usr/bin/env bash
# Port guards as nftables sets (issue 14): a host's artifact bytes and
# `netdsl plan` time on a host with PORTS guarded VM ports, BEFORE (per-port
# rules) against AFTER (sets keyed by port), in one run on one machine, so
# load hits both sides alike. Root only (a network namespace per side).
#
#   sudo bench/fleet/nft_guards.sh BEFORE_BIN [AFTER_BIN=build/bin] [PORTS=1000] [RUNS=3]
#
# BEFORE_BIN and AFTER_BIN hold `netdslc` and `netdsl` (e.g. BEFORE_BIN =
# build/bin of a checkout of the commit before the sets). The fabric is
# bench/gen_fabric.py with one host, 10 tenants, one VM subnet each (no VRF,
# so no routing-domain guards), PORTS VM NICs with DHCP, router, MAC and IP
# guards: 18 rules per port before. Each side's linux.yaml is applied into a
# fresh namespace by its own netdsl, then `netdsl plan` (nothing to change:
# it reads the desired file and the kernel's state, table included) runs
# RUNS times; the median is reported.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BEFORE=${1:?usage: nft_guards.sh BEFORE_BIN [AFTER_BIN] [PORTS] [RUNS]}
AFTER=${2:-$src/build/bin}
PORTS=${3:-1000}
RUNS=${4:-3}
[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces)" >&2; exit 77; }
W=$(mktemp -d /tmp/netdsl-nftbench.XXXXXX)
NS=()
cleanup() {
  local ns
  for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

python3 "$src/bench/gen_fabric.py" --hosts 1 --tenants 10 --subnets 1 --nics "$PORTS" -o "$W/fabric.netdsl" >/dev/null
declare -A yaml_bytes batch_bytes rules elements apply_s plan_s
for side in before after; do
  bin=$BEFORE
  [[ $side == after ]] && bin=$AFTER
  mkdir -p "$W/$side/src" "$W/$side/state"
  cp "$W/fabric.netdsl" "$W/$side/src/"
  "$bin/netdslc" build "$W/$side/src/fabric.netdsl" -o "$W/$side/out" --target=linux --no-verify >/dev/null
  plan=$W/$side/out/hosts/h00000/linux.yaml
  yaml_bytes[$side]=$(stat -c %s "$plan")
  batch_bytes[$side]=$(stat -c %s "$W/$side/out/hosts/h00000/linux.batch")
  rules[$side]=$(grep -c '{chain: ' "$plan" || true)
  elements[$side]=$(grep -cE '^        - ' "$plan" || true)
  ns=ndnft$$-$side
  ip netns add "$ns"
  NS+=("$ns")
  ip -n "$ns" link set lo up
  ip -n "$ns" link add eth0 type veth peer name eth0p
  export NETDSL_STATE_DIR=$W/$side/state
  t0=$(date +%s.%N)
  "$bin/netdsl" apply "$plan" --netns "$ns" >/dev/null
  t1=$(date +%s.%N)
  apply_s[$side]=$(python3 -c "print('%.2f' % ($t1 - $t0))")
  times=()
  for ((r = 0; r < RUNS; r++)); do
    t0=$(date +%s.%N)
    rc=0
    "$bin/netdsl" plan "$plan" --netns "$ns" >"$W/$side/plan.out" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    ((rc == 0)) || { echo "$side: plan after apply is not empty (exit $rc):" >&2; head -20 "$W/$side/plan.out" >&2; exit 1; }
    times+=("$(python3 -c "print($t1 - $t0)")")
  done
  plan_s[$side]=$(python3 -c "import statistics,sys; print('%.2f' % statistics.median(map(float, sys.argv[1:])))" "${times[@]}")
  ip netns del "$ns"
done

echo "host h00000: $PORTS guarded VM ports (DHCP, router, MAC, IP guards); median of $RUNS plans"
printf '%-26s %14s %14s %8s\n' "" before after ratio
row() { printf '%-26s %14s %14s %8s\n' "$1" "$2" "$3" "$(python3 -c "print('%.1fx' % ($2 / max($3, 1e-9)))")"; }
row "linux.yaml bytes" "${yaml_bytes[before]}" "${yaml_bytes[after]}"
row "linux.batch bytes" "${batch_bytes[before]}" "${batch_bytes[after]}"
row "nft rules" "${rules[before]}" "${rules[after]}"
printf '%-26s %14s %14s\n' "nft set elements" "${elements[before]}" "${elements[after]}"
row "apply (s, first)" "${apply_s[before]}" "${apply_s[after]}"
row "plan (s, no change)" "${plan_s[before]}" "${plan_s[after]}"
