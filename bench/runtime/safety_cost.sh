#!/usr/bin/env bash
# What issue 10's safety costs an apply (docs/benchmarks.md "Safety cost"):
# `netdsl apply` of N vxlan FDB entries over D segments into a fresh
# namespace, in the same run (best of RUNS each), by
#   base     the netdsl of BASE (default fb5acce, the last commit before the
#            framed journal 197dd7f and the ownership checks 2d9d0c8), built
#            here in a temporary git worktree, with --no-probes;
#   current  this build's netdsl with --no-probes (framed journal, ownership
#            re-reads and markers, journaled ifindex/group, host record);
#   probes   this build's netdsl with its probes (as probes.sh: an underlay
#            whose every address answers, plus one --probe by TCP).
# Prints wall and CPU seconds and the ratios current/base and probes/base.
# Root only. Usage: bench/runtime/safety_cost.sh [BUILD_DIR] [N] [BASE]
# Environment: RUNS (default 3), DEVICES (default 100).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
n=${2:-100000}
base_rev=${3:-fb5acce}
runs=${RUNS:-3}
devices=${DEVICES:-100}
netdsl=$build/bin/netdsl
[[ -x $netdsl ]] || { echo "no $netdsl; build first" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces)" >&2; exit 1; }

tmp=$(mktemp -d)
# The baseline checkout lives under the build directory (beside this
# checkout, so a shared ccache with base_dir finds the unchanged objects).
basewt=$build/safety-cost-base
ns=ndcost$$
peer=ndcostpeer$$
export NETDSL_STATE_DIR=$tmp/state
listener=
cleanup() {
  [[ -n $listener ]] && kill "$listener" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip netns del "$peer" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

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

python3 "$here/gen_plan.py" fdb "$n" "$tmp/plan.yaml" "$tmp/batch" "$devices"
# The responder and the underlay namespace (bench/runtime/underlay.sh); each run
# starts with an empty state directory.
. "$here/underlay.sh"
start_responder

declare -A wall cpu
for ((r = 0; r < runs; r++)); do
  for mode in base current probes; do
    underlay_setup
    rm -rf "$NETDSL_STATE_DIR"
    bin=$netdsl args=(--no-probes)
    [[ $mode == base ]] && bin=$base
    [[ $mode == probes ]] && args=(--probe 192.168.255.254:7)
    /usr/bin/time -o "$tmp/time" -f "%e %U %S" "$bin" apply "$tmp/plan.yaml" --netns "$ns" "${args[@]}" \
      >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
    read -r t user sys <"$tmp/time"
    c=$(echo "$user + $sys" | bc -l)
    [[ -n ${VERBOSE:-} ]] && echo "$mode ${t}s wall ${c}s cpu" >&2
    wall[$mode]+="$t " cpu[$mode]+="$c "
    underlay_teardown
  done
done
min() { printf '%s\n' $1 | sort -g | head -1; }
printf 'apply of %d fdb entries over %d segments into a fresh namespace, best of %d runs each:\n' "$n" "$devices" "$runs"
printf '  base %s (--no-probes): wall %.3fs, cpu %.3fs\n' "$(git -C "$src" rev-parse --short "$base_rev")" \
  "$(min "${wall[base]}")" "$(min "${cpu[base]}")"
for mode in current probes; do
  printf '  %-8s wall %.3fs (ratio %.3f), cpu %.3fs (ratio %.3f)\n' "$mode" "$(min "${wall[$mode]}")" \
    "$(echo "$(min "${wall[$mode]}") / $(min "${wall[base]}")" | bc -l)" "$(min "${cpu[$mode]}")" \
    "$(echo "$(min "${cpu[$mode]}") / $(min "${cpu[base]}")" | bc -l)"
done
