#!/usr/bin/env bash
# Runtime benchmark (not a test): apply N FDB entries / neighbours / routes into
# a fresh network namespace with `netdsl apply`, then the same entries with
# `bridge -batch` / `ip -batch` into another fresh namespace, and report the
# ratio; then time `netdsl plan` (parse + netlink dumps + diff) of the applied
# plan. Root only. Usage: bench/runtime/run.sh [BUILD_DIR] [N...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
shift || true
sizes=("$@")
((${#sizes[@]})) || sizes=(10000 100000)
netdsl=$build/bin/netdsl
[[ -x $netdsl ]] || { echo "no $netdsl; build first" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces)" >&2; exit 1; }

tmp=$(mktemp -d)
ns=ndbench$$
export NETDSL_STATE_DIR=$tmp/state
cleanup() { ip netns del "$ns-a" 2>/dev/null || true; ip netns del "$ns-b" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.3f'; }
# cpu CMD...: runs CMD, appends "user+sys seconds" of it (and its children) to $tmp/cpu.
cpu() {
  local before after me=$BASHPID  # not inside $(...): that is another subshell
  before=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$me/stat")
  "$@"
  after=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$me/stat")
  echo "($after - $before) / $(getconf CLK_TCK)" | bc -l >>"$tmp/cpu"
}

printf '%-6s %8s %10s %10s %7s %10s %10s %7s %8s %9s\n' kind n netdsl_s batch_s ratio netdsl_cpu batch_cpu ratio plan_s requests
for n in "${sizes[@]}"; do
  for kind in fdb neigh route; do
    python3 "$here/gen_plan.py" "$kind" "$n" "$tmp/plan.yaml" "$tmp/batch"
    ip netns add "$ns-a"
    ip netns add "$ns-b"
    : >"$tmp/cpu"
    t0=$(now)
    (cpu "$netdsl" apply "$tmp/plan.yaml" --netns "$ns-a" --stats 2>"$tmp/stats" >/dev/null)
    t1=$(now)
    stats=$(cat "$tmp/stats")
    requests=$(sed -nE 's/stats: ([0-9]+) mutating.*/\1/p' <<<"$stats")
    # The same links, then the same entries through iproute2's batch mode.
    t2=$(now)
    (
      cpu ip -n "$ns-b" link add nd-br1 mtu 1450 type bridge
      cpu ip -n "$ns-b" link add nd-vx1 mtu 1450 master nd-br1 type vxlan id 1 local 192.168.0.1 dstport 4789 nolearning
      cpu ip -n "$ns-b" link set nd-br1 up
      cpu ip -n "$ns-b" link set nd-vx1 up
      if [[ $kind == fdb ]]; then
        cpu bridge -n "$ns-b" -batch "$tmp/batch"
      else
        cpu ip -n "$ns-b" -batch "$tmp/batch"
      fi
    )
    t3=$(now)
    netdsl_cpu=$(head -1 "$tmp/cpu")
    batch_cpu=$(tail -n +2 "$tmp/cpu" | paste -sd+ | bc -l)
    # Sanity: both namespaces hold the same number of entries.
    case $kind in
      fdb) a=$(bridge -n "$ns-a" fdb show dev nd-vx1 | grep -c ' dst '); b=$(bridge -n "$ns-b" fdb show dev nd-vx1 | grep -c ' dst ') ;;
      neigh) a=$(ip -n "$ns-a" neigh show dev nd-br1 nud permanent | wc -l); b=$(ip -n "$ns-b" neigh show dev nd-br1 nud permanent | wc -l) ;;
      route) a=$(ip -n "$ns-a" route show table 1001 | wc -l); b=$(ip -n "$ns-b" route show table 1001 | wc -l) ;;
    esac
    [[ $a -eq $n && $b -eq $n ]] || { echo "entry count mismatch: netdsl $a, batch $b, want $n" >&2; exit 1; }
    t4=$(now)
    "$netdsl" plan "$tmp/plan.yaml" --netns "$ns-a" >/dev/null
    t5=$(now)
    nd=$(secs "$t0" "$t1")
    bt=$(secs "$t2" "$t3")
    printf '%-6s %8d %10s %10s %7s %10.3f %10.3f %7s %8s %9s\n' "$kind" "$n" "$nd" "$bt" \
      "$(echo "$bt / $nd" | bc -l | xargs printf '%.1fx')" "$netdsl_cpu" "$batch_cpu" \
      "$(echo "$batch_cpu / $netdsl_cpu" | bc -l | xargs printf '%.1fx')" "$(secs "$t4" "$t5")" "$requests"
    ip netns del "$ns-a"
    ip netns del "$ns-b"
  done
done
