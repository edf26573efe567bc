#!/usr/bin/env bash
# A journal left by an apply interrupted before the last reboot (another boot
# id) describes kernel state that no longer exists: apply discards it with a
# warning instead of running its "undo" operations on the fresh kernel, plan
# mentions it, and a journal of this boot is still rolled back.
source "$(dirname "$0")/lib.sh"
mkns h
ns=$P-h
A=$FIXTURES/basic.yaml
TOOL=$(dirname "$0")/journal_tool.py
journal=$NETDSL_STATE_DIR/$(state_key "$ns").journal
read -r dev ino cookie < <(ip netns exec "$ns" python3 "$TOOL" identity)
write_journal() {  # BOOT: a journal whose undo would create link nd-stale (with an alias
  # that is not the marker, so that the apply after the rollback leaves it alone)
  python3 "$TOOL" write "$journal" --host h --netns "$dev:$ino" --cookie "$cookie" --boot "$1" \
    --step 'delete link `nd-stale`' 'create-link|nd-stale|bridge|0|||||0||0|0||4789|0|0|0|||0|||0|not-netdsl|1'
}

write_journal 00000000-0000-0000-0000-000000000000
out=$("$NETDSL" plan "$A" --netns "$ns" 2>&1) || true
grep -q "before the last reboot" <<<"$out" || fail "plan does not mention the stale journal: $out"
out=$("$NETDSL" apply "$A" --netns "$ns" 2>&1) || fail "apply failed: $out"
grep -q "discarding .* before the last reboot" <<<"$out" || fail "no warning about the stale journal: $out"
ip -n "$ns" link show nd-stale >/dev/null 2>&1 && fail "the stale journal was rolled back onto this boot's kernel"
[[ -e $journal ]] && fail "the stale journal was kept"

# The same journal from this boot is an interrupted apply: rolled back.
write_journal "$(cat /proc/sys/kernel/random/boot_id)"
out=$("$NETDSL" apply "$A" --netns "$ns" 2>&1) || fail "apply failed: $out"
grep -q "was rolled back" <<<"$out" || fail "this boot's journal was not rolled back: $out"
ip -n "$ns" link show nd-stale >/dev/null 2>&1 || fail "the rollback did not run the journal's undo"
echo "PASS"
