#!/usr/bin/env bash
# Defect 3: a SIGKILL while a record is being written leaves a torn journal.
# Records are framed (length + checksum) and written whole before their
# requests are sent, so a torn last record means "never sent": the next apply
# ignores it, says so, rolls back the rest, and converges. Never an abort,
# never a file to delete by hand.
#  1. A real SIGKILL at 100 byte offsets spread over the journal (a helper
#     kills the apply as soon as the journal grows past N bytes), each
#     followed by a normal apply of the old or the new plan.
#  2. An exact tear at 40 offsets: RLIMIT_FSIZE stops the journal's write at
#     byte N and the kernel kills the apply (SIGXFSZ) right there.
source "$(dirname "$0")/../lib.sh"
KILL_ON_GROWTH=${KILL_ON_GROWTH:?set KILL_ON_GROWTH to the kill_on_growth helper}
mkns h
ns=$P-h
A=$FIXTURES/basic.yaml
B=$(mktemp)
trap 'rm -f "$B"; cleanup' EXIT
# B: basic-v2 plus 6000 FDB entries (two bulk steps whose records are ~300 KB each).
{
  sed '/^neighbours:/,$d' "$FIXTURES/basic-v2.yaml"
  awk 'BEGIN { for (i = 0; i < 6000; i++)
      printf "  - {dev: nd-vx6001, mac: \"02:00:00:%02x:%02x:%02x\", dst: 192.168.%d.%d}\n",
             int(i / 65536), int(i / 256) % 256, i % 256, 1 + int(i / 250), 1 + i % 250 }'
  sed -n '/^neighbours:/,$p' "$FIXTURES/basic-v2.yaml"
} >"$B"
expect_rc 0 "$NETDSL" apply --allow-disruptive "$A" --netns "$ns" >/dev/null
before=$(dump "$ns")
journal_file() { ls "$NETDSL_STATE_DIR"/*.journal 2>/dev/null | head -1; }

# The size of B's whole journal: kill after its last step, then recover.
n=$("$NETDSL" apply --allow-disruptive "$B" --netns "$ns" --dry-run | sed -nE 's/.* in ([0-9]+) steps?$/\1/p')
(NETDSL_KILL_AT_STEP=$n "$NETDSL" apply --allow-disruptive "$B" --netns "$ns" >/dev/null 2>&1; exit $?) 2>/dev/null && fail "kill hook did not fire"
size=$(stat -c %s "$(journal_file)")
expect_rc 0 "$NETDSL" apply --allow-disruptive "$A" --netns "$ns" >/dev/null 2>&1
[[ $size -gt 300000 ]] || fail "the journal of B is only $size bytes"

# recover PLAN WHAT: the next apply converges, without help (to exactly the state
# before the killed apply, for A).
recover() {
  local plan=$1 what=$2 out rc=0
  out=$("$NETDSL" apply --allow-disruptive "$plan" --netns "$ns" 2>&1) || rc=$?
  [[ $rc -eq 0 ]] || fail "$what: the next apply exited $rc: $out"
  if grep -qiE 'unreadable|invalid_argument|terminate|damaged|abort' <<<"$out"; then fail "$what: $out"; fi
  expect_rc 0 "$NETDSL" plan "$plan" --netns "$ns" >/dev/null
  [[ -z $(journal_file) ]] || fail "$what: a journal was left after converging"
  if [[ $plan == "$A" ]]; then
    local after
    after=$(dump "$ns")
    [[ "$before" == "$after" ]] || { diff <(echo "$before") <(echo "$after") || true; fail "$what: not as before"; }
  fi
}

kills=0 torn=0
for i in $(seq 0 99); do
  offset=$((i * size / 100))
  rc=0
  "$KILL_ON_GROWTH" "$NETDSL_STATE_DIR" "$offset" "$NETDSL" apply --allow-disruptive "$B" --netns "$ns" >/dev/null 2>&1 || rc=$?
  [[ $rc -eq 137 || $rc -eq 0 ]] || fail "apply under kill_on_growth $offset exited $rc"
  [[ $rc -eq 137 ]] && kills=$((kills + 1))
  if [[ $rc -eq 0 ]]; then
    # The kill came too late (a loaded host): B completed. A then recreates
    # B's recreated links (new MACs): that is the state to compare with.
    expect_rc 0 "$NETDSL" apply --allow-disruptive "$A" --netns "$ns" >/dev/null
    before=$(dump "$ns")
    continue
  fi
  # Alternate: roll back to A, or go on to B.
  if ((i % 2)); then
    recover "$B" "SIGKILL past byte $offset, then B"
    expect_rc 0 "$NETDSL" apply --allow-disruptive "$A" --netns "$ns" >/dev/null
    before=$(dump "$ns")  # links B recreated are new links (new MACs): the state to roll back to now
  else
    recover "$A" "SIGKILL past byte $offset, then A"
  fi
done
((kills >= 90)) || fail "only $kills of 100 applies were killed"

for i in $(seq 0 39); do
  offset=$((200 + i * (size - 200) / 40 + i * 7))
  rc=0
  out=$(prlimit --fsize="$offset" "$NETDSL" apply --allow-disruptive "$B" --netns "$ns" 2>&1) || rc=$?
  [[ $rc -eq 153 ]] || fail "apply with its file size limited to $offset exited $rc (expected SIGXFSZ): $out"
  [[ $(stat -c %s "$(journal_file)") -eq $offset ]] || fail "the journal was not cut at $offset"
  out=$("$NETDSL" apply --allow-disruptive "$A" --netns "$ns" 2>&1) || fail "recovery from a tear at $offset failed: $out"
  grep -q "cut short" <<<"$out" && torn=$((torn + 1))
  recover "$A" "tear at byte $offset"
done
((torn >= 30)) || fail "only $torn of 40 tears were reported as a torn record"

# Other damage (a byte changed inside an earlier record) is an error that names
# the file and the way out; following it converges.
(NETDSL_KILL_AT_STEP=$n "$NETDSL" apply --allow-disruptive "$B" --netns "$ns" >/dev/null 2>&1; exit $?) 2>/dev/null && fail "kill hook did not fire"
j=$(journal_file)
printf 'X' | dd of="$j" bs=1 seek=$((size / 3)) conv=notrunc status=none
rc=0
out=$("$NETDSL" apply --allow-disruptive "$A" --netns "$ns" 2>&1) || rc=$?
[[ $rc -eq 1 ]] || fail "a damaged journal: apply exited $rc: $out"
grep -q "$j" <<<"$out" || fail "the damaged journal is not named: $out"
grep -q -- "--discard-journal" <<<"$out" || fail "no way out is given: $out"
grep -q "damaged" <<<"$("$NETDSL" plan "$A" --netns "$ns" 2>&1)" || fail "plan does not report the damaged journal"
out=$("$NETDSL" apply --allow-disruptive "$A" --netns "$ns" --discard-journal 2>&1) || fail "--discard-journal did not converge: $out"
ls "$j".discarded-* >/dev/null 2>&1 || fail "the damaged journal was not kept aside"
expect_rc 0 "$NETDSL" plan "$A" --netns "$ns" >/dev/null
echo "PASS: $kills SIGKILLs at 100 journal offsets and 40 exact tears, each recovered by a plain apply ($torn torn records ignored)"
