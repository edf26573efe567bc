#!/usr/bin/env bash
# CTest fixture `vm.suite`: boots NDVM_SUITE_VMS VMs (default: one per host
# core, at most 2) that run the VM suite (tests/vm/suite.sh) from one shared
# queue, results into RESULTS (emptied first), where tests/vm/suite-result.sh
# picks each test's up. Passes when every VM ran the suite to its end,
# whatever the tests' own results (a test that fails is reported by its own
# entry); fails when a VM did not. NDVM_SUITE_ONLY=REGEX runs only the tests
# whose names match (the others then have no result).
#   suite-run.sh RESULTS LIMIT NAME=SCRIPT...
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
results=${1:?usage: suite-run.sh RESULTS LIMIT NAME=SCRIPT...}
limit=${2:?usage: suite-run.sh RESULTS LIMIT NAME=SCRIPT...}
shift 2
specs=()
for spec in "$@"; do
  [[ -z ${NDVM_SUITE_ONLY:-} || ${spec%%=*} =~ $NDVM_SUITE_ONLY ]] && specs+=("$spec")
done
rm -rf "$results"
mkdir -p "$results"
# Each VM is one emulated CPU that wants a whole host core: one per core.
vms=${NDVM_SUITE_VMS:-$(($(nproc) < 2 ? 1 : 2))}
[[ $vms =~ ^[1-9][0-9]*$ ]] || { echo "FAIL: NDVM_SUITE_VMS=$vms: a positive number expected"; exit 64; }
((vms <= ${#specs[@]})) || vms=${#specs[@]}
((vms >= 1)) || vms=1
# The whole suite's limit: every test's, divided among the parallel jobs, and
# the boot.
jobs=${NDVM_SUITE_JOBS:-2}
total=$((limit * ${#specs[@]} / jobs + limit + 60))
pids=()
for i in $(seq "$vms"); do
  # One VM's output at a time on the terminal would interleave: each to a file.
  NDVM_SUITE_VM=$i "$HERE/vm-run" --timeout "$total" --rw "$results" -- bash -c 'uname -r >"$1/kernel"; shift; exec bash "$@"' _ \
    "$results" "$HERE/suite.sh" "$results" "$limit" "${specs[@]}" >"$results/vm$i.out" 2>&1 &
  pids+=($!)
done
rc=0 skipped=0
for i in $(seq "$vms"); do
  r=0
  wait "${pids[i - 1]}" || r=$?
  cat "$results/vm$i.out"
  ((r == 77)) && { skipped=1; continue; }
  ((r == 0)) || { echo "FAIL: the suite's VM $i exited $r"; rc=$r; }
done
((skipped && rc == 0)) && { echo "skipped: QEMU cannot run here (above)" >"$results/skipped"; exit 77; }
((rc == 0)) || exit "$rc"
echo "PASS: the suite ran to its end in $vms VMs (each test reports by itself)"
