#!/bin/bash
# Runs a linux.batch with `sh -e` in a fresh network namespace of its own, with
# veth stand-ins for the adopted host NICs named on the command line, prints
# the resulting kernel state for FileCheck, and deletes the namespace.
set -euo pipefail
batch=$1
shift
ns="ndlit-linux-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
for nic in "$@"; do
  ip -n "$ns" link add "$nic" type veth peer name "${nic:0:9}-peer"
done
ip netns exec "$ns" sh -e "$batch"
echo "== links"
ip -n "$ns" -d -o link show
echo "== addresses"
ip -n "$ns" -o address show | grep -v ' inet6 fe80' || true
echo "== fdb"
ip netns exec "$ns" bridge fdb show | grep ' dst ' || true
echo "== neighbours"
ip -n "$ns" neigh show nud permanent
echo "== qdiscs"
ip netns exec "$ns" tc qdisc show | grep -E ' (tbf|htb) '
echo "== nftables"
ip netns exec "$ns" nft list ruleset
