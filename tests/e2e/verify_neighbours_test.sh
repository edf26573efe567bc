#!/usr/bin/env bash
# Verification after apply confirms permanent neighbours (IPv4 and IPv6) from
# the kernel's own notifications; when they do not confirm the plan it dumps
# the neighbours. NETDSL_DROP_OP=k (test-only) leaves out the k-th operation,
# so the notifications miss it, the dump must show the difference too, and the
# rollback must leave the namespace as it was.
source "$(dirname "$0")/lib.sh"
mkns h
ns=$P-h
A=$FIXTURES/neigh-a.yaml
B=$FIXTURES/neigh-b.yaml

notifications() { sed -nE 's/.* ([0-9]+) kernel notifications.*/\1/p' <<<"$1"; }

out=$("$NETDSL" apply "$A" --netns "$ns" --stats 2>&1) || fail "apply of neigh-a failed: $out"
[[ $(notifications "$out") -ge 3 ]] || fail "verification did not use the kernel notifications: $out"
expect_rc 0 "$NETDSL" plan "$A" --netns "$ns" >/dev/null

# neigh-a -> neigh-b: delete 10.7.0.1, replace 10.7.0.2's MAC (delete + add), add 10.7.0.3.
"$NETDSL" apply "$B" --netns "$ns" --dry-run | grep -q 'would apply 4 changes' ||
  fail "unexpected change set: $("$NETDSL" apply "$B" --netns "$ns" --dry-run)"
before=$(dump "$ns")
# Operation 1 deletes 10.7.0.2 before its replacement is added (with
# NLM_F_REPLACE): without it the state still converges, and verification must
# accept that.
"$NETDSL" apply "$B" --netns "$ns" --dry-run | sed -n 2p | grep -q -- '- neighbour nd-br7: 10.7.0.2 lladdr 02:00:00:00:07:02' ||
  fail "operation 1 is not the delete of 10.7.0.2"
out=$(NETDSL_DROP_OP=1 "$NETDSL" apply "$B" --netns "$ns" 2>&1) || fail "a redundant dropped delete failed the apply: $out"
expect_rc 0 "$NETDSL" plan "$B" --netns "$ns" >/dev/null
expect_rc 0 "$NETDSL" apply "$A" --netns "$ns" >/dev/null
[[ "$(dump "$ns")" == "$before" ]] || fail "going back to neigh-a did not restore the state"
for k in 2 3 4; do
  err=$(NETDSL_DROP_OP=$k "$NETDSL" apply "$B" --netns "$ns" --stats 2>&1) && fail "apply without operation $k succeeded: $err"
  grep -q 'verification failed: the kernel does not show the applied state' <<<"$err" ||
    fail "dropping operation $k was not caught by verification: $err"
  grep -q "rolled back" <<<"$err" || fail "no rollback after dropping operation $k: $err"
  after=$(dump "$ns")
  if [[ "$before" != "$after" ]]; then
    diff <(echo "$before") <(echo "$after") || true
    fail "state differs after dropping operation $k"
  fi
done
echo "verification caught every dropped neighbour operation"

out=$("$NETDSL" apply "$B" --netns "$ns" --stats 2>&1) || fail "apply of neigh-b failed: $out"
[[ $(notifications "$out") -ge 3 ]] || fail "verification did not use the kernel notifications: $out"
expect_rc 0 "$NETDSL" plan "$B" --netns "$ns" >/dev/null

# Drift by hand: a neighbour's MAC replaced; plan names it, apply repairs it.
ip -n "$ns" neigh replace 10.7.0.3 dev nd-br7 lladdr 02:00:00:00:07:99 nud permanent
expect_rc 2 "$NETDSL" plan "$B" --netns "$ns" >/dev/null
expect_rc 0 "$NETDSL" apply "$B" --netns "$ns" >/dev/null
ip -n "$ns" neigh show 10.7.0.3 dev nd-br7 | grep -q '02:00:00:00:07:03 PERMANENT' || fail "neighbour not repaired"
echo "PASS"
