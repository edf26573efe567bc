#!/usr/bin/env bash
# The VM harness itself (runs on the host, boots several VMs): the command's
# status, output (no \r) and environment come back; a guest timeout is 124; a
# guest kernel crash is 70 with the console kept; a guest that never finishes
# is killed at the hard limit; a killed vm-run takes its QEMU with it, and so
# does a killed parent of vm-run; a job's leftover background process does not
# hold the VM open. After every case no QEMU process of its runs directory is
# left. Case 1 runs first (its boot time scales case 4's limit); cases 2-6 then
# run at once, each with a runs directory of its own (most of their time is
# waiting: a guest asleep, a hard limit, a QEMU being killed).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VMRUN=$HERE/vm-run
RUNS=$(mktemp -d "${TMPDIR:-/tmp}/ndvm-harness.XXXXXX")
export NETDSL_VM_RUNS=$RUNS
trap 'pkill -KILL -f "ndvm_run=$RUNS/" 2>/dev/null; rm -rf "$RUNS"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# no_qemu_left CASE: no QEMU of NETDSL_VM_RUNS (this case's runs) is left.
no_qemu_left() {
  local i
  for i in $(seq 150); do
    pgrep -f "ndvm_run=$NETDSL_VM_RUNS/" >/dev/null || return 0
    sleep 0.2
  done
  fail "a QEMU process outlived its vm-run ($1): $(pgrep -af "ndvm_run=$NETDSL_VM_RUNS/")"
}

