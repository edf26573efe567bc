#!/usr/bin/env bash
# Malformed or invalid linux.yaml: a clear error with line:col, exit 1, and
# nothing changed in the namespace (which holds an applied plan).
source "$(dirname "$0")/lib.sh"
mkns h
ns=$P-h
expect_rc 0 "$NETDSL" apply "$FIXTURES/basic.yaml" --netns "$ns" >/dev/null
before=$(dump "$ns")
for bad in "$FIXTURES"/invalid/*.yaml; do
  rc=0
  err=$("$NETDSL" apply "$bad" --netns "$ns" 2>&1) || rc=$?
  [[ $rc -eq 1 ]] || fail "$(basename "$bad"): apply exited $rc, expected 1"
  grep -qE "^$bad:[0-9]+:[0-9]+: error: " <<<"$err" || fail "$(basename "$bad"): no located error: $err"
  grep -q "nothing was changed" <<<"$err" || fail "$(basename "$bad"): does not say nothing changed"
  [[ "$before" == "$(dump "$ns")" ]] || fail "$(basename "$bad"): the namespace changed"
done
echo "PASS"
