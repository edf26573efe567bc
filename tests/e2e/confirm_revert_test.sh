#!/usr/bin/env bash
# Confirm or revert (issue 10): `netdsl apply --confirm-within D` leaves a
# watchdog that rolls the change back at the deadline unless `netdsl confirm`
# came first — also when the apply and its shell are killed (SIGKILL), during
# the apply or after it, and on a hangup of the session. The revert is exact
# (canonical dump equal), `rollback` reverts at once, `confirm` stops the
# revert, `status` tells which, a pending change blocks other applies, and an
# expired one whose watchdog died is rolled back by the next apply. The
# systemd path (systemd-run) is exercised with a stand-in, since PID 1 here
# is not systemd.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mgmt_lib.sh"
command -v setsid >/dev/null || skip "setsid is not installed"

plan=$(mgmt_plan inherit "management = inherit;")
mgmt_topology
listen "$HOST" 7000
before=$(mdump "$HOST")
applied() { [[ $(ip -n "$HOST" -o link show eth0) == *" master nd-sw-"* ]]; }
same_as_before() { [[ "$before" == "$(mdump "$HOST")" ]]; }
# not_reverted MESSAGE: fails, showing how the host differs from before.
not_reverted() {
  diff <(echo "$before") <(mdump "$HOST") || true
  fail "$1"
}
# wait_until SECONDS CMD...: polls CMD until it succeeds, for SECONDS of wall
# time. Between two tries it sleeps as long as the try took (at least 0.1 s):
# a try can be a whole dump, seconds of CPU in the VM, and back-to-back tries
# would take the CPU from the watchdog whose revert they wait for.
wait_until() {
  local end=$((SECONDS + $1)) t0 us pause
  shift
  while :; do
    t0=${EPOCHREALTIME/./}
    "$@" && return 0
    ((SECONDS < end)) || return 1
    us=$((${EPOCHREALTIME/./} - t0))
    ((us >= 100000)) || us=100000
    printf -v pause '%d.%06d' $((us / 1000000)) $((us % 1000000))
    sleep "$pause"
  done
}
status() { "$NETDSL" status --netns "$HOST"; }

# 1. Not confirmed: reverted exactly when the timer expires. (Windows are
#    generous: on a loaded machine the checks in between take seconds; in the
#    VM every window is `scaled`, lib.sh.)
out=$("$NETDSL" apply "$plan" --netns "$HOST" --confirm-within $(scaled 8)s)
grep -q "confirm with \`netdsl confirm --netns $HOST\` by .* (within $(scaled 8)s), or the change is rolled back" <<<"$out" ||
  fail "apply does not say how to confirm: $out"
applied || fail "not applied"
reach "$PEER" 10.0.0.5 7000 || fail "the peer does not reach the host while the change is pending"
plan_json=$("$NETDSL" plan "$plan" --netns "$HOST" --json)
grep -q '"awaiting_confirmation": true' <<<"$plan_json" || fail "plan --json while pending: $plan_json"
grep -q '"interrupted_apply": false' <<<"$plan_json" || fail "plan --json calls a pending apply interrupted: $plan_json"
st=$(status)
grep -q "pending: applied at .*; rolled back at .* unless \`netdsl confirm\`; watchdog pid [0-9]* (detached)" <<<"$st" ||
  fail "status while pending: $st"
wpid=$(sed -nE 's/.*watchdog pid ([0-9]+).*/\1/p' <<<"$st")
[[ $(ps -o sid= -p "$wpid" | tr -d ' ') != $(ps -o sid= -p $$ | tr -d ' ') ]] || fail "the watchdog is in our session"
[[ $(ps -o tty= -p "$wpid" | tr -d ' ') == "?" ]] || fail "the watchdog has a controlling terminal"
left=$("$NETDSL" status --netns "$HOST" --json | sed -nE 's/.*"remaining_ms": ([0-9]+).*/\1/p')
((left > 1000)) && { applied || fail "reverted $left ms before the deadline"; }
wait_until "$(scaled 15)" same_as_before || not_reverted "not reverted exactly after the deadline"
grep -q "reverted at .*: not confirmed by .*; rolled back by the watchdog" <<<"$(status)" || fail "status: $(status)"
expect_rc 1 "$NETDSL" confirm --netns "$HOST"
[[ ! -e $NETDSL_STATE_DIR/$(state_key "$HOST").journal ]] || fail "journal left behind"
reach "$PEER" 10.0.0.5 7000 || fail "the peer does not reach the host after the revert"