# 1. Status, output, environment, working directory; a leftover background job.
rc=0
out=$(cd "$HERE" && NDVM_PROBE='a b$c' KROOT=caller QEMU=caller "$VMRUN" --timeout 60 -- bash -c \
  'echo "out $NDVM_PROBE"; echo "names $KROOT $QEMU"; echo err >&2; echo "cwd $PWD"; echo "kernel $(uname -r)"
   echo "root $(findmnt -n -o FSTYPE /)"; echo "tmp $(findmnt -n -o FSTYPE /tmp)"; touch /tmp/w && echo tmp-writable
   touch /usr/ndvm-probe 2>/dev/null || echo root-read-only; modprobe bonding && echo modprobe-ok
   sleep 1000 & exit 7' 2>"$RUNS/case1.err") || rc=$?
[[ $rc -eq 77 ]] && { echo "$out"; exit 77; }
# This boot's wall time, for the hard limit of case 4 (scaled to the load).
boot_wall=$(sed -nE 's/^vm-run: wall ([0-9]+)\..*/\1/p' "$RUNS/case1.err")
[[ -n $boot_wall ]] || fail "no timing line from vm-run: $(cat "$RUNS/case1.err")"
[[ $rc -eq 7 ]] || fail "exit status $rc, expected 7: $out"
grep -qx 'out a b$c' <<<"$out" || fail "output or environment lost: $out"
grep -qx 'names caller caller' <<<"$out" || fail "the caller's KROOT and QEMU reached the job with vm-run's own values: $out"
grep -qx 'err' <<<"$out" || fail "stderr lost: $out"
grep -qx "cwd $HERE" <<<"$out" || fail "working directory lost: $out"
grep -qE '^kernel 6\.1\.[0-9]+-[0-9]+-amd64$' <<<"$out" || fail "not Debian's 6.1 kernel: $out"
for want in 'root 9p' 'tmp tmpfs' tmp-writable root-read-only modprobe-ok; do
  grep -qx "$want" <<<"$out" || fail "guest check \`$want\` missing: $out"
done
[[ $out != *$'\r'* ]] || fail "output has carriage returns"
no_qemu_left "normal exit"
echo "ok: status, output, environment, cwd; the 6.1 kernel, root 9p read-only, /tmp writable, modules load; a leftover background job did not hold the VM"


# 2. The command's own time limit.
case2() {
  local rc=0 err
  err=$("$VMRUN" --timeout 3 -- sleep 600 2>&1 >/dev/null) || rc=$?
  [[ $rc -eq 124 ]] || fail "guest timeout exited $rc, expected 124: $err"
  no_qemu_left "guest timeout"
  echo "ok: guest timeout -> 124"
}

# 3. A guest kernel crash: 70, the console log kept and named.
case3() {
  local rc=0 err kept
  err=$("$VMRUN" --timeout 60 -- sh -c 'echo c >/proc/sysrq-trigger; sleep 600' 2>&1 >/dev/null) || rc=$?
  [[ $rc -eq 70 ]] || fail "guest crash exited $rc, expected 70: $err"
  grep -q 'stopped without reporting' <<<"$err" || fail "crash not reported: $err"
  kept=$(sed -nE 's/^vm-run: run directory kept: //p' <<<"$err")
  [[ -n $kept ]] && grep -q 'sysrq' "$kept/console.log" || fail "console log of the crash not kept: $err"
  no_qemu_left "guest crash"
  echo "ok: guest crash -> 70, console kept"
}

# 4. A guest that never reports (the hard limit) is killed. The limit is
# scaled to case 1's boot (a loaded host boots slowly; cases 2-6 boot at the
# same time as this one: three times case 1's boot, and 20 s), so that the
# guest is running the job when it is killed: the result is the hard limit's,
# never a boot that did not finish or a guest that died on its own (a panic
# is 70).
case4() {
  local rc err took start kept attempt hard=$((boot_wall * 3 + 20))
  for attempt in 1 2; do
    rc=0
    start=$SECONDS
    err=$(NDVM_HARD_TIMEOUT=$hard "$VMRUN" --timeout 600 -- sleep 600 2>&1 >/dev/null) || rc=$?
    took=$((SECONDS - start))
    kept=$(sed -nE 's/^vm-run: run directory kept: //p' <<<"$err")
    [[ -n $kept && -f $kept/booted ]] && break
    ((attempt == 1)) || fail "the guest did not start its job within the hard limit of $hard s, twice: $err"
    echo "note: the guest had not started its job when the hard limit of $hard s hit (loaded host); again with $((hard * 2)) s"
    hard=$((hard * 2))
  done
  [[ $rc -eq 124 ]] || fail "hard timeout exited $rc, expected 124: $err"
  grep -q "did not finish within $hard s; killed" <<<"$err" || fail "hard timeout not reported: $err"
  [[ ! -f $kept/status ]] || fail "the guest reported status $(cat "$kept/status") before the hard limit"
  ! grep -qiE 'kernel panic|oops' "$kept/console.log" || fail "the guest kernel died by itself: $(grep -iE -A3 'kernel panic|oops' "$kept/console.log")"
  ((took < 600)) || fail "the hard limit of $hard s took $took s (the job's own limit of 600 s ended it?)"
  no_qemu_left "hard timeout"
  echo "ok: hard limit ($hard s, the guest running its job) -> QEMU killed, 124"
}

# qemu_started: waits until a QEMU of this case's runs is running.
qemu_started() {
  local _
  for _ in $(seq 300); do pgrep -f "ndvm_run=$NETDSL_VM_RUNS/" >/dev/null && return 0; sleep 0.1; done
  fail "QEMU did not start"
}

# 5. vm-run killed with SIGKILL (no trap runs): QEMU dies with it.
case5() {
  local pid
  "$VMRUN" --timeout 600 -- sleep 600 >/dev/null 2>&1 &
  pid=$!
  qemu_started
  sleep 1
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  no_qemu_left "vm-run killed"
  echo "ok: vm-run killed -> QEMU gone"
}

# 6. vm-run's parent killed (as when ctest itself is killed): vm-run and its
#    QEMU go too.
case6() {
  local pid
  bash -c '"$1" --timeout 600 -- sleep 600 >/dev/null 2>&1 & wait' _ "$VMRUN" &
  pid=$!
  qemu_started
  sleep 1
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  no_qemu_left "the parent of vm-run killed"
  echo "ok: vm-run's parent killed -> QEMU gone"
}

declare -A pids
for c in 2 3 4 5 6; do
  mkdir "$RUNS/case$c"
  (NETDSL_VM_RUNS=$RUNS/case$c; "case$c") >"$RUNS/case$c.out" 2>&1 &
  pids[$c]=$!
done
failed=0
for c in 2 3 4 5 6; do
  rc=0
  wait "${pids[$c]}" || rc=$?
  cat "$RUNS/case$c.out"
  ((rc == 0)) || { echo "(case $c exited $rc)"; failed=1; }
done
((failed == 0)) || fail "a case failed (above)"
NETDSL_VM_RUNS=$RUNS no_qemu_left "all cases"
echo "PASS"
