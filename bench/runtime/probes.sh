#!/usr/bin/env bash
# What probes cost an apply (docs/runtime.md "Probes"): `netdsl apply` of N
# vxlan FDB entries over D segments into a fresh namespace, with probes and
# with --no-probes, in the same run (best of RUNS each), and their ratio. The
# namespace reaches an underlay whose every address answers (a responder
# namespace with 192.168.0.0/16 as local addresses and the default gateway),
# so the probes do their full work: the gateway by ARP and ICMP, 32 sampled
# remote PAs by ICMP, and one --probe by TCP, before and after the change.
# Root only. Usage: bench/runtime/probes.sh [BUILD_DIR] [N]   (default 100000)
# Environment: RUNS (default 3), DEVICES (default 100).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
n=${2:-100000}
runs=${RUNS:-3}
devices=${DEVICES:-100}
netdsl=$build/bin/netdsl
[[ -x $netdsl ]] || { echo "no $netdsl; build first" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces)" >&2; exit 1; }

# The scratch directory, the namespaces, the responder and the underlay
# namespace: bench/runtime/underlay.sh.
. "$here/underlay.sh"
underlay_scratch ndprobe

python3 "$here/gen_plan.py" fdb "$n" "$tmp/plan.yaml" "$tmp/batch" "$devices"
now() { date +%s.%N; }
start_responder

with=() without=() with_cpu=() without_cpu=() probe_s=()
for ((r = 0; r < runs; r++)); do
  for mode in without with; do
    underlay_setup
    args=(--no-probes)
    [[ $mode == with ]] && args=(--probe 192.168.255.254:7)
    /usr/bin/time -o "$tmp/time" -f "%e %U %S" "$netdsl" apply "$tmp/plan.yaml" --netns "$ns" --stats "${args[@]}" \
      >/dev/null 2>"$tmp/stats" || { cat "$tmp/stats"; exit 1; }
    read -r t user sys <"$tmp/time"
    cpu=$(echo "$user + $sys" | bc -l)
    [[ -n ${VERBOSE:-} ]] && echo "$mode ${t}s wall ${cpu}s cpu: $(grep 'stats: time' "$tmp/stats")" >&2
    if [[ $mode == with ]]; then
      with+=("$t") with_cpu+=("$cpu")
      grep -q "stats: 34 probes pass before the apply, 0 do not" "$tmp/stats" || { cat "$tmp/stats"; echo "probes did not all pass" >&2; exit 1; }
      probe_s+=("$(sed -nE 's/.*time .*probes ([0-9.]+)s, .*probes ([0-9.]+)s.*/\1 \2/p' "$tmp/stats" | awk '{print $1 + $2}')")
    else
      without+=("$t") without_cpu+=("$cpu")
    fi
    underlay_teardown
  done
done
min() { printf '%s\n' "$@" | sort -g | head -1; }
w=$(min "${with[@]}") wo=$(min "${without[@]}") p=$(min "${probe_s[@]}")
wc=$(min "${with_cpu[@]}") woc=$(min "${without_cpu[@]}")
printf 'apply of %d fdb entries over %d segments, best of %d runs:\n' "$n" "$devices" "$runs"
printf '  wall: --no-probes %.3fs, with probes %.3fs: ratio %.3f (apply waited %.3fs for the probes)\n' "$wo" "$w" \
  "$(echo "$w / $wo" | bc -l)" "$p"
printf '  cpu:  --no-probes %.3fs, with probes %.3fs: ratio %.3f\n' "$woc" "$wc" "$(echo "$wc / $woc" | bc -l)"
