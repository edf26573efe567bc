#!/usr/bin/env bash
# CTest fixture `vm.suite`: boots ONE VM and runs the VM suite in it
# (tests/vm/suite.sh), results into RESULTS (emptied first), where
# tests/vm/suite-result.sh picks each test's up. Passes when the suite ran to
# its end, whatever the tests' own results (a test that fails is reported by
# its own entry); fails when the VM did not. NDVM_SUITE_ONLY=REGEX runs only
# the tests whose names match (the others then have no result).
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
# The whole suite's limit: every test's, divided among the parallel jobs, and
# the boot.
jobs=${NDVM_SUITE_JOBS:-2}
total=$((limit * ${#specs[@]} / jobs + limit + 60))
rc=0
"$HERE/vm-run" --timeout "$total" --rw "$results" -- bash -c 'uname -r >"$1/kernel"; shift; exec bash "$@"' _ \
  "$results" "$HERE/suite.sh" "$results" "$limit" "${specs[@]}" || rc=$?
((rc == 77)) && { echo "skipped: QEMU cannot run here (above)" >"$results/skipped"; exit 77; }
((rc == 0)) || { echo "FAIL: the suite's VM exited $rc"; exit "$rc"; }
echo "PASS: the suite ran to its end (each test reports by itself)"
