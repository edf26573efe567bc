#!/usr/bin/env bash
# Defect 11: the guest end of a VM port (the veth peer, nd-p1g) is part of
# what netdsl owns. Its MAC, MTU and marker are diffed like any owned link's
# (drift is reported by plan and repaired by apply), and the rollback of an
# apply that removed the port recreates the guest end exactly as it was (not
# with a random MAC and MTU 1500 while saying "is as it was").
source "$(dirname "$0")/../lib.sh"
mkns h
NS=$P-h
PLAN=$FIXTURES/basic.yaml  # nd-p1, guest end nd-p1g: peer_mac 00:1d:d8:b7:1c:00, peer_mtu 1450
guest() { ip -n "$NS" -d -o link show nd-p1g | sed -E 's/.*mtu ([0-9]+) .*link\/ether ([0-9a-f:]+) .*/\1 \2/'; }
alias_of() { ip -n "$NS" -d link show nd-p1g | sed -n 's/^ *alias //p'; }
expect_rc 0 "$NETDSL" apply "$PLAN" --netns "$NS" --no-probes >/dev/null
[[ $(guest) == "1450 00:1d:d8:b7:1c:00" ]] || fail "guest end after apply: $(guest)"

# 1. Drift of the guest end: reported, repaired.
for change in "address 02:00:00:00:00:99" "mtu 1400" "alias someone-else"; do
  ip -n "$NS" link set nd-p1g $change
  rc=0
  out=$("$NETDSL" plan "$PLAN" --netns "$NS" 2>&1) || rc=$?
  [[ $rc -eq 2 ]] || fail "plan exited $rc after \`ip link set nd-p1g $change\`, expected 2: $out"
  grep -q "link nd-p1g" <<<"$out" || fail "plan does not name the guest end ($change): $out"
  expect_rc 0 "$NETDSL" apply "$PLAN" --netns "$NS" --no-probes >/dev/null
  [[ $(guest) == "1450 00:1d:d8:b7:1c:00" && $(alias_of) == netdsl ]] ||
    fail "apply did not repair the guest end after \`$change\`: $(guest), alias $(alias_of)"
  expect_rc 0 "$NETDSL" plan "$PLAN" --netns "$NS" >/dev/null
done

# 2. An apply that removes the port fails at its last step: the rollback
#    recreates the guest end as it was.
sed '/name: nd-p1$/,/veth: {peer/d; /dev: nd-p1,/d; /iifname "nd-p1"/d' "$PLAN" >"$NETDSL_STATE_DIR/no-port.yaml"
n=$("$NETDSL" apply "$NETDSL_STATE_DIR/no-port.yaml" --netns "$NS" --dry-run | sed -nE 's/.* in ([0-9]+) steps?$/\1/p')
before=$(dump "$NS")
rc=0
out=$(NETDSL_FAULT_AT_STEP=$n "$NETDSL" apply "$NETDSL_STATE_DIR/no-port.yaml" --netns "$NS" --no-probes 2>&1) || rc=$?
[[ $rc -eq 1 ]] || fail "the faulted apply exited $rc: $out"
[[ $(guest) == "1450 00:1d:d8:b7:1c:00" && $(alias_of) == netdsl ]] ||
  fail "the rollback recreated the guest end as $(guest), alias $(alias_of): $out"
[[ $(dump "$NS") == "$before" ]] || fail "not as before: $(diff <(echo "$before") <(dump "$NS"))"
expect_rc 0 "$NETDSL" plan "$PLAN" --netns "$NS" >/dev/null
echo "PASS: the guest end's MAC, MTU and marker are owned state: diffed, repaired, restored"
