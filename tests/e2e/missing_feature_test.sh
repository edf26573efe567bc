#!/usr/bin/env bash
# Plans that need `vrf`, `bond` or `gretap`: apply probes the kernel in a
# throwaway namespace before any change; where the kernel lacks the feature it
# names it (and the object needing it) and exits 1 with nothing changed; where
# the kernel has it, the apply succeeds.
source "$(dirname "$0")/lib.sh"
mkns h
mkns probe
ns=$P-h
for feature in vrf bond gretap; do
  yaml=$FIXTURES/needs-$feature.yaml
  case $feature in
    vrf) probe=(type vrf table 77) ;;
    *) probe=(type "$feature") ;;
  esac
  before=$(dump "$ns")
  rc=0
  out=$("$NETDSL" apply "$yaml" --netns "$ns" 2>&1) || rc=$?
  if ip -n "$P-probe" link add "ndq-$feature" "${probe[@]}" 2>/dev/null; then
    echo "kernel has \`$feature\`: expecting the apply to succeed"
    [[ $rc -eq 0 ]] || fail "apply needing $feature failed on a kernel that has it: $out"
    "$NETDSL" plan "$yaml" --netns "$ns" >/dev/null || fail "plan not in sync after applying $feature"
    # Back to empty for the next feature.
    printf 'format: 1\nhost: h\n' >"$NETDSL_STATE_DIR/empty.yaml"
    "$NETDSL" apply "$NETDSL_STATE_DIR/empty.yaml" --netns "$ns" >/dev/null
  else
    echo "kernel lacks \`$feature\`: expecting apply to name it"
    [[ $rc -eq 1 ]] || fail "apply needing $feature exited $rc, expected 1: $out"
    grep -q "kernel lacks \`$feature\` (needed by link \`nd-" <<<"$out" || fail "missing $feature not named: $out"
    grep -q "nothing was changed" <<<"$out" || fail "does not say nothing changed: $out"
    [[ "$before" == "$(dump "$ns")" ]] || fail "apply changed the namespace although $feature is missing"
  fi
done
echo "PASS"
