#!/usr/bin/env bash
# Defect 10: `host:` is user text that reaches the journal and the terminal.
# A newline in it injected journal records (after an interrupted apply the
# injected "undo" deleted a foreign link), escape sequences reached the
# terminal raw, and a 10 MB host name was accepted. `host:` must be a host
# name, and everything netdsl prints escapes control characters.
source "$(dirname "$0")/../lib.sh"
mkns h
ns=$P-h
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cleanup' EXIT
ip -n "$ns" link add fe0 type bridge  # a foreign link, no netdsl prefix or marker

plan_with_host() {  # plan_with_host 'YAML SCALAR' > FILE: basic.yaml with another host line
  printf 'host: %s\n' "$1"
  grep -v '^host: ' "$FIXTURES/basic.yaml"
}

# 1. Injected journal records: a kill at step 1 leaves the journal; recovery must not run them.
plan_with_host '"hv1\nstep 99 x\nundo delete-link|fe0\nready 99"' > "$tmp/inject.yaml"
rc=0
(NETDSL_KILL_AT_STEP=1 "$NETDSL" apply "$tmp/inject.yaml" --netns "$ns" >/dev/null 2>&1; exit $?) 2>/dev/null || rc=$?
"$NETDSL" apply "$FIXTURES/basic.yaml" --netns "$ns" >/dev/null 2>&1 || true
ip -n "$ns" link show fe0 >/dev/null 2>&1 || fail "the foreign link fe0 was deleted by a record injected through \`host:\`"
[[ $rc -eq 1 ]] || fail "a host name with line breaks was accepted (apply exited $rc)"

# 2. Escape sequences never reach the terminal raw, wherever user text is echoed.
plan_with_host '"\e]2;pwned\a\e[2J"' > "$tmp/esc-host.yaml"
sed 's|kind: bridge, mtu: 1500}|kind: "\\e[31mbridge", mtu: 1500}|' "$FIXTURES/basic.yaml" > "$tmp/esc-kind.yaml"
for f in esc-host esc-kind; do
  for cmd in plan apply; do
    out=$("$NETDSL" $cmd "$tmp/$f.yaml" --netns "$ns" 2>&1) && fail "\`$cmd $f\` accepted the plan"
    if grep -q $'[\x01-\x09\x0b-\x1f\x7f]' <<<"$out"; then fail "\`$cmd $f\` printed control characters raw: $(cat -v <<<"$out")"; fi
    [[ $f == esc-host ]] || grep -q '\\x1b' <<<"$out" || fail "\`$cmd $f\` does not show the escape character escaped: $out"
  done
done

# 3. A 10 MB host name is refused like any other bad host name, quickly.
{ printf 'host: '; head -c 10000000 /dev/zero | tr '\0' a; echo; grep -v '^host: ' "$FIXTURES/basic.yaml"; } > "$tmp/long.yaml"
rc=0
out=$(timeout 60 "$NETDSL" plan "$tmp/long.yaml" --netns "$ns" 2>&1 | head -c 2000) || rc=$?
grep -q "\`host\` must be a host name" <<<"$out" || fail "a 10 MB host name was not refused: $(head -c 300 <<<"$out")"
[[ ${#out} -lt 1000 ]] || fail "the refusal echoes the 10 MB name (${#out} bytes shown)"
echo "PASS: host names validated, control characters escaped"
