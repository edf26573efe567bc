#!/usr/bin/env bash
# Runtime benchmark (not a test): apply N FDB entries / neighbours / routes into
# a fresh network namespace with `netdsl apply`, and the same entries with
# `bridge -batch` / `ip -batch` into another fresh namespace, in the same run;
# (links included on both sides) report wall and CPU time of both and their ratios (best of RUNS runs each),
# the kernel's own time for netdsl's requests (the floor any client pays), and
# `netdsl plan` (parse + dumps + diff) of the applied plan.
# Root only. Usage: bench/runtime/run.sh [BUILD_DIR] [N...]
# Environment: RUNS (default 3), DEVICES (default "1 100": tenant segments the
# entries are spread over), KINDS (default "fdb neigh route").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
shift || true
sizes=("$@")
((${#sizes[@]})) || sizes=(10000 100000)
runs=${RUNS:-3}
netdsl=$build/bin/netdsl
[[ -x $netdsl ]] || { echo "no $netdsl; build first" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces)" >&2; exit 1; }

tmp=$(mktemp -d)
ns=ndbench$$
export NETDSL_STATE_DIR=$tmp/state
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

now() { date +%s.%N; }
# measure OUT CMD...: runs CMD; writes "wall cpu" (cpu = user + system of it
# and its children, from /proc) to OUT.
measure() {
  local out=$1 before after t0 t1 me=$BASHPID  # not inside $(...): that is another subshell
  shift
  before=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$me/stat")
  t0=$(now)
  "$@"
  t1=$(now)
  after=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$me/stat")
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "($after - $before) / $(getconf CLK_TCK)" | bc -l)" >"$out"
}
# `ip netns del` returns before the kernel has torn the namespace down (a
# workqueue takes the rtnl lock, flushes 100k entries, waits for RCU grace
# periods), and percpu/RCU work of the last run may still be pending: wait
# until the CPUs are idle (≥ 90% over 200 ms, at most 10 s) so that the next
# measurement does not pay for the last one's cleanup.
settle() {
  local i a b
  for ((i = 0; i < 50; i++)); do
    a=($(head -1 /proc/stat))
    sleep 0.2
    b=($(head -1 /proc/stat))
    local idle=$((b[4] - a[4])) total=0 k
    for ((k = 1; k < ${#a[@]}; k++)); do total=$((total + b[k] - a[k])); done
    ((total > 0 && idle * 10 >= total * 9)) && return
  done
  return 0  # never idle (a loaded machine, a guest under TCG): go on after 10 s
}
drop_ns() { ip netns del "$ns"; settle; }
min() { printf '%s\n' "$@" | sort -g | head -1; }
fmt3() { printf '%.3f' "$1"; }
ratio() { printf '%.1fx' "$(echo "$1 / $2" | bc -l)"; }
count() {  # entries of KIND in namespace NS
  case $1 in
    fdb) bridge -n "$2" fdb show | grep -c ' dst ' || true ;;
    neigh) ip -n "$2" neigh show nud permanent | wc -l ;;
    route) ip -n "$2" route show table 1001 | wc -l ;;
  esac
}

printf '%-6s %7s %8s | %8s %8s %6s | %8s %8s %6s | %8s %8s | %7s\n' kind devices n \
  nd_wall bt_wall ratio nd_cpu bt_cpu ratio floor ceiling plan_s
for n in "${sizes[@]}"; do
  for devices in ${DEVICES:-1 100}; do
    for kind in ${KINDS:-fdb neigh route}; do
      python3 "$here/gen_plan.py" "$kind" "$n" "$tmp/plan.yaml" "$tmp/batch" "$devices" "$tmp/links"
      nd_wall=() nd_cpu=() bt_wall=() bt_cpu=() floors=()
      for ((r = 0; r < runs; r++)); do
        # netdsl: everything `apply` does, links included.
        ip netns add "$ns"
        (measure "$tmp/m" "$netdsl" apply "$tmp/plan.yaml" --netns "$ns" --stats 2>"$tmp/stats" >/dev/null)
        read -r w c <"$tmp/m"
        nd_wall+=("$w") nd_cpu+=("$c")
        floors+=("$(sed -nE 's/.*inside the sends of mutating requests [0-9.]+s CPU, ([0-9.]+)s wall.*/\1/p' "$tmp/stats")")
        got=$(count "$kind" "$ns")
        [[ $got -eq $n ]] || { echo "netdsl left $got $kind entries, want $n" >&2; exit 1; }
        if ((r == runs - 1)); then
          t0=$(now)
          "$netdsl" plan "$tmp/plan.yaml" --netns "$ns" >/dev/null
          plan_s=$(echo "$(now) - $t0" | bc -l)
        fi
        drop_ns
        # iproute2: the same links (`ip -batch`), then the entries, one request
        # and one ack per line; both timed, as netdsl's time includes its links.
        ip netns add "$ns"
        (measure "$tmp/m" ip -n "$ns" -batch "$tmp/links")
        read -r lw lc <"$tmp/m"
        if [[ $kind == fdb ]]; then
          (measure "$tmp/m" bridge -n "$ns" -batch "$tmp/batch")
        else
          (measure "$tmp/m" ip -n "$ns" -batch "$tmp/batch")
        fi
        read -r w c <"$tmp/m"
        bt_wall+=("$(echo "$w + $lw" | bc -l)") bt_cpu+=("$(echo "$c + $lc" | bc -l)")
        got=$(count "$kind" "$ns")
        [[ $got -eq $n ]] || { echo "batch left $got $kind entries, want $n" >&2; exit 1; }
        drop_ns
      done
      nw=$(min "${nd_wall[@]}") nc=$(min "${nd_cpu[@]}") bw=$(min "${bt_wall[@]}") bc=$(min "${bt_cpu[@]}")
      fl=$(min "${floors[@]}")
      printf '%-6s %7d %8d | %8s %8s %6s | %8s %8s %6s | %8s %8s | %7s\n' "$kind" "$devices" "$n" \
        "$(fmt3 "$nw")" "$(fmt3 "$bw")" "$(ratio "$bw" "$nw")" "$(fmt3 "$nc")" "$(fmt3 "$bc")" \
        "$(ratio "$bc" "$nc")" "$(fmt3 "$fl")" "$(ratio "$bw" "$fl")" "$(fmt3 "$plan_s")"
    done
  done
done
echo "best of $runs runs each; wall and CPU in seconds; ratio = iproute2 / netdsl;"
echo "floor = wall time inside netdsl's sends of mutating requests: the kernel's own work for"
echo "  them, including what it defers to the sending CPU's workqueue (it preempts the sender);"
echo "ceiling = iproute2 wall / floor, the best wall ratio any client could reach."
