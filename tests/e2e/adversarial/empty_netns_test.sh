#!/usr/bin/env bash
# Defect 7: `--netns ""` (an unset variable in a script) must be a usage
# error, never a silent apply to the host itself. Run inside a throwaway
# namespace, so that a netdsl that takes "" for "here" applies there and not
# to this machine.
source "$(dirname "$0")/../lib.sh"
mkns h
ns=$P-h
for args in '--netns ""' '--netns=""'; do
  for cmd in apply plan; do
    rc=0
    out=$(eval ip netns exec "$ns" "$NETDSL" $cmd "$FIXTURES/basic.yaml" $args 2>&1) || rc=$?
    [[ $rc -eq 64 ]] || fail "\`netdsl $cmd $args\` exited $rc, expected 64 (usage): $out"
    grep -q "names no namespace" <<<"$out" || fail "no reason given for \`$cmd $args\`: $out"
  done
done
[[ -z $(ip -n "$ns" -o link show | grep ' nd-') ]] || fail "something was applied: $(ip -n "$ns" -o link show)"
echo "PASS: --netns \"\" is a usage error and changes nothing"
