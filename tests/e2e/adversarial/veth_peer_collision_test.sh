#!/usr/bin/env bash
# Defect 5: a veth whose peer name is taken by a foreign link. The plan wants
# nd-p1 with guest end nd-p1g; the operator already has a veth pair
# nd-p1g <-> op-x (no marker, an address on nd-p1g). netdsl must refuse
# before creating anything: it must never put its marker on the foreign
# nd-p1g (which made a later apply delete the operator's pair), and a later
# apply must leave the pair and its address alone.
source "$(dirname "$0")/../lib.sh"
mkns h
NS=$P-h
PLAN=$FIXTURES/basic.yaml
ip -n "$NS" link add nd-p1g type veth peer name op-x
ip -n "$NS" addr add 10.99.0.1/24 dev nd-p1g
ip -n "$NS" link set nd-p1g alias "operator"
foreign() {
  ip -n "$NS" -o link show nd-p1g >/dev/null 2>&1 || fail "the foreign nd-p1g was deleted ($1)"
  ip -n "$NS" -o link show op-x >/dev/null 2>&1 || fail "the foreign op-x was deleted ($1)"
  [[ $(ip -n "$NS" -d link show nd-p1g | sed -n 's/^ *alias //p') == operator ]] ||
    fail "the foreign nd-p1g's alias was changed ($1): $(ip -n "$NS" -d link show nd-p1g)"
  ip -n "$NS" -o addr show dev nd-p1g | grep -q 10.99.0.1/24 || fail "the foreign nd-p1g lost its address ($1)"
}

# plan: the collision is a conflict (exit 1), named.
rc=0
out=$("$NETDSL" plan "$PLAN" --netns "$NS" 2>&1) || rc=$?
[[ $rc -eq 1 ]] || fail "plan exited $rc on a taken peer name, expected 1: $out"
grep -q "peer .nd-p1g. .*not owned" <<<"$out" || fail "plan does not name the taken peer: $out"
before=$(dump "$NS")
# apply: refused, nothing changed.
out=$("$NETDSL" apply "$PLAN" --netns "$NS" 2>&1) && fail "apply accepted a taken peer name: $out"
foreign "first apply"
grep -q "peer .nd-p1g. .*not owned" <<<"$out" || fail "apply does not name the taken peer: $out"
[[ $(dump "$NS") == "$before" ]] || fail "the refused apply changed the host: $(diff <(echo "$before") <(dump "$NS"))"

# A plan without that veth applies; the foreign pair stays as it was, twice.
sed '/name: nd-p1$/,/veth: {peer/d; /dev: nd-p1,/d; /iifname "nd-p1"/d' "$PLAN" >"$NETDSL_STATE_DIR/no-veth.yaml"
out=$("$NETDSL" apply "$NETDSL_STATE_DIR/no-veth.yaml" --netns "$NS" 2>&1) || fail "apply without the veth failed: $out"
foreign "apply without the veth"
out=$("$NETDSL" apply "$NETDSL_STATE_DIR/no-veth.yaml" --netns "$NS" 2>&1) || fail "second apply failed: $out"
foreign "second apply"

echo "PASS: a taken veth peer name is refused, and the foreign pair is never marked or deleted"
