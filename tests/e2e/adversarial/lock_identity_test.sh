#!/usr/bin/env bash
# Defect 8: the apply lock must be keyed by the namespace itself, not by the
# name it was reached by: `--netns NS` and `ip netns exec NS netdsl` must
# exclude each other.
source "$(dirname "$0")/../lib.sh"
mkns h
ns=$P-h
A=$FIXTURES/basic.yaml
holder=
trap 'kill "$holder" 2>/dev/null || true; cleanup' EXIT

# hold LOCKFILE: one process holds the flock until killed.
hold() {
  rm -f "$NETDSL_STATE_DIR/held"
  python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "$1" "$NETDSL_STATE_DIR/held" >/dev/null 2>&1 &
  holder=$!
  for _ in $(seq 50); do [[ -e $NETDSL_STATE_DIR/held ]] && break; sleep 0.1; done
  [[ -e $NETDSL_STATE_DIR/held ]] || fail "the lock holder did not start"
}
release() {
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
}

# The lock `--netns NS` takes...
expect_rc 0 "$NETDSL" apply "$A" --netns "$ns" >/dev/null
lock=$(ls "$NETDSL_STATE_DIR"/*.lock)
[[ $(wc -l <<<"$lock") -eq 1 ]] || fail "more than one lock file: $lock"
hold "$lock"
# ...excludes `ip netns exec NS`.
rc=0
out=$(ip netns exec "$ns" "$NETDSL" apply "$FIXTURES/basic-v2.yaml" 2>&1) || rc=$?
release
[[ $rc -eq 1 ]] || fail "\`ip netns exec\` applied while \`--netns\` held the lock (exit $rc): $out"
grep -q "another \`netdsl apply\` holds" <<<"$out" || fail "the refusal does not name the holder: $out"
# And the other way round: the lock `ip netns exec NS` takes excludes `--netns NS`.
expect_rc 0 ip netns exec "$ns" "$NETDSL" apply "$A" >/dev/null
[[ $(ls "$NETDSL_STATE_DIR"/*.lock | wc -l) -eq 1 ]] || fail "the two ways of entering $ns use different locks"
hold "$lock"
rc=0
out=$("$NETDSL" apply "$FIXTURES/basic-v2.yaml" --netns "$ns" 2>&1) || rc=$?
release
[[ $rc -eq 1 ]] || fail "\`--netns\` applied while \`ip netns exec\` held the lock (exit $rc): $out"
expect_rc 0 "$NETDSL" plan "$A" --netns "$ns" >/dev/null
echo "PASS: one lock per namespace, however it is entered"
