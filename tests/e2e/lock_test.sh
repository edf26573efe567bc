#!/usr/bin/env bash
# A concurrent apply on the same namespace is refused, naming the holder.
source "$(dirname "$0")/lib.sh"
command -v flock >/dev/null || skip "util-linux \`flock\` is not installed"
mkns h
ns=$P-h
lock=$NETDSL_STATE_DIR/netns-$ns.lock
echo "pid 4242 started 2026-01-01T00:00:00Z" >"$lock"
flock -o "$lock" sleep 30 &  # -o: only flock itself holds the lock
holder=$!
sleep 0.3
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
