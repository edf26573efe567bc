#!/usr/bin/env bash
# What issue 10's safety costs an apply (docs/benchmarks.md "safety cost"):
# `netdsl apply` of N vxlan FDB entries (or routes: KIND=route) over D
# segments into a fresh namespace, in the same run, by
#   base     the netdsl of BASE (default fb5acce, the last commit before the
#            framed journal 197dd7f and the ownership checks 2d9d0c8), built
#            here in a temporary git worktree, with --no-probes;
#   current  this build's netdsl with --no-probes (framed journal, ownership
#            re-reads and markers, journaled ifindex/group, host record);
#   probes   this build's netdsl with its probes (as probes.sh: an underlay
#            whose every address answers, plus one --probe by TCP; with
#            KIND=route the plan names no peers: gateway + --probe only).
# Three measures, each as ratios against base in this run:
#   1. instructions: one run of each under callgrind (the whole process, all
#      threads, user space): load-independent, deterministic to ~0.1 %;
#   2. kernel work: what each asks of the kernel, from its `--stats` (netlink
#      requests, dumps, round trips) and `strace -f -c` (system calls): the
#      kernel does the same work for the same requests;
#   3. wall and CPU time: RUNS runs of each, interleaved, the order rotated
#      every round (each mode follows each other one equally often): median
#      and best. Only this one depends on the machine's load; the load
#      average is printed before and after.
# Root only. Usage: bench/runtime/safety_cost.sh [BUILD_DIR] [N] [BASE]
# Environment: RUNS (default 10; 0 = no timed runs), IR (default 1; 0 = no
# callgrind/strace runs), KIND (fdb | route; default fdb), DEVICES (default
# 100), VERBOSE=1 (each run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
n=${2:-100000}
base_rev=${3:-fb5acce}
runs=${RUNS:-10}
ir=${IR:-1}
devices=${DEVICES:-100}
kind=${KIND:-fdb}
netdsl=$build/bin/netdsl
[[ -x $netdsl ]] || { echo "no $netdsl; build first" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces)" >&2; exit 1; }
if [[ $ir != 0 ]]; then
  for tool in valgrind strace; do
    command -v $tool >/dev/null || { echo "needs $tool (or IR=0)" >&2; exit 1; }
  done
fi

# The scratch directory and the namespaces (bench/runtime/underlay.sh).
. "$here/underlay.sh"
underlay_scratch ndcost
# The baseline checkout lives under the build directory (beside this
# checkout, so a shared ccache with base_dir finds the unchanged objects).
basewt=$build/safety-cost-base

# The baseline's netdsl, built once and kept (remove $basewt to rebuild).
if [[ ! -x $basewt/build/bin/netdsl || $(git -C "$basewt" rev-parse HEAD 2>/dev/null) != $(git -C "$src" rev-parse "$base_rev") ]]; then
  git -C "$src" worktree remove --force "$basewt" 2>/dev/null || rm -rf "$basewt"
  git -C "$src" worktree add --detach "$basewt" "$base_rev" >/dev/null
  launcher=()
  command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -S "$basewt" -B "$basewt/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
  cmake --build "$basewt/build" --target netdsl >/dev/null
fi
base=$basewt/build/bin/netdsl

python3 "$here/gen_plan.py" "$kind" "$n" "$tmp/plan.yaml" "$tmp/batch" "$devices"
# The responder and the underlay namespace; each run starts with an empty
# state directory.
start_responder

