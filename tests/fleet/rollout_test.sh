#!/usr/bin/env bash
# A real SSH rollout with the Ansible collection (issue 14): three namespaced
# hosts running sshd, the runtime installed from the built .deb, the fabric
# examples/two-tenants-vxlan built by the packaged netdslc, and
# `ansible-playbook netdsl.fabric.rollout` run from a controller namespace.
#  1. canary then waves: every host converged and confirmed, VMs ping across
#     hosts within their tenant; the report names each host's generation;
#  2. a second run changes nothing;
#  3. `--check --diff` after a hand-made drift on one host names that host
#     and the drifted object, and only that host;
#  4. a new generation whose site check fails on the wave-2 host: that host
#     is rolled back (its state exactly as before), the play halts, the
#     wave-3 host is untouched, the canary keeps the new generation;
#  5. a second rollout started while one runs is refused before it touches a
#     host; the first one's controller is killed mid-wave: the hosts it left
#     unconfirmed revert by their own watchdogs, exactly;
#  6. after that, a rollout takes the stale lock over and completes.
# Takes 2-5 minutes (several ansible-playbook runs).
source "$(dirname "$0")/lib.sh"
command -v ping >/dev/null || fail "\`ping\` (iputils-ping) is missing"

fleet_install_debs
cp -r "$FLEET_SRC/examples/two-tenants-vxlan" "$WORK/src"
rm -f "$WORK/src/fabric.lock"
"$NETDSLC" build "$WORK/src/fabric.netdsl" -o "$WORK/out" >/dev/null || fail "netdslc build failed"
mapfile -t hosts < <(python3 -c 'import json,sys; [print(h["name"]) for h in json.load(open(sys.argv[1]))["hosts"]]' "$WORK/out/manifest.json")
[[ ${hosts[*]} == "node1 node2 node3" ]] || fail "expected hosts node1..3 in the manifest, got: ${hosts[*]}"
fleet_setup "${hosts[@]}"
echo "[${SECONDS}s] packages built and installed, fabric built, 3 hosts with sshd"
fleet_inventory "$WORK/out/manifest.json"

# The inventory plugin: hosts, the platform group and the host group `lab`.
inv=$(ip netns exec "$P-ctl" env ANSIBLE_CONFIG="$WORK/ansible.cfg" ansible-inventory -i "$WORK/inventory/fleet.netdsl.yml" --graph)
for want in "@netdsl_linux:" "@lab:" "--node1" "--node3"; do
  grep -q -- "$want" <<<"$inv" || fail "inventory lacks $want: $inv"
done

dump() {  # the host's netdsl-relevant kernel state, normalized
  on_host "$1" sh -c 'ip -d -o link show | sed -E "s/^[0-9]+: //; s/@if[0-9]+//; s/ link-netnsid [0-9]+//" | grep -E " nd-|eth0" | sed -E "s/ (UP|DOWN|UNKNOWN|LOWERLAYERDOWN) mode / mode /; s/,LOWER_UP|NO-CARRIER,//g; s/ (hello|tcn|topology_change|gc|hold|message_age|forward_delay)_timer +[0-9.]+//g" | sort
                      ip -o addr show | sed -E "s/^[0-9]+: //; s/ valid_lft.*//" | grep -v fe80 | sort
                      bridge fdb show | grep " dst " | sort; ip neigh show nud permanent | sort; nft list ruleset'
}
gen_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["generation"])' "$WORK/hosts/$1/netdsl/applied.json"; }

