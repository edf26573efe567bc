#!/usr/bin/env bash
# Runs the VM suite's test scripts in a VM (`vm.suite`): inside the guest,
# each script under its own time limit, NDVM_SUITE_JOBS at a time (default
# 2: the tests wait on the network and on timers as much as they compute).
# Several VMs may run this at once on the same RESULTS (tests/vm/suite-run.sh
# starts NDVM_SUITE_VMS of them): a test runs in the VM that claims it first
# (`mkdir RESULTS/NAME.claim`, atomic on the host's file system through 9p),
# so the VMs share one queue, longest tests first. Per test NAME it writes,
# into RESULTS (shared read-write with the host: vm-run --rw): NAME.log
# (stdout and stderr), NAME.seconds, NAME.cpu (CPU seconds of the test's
# processes in the guest) and, last, NAME.rc (its exit status; 124 = out of
# time). tests/vm/suite-result.sh reports one of them as its own CTest entry.
#
#   suite.sh RESULTS LIMIT NAME=SCRIPT...     (longest tests first)
set -uo pipefail
results=${1:?usage: suite.sh RESULTS LIMIT NAME=SCRIPT...}
limit=${2:?usage: suite.sh RESULTS LIMIT NAME=SCRIPT...}
shift 2
jobs=${NDVM_SUITE_JOBS:-2}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "suite.sh: NDVM_SUITE_JOBS=$jobs: a positive number expected" >&2; exit 64; }
vm=${NDVM_SUITE_VM:-1}

run_one() {
  local name=$1 script=$2 start rc=0 s cpu
  start=$(date +%s%N)
  timeout -k 10 "$limit" bash "$script" </dev/null >"$results/$name.log" 2>&1 || rc=$?
  s=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  # This subshell's children: the test (user + system, second line of
  # `times`; run here, not in a command substitution, which would count its
  # own children).
  local t=/tmp/suite-times.$BASHPID
  times >"$t"
  cpu=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] } printf "%.1f", s }' "$t")
  rm -f "$t"
  echo "$s" >"$results/$name.seconds"
  echo "$cpu" >"$results/$name.cpu"
  echo "$rc" >"$results/$name.rc.tmp" && mv "$results/$name.rc.tmp" "$results/$name.rc"
  case $rc in
    0) echo "$name: passed ($s s, $cpu s CPU, VM $vm)" ;;
    77) echo "$name: skipped ($s s, VM $vm): $(grep -m1 '^SKIP' "$results/$name.log")" ;;
    124) echo "$name: FAILED, out of time ($limit s, VM $vm)" ;;
    *) echo "$name: FAILED, exit $rc ($s s, VM $vm)" ;;
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
ran=0
for spec in "$@"; do
  while (($(jobs -pr | wc -l) >= jobs)); do wait -n; done
  mkdir "$results/${spec%%=*}.claim" 2>/dev/null || continue   # another VM has it
  ran=$((ran + 1))
  run_one "${spec%%=*}" "${spec#*=}" &
done
wait
busy=$(awk '/^cpu / { printf "%.1f", ($2 + $3 + $4 + $7 + $8) / 100 }' /proc/stat)
echo "suite: VM $vm ran $ran of $# tests, $jobs at a time, $(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s in the guest, vCPU busy $busy s since boot"
