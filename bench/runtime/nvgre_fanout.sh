#!/usr/bin/env bash
# NVGRE split horizon, what it costs (not a test; needs gretap, so run it in
# the VM: tests/vm/vm-run -- bash bench/runtime/nvgre_fanout.sh build).
# One segment bridge whose VSID R remote hosts share, applied with
# `netdsl apply` into a fresh namespace three ways, in the same run:
#   gretap+iso  R point-to-point gretaps, each an isolated bridge port (what
#               netdsl emits since issue 11's defect 1)
#   gretap      the same without isolation (before: loops with R >= 2)
#   vxlan       one vxlan device and R flood entries (the VXLAN mapping)
# Prints apply wall seconds (best of RUNS) and mutating netlink requests, and
# the ratios against `vxlan`. Usage: nvgre_fanout.sh [BUILD_DIR] [R...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
shift || true
fanouts=("$@")
((${#fanouts[@]})) || fanouts=(2 16 64)
runs=${RUNS:-3}
netdsl=$build/bin/netdsl
[[ -x $netdsl ]] || { echo "no $netdsl; build first" >&2; exit 1; }
tmp=$(mktemp -d)
ns=ndfan$$
export NETDSL_STATE_DIR=$tmp/state NO_COLOR=1
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

plan() {  # WAY R: a linux.yaml on stdout
  local way=$1 r=$2 i
  printf 'format: 1\nhost: h\nrequires: [bridge, %s]\nlinks:\n' "$([[ $way == vxlan ]] && echo vxlan || echo gretap)"
  printf '  - {name: nd-br1, kind: bridge, mtu: 1450}\n'
  if [[ $way == vxlan ]]; then
    printf '  - {name: nd-vx1, kind: vxlan, mtu: 1450, master: nd-br1, vxlan: {id: 4096, local: 10.255.0.1}}\nfdb:\n'
    for ((i = 1; i <= r; i++)); do printf '  - {dev: nd-vx1, mac: "00:00:00:00:00:00", dst: 10.255.%d.%d}\n' $((i / 250)) $((i % 250 + 2)); done
  else
    local iso=""
    [[ $way == gretap+iso ]] && iso=", isolated: true"
    for ((i = 1; i <= r; i++)); do
      printf '  - {name: ndg%05d, kind: gretap, mtu: 1450, master: nd-br1%s, gretap: {key: 1048576, local: 10.255.0.1, remote: 10.255.%d.%d}}\n' \
        "$i" "$iso" $((i / 250)) $((i % 250 + 2))
    done
  fi
}

printf '%-6s %-11s %10s %10s %8s\n' R way "apply s" requests "vs vxlan"
for r in "${fanouts[@]}"; do
  declare -A best=() reqs=()
  for way in vxlan gretap gretap+iso; do
    plan "$way" "$r" >"$tmp/$way.yaml"
    for ((k = 0; k < runs; k++)); do
      ip netns add "$ns"
      t0=$(date +%s%N)
      out=$("$netdsl" apply "$tmp/$way.yaml" --netns "$ns" --stats 2>&1) || { echo "$out" >&2; exit 1; }
      t1=$(date +%s%N)
      ip netns del "$ns"
      ms=$(((t1 - t0) / 1000000))
      [[ -z ${best[$way]:-} || $ms -lt ${best[$way]} ]] && best[$way]=$ms
      reqs[$way]=$(sed -nE 's/.*stats: ([0-9]+) mutating netlink requests.*/\1/p' <<<"$out")
    done
  done
  for way in vxlan gretap gretap+iso; do
    printf '%-6s %-11s %10.3f %10s %8.2f\n' "$r" "$way" "$(echo "${best[$way]} / 1000" | bc -l)" "${reqs[$way]}" \
      "$(echo "${best[$way]} / ${best[vxlan]}" | bc -l)"
  done
done
