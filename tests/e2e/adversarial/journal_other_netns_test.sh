#!/usr/bin/env bash
# Defect 4: a journal must be rolled back only in the namespace it was written
# for. `ip netns exec A netdsl apply` killed mid-way, then `ip netns exec B
# netdsl apply`: B must not replay A's journal (it deleted B's foreign
# links). Likewise a namespace deleted and created again under the same name
# (the kernel often gives it the same inode) must not inherit the journal.
source "$(dirname "$0")/../lib.sh"
mkns a
mkns b
A=$FIXTURES/basic.yaml
V2=$FIXTURES/basic-v2.yaml  # creates nd-br6002, nd-p2
empty=$(mktemp)
trap 'rm -f "$empty"; cleanup' EXIT
printf 'format: 1\nhost: hb\n' >"$empty"
n=$("$NETDSL" apply --allow-disruptive "$V2" --netns "$P-a" --dry-run | sed -nE 's/.* in ([0-9]+) steps?$/\1/p')

# 1. `ip netns exec`, two namespaces.
expect_rc 0 ip netns exec "$P-a" "$NETDSL" apply --allow-disruptive "$A" >/dev/null
(NETDSL_KILL_AT_STEP=$n ip netns exec "$P-a" "$NETDSL" apply --allow-disruptive "$V2" >/dev/null 2>&1; exit $?) 2>/dev/null &&
  fail "the kill hook did not fire"
ip -n "$P-b" link add nd-br6002 type bridge  # B's own links, with the names A's journal would delete
ip -n "$P-b" link add nd-p2 type veth peer name nd-p2g
out=$(ip netns exec "$P-b" "$NETDSL" apply --allow-disruptive "$empty" 2>&1) || fail "apply in B failed: $out"
if grep -q "interrupted" <<<"$out"; then fail "B rolled back A's journal: $out"; fi
ip -n "$P-b" link show nd-br6002 >/dev/null 2>&1 || fail "B's foreign nd-br6002 was deleted by A's journal"
ip -n "$P-b" link show nd-p2 >/dev/null 2>&1 || fail "B's foreign nd-p2 was deleted by A's journal"
out=$(ip netns exec "$P-b" "$NETDSL" plan "$empty" 2>&1) || true
if grep -q "interrupted" <<<"$out"; then fail "plan in B reports A's journal: $out"; fi
# A still finds its journal, whichever way it is entered.
out=$("$NETDSL" apply --allow-disruptive "$A" --netns "$P-a" 2>&1) || fail "recovery in A failed: $out"
grep -q "was rolled back" <<<"$out" || fail "A's journal was not rolled back in A: $out"
expect_rc 0 "$NETDSL" plan "$A" --netns "$P-a" >/dev/null

# 2. The same name, a new namespace.
(NETDSL_KILL_AT_STEP=$n "$NETDSL" apply --allow-disruptive "$V2" --netns "$P-a" >/dev/null 2>&1; exit $?) 2>/dev/null &&
  fail "the kill hook did not fire"
ip netns del "$P-a"
ip netns add "$P-a"
ip -n "$P-a" link add nd-br6002 type bridge
ip -n "$P-a" link add nd-p2 type veth peer name nd-p2g
out=$("$NETDSL" apply --allow-disruptive "$empty" --netns "$P-a" 2>&1) || fail "apply in the new namespace failed: $out"
ip -n "$P-a" link show nd-br6002 >/dev/null 2>&1 || fail "the old namespace's journal deleted the new one's nd-br6002: $out"
ip -n "$P-a" link show nd-p2 >/dev/null 2>&1 || fail "the old namespace's journal deleted the new one's nd-p2: $out"
echo "PASS: journals are rolled back only in their own namespace"