modes=(base current probes)
# run_apply MODE PREFIX...: one apply of MODE into a fresh namespace, run under
# PREFIX (a tool, or nothing); its --stats in $tmp/stats.
run_apply() {
  local mode=$1 bin=$netdsl args=(--no-probes)
  shift
  [[ $mode == base ]] && bin=$base
  [[ $mode == probes ]] && args=(--probe 192.168.255.254:7)
  underlay_setup
  rm -rf "$NETDSL_STATE_DIR"
  "$@" "$bin" apply "$tmp/plan.yaml" --netns "$ns" --stats "${args[@]}" >/dev/null 2>"$tmp/stats" || {
    cat "$tmp/stats" >&2
    exit 1
  }
  if [[ $mode == probes ]] && ! grep -qE "stats: [1-9][0-9]* probes pass before the apply, 0 do not" "$tmp/stats"; then
    grep "probe" "$tmp/stats" >&2
    echo "not every probe passed before the apply: the run does not measure them" >&2
    exit 1
  fi
  underlay_teardown
}
ratio() { echo "$1 / $2" | bc -l; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
load_before=$(loadavg)
printf 'apply of %d %s entries over %d segments into a fresh namespace; base %s, current %s\n' "$n" "$kind" "$devices" \
  "$(git -C "$src" rev-parse --short "$base_rev")" "$(git -C "$src" rev-parse --short HEAD)"
printf 'load average before: %s\n' "$load_before"

if [[ $ir != 0 ]]; then
  declare -A irs requests syscalls
  for mode in "${modes[@]}"; do
    run_apply "$mode" valgrind --tool=callgrind --callgrind-out-file="$tmp/callgrind.out"
    irs[$mode]=$(sed -n 's/^summary: //p' "$tmp/callgrind.out")
    requests[$mode]=$(sed -nE 's/^stats: ([0-9]+) mutating netlink requests, ([0-9]+) dumps, ([0-9]+) get requests, ([0-9]+) round trips$/\1 requests, \2 dumps, \3 gets, \4 round trips/p' "$tmp/stats")
    run_apply "$mode" strace -f -c -o "$tmp/strace"
    syscalls[$mode]=$(awk '$NF == "total" { print $4 }' "$tmp/strace")
    [[ $mode == probes ]] && probes_used=$(sed -nE 's/^stats: ([0-9]+) probes pass before the apply.*/\1/p' "$tmp/stats")
    [[ -n ${VERBOSE:-} ]] && { echo "$mode: ${irs[$mode]} Ir; ${requests[$mode]}; ${syscalls[$mode]} system calls" >&2; cat "$tmp/strace" >&2; }
  done
  printf 'instructions, whole process (callgrind, one run each; load-independent; %s probes):\n' "$probes_used"
  for mode in "${modes[@]}"; do
    printf '  %-8s %13d Ir' "$mode" "${irs[$mode]}"
    [[ $mode != base ]] && printf '  ratio %.4f' "$(ratio "${irs[$mode]}" "${irs[base]}")"
    printf '\n'
  done
  printf 'kernel requests (netdsl --stats) and system calls (strace -f -c):\n'
  for mode in "${modes[@]}"; do
    printf '  %-8s %s; %d system calls\n' "$mode" "${requests[$mode]}" "${syscalls[$mode]}"
  done
fi

if ((runs > 0)); then
  declare -A wall cpu
  for ((r = 0; r < runs; r++)); do
    for ((k = 0; k < 3; k++)); do
      mode=${modes[(r + k) % 3]}
      run_apply "$mode" /usr/bin/time -o "$tmp/time" -f "%e %U %S"
      read -r t user sys <"$tmp/time"
      c=$(echo "$user + $sys" | bc -l)
      [[ -n ${VERBOSE:-} ]] && echo "$mode ${t}s wall ${c}s cpu: $(grep "stats: time" "$tmp/stats")" >&2
      wall[$mode]+="$t " cpu[$mode]+="$c "
    done
  done
  best() { printf '%s\n' $1 | sort -g | head -1; }
  median() { printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  printf 'wall and CPU (user + system) seconds, %d runs each, interleaved in rotating order: median / best\n' "$runs"
  for mode in "${modes[@]}"; do
    wm=$(median "${wall[$mode]}") wb=$(best "${wall[$mode]}") cm=$(median "${cpu[$mode]}") cb=$(best "${cpu[$mode]}")
    printf '  %-8s wall %.3f / %.3f s' "$mode" "$wm" "$wb"
    [[ $mode != base ]] && printf ' (ratio %.3f / %.3f)' "$(ratio "$wm" "$(median "${wall[base]}")")" \
      "$(ratio "$wb" "$(best "${wall[base]}")")"
    printf ', cpu %.3f / %.3f s' "$cm" "$cb"
    [[ $mode != base ]] && printf ' (ratio %.3f / %.3f)' "$(ratio "$cm" "$(median "${cpu[base]}")")" \
      "$(ratio "$cb" "$(best "${cpu[base]}")")"
    printf '\n'
  done
fi
printf 'load average after: %s\n' "$(loadavg)"
