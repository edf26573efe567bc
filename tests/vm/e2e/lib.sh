# Shared by the VM-only tests (tests/vm/e2e/*_test.sh): the e2e helpers, and
# `kernel_lacks` for a probe that fails: skipped on a kernel without the
# feature (this machine's), a failure in the VM, whose 6.1 kernel has it all.
source "$(dirname "${BASH_SOURCE[0]}")/../../e2e/lib.sh"

# kernel_lacks WHAT ERROR: the probe for WHAT failed with ERROR.
kernel_lacks() {
  [[ -z ${NETDSL_IN_VM:-} ]] || fail "the VM's kernel (${NETDSL_VM_KERNEL:-?}) lacks $1: $2"
  skip "the kernel has no $1 (run in the VM: vm.$(basename "$0" _test.sh))"
}

# require_fabric_tools TOOL...: skips unless each TOOL is there: `netdslc`
# ($NETDSLC built, and python3's yaml module for fabric_vms.py), `ping`
# (iputils), `arping` (busybox's).
require_fabric_tools() {
  local t
  for t in "$@"; do
    case $t in
      netdslc)
        [[ -x ${NETDSLC:-} ]] || skip "netdslc is not built"
        python3 -c 'import yaml' 2>/dev/null || skip "python3 yaml module is missing" ;;
      ping) command -v ping >/dev/null || skip "\`ping\` (iputils-ping) is not installed" ;;
      arping) command -v busybox >/dev/null || skip "busybox (arping) is not installed" ;;
      *) fail "require_fabric_tools: unknown tool $t" ;;
    esac
  done
}

# require_link WHAT NAME ARGS...: `ip link add NAME ARGS...` in the probe
# namespace $P-probe (made on first use); kernel_lacks WHAT if the kernel
# refuses it (skipped here, a failure in the VM).
require_link() {
  local what=$1 err
  shift
  [[ " ${NAMESPACES[*]} " == *" $P-probe "* ]] || mkns probe
  err=$(ip -n "$P-probe" link add "$@" 2>&1) || kernel_lacks "$what" "$err"
}

# fabric_build NAME: `netdslc build` of fabrics/NAME.netdsl (copied into the
# state directory) into $out; $vms = its VM NICs, one line each: host, port,
# guest end, MAC, CA, tenant bridge, tab-separated (tests/e2e/fabric_vms.py).
fabric_build() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  require_fabric_tools netdslc
  mkdir -p "$NETDSL_STATE_DIR/src"
  cp "$here/fabrics/$1.netdsl" "$NETDSL_STATE_DIR/src/fabric.netdsl"
  out=$NETDSL_STATE_DIR/out
  "$NETDSLC" build "$NETDSL_STATE_DIR/src/fabric.netdsl" -o "$out" >/dev/null || fail "netdslc build failed"
  vms=$(python3 "$here/../../e2e/fabric_vms.py" "$out") || fail "cannot read the VM NICs of the built fabric"
}

# underlay_switch [--no-ipv6] NIC HOST...: the underlay, a switch namespace
# $P-sw with bridge br0, and per HOST a namespace $P-HOST whose NIC (named
# NIC, up) is a veth to port<i> of br0 (i = 1, 2, ... in argument order).
# --no-ipv6: IPv6 off in the hosts (no router solicitations or MLD reports
# on the wire).
underlay_switch() {
  local no_ipv6=0 nic h i=0
  [[ $1 == --no-ipv6 ]] && { no_ipv6=1; shift; }
  nic=$1
  shift
  mkns sw
  ip -n "$P-sw" link add br0 type bridge
  ip -n "$P-sw" link set br0 up
  for h in "$@"; do
    i=$((i + 1))
    mkns "$h"
    ((no_ipv6)) && ip netns exec "$P-$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip link add "${P}u$i" netns "$P-$h" type veth peer name "port$i" netns "$P-sw"
    ip -n "$P-$h" link set "${P}u$i" name "$nic"
    ip -n "$P-$h" link set "$nic" up
    ip -n "$P-sw" link set "port$i" master br0 up
  done
}

# fabric_apply HOST...: applies each HOST's linux.yaml of $out into $P-HOST;
# a plan right after must be in sync.
fabric_apply() {
  local h o
  for h in "$@"; do
    o=$("$NETDSL" apply "$out/hosts/$h/linux.yaml" --netns "$P-$h" 2>&1) || fail "apply on $h failed: $o"
    expect_rc 0 "$NETDSL" plan "$out/hosts/$h/linux.yaml" --netns "$P-$h" >/dev/null
  done
}

# vm_attach [--no-ipv6] HOST GUEST VM CA/LEN: a namespace $P-VM for the VM,
# holding HOST's guest end GUEST as eth0 with CA/LEN, up.
vm_attach() {
  local no_ipv6=0
  [[ $1 == --no-ipv6 ]] && { no_ipv6=1; shift; }
  mkns "$3"
  ((no_ipv6)) && ip netns exec "$P-$3" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$P-$1" link set "$2" netns "$P-$3"
  ip -n "$P-$3" link set "$2" name eth0
  ip -n "$P-$3" addr add "$4" dev eth0
  ip -n "$P-$3" link set eth0 up
}
