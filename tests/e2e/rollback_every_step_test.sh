#!/usr/bin/env bash
# A failure injected at every step k (NETDSL_FAULT_AT_STEP, test-only) makes
# apply exit 1 naming the step and leaves the namespace exactly as it was:
# first from an empty namespace, then for a change set with deletions,
# modifications and recreations over an applied plan, and for qdisc/nft-heavy
# plans.
source "$(dirname "$0")/lib.sh"
mkns h
ns=$P-h

steps_of() { "$NETDSL" apply --allow-disruptive "$@" --netns "$ns" --dry-run | sed -nE 's/.* in ([0-9]+) steps?$/\1/p'; }

# check_every_step PLAN [APPLY OPTION...]
check_every_step() {
  local yaml=$1 n k before after err
  shift
  n=$(steps_of "$yaml" "$@")
  [[ -n $n && $n -gt 3 ]] || fail "expected a multi-step change set for $yaml, got '$n'"
  before=$(dump "$ns")
  for k in $(seq 1 "$n"); do
    err=$(NETDSL_FAULT_AT_STEP=$k "$NETDSL" apply --allow-disruptive "$yaml" --netns "$ns" "$@" 2>&1) && fail "apply with a fault at step $k succeeded"
    grep -q "error: step $k/$n (" <<<"$err" || fail "the error does not name step $k: $err"
    grep -q "rolled back $k step" <<<"$err" || fail "no rollback reported at step $k: $err"
    after=$(dump "$ns")
    if [[ "$before" != "$after" ]]; then
      diff <(echo "$before") <(echo "$after") || true
      fail "state differs after a fault at step $k of $yaml"
    fi
    [[ ! -e $NETDSL_STATE_DIR/$(state_key "$ns").journal ]] || fail "journal left behind after rollback at step $k"
  done
  echo "rolled back every one of $n steps of $(basename "$yaml")"
}

check_every_step "$FIXTURES/basic.yaml"
expect_rc 0 "$NETDSL" apply --allow-disruptive "$FIXTURES/basic.yaml" --netns "$ns" >/dev/null
check_every_step "$FIXTURES/basic-v2.yaml"
expect_rc 0 "$NETDSL" apply --allow-disruptive "$FIXTURES/basic-v2.yaml" --netns "$ns" >/dev/null
expect_rc 0 "$NETDSL" plan "$FIXTURES/basic-v2.yaml" --netns "$ns" >/dev/null
check_every_step "$FIXTURES/basic.yaml"
# htb classes with parents, a second (nat) nft table: from basic-v2 and back
# (qos-nat.yaml is host gw01's plan: the namespace changes hosts, on purpose).
check_every_step "$FIXTURES/qos-nat.yaml" --host-override gw01
expect_rc 0 "$NETDSL" apply --allow-disruptive "$FIXTURES/qos-nat.yaml" --netns "$ns" --host-override gw01 >/dev/null
expect_rc 0 "$NETDSL" plan "$FIXTURES/qos-nat.yaml" --netns "$ns" >/dev/null
check_every_step "$FIXTURES/basic-v2.yaml" --host-override host01
echo "PASS"
