#!/usr/bin/env bash
# `kill -9` at step k (NETDSL_KILL_AT_STEP, test-only) leaves a journal; plan
# reports it; the next apply rolls it back before anything else and converges.
source "$(dirname "$0")/lib.sh"
mkns h
ns=$P-h
A=$FIXTURES/basic.yaml
B=$FIXTURES/basic-v2.yaml
expect_rc 0 "$NETDSL" apply --allow-disruptive "$A" --netns "$ns" >/dev/null
before=$(dump "$ns")
n=$("$NETDSL" apply --allow-disruptive "$B" --netns "$ns" --dry-run | sed -nE 's/.* in ([0-9]+) steps?$/\1/p')
[[ -n $n ]] || fail "no step count"
for k in $(seq 1 "$n"); do
  rc=0
  NETDSL_KILL_AT_STEP=$k "$NETDSL" apply --allow-disruptive "$B" --netns "$ns" >/dev/null 2>&1 || rc=$?
  [[ $rc -eq 137 ]] || fail "apply with NETDSL_KILL_AT_STEP=$k exited $rc, expected 137 (SIGKILL)"
  [[ -e $NETDSL_STATE_DIR/$(state_key "$ns").journal ]] || fail "no journal after a kill at step $k"
  plan_out=$("$NETDSL" plan "$A" --netns "$ns" 2>&1) || true
  grep -q "interrupted apply" <<<"$plan_out" || fail "plan does not report the interrupted apply: $plan_out"
  # The next run rolls back first: applying the old plan then finds nothing to do.
  out=$("$NETDSL" apply --allow-disruptive "$A" --netns "$ns" 2>&1) || fail "recovery apply failed at step $k: $out"
  grep -q "was rolled back" <<<"$out" || fail "recovery not reported: $out"
  grep -q "in sync, nothing to do" <<<"$out" || fail "rollback of step $k was incomplete: $out"
  after=$(dump "$ns")
  [[ "$before" == "$after" ]] || { diff <(echo "$before") <(echo "$after") || true; fail "state differs after recovering a kill at step $k"; }
done
# And a killed apply followed by the same apply converges to the new plan.
NETDSL_KILL_AT_STEP=$((n / 2)) "$NETDSL" apply --allow-disruptive "$B" --netns "$ns" >/dev/null 2>&1 && fail "kill hook did not fire"
expect_rc 0 "$NETDSL" apply --allow-disruptive "$B" --netns "$ns" >/dev/null 2>&1
expect_rc 0 "$NETDSL" plan "$B" --netns "$ns" >/dev/null
echo "PASS: recovered from a kill at each of $n steps"