# 1. The first rollout: canary, then one host per wave.
playbook -e '{"netdsl_serial": [1, 1, 1]}' >"$WORK/run1.log" 2>&1 || { cat "$WORK/run1.log"; fail "the first rollout failed"; }
grep -q "NETDSL ROLLOUT REPORT" "$WORK/run1.log" || fail "no rollout report: $(cat "$WORK/run1.log")"
for h in "${hosts[@]}"; do
  grep -qx "$h 1 confirmed" <<<"$(report)" || fail "report: $h should run generation 1, confirmed: $(report)"
  [[ $(on_host "$h" netdsl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["phase"])') == confirmed ]] ||
    fail "$h: the change is not confirmed"
done
# Batches in order: node1 alone (the canary), then node2, then node3.
order=$(awk '/^TASK \[push/ {t = 1; next} t && /^(ok|changed): \[/ {print $2; t = 0}' "$WORK/run1.log" | tr -d '[]' | tr '\n' ' ')
[[ $order == "node1 node2 node3 " ]] || fail "the waves did not run canary first, one per wave: $order"

# VMs on the guest veth ends; same-tenant VMs reach each other across hosts.
vms=$(python3 "$FLEET_SRC/tests/e2e/fabric_vms.py" "$WORK/out") || fail "cannot read the VM NICs"
declare -A tenant_of ca_of
while IFS=$'\t' read -r host port guest mac ca tenant; do
  vm="vm-$host-$port"
  mkns "$vm"
  ip -n "$P-$host" link set "$guest" netns "$P-$vm"
  ip -n "$P-$vm" addr add "$ca/24" dev "$guest"
  ip -n "$P-$vm" link set "$guest" up
  tenant_of[$vm]=$tenant
  ca_of[$vm]=$ca:$host
done <<<"$vms"
pairs=0
for a in "${!tenant_of[@]}"; do
  for b in "${!tenant_of[@]}"; do
    [[ $a == "$b" || ${tenant_of[$a]} != "${tenant_of[$b]}" || ${ca_of[$a]#*:} == "${ca_of[$b]#*:}" ]] && continue
    ip netns exec "$P-$a" ping -c 1 -W 2 "${ca_of[$b]%%:*}" >/dev/null || fail "$a cannot reach $b (${ca_of[$b]})"
    pairs=$((pairs + 1))
  done
done
((pairs >= 4)) || fail "only $pairs cross-host VM pairs"
echo "[${SECONDS}s] 1. rollout: 3 hosts confirmed at generation 1; $pairs cross-host VM pairs ping"

# 2. Nothing to do the second time.
playbook >"$WORK/run2.log" 2>&1 || { cat "$WORK/run2.log"; fail "the second rollout failed"; }
grep -E '^node[0-9] +: ' "$WORK/run2.log" | grep -v 'changed=0' && fail "the second rollout changed something: $(cat "$WORK/run2.log")"
for h in "${hosts[@]}"; do grep -qx "$h 1 in sync" <<<"$(report)" || fail "report of the second run: $(report)"; done
echo "[${SECONDS}s] 2. second run: changed=0 on every host"

# 3. Drift on node2: an FDB entry deleted by hand.
line=$(on_host node2 bridge fdb show | grep ' dst ' | grep -v '00:00:00:00:00:00' | head -1)
mac=$(awk '{print $1}' <<<"$line"); dev=$(awk '{print $3}' <<<"$line"); dst=$(awk '{print $5}' <<<"$line")
on_host node2 bridge fdb del "$mac" dev "$dev" dst "$dst"
playbook --check --diff >"$WORK/drift.log" 2>&1 || { cat "$WORK/drift.log"; fail "the drift report failed"; }
grep -q "+ fdb $dev: $mac dst $dst" "$WORK/drift.log" || fail "the drift report does not name the FDB entry: $(cat "$WORK/drift.log")"
grep -q "^node2 1 drift: 1 changes" <<<"$(report)" || fail "report: node2 should show 1 drift: $(report)"
grep -q "^node1 1 in sync" <<<"$(report)" && grep -q "^node3 1 in sync" <<<"$(report)" || fail "report: others should be in sync: $(report)"
grep -q "$mac dev $dev dst $dst" <<<"$(on_host node2 bridge fdb show)" && fail "--check repaired the drift"
echo "[${SECONDS}s] 3. --check --diff names node2 and fdb $dev $mac"

# 4. Generation 2 (a VM added on each host's tenant-a subnet); node2's site check fails.
cat >>"$WORK/src/fabric.netdsl" <<'NETDSL'
vm a4 { host = node2; nic { vm_network = "tenant-a"; } }
NETDSL
"$NETDSLC" build "$WORK/src/fabric.netdsl" -o "$WORK/out" >/dev/null || fail "the second build failed"
for h in "${hosts[@]}"; do dump "$h" >"$WORK/before-$h"; done
cat >"$WORK/health.yml" <<'YAML'
- name: site check (fails on the host the test chose)
  ansible.builtin.command: "true"
  changed_when: false
  failed_when: inventory_hostname == (fail_host | default(''))
- name: pause (the test kills the controller here)
  ansible.builtin.wait_for:
    timeout: "{{ pause_seconds | default(0) | int }}"
  when: (pause_seconds | default(0) | int) > 0
YAML
rc=0
playbook -e '{"netdsl_serial": [1, 1, 1], "fail_host": "node2"}' -e "netdsl_health_tasks=$WORK/health.yml" >"$WORK/run4.log" 2>&1 || rc=$?
((rc != 0)) || fail "the rollout with a failing host succeeded: $(cat "$WORK/run4.log")"
grep -qx "node1 2 confirmed" <<<"$(report)" || fail "report: the canary should keep generation 2: $(report)"
grep -qx "node2 1 rolled back" <<<"$(report)" || fail "report: node2 should be rolled back to 1: $(report)"
grep -qx "node3 1 untouched" <<<"$(report)" || fail "report: node3 should be untouched at 1: $(report)"
diff "$WORK/before-node2" <(dump node2) >/dev/null || fail "node2 is not exactly as before: $(diff "$WORK/before-node2" <(dump node2))"
diff "$WORK/before-node3" <(dump node3) >/dev/null || fail "node3 was touched: $(diff "$WORK/before-node3" <(dump node3))"
[[ $(gen_of node2) == 1 && $(gen_of node3) == 1 && $(gen_of node1) == 2 ]] || fail "installed generations: $(gen_of node1) $(gen_of node2) $(gen_of node3)"
grep -q "node3" <(sed -n '/netdsl rollout (canary/,$p' "$WORK/run4.log" | grep -E '^(ok|changed|failed|fatal): \[') &&
  fail "wave 3 ran: $(cat "$WORK/run4.log")"
echo "[${SECONDS}s] 4. node2 failed its check: rolled back exactly, play halted, node3 untouched, node1 keeps generation 2"

# 5. A rollout pauses in wave 2 (node2 and node3 pending, 10 s to confirm); a
# second rollout meanwhile is refused; the first controller is killed -9.
ip netns exec "$P-ctl" setsid env ANSIBLE_CONFIG="$WORK/ansible.cfg" NETDSL_REPORT="$WORK/report-a.json" \
  ansible-playbook -i "$WORK/inventory/fleet.netdsl.yml" netdsl.fabric.rollout \
  -e '{"netdsl_serial": [1, 2], "pause_seconds": 300}' -e netdsl_confirm_within=10s \
  -e "netdsl_health_tasks=$WORK/health.yml" >"$WORK/run5a.log" 2>&1 &
controller=$!
# Each host seen pending at least once (under load the two applies of the
# wave may end further apart than the window: the first may revert already).
declare -A seen_pending=()
for _ in $(seq 1 600); do
  for h in node2 node3; do
    grep -q '"phase": "pending"' <<<"$(on_host "$h" netdsl status --json 2>/dev/null)" && seen_pending[$h]=1
  done
  ((${#seen_pending[@]} == 2)) && break
  sleep 0.2
done
((${#seen_pending[@]} == 2)) || fail "node2 and node3 never became pending: $(cat "$WORK/run5a.log")"
rc=0
playbook >"$WORK/run5b.log" 2>&1 || rc=$?
((rc != 0)) && grep -q "another rollout is in progress" "$WORK/run5b.log" ||
  fail "a second concurrent rollout was not refused: $(cat "$WORK/run5b.log")"
grep -q "TASK \[push" "$WORK/run5b.log" && fail "the refused rollout reached the apply: $(cat "$WORK/run5b.log")"
kill -9 -- "-$controller"
wait "$controller" 2>/dev/null || true
for h in node2 node3; do
  for _ in $(seq 1 150); do
    grep -q '"phase": "reverted"' <<<"$(on_host "$h" netdsl status --json)" && break
    sleep 0.2
  done
  grep -q '"phase": "reverted"' <<<"$(on_host "$h" netdsl status --json)" || fail "$h did not revert: $(on_host "$h" netdsl status)"
  diff "$WORK/before-$h" <(dump "$h") >/dev/null || fail "$h did not revert exactly: $(diff "$WORK/before-$h" <(dump "$h"))"
done
echo "[${SECONDS}s] 5. second rollout refused; controller killed mid-wave: node2 and node3 reverted by their watchdogs"

# 6. The lock of the killed controller is stale: a new rollout completes.
playbook -e '{"netdsl_serial": [1, 2]}' >"$WORK/run6.log" 2>&1 || { cat "$WORK/run6.log"; fail "the final rollout failed"; }
for h in "${hosts[@]}"; do
  grep -qE "^$h 2 (confirmed|in sync)$" <<<"$(report)" || fail "report of the final run: $(report)"
done
grep -q "took over a stale lock" "$WORK/run6.log" || echo "note: the lock was free"
echo "[${SECONDS}s] 6. final rollout: every host at generation 2"
echo "PASS"
