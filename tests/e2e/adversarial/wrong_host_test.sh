#!/usr/bin/env bash
# Defect 2: hv2's linux.yaml applied on hv1 planned and applied its changes
# (moving a blue VM's port into red). The first apply records which fabric
# host a machine (a network namespace) is; plan and apply refuse a plan for
# another host (exit 1, nothing changed) unless `--host-override NAME` names
# the plan's host, which then becomes the record.
source "$(dirname "$0")/../lib.sh"
mkns a
mkns b
NS=$P-a
H1=$FIXTURES/basic.yaml  # host01
H2=$NETDSL_STATE_DIR/host02.yaml
sed 's/^host: host01$/host: host02/; s#192.168.0.10/24#192.168.0.20/24#' "$H1" >"$H2"  # its own underlay address
grep -q '^host: host02$' "$H2" || fail "no host02 plan"
expect_rc 0 "$NETDSL" apply "$H1" --netns "$NS" --no-probes >/dev/null
before=$(dump "$NS")

rc=0
out=$("$NETDSL" plan "$H2" --netns "$NS" 2>&1) || rc=$?
[[ $rc -eq 1 ]] || fail "plan of another host's plan exited $rc, expected 1: $out"
grep -q "this machine is fabric host \`host01\`.* the plan is for \`host02\`" <<<"$out" || fail "plan: $out"
grep -q -- "--host-override host02" <<<"$out" || fail "plan does not give the way out: $out"
for args in "" "--dry-run" "--host-override host03"; do
  rc=0
  out=$("$NETDSL" apply "$H2" --netns "$NS" --no-probes $args 2>&1) || rc=$?
  [[ $rc -eq 1 ]] || fail "apply $args of another host's plan exited $rc, expected 1: $out"
  grep -q "host02" <<<"$out" || fail "apply $args: $out"
  [[ $(dump "$NS") == "$before" ]] || fail "apply $args changed the host: $(diff <(echo "$before") <(dump "$NS"))"
done
grep -q "does not name the plan's host" <<<"$out" || fail "a wrong --host-override is not explained: $out"

# The same plan again is fine; so is host02's plan in another namespace (its own record).
expect_rc 0 "$NETDSL" plan "$H1" --netns "$NS" >/dev/null
expect_rc 0 "$NETDSL" apply "$H2" --netns "$P-b" --no-probes >/dev/null

# --host-override: the machine becomes host02, and host01's plan is now the wrong one.
expect_rc 2 "$NETDSL" plan "$H2" --netns "$NS" --host-override host02 >/dev/null
expect_rc 0 "$NETDSL" apply "$H2" --netns "$NS" --no-probes --host-override host02 >/dev/null
expect_rc 0 "$NETDSL" plan "$H2" --netns "$NS" >/dev/null
rc=0
out=$("$NETDSL" apply "$H1" --netns "$NS" --no-probes 2>&1) || rc=$?
[[ $rc -eq 1 ]] && grep -q "this machine is fabric host \`host02\`" <<<"$out" || fail "after the override: rc $rc: $out"

# A damaged record is an error naming the file, never a silent pass.
rec=$NETDSL_STATE_DIR/$(state_key "$NS").host
[[ -f $rec ]] || fail "no host record at $rec"
printf 'garbage' >"$rec"
rc=0
out=$("$NETDSL" plan "$H2" --netns "$NS" 2>&1) || rc=$?
[[ $rc -eq 1 ]] && grep -q "$rec" <<<"$out" || fail "a damaged record: rc $rc: $out"
echo "PASS: a plan for another host is refused unless --host-override names it"
