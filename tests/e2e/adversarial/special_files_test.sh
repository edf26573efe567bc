#!/usr/bin/env bash
# Defect 13: a FIFO or /dev/zero given as the plan, the journal or a table
# image must be refused at once (regular files within a size limit only),
# never hang or eat memory, and never while holding the apply lock.
source "$(dirname "$0")/../lib.sh"
mkns h
ns=$P-h
A=$FIXTURES/basic.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cleanup' EXIT
mkfifo "$tmp/fifo"

# expect_refused WHAT CMD...: CMD exits 1 within 20 s, with a message containing WHAT.
expect_refused() {
  local what=$1 rc=0 out
  shift
  out=$(timeout 20 "$@" 2>&1) || rc=$?
  [[ $rc -ne 124 ]] || fail "\`$*\` hung (killed after 20 s)"
  [[ $rc -eq 1 ]] || fail "\`$*\` exited $rc, expected 1: $out"
  grep -q -- "$what" <<<"$out" || fail "\`$*\` does not say \`$what\`: $out"
}

expect_refused "not a regular file" "$NETDSL" plan "$tmp/fifo" --netns "$ns"
expect_refused "not a regular file" "$NETDSL" apply "$tmp/fifo" --netns "$ns"
expect_refused "not a regular file" "$NETDSL" plan /dev/zero --netns "$ns"
expect_refused "not a regular file" "$NETDSL" tables verify "$tmp/fifo"
expect_refused "not a regular file" "$NETDSL" tables dump /dev/zero
# A plan over the size limit is refused before it is read (a sparse file: no disk used).
truncate -s 2G "$tmp/huge.yaml"
expect_refused "above the limit" "$NETDSL" plan "$tmp/huge.yaml" --netns "$ns"

# The journal: leave a real one (kill at step 1), then put a FIFO in its place.
(NETDSL_KILL_AT_STEP=1 "$NETDSL" apply "$A" --netns "$ns" >/dev/null 2>&1) 2>/dev/null && fail "the kill hook did not fire"
journal=$(ls "$NETDSL_STATE_DIR"/*.journal)
[[ -f $journal ]] || fail "no journal left by the killed apply"
rm "$journal"
mkfifo "$journal"
expect_refused "not a regular file" "$NETDSL" apply "$A" --netns "$ns"
# plan mentions it instead of hanging on it.
rc=0
out=$(timeout 20 "$NETDSL" plan "$A" --netns "$ns" 2>&1) || rc=$?
[[ $rc -ne 124 ]] || fail "plan hung on a FIFO journal"
grep -q "not a regular file" <<<"$out" || fail "plan does not report the FIFO journal: $out"
# The lock was released: with the FIFO gone (the way out the message names),
# the next apply proceeds.
rm "$journal"
expect_rc 0 "$NETDSL" apply "$A" --netns "$ns" >/dev/null
echo "PASS: FIFOs, devices and oversized files are refused, the lock never held"
