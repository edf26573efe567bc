#!/usr/bin/env bash
# Port guards as nftables sets cannot be bypassed through the set (issue 14):
# the guards hold per port, not per fabric. Two VMs on h1 and one on h2 in one
# VXLAN subnet (tests/lit/linux/Inputs/guard-sets.netdsl, every port guarded),
# applied with `netdsl apply`:
#  1. web1 reaches web2 from its own MAC and address;
#  2. web1 using web3's address (an element of ip4_allowed, but web3's port's)
#     is dropped, and so is web1 using web3's MAC (an element of mac_allowed);
#  3. a guarded port whose pair is missing from mac_allowed is dropped, not
#     accepted (fail closed), while the other port on the bridge still passes;
#     `netdsl plan` names the missing element and `apply` puts it back.
source "$(dirname "$0")/lib.sh"
NETDSLC=${NETDSLC:-}
SRC=${NETDSL_SRCROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
[[ -x $NETDSLC ]] || skip "netdslc is not built"
command -v ping >/dev/null || skip "\`ping\` (iputils-ping) is not installed"
command -v nft >/dev/null || skip "\`nft\` is not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3 yaml module is missing"

mkdir -p "$NETDSL_STATE_DIR/src"
cp "$SRC/tests/lit/linux/Inputs/guard-sets.netdsl" "$NETDSL_STATE_DIR/src/f.netdsl"
out=$NETDSL_STATE_DIR/out
"$NETDSLC" build "$NETDSL_STATE_DIR/src/f.netdsl" -o "$out" --target=linux >/dev/null || fail "netdslc build failed"

mkns sw
ip -n "$P-sw" link add br0 type bridge
ip -n "$P-sw" link set br0 up
i=0
for h in h1 h2; do
  i=$((i + 1))
  mkns "$h"
  ip link add "${P}u$i" netns "$P-$h" type veth peer name "port$i" netns "$P-sw"
  ip -n "$P-$h" link set "${P}u$i" name eth0
  ip -n "$P-sw" link set "port$i" master br0 up
  expect_rc 0 "$NETDSL" apply "$out/hosts/$h/linux.yaml" --netns "$P-$h" >/dev/null
done

# port MAC HOST: the host end of the port whose guest end has MAC.
port() {
  python3 - "$out/hosts/$2/linux.yaml" "$1" <<'PY'
import sys, yaml
plan = yaml.safe_load(open(sys.argv[1]))
print([l["name"] for l in plan["links"] if l.get("kind") == "veth" and l["veth"]["peer_mac"] == sys.argv[2]][0])
PY
}
declare -A host_of=([web1]=h1 [web3]=h1 [web2]=h2) mac_of=([web1]=02:00:00:00:01:01 [web3]=02:00:00:00:01:03 [web2]=02:00:00:00:01:02) ca_of=([web1]=10.1.0.11 [web3]=10.1.0.13 [web2]=10.1.0.12)
declare -A port_of
for vm in web1 web3 web2; do
  port_of[$vm]=$(port "${mac_of[$vm]}" "${host_of[$vm]}") || fail "no port for $vm"
  mkns "$vm"
  ip -n "$P-${host_of[$vm]}" link set "${port_of[$vm]}g" netns "$P-$vm"
  ip -n "$P-$vm" address add "${ca_of[$vm]}/24" dev "${port_of[$vm]}g"
  ip -n "$P-$vm" link set "${port_of[$vm]}g" up
done

# reach VM ADDRESS [SOURCE]: one ping answered (three tries: bridges settle).
reach() {
  local n
  for n in 1 2 3; do
    ip netns exec "$P-$1" ping -c 1 -W 2 ${3:+-I "$3"} "$2" >/dev/null 2>&1 && return 0
  done
  return 1
}
# unreachable VM ADDRESS [SOURCE]: no ping answered.
unreachable() {
  ! ip netns exec "$P-$1" ping -c 2 -W 1 ${3:+-I "$3"} "$2" >/dev/null 2>&1
}
forget() { ip -n "$P-$1" neigh flush all 2>/dev/null || true; }

# 1. Each VM from its own MAC and address.
reach web1 "${ca_of[web2]}" || fail "web1 cannot reach web2 from its own address"
reach web3 "${ca_of[web2]}" || fail "web3 cannot reach web2 from its own address"

# 2. Another port's allowed source is not this port's.
ip -n "$P-web1" address add "${ca_of[web3]}/32" dev "${port_of[web1]}g"
forget web1; forget web2
unreachable web1 "${ca_of[web2]}" "${ca_of[web3]}" || fail "web1 reached web2 with web3's address: the ip guard let another port's pair through"
ip -n "$P-web1" address del "${ca_of[web3]}/32" dev "${port_of[web1]}g"
ip -n "$P-web1" link set "${port_of[web1]}g" address "${mac_of[web3]}"
forget web1; forget web2
unreachable web1 "${ca_of[web2]}" || fail "web1 reached web2 with web3's MAC: the mac spoofing guard let another port's pair through"
ip -n "$P-web1" link set "${port_of[web1]}g" address "${mac_of[web1]}"
forget web1; forget web2
reach web1 "${ca_of[web2]}" || fail "web1 cannot reach web2 once its own MAC is back"

# 3. Fail closed: web1's pair gone from mac_allowed (web1 still in mac_guarded).
ip netns exec "$P-h1" nft delete element bridge netdsl mac_allowed "{ \"${port_of[web1]}\" . ${mac_of[web1]} }" ||
  fail "cannot delete web1's element"
forget web1; forget web2
unreachable web1 "${ca_of[web2]}" || fail "web1's port, guarded but missing from mac_allowed, was accepted"
reach web3 "${ca_of[web2]}" || fail "web3 lost its reach when web1's element went"
plan=$("$NETDSL" plan "$out/hosts/h1/linux.yaml" --netns "$P-h1" 2>&1) && fail "plan found no drift: $plan"
grep -qF "+ nft element netdsl/mac_allowed: ${port_of[web1]} . ${mac_of[web1]}" <<<"$plan" ||
  fail "plan does not name the missing element: $plan"
expect_rc 0 "$NETDSL" apply "$out/hosts/h1/linux.yaml" --netns "$P-h1" >/dev/null
forget web1; forget web2
reach web1 "${ca_of[web2]}" || fail "web1 cannot reach web2 after apply repaired the set"
echo "PASS: guards hold per port through the sets; a missing element fails closed"
