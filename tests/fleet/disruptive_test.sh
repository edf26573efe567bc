#!/usr/bin/env bash
# Disruptive changes in a rollout (issue 14; netdsl's side is 999b50b): three
# namespaced hosts over real SSH, the packaged runtime, examples/two-tenants-vxlan.
# node1 is re-addressed in the underlay (its provider address in the lock moves
# to another free address of the pool), so node1's vxlan devices must be
# recreated (the kernel cannot change a vxlan's local address in place).
#  1. `--check --diff` lists node1's disruptive links (plan --json's top-level
#     `disruptive`), marks the changes [disruptive] and warns that the apply
#     would be refused;
#  2. a rollout without netdsl_allow_disruptive: the canary node1 fails with
#     netdsl's refusal naming the link, its kernel state and installed
#     generation are exactly as before, nothing is pending, the play halts and
#     node2/node3 are untouched;
#  3. with -e netdsl_allow_disruptive=true every host converges and is
#     confirmed, node1's vxlan is a new device.
# Fails on e55c523: netdsl_apply has no allow_disruptive option (step 3 is
# refused by the module's argument spec) and nothing names the links in
# check mode. Takes about 1.5 minutes (four ansible-playbook runs).
source "$(dirname "$0")/lib.sh"

fleet_install_debs
cp -r "$FLEET_SRC/examples/two-tenants-vxlan" "$WORK/src"
rm -f "$WORK/src/fabric.lock"
"$NETDSLC" build "$WORK/src/fabric.netdsl" -o "$WORK/out" >/dev/null || fail "netdslc build failed"
fleet_setup node1 node2 node3
fleet_inventory "$WORK/out/manifest.json"
playbook -e '{"netdsl_serial": [3]}' >"$WORK/run1.log" 2>&1 || { cat "$WORK/run1.log"; fail "the first rollout failed"; }
for h in node1 node2 node3; do
  grep -qx "$h 1 confirmed" <<<"$(report)" || fail "report: $h should run generation 1, confirmed: $(report)"
done
echo "[${SECONDS}s] generation 1 rolled out to 3 hosts"

dump() {  # the host's netdsl-relevant kernel state, with ifindexes
  on_host "$1" sh -c 'ip -d -o link show | grep -E " nd-|eth0" | sed -E "s/ (hello|tcn|topology_change|gc|hold|message_age|forward_delay)_timer +[0-9.]+//g" | sort
                      ip -o addr show | sed -E "s/ valid_lft.*//" | grep -v fe80 | sort
                      bridge fdb show | grep " dst " | sort; ip neigh show nud permanent | sort'
}
gen_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["generation"])' "$WORK/hosts/$1/netdsl/applied.json"; }

# Generation 2: node1 gets a new provider address.
sed -i 's|^  host node1/logical_network Provider: "172.16.0.11"$|  host node1/logical_network Provider: "172.16.0.40"|' "$WORK/src/fabric.lock"
grep -q '^  host node1/logical_network Provider: "172.16.0.40"$' "$WORK/src/fabric.lock" || fail "node1's provider address is not 172.16.0.11 in the lock"
"$NETDSLC" build "$WORK/src/fabric.netdsl" -o "$WORK/out" >/dev/null || fail "the second build failed"
grep -q '172.16.0.40' "$WORK/out/hosts/node1/linux.yaml" || fail "node1's plan does not use its new provider address"
vxlans=$(on_host node1 ip -o link show type vxlan | awk -F': ' '{print $2}' | sed 's/@.*//' | sort)
[[ -n $vxlans ]] || fail "node1 has no vxlan device"
for h in node1 node2 node3; do dump "$h" >"$WORK/before-$h"; done

# 1. The drift report names the recreations and says the apply would be refused.
playbook --check --diff >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "the drift report failed"; }
for vx in $vxlans; do
  grep -Eq "^[-+] link $vx: .*\[disruptive\]$" "$WORK/check.log" || fail "--diff does not mark $vx [disruptive]: $(cat "$WORK/check.log")"
  grep -q "^! disruptive: link $vx is recreated (" "$WORK/check.log" || fail "--diff does not list $vx as disruptive: $(cat "$WORK/check.log")"
