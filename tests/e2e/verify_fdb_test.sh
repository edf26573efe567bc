#!/usr/bin/env bash
# Verification after apply confirms vxlan FDB entries from the kernel's own
# notifications (not the quadratic vxlan FDB dump); when they do not
# confirm the plan it reads the entries back with one get request each. It
# must catch an entry the kernel does not hold: NETDSL_DROP_OP=k (test-only)
# leaves out the k-th operation of the apply, so the notifications miss it,
# the get read-back must fail too, and the rollback must leave the namespace
# as it was.
source "$(dirname "$0")/lib.sh"
mkns h
ns=$P-h
A=$FIXTURES/fdb-a.yaml
B=$FIXTURES/fdb-b.yaml

gets() { sed -nE 's/.* ([0-9]+) get requests.*/\1/p' <<<"$1"; }
notifications() { sed -nE 's/.* ([0-9]+) kernel notifications.*/\1/p' <<<"$1"; }

# From an empty namespace: links, then 3 FDB entries (plus the flood entry);
# confirmed by the kernel's notifications, no get request needed.
out=$("$NETDSL" apply "$A" --netns "$ns" --stats 2>&1) || fail "apply of fdb-a failed: $out"
[[ $(notifications "$out") -ge 3 ]] || fail "verification did not use the kernel notifications: $out"
[[ $(gets "$out") -eq 0 ]] || fail "verification sent get requests although the notifications confirmed: $out"
expect_rc 0 "$NETDSL" plan "$A" --netns "$ns" >/dev/null

# fdb-a -> fdb-b: delete 02:..:01, add 02:..:03 and 02:..:04 (3 operations).
"$NETDSL" apply "$B" --netns "$ns" --dry-run | grep -q 'would apply 3 changes in 2 steps' ||
  fail "unexpected change set: $("$NETDSL" apply "$B" --netns "$ns" --dry-run)"
before=$(dump "$ns")
for k in 1 2 3; do
  err=$(NETDSL_DROP_OP=$k "$NETDSL" apply "$B" --netns "$ns" --stats 2>&1) && fail "apply without operation $k succeeded: $err"
  grep -q 'verification failed: the kernel does not show the applied state' <<<"$err" ||
    fail "dropping operation $k was not caught by verification: $err"
  grep -q "rolled back 2 steps" <<<"$err" || fail "no rollback after dropping operation $k: $err"
  [[ $(gets "$err") -ge 4 ]] || fail "verification did not use fdb get requests (op $k): $err"
  after=$(dump "$ns")
  if [[ "$before" != "$after" ]]; then
    diff <(echo "$before") <(echo "$after") || true
    fail "state differs after dropping operation $k"
  fi
done
echo "verification caught every dropped fdb operation"

# Without a dropped operation it converges and is in sync.
expect_rc 0 "$NETDSL" apply "$B" --netns "$ns" >/dev/null
expect_rc 0 "$NETDSL" plan "$B" --netns "$ns" >/dev/null

# A MAC whose dst was changed by hand: the repair deletes (MAC, wrong dst)
# and adds (MAC, right dst); the notifications confirm both.
bridge -n "$ns" fdb replace 02:00:00:00:00:02 dev nd-vx7 dst 192.168.0.99 self permanent
expect_rc 2 "$NETDSL" plan "$B" --netns "$ns" >/dev/null
expect_rc 0 "$NETDSL" apply "$B" --netns "$ns" >/dev/null
bridge -n "$ns" fdb show dev nd-vx7 | grep -q '02:00:00:00:00:02 dst 192.168.0.12 ' || fail "wrong dst not repaired"
bridge -n "$ns" fdb show dev nd-vx7 | grep -q '192.168.0.99' && fail "wrong dst left behind"
echo "PASS"
