#!/usr/bin/env bash
# Mutation survivor: an nftables table with netdsl's name (`bridge netdsl`)
# that netdsl did not create (no "netdsl <fingerprint>" comment) is the
# operator's. plan and apply refuse (exit 1, naming the table) and the table
# and its rule stay as they are. (With the refusal dropped from the diff,
# apply replaced the operator's table and deleted their rule.)
source "$(dirname "$0")/../lib.sh"
mkns h
NS=$P-h
PLAN=$FIXTURES/basic.yaml
ip netns exec "$NS" nft add table bridge netdsl
ip netns exec "$NS" nft add chain bridge netdsl forward '{ type filter hook forward priority 0; policy accept; }'
ip netns exec "$NS" nft add rule bridge netdsl forward ether type arp counter comment '"operator rule"'
table_before=$(ip netns exec "$NS" nft list table bridge netdsl)
before=$(dump "$NS")
for cmd in plan apply; do
  rc=0
  out=$("$NETDSL" "$cmd" "$PLAN" --netns "$NS" 2>&1) || rc=$?
  [[ $rc -eq 1 ]] || fail "$cmd exited $rc with a foreign \`bridge netdsl\` table, expected 1: $out"
  grep -q "nftables table \`bridge netdsl\` exists but was not created by netdsl" <<<"$out" ||
    fail "$cmd does not name the foreign table: $out"
done
[[ $(ip netns exec "$NS" nft list table bridge netdsl) == "$table_before" ]] ||
  fail "the operator's table was changed: $(ip netns exec "$NS" nft list table bridge netdsl)"
[[ $(dump "$NS") == "$before" ]] || fail "the refused apply changed the host: $(diff <(echo "$before") <(dump "$NS"))"
echo "PASS: a foreign table with netdsl's name is refused and left alone"
