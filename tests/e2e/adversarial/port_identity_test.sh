#!/usr/bin/env bash
# Port identity (issue 10 "Identity", issue 11 defect 2): a VM port's link
# carries the VM NIC it belongs to (`links[].identity`) in netdsl's ownership
# marker. The same port name with another identity is another VM's port: it
# is deleted and created (a disruptive change: plan marks it, apply needs
# --allow-disruptive), so the new VM gets a new guest end and never the old
# VM's device, also when the plan moves the port to another bridge. A port
# whose marker has no identity yet (applied by an older netdsl) gets it in
# place.
source "$(dirname "$0")/../lib.sh"
mkns h
NS=$P-h
with_identity() {  # PLAN IDENTITY-or-"" OUT [MASTER MTU]
  local master=${4:-nd-br6001} mtu=${5:-1450}
  awk -v id="$2" -v master="$master" -v mtu="$mtu" '
    /^  - name: nd-p1$/ { port = 1 }
    port && /^    master: / { print "    master: " master; next }
    port && /^    mtu: / { print "    mtu: " mtu; next }
    port && /^    veth: / { if (id != "") print "    identity: \"" id "\""; port = 0 }
    { print }' "$1" >"$3"
}
ifindex() { ip -n "$NS" -o link show "$1" | cut -d: -f1; }
alias_of() { ip -n "$NS" -d link show "$1" | sed -n 's/^ *alias //p'; }
Y=$NETDSL_STATE_DIR
with_identity "$FIXTURES/basic.yaml" "" "$Y/none.yaml"
with_identity "$FIXTURES/basic.yaml" "vm vm1/nic0" "$Y/vm1.yaml"
with_identity "$FIXTURES/basic.yaml" "vm vm2/nic0" "$Y/vm2.yaml"
with_identity "$FIXTURES/basic.yaml" "vm vm3/nic0" "$Y/vm3.yaml" nd-sw-a 1500  # nd-sw-a's MTU
grep -q 'identity: "vm vm1/nic0"' "$Y/vm1.yaml" || fail "test setup: no identity in $(cat "$Y/vm1.yaml")"

# An older apply: the marker has no identity. The plan with one records it
# in place (not disruptive, same devices).
expect_rc 0 "$NETDSL" apply "$Y/none.yaml" --netns "$NS" --no-probes >/dev/null
[[ $(alias_of nd-p1) == netdsl ]] || fail "marker without identity: $(alias_of nd-p1)"
p=$(ifindex nd-p1) g=$(ifindex nd-p1g)
out=$("$NETDSL" apply "$Y/vm1.yaml" --netns "$NS" --no-probes 2>&1) || fail "recording the identity failed: $out"
[[ $(ifindex nd-p1) == "$p" && $(ifindex nd-p1g) == "$g" ]] || fail "recording the identity recreated the port"
[[ $(alias_of nd-p1) == "netdsl vm vm1/nic0" ]] || fail "the host end's marker is '$(alias_of nd-p1)'"
[[ $(alias_of nd-p1g) == "netdsl vm vm1/nic0" ]] || fail "the guest end's marker is '$(alias_of nd-p1g)'"
expect_rc 0 "$NETDSL" plan "$Y/vm1.yaml" --netns "$NS" >/dev/null

# Same port name, another VM NIC: recreated (disruptive), never kept.
rc=0
out=$("$NETDSL" plan "$Y/vm2.yaml" --netns "$NS" 2>&1) || rc=$?
[[ $rc -eq 2 ]] || fail "plan of the same port with another identity exited $rc, expected 2: $out"
grep -E -q -- '- link nd-p1: recreated: identity .*vm1/nic0.* -> .*vm2/nic0.*\[disruptive\]' <<<"$out" ||
  fail "plan does not show the port recreated for its new identity: $out"
before=$(dump "$NS")
rc=0
out=$("$NETDSL" apply "$Y/vm2.yaml" --netns "$NS" --no-probes 2>&1) || rc=$?
[[ $rc -eq 1 ]] && grep -q -- '--allow-disruptive' <<<"$out" || fail "apply without --allow-disruptive exited $rc: $out"
[[ $(dump "$NS") == "$before" ]] || fail "the refused apply changed the host"
expect_rc 0 "$NETDSL" apply "$Y/vm2.yaml" --netns "$NS" --no-probes --allow-disruptive
[[ $(ifindex nd-p1) != "$p" ]] || fail "nd-p1 was kept for another VM NIC (same ifindex $p)"
[[ $(ifindex nd-p1g) != "$g" ]] || fail "the guest end nd-p1g was kept for another VM NIC (same ifindex $g)"
[[ $(alias_of nd-p1) == "netdsl vm vm2/nic0" && $(alias_of nd-p1g) == "netdsl vm vm2/nic0" ]] ||
  fail "markers after the recreation: '$(alias_of nd-p1)', '$(alias_of nd-p1g)'"
expect_rc 0 "$NETDSL" plan "$Y/vm2.yaml" --netns "$NS" >/dev/null

# Another identity and another bridge: recreated on the new bridge, not moved.
p=$(ifindex nd-p1) g=$(ifindex nd-p1g)
out=$("$NETDSL" plan "$Y/vm3.yaml" --netns "$NS" 2>&1) || true
grep -q -- '- link nd-p1: recreated: identity' <<<"$out" || fail "a port with a new identity on another bridge is not recreated: $out"
! grep -q -- '~ link nd-p1: master' <<<"$out" || fail "the port is moved to the other bridge: $out"
expect_rc 0 "$NETDSL" apply "$Y/vm3.yaml" --netns "$NS" --no-probes --allow-disruptive
[[ $(ifindex nd-p1) != "$p" && $(ifindex nd-p1g) != "$g" ]] || fail "the port was moved, not recreated"
ip -n "$NS" -o link show nd-p1 | grep -q 'master nd-sw-a' || fail "nd-p1 is not on nd-sw-a"

# Rolled back: the old VM's port comes back with the old marker.
after=$(dump "$NS")
n=$("$NETDSL" apply "$Y/vm1.yaml" --netns "$NS" --dry-run --allow-disruptive | sed -nE 's/.* in ([0-9]+) steps?$/\1/p')
rc=0
out=$(NETDSL_FAULT_AT_STEP=$n "$NETDSL" apply "$Y/vm1.yaml" --netns "$NS" --no-probes --allow-disruptive 2>&1) || rc=$?
[[ $rc -eq 1 ]] || fail "the faulted apply exited $rc: $out"
[[ $(dump "$NS") == "$after" ]] || fail "not as before: $(diff <(echo "$after") <(dump "$NS"))"
[[ $(alias_of nd-p1) == "netdsl vm vm3/nic0" ]] || fail "the rollback restored the marker as '$(alias_of nd-p1)'"
echo "PASS: a VM port with another identity is recreated, never kept or moved"
