# A fleet of namespaced hosts that Ansible reaches over real SSH, for the
# rollout tests and benchmarks (tests/fleet, bench/fleet). Root only.
#
# Each host NAME is a network namespace $P-NAME with `eth0` (a veth into the
# underlay switch namespace, bridge br0) and `mgmt0` (a veth into the
# controller namespace's bridge `mgmt`, 198.18.0.0/16, RFC 2544's benchmark
# range, which exists only inside these namespaces). In the host namespace
# runs an sshd listening on its mgmt0 address only, in a mount namespace of
# its own where /run/netdsl is a fresh tmpfs (the host's own state) and
# /usr/local/sbin is the scratch root's /usr/sbin (the netdsl binary the
# .deb installed, first on root's PATH). The controller (ansible-playbook)
# runs in the controller namespace. Everything is removed by the EXIT trap.
set -euo pipefail

FLEET_SRC=${NETDSL_SRCROOT:?set NETDSL_SRCROOT}
FLEET_BUILD=${NETDSL_BUILD:?set NETDSL_BUILD}

# Namespaces (mkns NAME = $P-NAME, lo up, DAD off, removed on exit), skip and
# the root check come from the e2e helpers. Their NETDSL is this build's
# runtime (the hosts run the one their .deb installed); their state directory
# is not exported, so that nothing the hosts' sshd starts could inherit it.
NETDSL=${NETDSL:-$FLEET_BUILD/bin/netdsl}
source "$FLEET_SRC/tests/e2e/lib.sh"
export -n NETDSL_STATE_DIR

FLEET_HOSTS=()
fail() {
  echo "FAIL: $*" >&2
  # What each host's netdsl said about its last change (status, watchdog log).
  local h
  for h in "${FLEET_HOSTS[@]}"; do
    echo "--- $h: netdsl status; watchdog logs" >&2
    on_host "$h" sh -c 'netdsl status; tail -n 20 /run/netdsl/*.watchdog.log' >&2 2>&1 || true
  done
  exit 1
}

for tool in sshd ssh ssh-keygen ansible-playbook cpack dpkg unshare python3; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || fail "\`$tool\` is missing (./bootstrap.sh installs it)"
done

P="ndf$$"
WORK=$(mktemp -d /tmp/netdsl-fleet.XXXXXX)
# ansible-core needs a UTF-8 locale: pin one rather than rely on the shell's.
export LC_ALL=C.UTF-8

fleet_cleanup() {
  local ns pid
  # sshd, the sessions and any confirm watchdog live in the namespaces: they
  # go first, then the namespaces (the e2e cleanup) and the scratch tree.
  for ns in "${NAMESPACES[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  done
  cleanup
  rm -rf "$WORK"
}
trap fleet_cleanup EXIT