# 2. Confirmed in time: it stays, past the deadline.
expect_rc 0 "$NETDSL" apply "$plan" --netns "$HOST" --confirm-within $(scaled 4)s
out=$("$NETDSL" confirm --netns "$HOST") || fail "confirm failed: $out"
grep -q "confirmed; the change applied at .* stays" <<<"$out" || fail "confirm: $out"
sleep "$(scaled 5)"
applied || fail "a confirmed change was reverted"
grep -q "confirmed at" <<<"$(status)" || fail "status after confirm: $(status)"
expect_rc 0 "$NETDSL" plan "$plan" --netns "$HOST"
[[ ! -e $NETDSL_STATE_DIR/$(state_key "$HOST").journal ]] || fail "journal left behind after confirm"
expect_rc 1 "$NETDSL" rollback --netns "$HOST"
printf 'format: 1\nhost: hv1\n' >"$NETDSL_STATE_DIR/empty.yaml"
expect_rc 0 "$NETDSL" apply "$NETDSL_STATE_DIR/empty.yaml" --netns "$HOST"
same_as_before || not_reverted "the empty plan did not restore the host"

# 3. Rollback before the deadline reverts at once; a pending change blocks other applies.
expect_rc 0 "$NETDSL" apply "$plan" --netns "$HOST" --confirm-within 10m
err=$("$NETDSL" apply "$plan" --netns "$HOST" 2>&1) && fail "an apply went through while another awaits confirmation"
grep -q "awaits confirmation until" <<<"$err" || fail "refusal does not say why: $err"
out=$("$NETDSL" rollback --netns "$HOST") || fail "rollback failed: $out"
same_as_before || not_reverted "rollback did not restore the host exactly"
grep -q "reverted at .*: rolled back by \`netdsl rollback\`" <<<"$(status)" || fail "status: $(status)"

# 4. Apply killed (SIGKILL) in the middle of its steps, and its shell with it:
#    the watchdog reverts at once. (NETDSL_PAUSE_AT_STEP, test-only, holds the
#    apply after step 3 so that the kill lands mid-apply.)
setsid bash -c "NETDSL_PAUSE_AT_STEP=3 '$NETDSL' apply '$plan' --netns '$HOST' --confirm-within 10m; sleep 600" \
  </dev/null >/dev/null 2>"$NETDSL_STATE_DIR/shell.err" &
shell=$!
wait_until "$(scaled 20)" grep -q "paused after step 3" "$NETDSL_STATE_DIR/shell.err" || fail "the apply did not reach step 3"
applied || fail "step 2 did not attach eth0"
grep -q "phase applying" "$NETDSL_STATE_DIR/$(state_key "$HOST").confirm" || fail "not applying while paused"
kill -9 -- -"$shell"
wait_until "$(scaled 10)" same_as_before || not_reverted "not reverted after the apply and its shell were killed"
grep -q "the apply was interrupted; rolled back by its watchdog" <<<"$(status)" || fail "status: $(status)"

# 5. The shell (and everything in its process group) killed after the apply: reverted at the deadline.
setsid bash -c "'$NETDSL' apply '$plan' --netns '$HOST' --confirm-within $(scaled 5)s && touch '$NETDSL_STATE_DIR/applied'; sleep 600" \
  </dev/null >/dev/null 2>&1 &
shell=$!
wait_until "$(scaled 20)" test -e "$NETDSL_STATE_DIR/applied" || fail "the apply in the shell did not finish"
kill -9 -- -"$shell"
wait_until "$(scaled 15)" same_as_before || not_reverted "not reverted after the shell was killed"
grep -q "not confirmed by .*; rolled back by the watchdog" <<<"$(status)" || fail "status: $(status)"

