#!/usr/bin/env bash
# Disruptive changes: a change the kernel cannot make in place (the link goes
# down and is recreated: a vxlan's local address or ttl, a VM port's peer) is
# marked by `plan` (text and --json) and refused by `apply` unless
# `--allow-disruptive` is given; the refusal names every such link and the
# way out, and changes nothing. A change the kernel makes in place (an MTU)
# needs no flag.
source "$(dirname "$0")/../lib.sh"
mkns h
NS=$P-h
A=$FIXTURES/basic.yaml
B=$FIXTURES/basic-v2.yaml  # nd-vx6001: local 192.168.0.10 -> .20, ttl 64 -> 32 (recreated)
ifindex() { ip -n "$NS" -o link show "$1" | cut -d: -f1; }
expect_rc 0 "$NETDSL" apply "$A" --netns "$NS" --no-probes >/dev/null
vx=$(ifindex nd-vx6001)

# plan marks the recreation, in text and in --json.
rc=0
out=$("$NETDSL" plan "$B" --netns "$NS" 2>&1) || rc=$?
[[ $rc -eq 2 ]] || fail "plan exited $rc, expected 2: $out"
grep -E -q -- '- link nd-vx6001: recreated: .*\[disruptive\]' <<<"$out" || fail "plan does not mark the recreation: $out"
grep -q -- '--allow-disruptive' <<<"$out" || fail "plan does not say apply needs --allow-disruptive: $out"
if grep -E -- '^  . .*\[disruptive\]$' <<<"$out" | grep -v -E '^  [-+] link nd-vx6001: '; then
  fail "plan marks more than the recreated link: $out"
fi
json=$("$NETDSL" plan "$B" --netns "$NS" --json) || true
python3 - "$json" <<'EOF' || fail "plan --json does not mark the recreation: $json"
import json, sys
d = json.loads(sys.argv[1])
marked = sorted({c["name"] for c in d["changes"] if c["disruptive"]})
assert marked == ["nd-vx6001"], marked
assert [x["link"] for x in d["disruptive"]] == ["nd-vx6001"], d["disruptive"]
assert "vxlan" in d["disruptive"][0]["reason"], d["disruptive"]
assert all(isinstance(c["disruptive"], bool) for c in d["changes"])
EOF

# apply without the flag: refused, nothing touched, no journal, lock free.
before=$(dump "$NS")
rc=0
out=$("$NETDSL" apply "$B" --netns "$NS" --no-probes 2>&1) || rc=$?
[[ $rc -eq 1 ]] || fail "apply of a disruptive plan without --allow-disruptive exited $rc, expected 1: $out"
grep -q 'nd-vx6001' <<<"$out" || fail "the refusal does not name the link: $out"
grep -q -- '--allow-disruptive' <<<"$out" || fail "the refusal does not name the way out: $out"
grep -q 'nothing was changed' <<<"$out" || fail "the refusal does not say nothing changed: $out"
[[ $(dump "$NS") == "$before" ]] || fail "the refused apply changed the host: $(diff <(echo "$before") <(dump "$NS"))"
[[ $(ifindex nd-vx6001) == "$vx" ]] || fail "the refused apply recreated nd-vx6001"
[[ ! -e $NETDSL_STATE_DIR/$(state_key "$NS").journal ]] || fail "the refused apply left a journal"

# --dry-run shows the marks and exits 0.
out=$("$NETDSL" apply "$B" --netns "$NS" --dry-run 2>&1) || fail "apply --dry-run failed: $out"
grep -q '\[disruptive\]' <<<"$out" || fail "apply --dry-run does not mark the recreation: $out"

# A VM port whose peer changes is recreated too: its guest end goes.
sed 's/peer: nd-p1g,/peer: nd-p1h,/' "$A" >"$NETDSL_STATE_DIR/peer.yaml"
rc=0
out=$("$NETDSL" apply "$NETDSL_STATE_DIR/peer.yaml" --netns "$NS" --no-probes 2>&1) || rc=$?
[[ $rc -eq 1 ]] && grep -q 'nd-p1' <<<"$out" || fail "a VM port recreation was not refused (exit $rc): $out"
[[ $(dump "$NS") == "$before" ]] || fail "the refused port recreation changed the host"

# An in-place change needs no flag.
sed 's/{name: nd-sw-a, kind: bridge, mtu: 1500}/{name: nd-sw-a, kind: bridge, mtu: 1400}/' "$A" >"$NETDSL_STATE_DIR/mtu.yaml"
out=$("$NETDSL" plan "$NETDSL_STATE_DIR/mtu.yaml" --netns "$NS" 2>&1) || true
! grep -q 'disruptive' <<<"$out" || fail "an MTU change is marked disruptive: $out"
expect_rc 0 "$NETDSL" apply "$NETDSL_STATE_DIR/mtu.yaml" --netns "$NS" --no-probes >/dev/null

# With the flag: applied, the link is new.
expect_rc 0 "$NETDSL" apply "$B" --netns "$NS" --no-probes --allow-disruptive >/dev/null
[[ $(ifindex nd-vx6001) != "$vx" ]] || fail "nd-vx6001 was not recreated"
expect_rc 0 "$NETDSL" plan "$B" --netns "$NS" >/dev/null
echo "PASS: disruptive changes are marked by plan and need --allow-disruptive"