done
# (Ansible wraps warnings: one line.)
tr -s '\n' ' ' <"$WORK/check.log" | grep -q "WARNING\]: node1: the plan recreates 2 links: .* the apply would be refused unless allow_disruptive" ||
  fail "check mode does not warn that node1's apply would be refused: $(cat "$WORK/check.log")"
grep -E "^node1 1 drift: [0-9]+ changes, [0-9]+ recreating links \[disruptive\]" <<<"$(report)" >/dev/null ||
  fail "report: node1 should show its disruptive links: $(report)"
for h in node2 node3; do
  grep -E "^$h 1 drift: [0-9]+ changes(, artifacts [a-z.,]+ differ)?$" <<<"$(report)" >/dev/null ||
    fail "report: $h has nothing disruptive: $(report)"
done
echo "[${SECONDS}s] 1. --check --diff lists node1's recreated links: $(echo $vxlans)"

# 2. Without netdsl_allow_disruptive: node1 (the canary) refuses, nothing changes anywhere.
rc=0
playbook >"$WORK/refused.log" 2>&1 || rc=$?
((rc != 0)) || fail "a rollout that recreates links without netdsl_allow_disruptive succeeded: $(cat "$WORK/refused.log")"
for vx in $vxlans; do
  grep -q "fatal: \[node1\].*netdsl apply refused on node1.*$vx" "$WORK/refused.log" ||
    fail "node1 did not fail with netdsl's refusal naming $vx: $(cat "$WORK/refused.log")"
done
grep -q "nothing was changed" "$WORK/refused.log" || fail "the refusal does not say nothing was changed: $(cat "$WORK/refused.log")"
grep -q "^node1 1 failed: netdsl apply refused on node1" <<<"$(report)" || fail "report: node1 should be refused at 1: $(report)"
for h in node2 node3; do grep -qx "$h 1 untouched" <<<"$(report)" || fail "report: $h should be untouched: $(report)"; done
for h in node1 node2 node3; do
  diff "$WORK/before-$h" <(dump "$h") >/dev/null || fail "$h changed: $(diff "$WORK/before-$h" <(dump "$h"))"
  [[ $(gen_of "$h") == 1 ]] || fail "$h installed generation $(gen_of "$h")"
done
[[ $(on_host node1 netdsl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["phase"])') == confirmed ]] ||
  fail "node1 has a change pending or reverted after the refusal: $(on_host node1 netdsl status)"
echo "[${SECONDS}s] 2. without netdsl_allow_disruptive: node1 refused, unchanged; the play halted before node2/node3"

# 3. With it: every host at generation 2, node1's vxlan devices are new.
playbook -e netdsl_allow_disruptive=true -e '{"netdsl_serial": [1, 2]}' >"$WORK/allowed.log" 2>&1 ||
  { cat "$WORK/allowed.log"; fail "the rollout with netdsl_allow_disruptive=true failed"; }
for h in node1 node2 node3; do
  grep -qx "$h 2 confirmed" <<<"$(report)" || fail "report: $h should run generation 2, confirmed: $(report)"
done
for vx in $vxlans; do
  old=$(grep -E "^[0-9]+: $vx[:@]" "$WORK/before-node1" | cut -d: -f1)
  new=$(on_host node1 ip -o link show "$vx" | cut -d: -f1)
  [[ -n $old && -n $new && $old != "$new" ]] || fail "$vx on node1 was not recreated (ifindex $old -> $new)"
done
playbook --check >"$WORK/after.log" 2>&1 || { cat "$WORK/after.log"; fail "the last drift report failed"; }
for h in node1 node2 node3; do grep -qx "$h 2 in sync" <<<"$(report)" || fail "report after the override: $(report)"; done
echo "[${SECONDS}s] 3. with netdsl_allow_disruptive=true: 3 hosts confirmed at generation 2, node1's vxlans recreated"
echo "PASS"
