#!/usr/bin/env bash
# Mutation survivor: the qdisc comparison must look at every HTB class's
# ceil. A hand change of one class's ceil is drift: plan reports it (exit 2)
# and apply restores the planned ceil. (With the ceil comparison removed from
# SameQdisc, plan said "in sync" and apply left the class wrong.)
source "$(dirname "$0")/../lib.sh"
mkns h
NS=$P-h
PLAN=$FIXTURES/qos-nat.yaml
expect_rc 0 "$NETDSL" apply "$PLAN" --netns "$NS" --no-probes >/dev/null
expect_rc 0 "$NETDSL" plan "$PLAN" --netns "$NS" >/dev/null
ceil() { tc -n "$NS" class show dev nd-p2 classid 1:11 | sed -nE 's/.* ceil ([0-9A-Za-z]+) .*/\1/p'; }
[[ $(ceil) == 1Gbit ]] || fail "class 1:11 has ceil $(ceil) after apply, expected 1Gbit"
# Only the ceil of one class changes; its rate stays.
tc -n "$NS" class change dev nd-p2 parent 1:1 classid 1:11 htb rate 200Mbit ceil 300Mbit
[[ $(ceil) == 300Mbit ]] || fail "the hand change did not take: ceil $(ceil)"
rc=0
out=$("$NETDSL" plan "$PLAN" --netns "$NS" 2>&1) || rc=$?
[[ $rc -eq 2 ]] || fail "plan exited $rc after a class's ceil changed, expected 2: $out"
grep -q "qdisc nd-p2" <<<"$out" || fail "plan does not show the qdisc of nd-p2: $out"
expect_rc 0 "$NETDSL" apply "$PLAN" --netns "$NS" --no-probes >/dev/null
[[ $(ceil) == 1Gbit ]] || fail "apply left class 1:11 with ceil $(ceil)"
expect_rc 0 "$NETDSL" plan "$PLAN" --netns "$NS" >/dev/null
echo "PASS: a changed HTB ceil is drift, and apply restores it"
