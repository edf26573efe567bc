#!/usr/bin/env bash
# Runs many test scripts in ONE VM (the VM suite, `vm.suite`): inside the
# guest, each script under its own time limit, NDVM_SUITE_JOBS at a time
# (default 2: the tests wait on the network and on timers as much as they
# compute). Per test NAME it writes, into RESULTS (shared read-write with the
# host: vm-run --rw): NAME.log (stdout and stderr), NAME.seconds and, last,
# NAME.rc (its exit status; 124 = out of time). tests/vm/suite-result.sh
# reports one of them as its own CTest entry.
#
#   suite.sh RESULTS LIMIT NAME=SCRIPT...     (longest tests first)
set -uo pipefail
results=${1:?usage: suite.sh RESULTS LIMIT NAME=SCRIPT...}
limit=${2:?usage: suite.sh RESULTS LIMIT NAME=SCRIPT...}
shift 2
jobs=${NDVM_SUITE_JOBS:-2}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "suite.sh: NDVM_SUITE_JOBS=$jobs: a positive number expected" >&2; exit 64; }

run_one() {
  local name=$1 script=$2 start rc=0 s
  start=$(date +%s%N)
  timeout -k 10 "$limit" bash "$script" </dev/null >"$results/$name.log" 2>&1 || rc=$?
  s=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  echo "$s" >"$results/$name.seconds"
  echo "$rc" >"$results/$name.rc.tmp" && mv "$results/$name.rc.tmp" "$results/$name.rc"
  case $rc in
    0) echo "$name: passed ($s s)" ;;
    77) echo "$name: skipped ($s s): $(grep -m1 '^SKIP' "$results/$name.log")" ;;
    124) echo "$name: FAILED, out of time ($limit s)" ;;
    *) echo "$name: FAILED, exit $rc ($s s)" ;;
  esac
}

# Load the kernel modules the tests use first: loading ip_gre gives EVERY
# namespace, existing ones too, its fallback devices (gre0, gretap0,
# erspan0), and a test comparing a namespace's state before and after (a
# dump in kill_recovery) must not see another test's first gretap appear in
# it midway. Loaded up front, they are there from each namespace's start.
for m in ${NDVM_SUITE_MODULES:-bridge veth vxlan bonding 8021q vrf ip_gre dummy}; do
  modprobe "$m" || echo "suite: modprobe $m failed"
done

start=$(date +%s%N)
for spec in "$@"; do
  while (($(jobs -pr | wc -l) >= jobs)); do wait -n; done
  run_one "${spec%%=*}" "${spec#*=}" &
done
wait
echo "suite: $# tests, $jobs at a time, $(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s in the guest"
