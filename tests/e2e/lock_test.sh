#!/usr/bin/env bash
# A concurrent apply on the same namespace is refused, naming the holder.
source "$(dirname "$0")/lib.sh"
mkns h
ns=$P-h
lock=$NETDSL_STATE_DIR/$(state_key "$ns").lock
echo "pid 4242 started 2026-01-01T00:00:00Z" >"$lock"
# One process holds the flock (no children that would outlive `kill`).
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "$lock" "$NETDSL_STATE_DIR/held" >/dev/null 2>&1 &
holder=$!
trap 'kill "$holder" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 50); do [[ -e $NETDSL_STATE_DIR/held ]] && break; sleep 0.1; done
[[ -e $NETDSL_STATE_DIR/held ]] || fail "the lock holder did not start"
rc=0
err=$("$NETDSL" apply "$FIXTURES/basic.yaml" --netns "$ns" 2>&1) || rc=$?
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
[[ $rc -eq 1 ]] || fail "concurrent apply exited $rc, expected 1"
grep -q "another \`netdsl apply\` holds .*pid 4242 started 2026-01-01T00:00:00Z" <<<"$err" || fail "holder not named: $err"
[[ -z $(ip -n "$ns" -o link show | grep nd-) ]] || fail "a refused apply created links"
# Once released, apply works and records itself as the holder while it runs.
expect_rc 0 "$NETDSL" apply "$FIXTURES/basic.yaml" --netns "$ns" >/dev/null
grep -qE '^pid [0-9]+ started ' "$lock" || fail "lock file does not name its holder"
echo "PASS"
