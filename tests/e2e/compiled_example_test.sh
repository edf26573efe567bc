#!/usr/bin/env bash
# The whole pipeline: `netdslc build` compiles examples/two-tenants-vxlan (3
# hosts with one NIC `eth0` each, two VXLAN tenants with overlapping customer
# address spaces); each host's linux.yaml is applied into its own namespace
# (hosts joined by a veth underlay through a switch namespace), VMs are
# namespaces on the veth guest ends. VMs reach their own tenant across hosts,
# never the other one; a second apply is a no-op.
source "$(dirname "$0")/lib.sh"
NETDSLC=${NETDSLC:-}
SRC=${NETDSL_SRCROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
example=$SRC/examples/two-tenants-vxlan/fabric.netdsl
[[ -x $NETDSLC ]] || skip "netdslc is not built"
[[ -f $example ]] || skip "examples/two-tenants-vxlan is not there yet"
command -v ping >/dev/null || skip "\`ping\` (iputils-ping) is not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3 yaml module is missing"

# Build a copy: netdslc writes fabric.lock beside the root file.
cp -r "$(dirname "$example")" "$NETDSL_STATE_DIR/src"
out=$NETDSL_STATE_DIR/out
"$NETDSLC" build "$NETDSL_STATE_DIR/src/fabric.netdsl" -o "$out" >/dev/null || fail "netdslc build failed"
mapfile -t hosts < <(cd "$out/hosts" && ls)
((${#hosts[@]} == 3)) || fail "expected 3 hosts, got ${hosts[*]}"
vms=$(python3 "$(dirname "$0")/fabric_vms.py" "$out") || fail "cannot read the VM NICs of the built fabric"

mkns sw
ip -n "$P-sw" link add br0 type bridge
ip -n "$P-sw" link set br0 up
i=0
for h in "${hosts[@]}"; do
  i=$((i + 1))
  mkns "$h"
  ip link add "${P}u$i" netns "$P-$h" type veth peer name "port$i" netns "$P-sw"
  ip -n "$P-$h" link set "${P}u$i" name eth0
  ip -n "$P-sw" link set "port$i" master br0 up
  yaml=$out/hosts/$h/linux.yaml
  expect_rc 0 "$NETDSL" apply "$yaml" --netns "$P-$h" >/dev/null
done

declare -A tenant_of ca_of ns_of mac_of
while IFS=$'\t' read -r host port guest mac ca tenant; do
  vm="vm-$host-$port"
  mkns "$vm"
  ip -n "$P-$host" link set "$guest" netns "$P-$vm"
  ip -n "$P-$vm" addr add "$ca/24" dev "$guest"
  ip -n "$P-$vm" link set "$guest" up
  tenant_of[$vm]=$tenant
  ca_of[$vm]=$ca
  mac_of[$vm]=$mac
done <<<"$vms"

for h in "${hosts[@]}"; do
  out_apply=$("$NETDSL" apply "$out/hosts/$h/linux.yaml" --netns "$P-$h" --stats 2>&1) || fail "second apply on $h failed: $out_apply"
  grep -q "stats: 0 mutating netlink requests" <<<"$out_apply" || fail "second apply on $h changed something: $out_apply"
done

pairs=0
for a in "${!tenant_of[@]}"; do
  for b in "${!tenant_of[@]}"; do
    [[ $a == "$b" ]] && continue
    if [[ ${tenant_of[$a]} == "${tenant_of[$b]}" ]]; then
      ip netns exec "$P-$a" ping -c 1 -W 2 "${ca_of[$b]}" >/dev/null || fail "$a cannot reach $b (${ca_of[$b]})"
      got=$(ip -n "$P-$a" neigh show "${ca_of[$b]}" | awk '{for (k = 1; k < NF; k++) if ($k == "lladdr") print $(k + 1)}')
      [[ $got == "${mac_of[$b]}" ]] || fail "$a resolved ${ca_of[$b]} to $got, not $b's ${mac_of[$b]}"
      pairs=$((pairs + 1))
    fi
  done
done
((pairs > 0)) || fail "no VM pairs share a tenant"
echo "$pairs same-tenant pairs reach each other"

# Isolation: an address only the other tenant has is unreachable.
for a in "${!tenant_of[@]}"; do
  for b in "${!tenant_of[@]}"; do
    [[ ${tenant_of[$a]} == "${tenant_of[$b]}" ]] && continue
    taken=0
    for c in "${!tenant_of[@]}"; do
      [[ ${tenant_of[$c]} == "${tenant_of[$a]}" && ${ca_of[$c]} == "${ca_of[$b]}" ]] && taken=1
    done
    if ((taken == 0)); then
      if ip netns exec "$P-$a" ping -c 1 -W 1 "${ca_of[$b]}" >/dev/null 2>&1; then
        fail "$a (${tenant_of[$a]}) reached $b (${tenant_of[$b]}) at ${ca_of[$b]}"
      fi
    fi
  done
done
echo "no VM reaches the other tenant"
echo "PASS"