# fleet_install_debs: the packages packaging.debs built and checked
# (NETDSL_DEBS, under CTest), or else built here with CPack from this build
# tree; installs them with dpkg into the scratch root $WORK/root.
fleet_install_debs() {
  local debs=${NETDSL_DEBS:-}
  if [[ -z $debs ]] || ! compgen -G "$debs/netdsl_*.deb" >/dev/null; then
    debs=$WORK/debs
    cpack --config "$FLEET_BUILD/CPackConfig.cmake" -B "$debs" >"$WORK/cpack.log" 2>&1 ||
      { cat "$WORK/cpack.log"; fail "cpack failed"; }
  fi
  ROOT=$WORK/root
  mkdir -p "$ROOT/var/lib/dpkg/updates" "$ROOT/var/lib/dpkg/info"
  touch "$ROOT/var/lib/dpkg/status"
  dpkg --root="$ROOT" --force-depends --force-not-root --force-script-chrootless --path-include="/usr/share/*" -i "$debs"/*.deb \
    >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; fail "dpkg -i into the scratch root failed"; }
  NETDSLC=$ROOT/usr/bin/netdslc
  [[ -x $ROOT/usr/sbin/netdsl && -x $NETDSLC ]] || fail "the packages did not install netdsl and netdslc"
  COLLECTIONS=$ROOT/usr/share/ansible/collections
  [[ -d $COLLECTIONS/ansible_collections/netdsl/fabric ]] || fail "netdsl-ansible did not install the collection"
}

# fleet_setup NAME...: the controller, the underlay switch and one host per NAME.
fleet_setup() {
  mkdir -p "$WORK/ssh" /run/sshd /run/netdsl
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/id" </dev/null
  cp "$WORK/ssh/id.pub" "$WORK/ssh/authorized_keys"
  : >"$WORK/ssh/known_hosts"
  mkns ctl
  ip -n "$P-ctl" link add mgmt type bridge
  ip -n "$P-ctl" addr add 198.18.0.1/16 dev mgmt
  ip -n "$P-ctl" link set mgmt up
  mkns sw
  ip -n "$P-sw" link add br0 type bridge
  ip -n "$P-sw" link set br0 up
  local i=0 h
  for h in "$@"; do
    i=$((i + 1))
    fleet_add_host "$h" "$i"
  done
  fleet_wait_sshd
}

fleet_add_host() {
  local h=$1 i=$2 ns=$P-$1 addr
  addr=198.18.$((i / 250)).$((i % 250 + 2))
  mkns "$h"
  FLEET_HOSTS+=("$h")
  ip link add "${P}u$i" netns "$ns" type veth peer name "u$i" netns "$P-sw"
  ip -n "$ns" link set "${P}u$i" name eth0
  ip -n "$P-sw" link set "u$i" master br0 up
  ip link add "${P}m$i" netns "$ns" type veth peer name "m$i" netns "$P-ctl"
  ip -n "$ns" link set "${P}m$i" name mgmt0
  ip -n "$ns" addr add "$addr/16" dev mgmt0
  ip -n "$ns" link set mgmt0 up
  ip -n "$P-ctl" link set "m$i" master mgmt up
  local d=$WORK/hosts/$h
  mkdir -p "$d/tmp" "$d/netdsl"
  ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" </dev/null
  echo "$addr $(cut -d' ' -f1-2 "$d/host_key.pub")" >>"$WORK/ssh/known_hosts"
  cat >"$d/sshd_config" <<CFG
ListenAddress $addr:22
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $WORK/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
MaxStartups 100:30:200
MaxSessions 50
CFG
  # The host's own /run/netdsl, and the packaged netdsl first on PATH.
  ip netns exec "$ns" unshare --mount --propagation slave -- sh -c "
    mount -t tmpfs -o mode=0755 netdsl-run /run/netdsl &&
    mount --bind '$ROOT/usr/sbin' /usr/local/sbin &&
    exec /usr/sbin/sshd -D -e -f '$d/sshd_config'" >"$d/sshd.log" 2>&1 &
  echo "$h ansible_host=$addr" >>"$WORK/addresses"
  mkdir -p "$WORK/inventory/host_vars"
  cat >"$WORK/inventory/host_vars/$h.yml" <<VARS
ansible_host: $addr
ansible_remote_tmp: $d/tmp
netdsl_dest: $d/netdsl
VARS
}

fleet_wait_sshd() {
  local h i=0 addr
  for h in "${FLEET_HOSTS[@]}"; do
    i=$((i + 1))
    addr=198.18.$((i / 250)).$((i % 250 + 2))
    for _ in $(seq 1 100); do
      ip netns exec "$P-ctl" bash -c "exec 3<>/dev/tcp/$addr/22" 2>/dev/null && break
      sleep 0.1
    done
    ip netns exec "$P-ctl" bash -c "exec 3<>/dev/tcp/$addr/22" 2>/dev/null ||
      fail "sshd of $h does not listen: $(cat "$WORK/hosts/$h/sshd.log")"
  done
}

# fleet_inventory MANIFEST: the inventory (netdsl.fabric.netdsl) and the
# controller's settings.
fleet_inventory() {
  mkdir -p "$WORK/inventory/group_vars"
  cat >"$WORK/inventory/fleet.netdsl.yml" <<INV
plugin: netdsl.fabric.netdsl
manifest: $1
INV
  cat >"$WORK/inventory/group_vars/all.yml" <<VARS
ansible_user: root
ansible_python_interpreter: /usr/bin/python3
ansible_ssh_private_key_file: $WORK/ssh/id
ansible_ssh_common_args: -o UserKnownHostsFile=$WORK/ssh/known_hosts -o StrictHostKeyChecking=yes -o ControlPath=$WORK/ssh/cm-%C
netdsl_probes: [198.18.0.1]
VARS
  mkdir -p "$WORK/ansible-home"
  cat >"$WORK/ansible.cfg" <<CFG
[defaults]
collections_path = $COLLECTIONS
callbacks_enabled = netdsl.fabric.rollout_report
home = $WORK/ansible-home
local_tmp = $WORK/ansible-home/tmp
retry_files_enabled = False
forks = ${FLEET_FORKS:-10}
timeout = 30
[ssh_connection]
pipelining = True
CFG
}

# playbook ARGS...: ansible-playbook netdsl.fabric.rollout in the controller namespace.
playbook() {
  ip netns exec "$P-ctl" env ANSIBLE_CONFIG="$WORK/ansible.cfg" NETDSL_REPORT="$WORK/report.json" \
    ansible-playbook -i "$WORK/inventory/fleet.netdsl.yml" netdsl.fabric.rollout "$@"
}

# on_host NAME CMD...: runs CMD in host NAME's namespaces (its /run/netdsl).
on_host() {
  local h=$1 pid
  shift
  pid=$(cat "$WORK/hosts/$h/sshd.pid")
  nsenter -t "$pid" -n -m -- "$@"
}

# report_line HOST: the host's entry of the last report.
report() {
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); [print(h["host"], h["generation"], h["outcome"]) for h in r["hosts"]]' \
    "$WORK/report.json"
}
