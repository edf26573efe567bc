#!/usr/bin/env bash
# Defect 12: a full disk when the journal is created must leave no journal
# behind (the apply stops, nothing changed); later runs must not report an
# interrupted apply that never happened. The state directory is a 64 KiB
# tmpfs filled to the last byte, in a private mount namespace.
source "$(dirname "$0")/../lib.sh"
command -v unshare >/dev/null || skip "unshare is not installed"
mkns h
ns=$P-h
export NETDSL ns FIXTURES
unshare -m --propagation private bash -euo pipefail -c '
  dir=$NETDSL_STATE_DIR
  mount -t tmpfs -o size=64k,mode=0700 tmpfs "$dir"
  head -c 1M /dev/zero >"$dir/fill" 2>/dev/null || true
  rc=0
  out=$("$NETDSL" apply "$FIXTURES/basic.yaml" --netns "$ns" 2>&1) || rc=$?
  [[ $rc -eq 1 ]] || { echo "FAIL: apply on a full disk exited $rc: $out" >&2; exit 1; }
  grep -q "No space left on device" <<<"$out" || { echo "FAIL: the full disk is not named: $out" >&2; exit 1; }
  grep -q "nothing was changed" <<<"$out" || { echo "FAIL: does not say nothing was changed: $out" >&2; exit 1; }
  [[ -z $(ip -n "$ns" -o link show | grep " nd-") ]] || { echo "FAIL: links were created" >&2; exit 1; }
  left=$(ls "$dir" | grep -v "^fill$" | grep -v "\.lock$" || true)
  [[ -z $left ]] || { echo "FAIL: files left in the state directory: $left" >&2; exit 1; }
  rm "$dir/fill"
  out=$("$NETDSL" plan "$FIXTURES/basic.yaml" --netns "$ns" 2>&1) || true
  if grep -q "interrupted" <<<"$out"; then echo "FAIL: plan reports a phantom interrupted apply: $out" >&2; exit 1; fi
  out=$("$NETDSL" apply "$FIXTURES/basic.yaml" --netns "$ns" 2>&1) || { echo "FAIL: apply after freeing space: $out" >&2; exit 1; }
  if grep -q "interrupted" <<<"$out"; then echo "FAIL: apply rolls back a phantom interrupted apply: $out" >&2; exit 1; fi
  umount "$dir"
'
echo "PASS: a full disk at journal start leaves no journal and no phantom"
