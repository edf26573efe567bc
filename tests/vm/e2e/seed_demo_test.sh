#!/usr/bin/env bash
# The seed demo's Linux hosts on the 6.1 kernel (VM only: bonds). Each host's
# linux.yaml from `netdslc build examples/seed-demo` is applied into its own
# namespace, whose NICs (`Ethernet`; `inside`, `outside`) are veths to a
# switch namespace and are up, as on a real host. The team hosts enslave
# `Ethernet` to an active-backup bond: the bonding driver refuses a slave that
# is up ("Device can not be enslaved while up"), so apply must set it down
# around the enslaving and restore its admin state; a failure at any step of
# a team host's apply must leave the NIC exactly as it was (up, no master).
# Then: plan in sync, a second apply is a no-op, the bond carries the PA
# traffic between the team hosts.
source "$(dirname "$0")/lib.sh"
NETDSLC=${NETDSLC:-}
SRC=${NETDSL_SRCROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
require_fabric_tools netdslc
require_link bonding ndq-bond type bond

cp -r "$SRC/examples/seed-demo" "$NETDSL_STATE_DIR/src"
out=$NETDSL_STATE_DIR/out
"$NETDSLC" build "$NETDSL_STATE_DIR/src/fabric.netdsl" -o "$out" >/dev/null || fail "netdslc build failed"

# yaml_get HOST EXPR: a Python expression over the plan `p`.
yaml_get() { python3 -c 'import sys, yaml; p = yaml.safe_load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$out/hosts/$1/linux.yaml" "$2"; }

# Two physical networks: the gateway's `outside` NIC is on the external one
# (br1), every other NIC on the provider network (br0). (The seed gateway's
# no-team switch bridges both NICs: on one network that would be a loop.)
mkns sw
for br in br0 br1; do
  ip -n "$P-sw" link add "$br" type bridge
  ip -n "$P-sw" link set "$br" up
done
i=0
for h in host01 host02 gateway; do
  mkns "$h"
  for nic in $(yaml_get "$h" '" ".join(a["name"] for a in p.get("adopted") or [])'); do
    i=$((i + 1))
    ip link add "${P}u$i" netns "$P-$h" type veth peer name "port$i" netns "$P-sw"
    ip -n "$P-$h" link set "${P}u$i" name "$nic"
    ip -n "$P-$h" link set "$nic" up
    br=br0
    [[ $nic == outside ]] && br=br1
    ip -n "$P-sw" link set "port$i" master "$br" up
  done
done

# Every step of a team host's apply, failed on purpose: rolled back exactly.
ns=$P-host01
yaml=$out/hosts/host01/linux.yaml
[[ $(yaml_get host01 '[l["kind"] for l in p["links"]].count("bond")') -eq 1 ]] || fail "host01 has no bond in its plan"
before=$(dump "$ns")
n=$("$NETDSL" apply "$yaml" --netns "$ns" --dry-run | sed -nE 's/.* in ([0-9]+) steps?$/\1/p')
[[ -n $n ]] || fail "no step count"
for k in $(seq 1 "$n"); do
  err=$(NETDSL_FAULT_AT_STEP=$k "$NETDSL" apply "$yaml" --netns "$ns" 2>&1) && fail "apply with a fault at step $k succeeded"
  grep -q "error: step $k/$n (" <<<"$err" || fail "step $k did not fail as injected (a real failure first?): $err"
  after=$(dump "$ns")
  [[ "$before" == "$after" ]] || { diff <(echo "$before") <(echo "$after") || true; fail "state differs after a fault at step $k"; }
done
echo "host01: a failure at each of $n steps rolled back to the NIC up and unenslaved"

for h in host01 host02 gateway; do
  yaml=$out/hosts/$h/linux.yaml
  o=$("$NETDSL" apply "$yaml" --netns "$P-$h" 2>&1) || fail "apply on $h failed: $o"
  expect_rc 0 "$NETDSL" plan "$yaml" --netns "$P-$h"
  o=$("$NETDSL" apply "$yaml" --netns "$P-$h" --stats 2>&1) || fail "second apply on $h failed: $o"
  grep -q "stats: 0 mutating netlink requests" <<<"$o" || fail "second apply on $h was not a no-op: $o"
done
echo "every seed demo host applied, in sync, second apply a no-op"

for h in host01 host02; do
  bond=$(yaml_get "$h" '[l["name"] for l in p["links"] if l["kind"] == "bond"][0]')
  link=$(ip -n "$P-$h" -d link show Ethernet)
  grep -q "master $bond " <<<"$link" || fail "$h: Ethernet not enslaved to $bond: $link"
  grep -q "state UP" <<<"$link" || fail "$h: Ethernet not up after the apply: $link"
  grep -q "bond_slave state ACTIVE" <<<"$link" || fail "$h: Ethernet is not the active slave: $link"
done
pa2=$(yaml_get host02 '[a["address"] for a in p["addresses"] if a["dev"].startswith("nd-testlo")][0]')
ip netns exec "$P-host01" ping -c 1 -W 5 "${pa2%/*}" >/dev/null || fail "host01 cannot reach host02's PA ${pa2%/*} over the bonds"
echo "the bonds carry host01 -> host02 (${pa2%/*})"
echo "PASS"
