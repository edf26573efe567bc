#!/usr/bin/env bash
# Plans that need `vrf`, `bond`, `gretap` or `vlan`: apply probes the kernel in
# a throwaway namespace before any change; where the kernel lacks the feature
# it names it (and the object needing it) and exits 1 with nothing changed;
# where the kernel has it, the apply succeeds. In the VM (NETDSL_IN_VM, Debian's
# 6.1 kernel) every feature must be there: tests/vm/e2e/real_links_test.sh
# checks those objects attribute by attribute.
source "$(dirname "$0")/lib.sh"
mkns h
mkns probe
ns=$P-h
ip -n "$P-probe" link add ndq-lower type bridge
for feature in vrf bond gretap vlan; do
  yaml=$FIXTURES/needs-$feature.yaml
  case $feature in
    vrf) probe=(type vrf table 77) ;;
    vlan) probe=(link ndq-lower type vlan id 2) ;;
    gretap) probe=(type gretap key 1) ;;  # (without a key: the fallback gretap0's parameters, EEXIST)
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
    printf 'format: 1\nhost: host01\n' >"$NETDSL_STATE_DIR/empty.yaml"
    "$NETDSL" apply "$NETDSL_STATE_DIR/empty.yaml" --netns "$ns" >/dev/null
  else
    [[ -z ${NETDSL_IN_VM:-} ]] || fail "the VM's kernel ($NETDSL_VM_KERNEL) lacks \`$feature\`: module loading is broken"
    echo "kernel lacks \`$feature\`: expecting apply to name it"
    [[ $rc -eq 1 ]] || fail "apply needing $feature exited $rc, expected 1: $out"
    grep -q "kernel lacks \`$feature\` (needed by link \`nd-" <<<"$out" || fail "missing $feature not named: $out"
    grep -q "nothing was changed" <<<"$out" || fail "does not say nothing changed: $out"
    [[ "$before" == "$(dump "$ns")" ]] || fail "apply changed the namespace although $feature is missing"
  fi
done
echo "PASS"