# 6. A hangup of the session (SSH gone) does not reach the watchdog.
rm -f "$NETDSL_STATE_DIR/applied"
setsid bash -c "'$NETDSL' apply '$plan' --netns '$HOST' --confirm-within $(scaled 5)s && touch '$NETDSL_STATE_DIR/applied'; sleep 600" \
  </dev/null >/dev/null 2>&1 &
shell=$!
wait_until "$(scaled 20)" test -e "$NETDSL_STATE_DIR/applied" || fail "the apply in the shell did not finish"
kill -HUP -- -"$shell"
wait_until "$(scaled 15)" same_as_before || not_reverted "not reverted after a hangup"

# 7. A watchdog killed too: the next apply rolls back the expired change first.
expect_rc 0 "$NETDSL" apply "$plan" --netns "$HOST" --confirm-within $(scaled 5)s
wpid=$(sed -nE 's/.*watchdog pid ([0-9]+).*/\1/p' <<<"$(status)")
kill -9 "$wpid"
wait_until "$(scaled 15)" bash -c "'$NETDSL' status --netns '$HOST' | grep -q 'past its deadline'" || fail "the deadline did not pass"
applied || fail "reverted although the watchdog was killed"
grep -q "past its deadline .* not running" <<<"$(status)" || fail "status with a dead watchdog: $(status)"
err=$("$NETDSL" apply "$NETDSL_STATE_DIR/empty.yaml" --netns "$HOST" 2>&1) || fail "apply after an expired change: $err"
grep -q "was not confirmed by .*; rolled back" <<<"$err" || fail "the expired change was not reported: $err"
same_as_before || not_reverted "the expired change was not rolled back exactly"

# 7b. A confirm that comes after the deadline is refused and reverts itself
#     (here the watchdog is killed first, so that the confirm is the one to see it).
expect_rc 0 "$NETDSL" apply "$plan" --netns "$HOST" --confirm-within $(scaled 2)s
wpid=$(sed -nE 's/.*watchdog pid ([0-9]+).*/\1/p' <<<"$(status)")
kill -9 "$wpid"
wait_until "$(scaled 15)" bash -c "'$NETDSL' status --netns '$HOST' | grep -q 'past its deadline'" || fail "the deadline did not pass"
err=$("$NETDSL" confirm --netns "$HOST" 2>&1) && fail "a confirm after the deadline was accepted: $err"
grep -q "too late: the deadline was .*; the change was rolled back" <<<"$err" || fail "late confirm: $err"
same_as_before || not_reverted "a late confirm did not roll back exactly"

# 8. Where systemd runs, the watchdog is a transient unit (systemd-run stand-in).
mkdir -p "$NETDSL_STATE_DIR/bin"
cat >"$NETDSL_STATE_DIR/bin/systemd-run" <<EOF
#!/usr/bin/env bash
echo "\$@" >"$NETDSL_STATE_DIR/systemd-run.args"
while [[ \$1 != -- ]]; do shift; done
shift
env -i NETDSL_STATE_DIR="$NETDSL_STATE_DIR" INVOCATION_ID=test setsid "\$@" </dev/null >/dev/null 2>&1 &
EOF
chmod +x "$NETDSL_STATE_DIR/bin/systemd-run"
out=$(PATH="$NETDSL_STATE_DIR/bin:$PATH" NETDSL_WATCHDOG=systemd "$NETDSL" apply "$plan" --netns "$HOST" --confirm-within $(scaled 4)s --stats 2>&1) ||
  fail "apply with systemd-run failed: $out"
grep -q "stats: confirm watchdog: systemd unit netdsl-confirm-[0-9a-f]\{16\} (pid" <<<"$out" || fail "no systemd unit: $out"
args=$(cat "$NETDSL_STATE_DIR/systemd-run.args")
grep -q -- "--unit=netdsl-confirm-[0-9a-f]\{16\} --collect --quiet" <<<"$args" || fail "systemd-run arguments: $args"
grep -q -- "-- .*netdsl confirm-watchdog --scope $(state_key "$HOST") --id [0-9a-f]\{16\} --netns $HOST\$" <<<"$args" ||
  fail "systemd-run arguments: $args"
wait_until "$(scaled 15)" same_as_before || not_reverted "the systemd watchdog did not revert"
echo "PASS"
