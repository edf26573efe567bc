#!/usr/bin/env bash
# Issue 11, defect 2: drop one VM and add another on the same host in one edit.
# The new VM must not inherit the old VM's port id or MAC (the allocator
# quarantines released values, docs/lock.md), and the runtime's plan is a
# delete of the old port and a create of the new one: never a move of the old
# veth, whose guest end is still plugged into the old VM, onto the other
# tenant's bridge. The old VM then cannot reach the other tenant.
source "$(dirname "$0")/lib.sh"
NETDSLC=${NETDSLC:-}
[[ -x $NETDSLC ]] || skip "netdslc is not built"
command -v ping >/dev/null || skip "\`ping\` (iputils-ping) is not installed"

src=$NETDSL_STATE_DIR/src
mkdir -p "$src"
cat >"$src/fabric.netdsl" <<'NETDSL'
host_group lab { host node1 { nic eth0 { switch = fabric; uplink = provider; } } }
logical_network Provider {
  network_virtualization = true;
  site provider_site { host_groups = [lab]; subnet 172.16.0.0/24; }
  ip_pool provider_pool { site = provider_site; subnet = 172.16.0.0/24; range = 172.16.0.11 - 172.16.0.50; }
}
mac_pool tenants { range = 02:4E:44:00:00:00 - 02:4E:44:00:FF:FF; }
uplink_port_profile provider { sites = [provider_site]; }
logical_switch fabric { uplink_mode = no_team; uplinks = [provider]; }
vm_network red {
  logical_network = Provider;
  isolation = vxlan;
  vm_subnet app { subnet = 10.0.0.0/24; }
  ip_pool app_pool { vm_subnet = app; range = 10.0.0.10 - 10.0.0.99; }
}
vm_network blue {
  logical_network = Provider;
  isolation = vxlan;
  vm_subnet app { subnet = 10.0.0.0/24; }
  ip_pool app_pool { vm_subnet = app; range = 10.0.0.10 - 10.0.0.99; }
}
vm keep { host = node1; nic { vm_network = blue; ip = 10.0.0.50; } }
vm old { host = node1; nic { vm_network = red; } }
NETDSL
out=$NETDSL_STATE_DIR/out
"$NETDSLC" build "$src/fabric.netdsl" -o "$out" >/dev/null || fail "netdslc build (before) failed"

# port NAME: "ifname mac" of VM NAME's port in the built linux.yaml of node1.
port() {
  python3 - "$out/hosts/node1/linux.yaml" "$1" "$src/fabric.lock" <<'PY'
import re, sys, yaml
plan = yaml.safe_load(open(sys.argv[1]))
lock = open(sys.argv[3]).read()
port_id = re.search(r'host node1/vm %s/nic0: (\d+)' % sys.argv[2], lock).group(1)
for link in plan['links']:
    if link['name'] == 'nd-p' + port_id:
        print(link['name'], link['veth']['peer_mac'])
PY
}

mkns node1
ns=$P-node1
ip -n "$ns" link add eth0 type veth peer name eth0peer
expect_rc 0 "$NETDSL" apply "$out/hosts/node1/linux.yaml" --netns "$ns" >/dev/null
read -r old_port old_mac < <(port old)
read -r keep_port _ < <(port keep)
[[ -n $old_port && -n $keep_port ]] || fail "cannot find the ports of old and keep"
# The VMs: namespaces holding the guest ends.
for vm in old:$old_port:10.0.0.10 keep:$keep_port:10.0.0.50; do
  IFS=: read -r name ifname ca <<<"$vm"
  mkns "vm-$name"
  ip -n "$ns" link set "${ifname}g" netns "$P-vm-$name"
  ip -n "$P-vm-$name" addr add "$ca/24" dev "${ifname}g"
  ip -n "$P-vm-$name" link set "${ifname}g" up
done
if ip netns exec "$P-vm-old" ping -c 1 -W 1 10.0.0.50 >/dev/null 2>&1; then
  fail "before the edit, old (red) already reaches keep (blue)"
fi

# One edit: old is gone, new (blue) is added on the same host.
sed -i 's/^vm old { host = node1; nic { vm_network = red; } }$/vm new { host = node1; nic { vm_network = blue; } }/' "$src/fabric.netdsl"
grep -q '^vm new ' "$src/fabric.netdsl" || fail "the edit did not apply"
"$NETDSLC" build "$src/fabric.netdsl" -o "$out" >/dev/null || fail "netdslc build (after) failed"
read -r new_port new_mac < <(port new)
[[ -n $new_port ]] || fail "cannot find the port of new"
[[ $new_port != "$old_port" ]] || fail "new inherited old's port $old_port"
[[ $new_mac != "$old_mac" ]] || fail "new inherited old's MAC $old_mac"

plan=$("$NETDSL" plan "$out/hosts/node1/linux.yaml" --netns "$ns" 2>&1) && rc=0 || rc=$?
[[ $rc -eq 2 ]] || fail "plan exited $rc, expected 2 (changes pending): $plan"
grep -qE "^ *- link $old_port:" <<<"$plan" || fail "the plan does not delete $old_port: $plan"
grep -qE "^ *\+ link $new_port:" <<<"$plan" || fail "the plan does not create $new_port: $plan"
grep -qE "^ *~ link $old_port:" <<<"$plan" && fail "the plan changes $old_port in place (a move): $plan"
expect_rc 0 "$NETDSL" apply "$out/hosts/node1/linux.yaml" --netns "$ns" >/dev/null

# The old VM's NIC went with its port; it reaches nobody, least of all blue.
if ip -n "$P-vm-old" link show "${old_port}g" >/dev/null 2>&1; then
  fail "old's guest end ${old_port}g still exists after its port was deleted"
fi
if ip netns exec "$P-vm-old" ping -c 1 -W 1 10.0.0.50 >/dev/null 2>&1; then
  fail "after the edit, old (red) reaches keep (blue)"
fi
echo "PASS: new got $new_port/$new_mac, old's $old_port/$old_mac was deleted, not moved"
