# Shared helpers for netdsl's end-to-end tests: real kernel, network namespaces
# created by the test itself (and removed by its EXIT trap), root only.
# Exit code 77 = skipped (CTest SKIP_RETURN_CODE).
set -euo pipefail

NETDSL=${NETDSL:?set NETDSL to the netdsl binary}
FIXTURES=${FIXTURES:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fixtures}

skip() {
  echo "SKIP: $*"
  exit 77
}

[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "iproute2 \`ip\` is not installed"
ip netns list >/dev/null 2>&1 || skip "\`ip netns\` is unavailable"

# Unique per run so that tests can run in parallel.
P="nde$$"
NAMESPACES=()
NETDSL_STATE_DIR=$(mktemp -d)
export NETDSL_STATE_DIR
export NO_COLOR=1

cleanup() {
  local ns
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$NETDSL_STATE_DIR"
}
trap cleanup EXIT

# Time windows a test chooses (confirm deadlines, how long to wait for a
# watchdog) are `scaled N`: N times NETDSL_TEST_TIME_SCALE (default 1 on this
# machine, 4 in the VM: tests/vm/vm-run sets NETDSL_IN_VM, and processes there
# start 10-40x slower, so that a 2 s window closed before the next command ran).
TIME_SCALE=${NETDSL_TEST_TIME_SCALE:-1}
[[ -n ${NETDSL_IN_VM:-} && -z ${NETDSL_TEST_TIME_SCALE:-} ]] && TIME_SCALE=4
[[ $TIME_SCALE =~ ^[1-9][0-9]*$ ]] || { echo "NETDSL_TEST_TIME_SCALE=$TIME_SCALE: a positive integer expected" >&2; exit 1; }
scaled() { echo $(($1 * TIME_SCALE)); }

# mkns NAME: creates namespace $P-NAME (recorded for cleanup) with lo up.
mkns() {
  ip netns add "$P-$1"
  NAMESPACES+=("$P-$1")
  ip -n "$P-$1" link set lo up
  # No duplicate address detection: link-local addresses settle at once, so
  # dumps taken right after an apply are stable.
  ip netns exec "$P-$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# state_key NS: the name of NS's lock and journal in $NETDSL_STATE_DIR
# (`net-DEV-INO` of its nsfs inode: the same for `--netns NS` and `ip netns exec NS`).
state_key() {
  stat -L -c 'net-%d-%i' "/run/netns/$1"
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_rc WANT CMD...: runs CMD, fails unless its exit code is WANT.
expect_rc() {
  local want=$1
  shift
  local rc=0
  "$@" || rc=$?
  [[ $rc -eq $want ]] || fail "\`$*\` exited $rc, expected $want"
}

# expect_drift_repaired PLAN NS WANT...: after drift made by hand in NS,
# `plan` exits 2 and its output contains each WANT (a fixed string, e.g.
# "~ link nd-g1: isolated"), `apply` repairs it, and the next plan is in sync.
expect_drift_repaired() {
  local plan=$1 ns=$2 out want rc=0
  shift 2
  out=$("$NETDSL" plan "$plan" --netns "$ns") || rc=$?
  [[ $rc -eq 2 ]] || fail "plan after drift exited $rc, expected 2: $out"
  for want in "$@"; do
    grep -qF -- "$want" <<<"$out" || fail "plan does not name the drift \`$want\`: $out"
  done
  expect_rc 0 "$NETDSL" apply "$plan" --netns "$ns" >/dev/null
  expect_rc 0 "$NETDSL" plan "$plan" --netns "$ns" >/dev/null
}

# expect_rollback_at_every_step PLAN NS STATE_CMD...: for every step k of
# applying PLAN in NS, an apply with a fault injected at step k
# (NETDSL_FAULT_AT_STEP, test-only) fails and leaves the output of STATE_CMD
# exactly as it was; then PLAN applies and the next plan is in sync.
expect_rollback_at_every_step() {
  local plan=$1 ns=$2 before n k
  shift 2
  before=$("$@")
  n=$("$NETDSL" apply "$plan" --netns "$ns" --dry-run | sed -nE 's/.* in ([0-9]+) steps?$/\1/p')
  [[ -n $n ]] || fail "no step count from the dry run of $plan"
  for k in $(seq 1 "$n"); do
    NETDSL_FAULT_AT_STEP=$k "$NETDSL" apply "$plan" --netns "$ns" >/dev/null 2>&1 &&
      fail "apply of $plan with a fault at step $k succeeded"
    [[ "$before" == "$("$@")" ]] || { diff <(echo "$before") <("$@") || true; fail "state differs after a fault at step $k of $plan"; }
  done
  expect_rc 0 "$NETDSL" apply "$plan" --netns "$ns" >/dev/null
  expect_rc 0 "$NETDSL" plan "$plan" --netns "$ns" >/dev/null
}

# dump NS: the namespace's canonical state (links, addresses, routes of all
# tables, permanent neighbours, static fdb, qdiscs, nft ruleset), normalized:
# no ifindexes, bridge port numbers, timers, carrier state, or IPv6 link-local
# autoconfiguration (fe80::/64, ff00::/8 and 33:33 multicast fdb entries, which the
# kernel derives from a MAC and carrier: a bridge recreated on rollback keeps
# its MAC and so has no carrier without ports, unlike a fresh one).
dump() {
  local ns=$1
  # One awk for every section's normalization and one sort for all of them
  # (each line keyed by its section; nft's lines keep their order): 12
  # processes instead of 24, which halves a dump's cost in the VM, where a
  # process start costs ~75 ms (docs/vm-harness.md, "Budget").
  {
    echo "=1"; ip -n "$ns" -d -o link show
    echo "=2"; ip -n "$ns" -o addr show
    # `linkdown` is carrier, which settles asynchronously; not configuration.
    echo "=3"; ip -n "$ns" route show table all
    echo "=4"; ip -n "$ns" -6 route show table all
    echo "=5"; ip -n "$ns" neigh show nud permanent
    # Static entries; the bridges' local entries for their ports' MACs are
    # derived from the links above.
    echo "=6"; bridge -n "$ns" fdb show
    echo "=7"; tc -n "$ns" qdisc show
    echo "=8"; ip netns exec "$ns" nft list ruleset
  } 2>&1 | awk '
    # iproute2 says this, besides the link line itself, for a veth whose peer
    # sits in a namespace the kernel is still destroying (asynchronously, after
    # `ip netns del` of an earlier step returned): not state (vm.e2e.nat_veth
    # once failed on it at load, fcfa6c2).
    /^Error: Peer netns reference is invalid\.$/ { next }
    /^=[1-8]$/ {
      s = substr($0, 2); n = 0
      h = s == 1 ? "link" : s == 2 ? "addr" : s == 3 ? "route" : s == 5 ? "neigh" : s == 6 ? "fdb" : s == 7 ? "qdisc" : s == 8 ? "nft" : ""
      if (h != "") print s " 0 == " h
      next
    }
    s == 1 {
      sub(/^[0-9]+: /, ""); sub(/@if[0-9]+/, ""); sub(/ link-netnsid [0-9]+/, "")
      gsub(/ (hello|tcn|topology_change|gc|hold|message_age|forward_delay)_timer +[0-9.]+/, "")
      gsub(/ (port_id|port_no|designated_port) 0x[0-9a-f]+| designated_port [0-9]+/, "")
      gsub(/ (bridge_id|designated_root|designated_bridge) [0-9a-f.:]+/, "")
      sub(/ state (forwarding|learning|listening|blocking|disabled) /, " ")
      sub(/ (UP|DOWN|UNKNOWN|LOWERLAYERDOWN) mode /, " mode "); gsub(/,LOWER_UP|,M-DOWN|NO-CARRIER,/, "")
    }
    s == 2 { sub(/^[0-9]+: /, ""); sub(/ valid_lft.*/, ""); if (/ fe80::/) next }
    s == 3 || s == 4 { sub(/ linkdown/, ""); if (/fe80::|ff00::\/8/) next }
    s == 6 && !/ dst |static/ { next }
    s == 7 { sub(/ refcnt [0-9]+/, "") }
    s == 8 { printf "%s 1 %08d %s\n", s, ++n, $0; next }
    { print s " 1 " $0 }' | LC_ALL=C sort | awk '{ print substr($0, /^8 1 / ? 14 : 5) }'
}
