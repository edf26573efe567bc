#!/usr/bin/env bash
# One test of the VM suite as its own CTest entry (`vm.NAME`, `vm.e2e.NAME`):
# prints the output the test had in the suite's VM and exits with its status.
# The suite (`vm.suite`, tests/vm/suite-run.sh) ran it; no result = it did not
# get to run (the suite VM died or ran out of time: see vm.suite's output).
#   suite-result.sh RESULTS NAME
results=${1:?usage: suite-result.sh RESULTS NAME}
name=${2:?usage: suite-result.sh RESULTS NAME}
if [[ -f $results/skipped ]]; then
  echo "SKIP: the VM suite was $(cat "$results/skipped")"
  exit 77
fi
if [[ ! -f $results/$name.rc ]]; then
  echo "FAIL: $name has no result from the VM suite in $results (see the output of vm.suite)"
  [[ -f $results/$name.log ]] && { echo "--- its output so far:"; cat "$results/$name.log"; }
  exit 1
fi
cat "$results/$name.log"
echo "(ran in the suite's VM on $(cat "$results/kernel" 2>/dev/null || echo '?') in $(cat "$results/$name.seconds") s)"
rc=$(cat "$results/$name.rc")
((rc == 124)) && echo "FAIL: out of time in the VM"
exit "$rc"
