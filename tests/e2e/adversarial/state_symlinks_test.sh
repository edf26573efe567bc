#!/usr/bin/env bash
# Defect 9: whoever can write the state directory must not be able to make
# root write or create another file through a symlink planted as the lock or
# the journal; the directory itself must be netdsl's own (not a symlink, not
# writable by others), and so must the files in it.
source "$(dirname "$0")/../lib.sh"
mkns h
ns=$P-h
A=$FIXTURES/basic.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cleanup' EXIT
echo precious >"$tmp/victim"

# Plant symlinks under every name a lock or journal of $ns could have.
plant() {
  local name
  for name in "netns-$ns" "$(state_key "$ns")"; do
    ln -sf "$1" "$NETDSL_STATE_DIR/$name.lock"
    ln -sf "$2" "$NETDSL_STATE_DIR/$name.journal"
  done
}
plant "$tmp/victim" "$tmp/victim"
rc=0
out=$("$NETDSL" apply "$A" --netns "$ns" 2>&1) || rc=$?
[[ $(cat "$tmp/victim") == precious ]] || fail "root wrote through a planted symlink: $(cat "$tmp/victim")"
[[ $rc -eq 1 ]] || fail "apply with a planted lock symlink exited $rc: $out"
grep -q "symbolic link" <<<"$out" || fail "the symlink is not named: $out"
# A dangling symlink must not create its target.
plant "$tmp/created-lock" "$tmp/created-journal"
"$NETDSL" apply "$A" --netns "$ns" >/dev/null 2>&1 || true
[[ ! -e $tmp/created-lock && ! -e $tmp/created-journal ]] || fail "root created a file through a dangling symlink"
rm -f "$NETDSL_STATE_DIR"/*
# A journal symlink alone (the lock is fine): not read, not removed through.
ln -s "$tmp/victim" "$NETDSL_STATE_DIR/$(state_key "$ns").journal"
rc=0
out=$("$NETDSL" apply "$A" --netns "$ns" 2>&1) || rc=$?
[[ $rc -eq 1 ]] || fail "apply with a planted journal symlink exited $rc: $out"
[[ $(cat "$tmp/victim") == precious ]] || fail "the victim changed"
rm -f "$NETDSL_STATE_DIR"/*

# The directory: a symlink to one, or writable by others, or someone else's.
mkdir -m 0700 "$tmp/real"
ln -s "$tmp/real" "$tmp/dirlink"
for dir in "$tmp/dirlink"; do
  rc=0
  out=$(NETDSL_STATE_DIR=$dir "$NETDSL" apply "$A" --netns "$ns" 2>&1) || rc=$?
  [[ $rc -eq 1 ]] || fail "a symlinked state directory was used (exit $rc): $out"
  grep -q "symbolic link" <<<"$out" || fail "the symlinked directory is not named: $out"
done
mkdir -m 0777 "$tmp/open"
mkdir -m 0700 "$tmp/theirs"
chown nobody "$tmp/theirs"
for dir in "$tmp/open" "$tmp/theirs"; do
  rc=0
  out=$(NETDSL_STATE_DIR=$dir "$NETDSL" apply "$A" --netns "$ns" 2>&1) || rc=$?
  [[ $rc -eq 1 ]] || fail "the state directory $dir was used (exit $rc): $out"
  grep -q "no other user can write" <<<"$out" || fail "the unsafe directory is not explained: $out"
  [[ -z $(ls "$dir") ]] || fail "files were created in $dir"
done
# A journal someone else could have written is not trusted.
key=$(state_key "$ns")
printf 'netdsl-journal 2\n' >"$NETDSL_STATE_DIR/$key.journal"
chmod 0666 "$NETDSL_STATE_DIR/$key.journal"
rc=0
out=$("$NETDSL" apply "$A" --netns "$ns" 2>&1) || rc=$?
[[ $rc -eq 1 ]] || fail "a journal writable by others was read (exit $rc): $out"
grep -q "writable by others" <<<"$out" || fail "the unsafe journal is not explained: $out"
[[ -z $(ip -n "$ns" -o link show | grep " nd-") ]] || fail "links were created"
echo "PASS: no symlink followed, directory and files checked"
