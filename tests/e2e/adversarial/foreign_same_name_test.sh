#!/usr/bin/env bash
# Defect 6: someone creates a link with a name the apply is about to create
# (after the plan was read, before the create). The create fails with
# EEXIST; the rollback must delete only what this apply created, never the
# other party's same-named link, and must not leave netdsl's marker on it.
# The same for a veth's guest end taken meanwhile (defect 5, executor side).
# NETDSL_STOP_AT_STEP stops the apply (SIGSTOP) between two steps, so that
# the foreign link is created exactly in that window.
source "$(dirname "$0")/../lib.sh"
mkns h
NS=$P-h
PLAN=$FIXTURES/basic.yaml

stopped() { [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == T ]]; }

# race NAME CMD...: apply, stopped after step 1; CMD creates the foreign link; then the apply goes on.
race() {
  local what=$1
  shift
  local before
  before=$(dump "$NS")
  NETDSL_STOP_AT_STEP=1 "$NETDSL" apply "$PLAN" --netns "$NS" --no-probes >"$NETDSL_STATE_DIR/out" 2>&1 &
  local pid=$!
  local i
  for i in $(seq 200); do stopped "$pid" && break; sleep 0.1; done
  stopped "$pid" || { kill -9 "$pid"; fail "the apply did not stop after step 1 ($what): $(cat "$NETDSL_STATE_DIR/out")"; }
  "$@"
  kill -CONT "$pid"
  local rc=0
  wait "$pid" || rc=$?
  out=$(cat "$NETDSL_STATE_DIR/out")
  [[ $rc -eq 1 ]] || fail "apply exited $rc with $what taken meanwhile, expected 1: $out"
  grep -q "File exists" <<<"$out" || fail "apply did not fail on the taken name ($what): $out"
  grep -q "is as it was" <<<"$out" || fail "apply did not roll back ($what): $out"
  # The foreign link and its address are there, unmarked; netdsl's own links of step 1 are gone.
  local after
  after=$(dump "$NS")
  ip -n "$NS" -o link show op-y >/dev/null 2>&1 || fail "the foreign pair was deleted by the rollback ($what): $out"
  ip -n "$NS" -o addr show | grep -q 10.98.0.1/24 || fail "the foreign address is gone ($what): $out"
  if ip -n "$NS" -d link show | grep -q "alias netdsl"; then
    fail "a foreign link got netdsl's marker ($what): $(ip -n "$NS" -d link show)"
  fi
  diff <(grep -v 'op-y\|10.98.0.1' <<<"$after") <(grep -v 'op-y\|10.98.0.1' <<<"$before") >/dev/null ||
    fail "the rollback did not restore the host ($what): $(diff <(echo "$before") <(echo "$after"))"
}

# 1. The link itself: a foreign veth nd-p1 (with peer op-y, an address on nd-p1).
race "nd-p1" bash -c "ip -n '$NS' link add nd-p1 type veth peer name op-y && ip -n '$NS' addr add 10.98.0.1/24 dev nd-p1"
ip -n "$NS" -o link show nd-p1 >/dev/null 2>&1 || fail "the rollback deleted the foreign nd-p1"
ip -n "$NS" link del nd-p1

# 2. The veth's guest end: a foreign nd-p1g.
race "nd-p1g" bash -c "ip -n '$NS' link add nd-p1g type veth peer name op-y && ip -n '$NS' addr add 10.98.0.1/24 dev nd-p1g"
ip -n "$NS" -o link show nd-p1g >/dev/null 2>&1 || fail "the rollback deleted the foreign nd-p1g"
echo "PASS: a name taken during an apply fails it; the rollback deletes and marks only what the apply created"
