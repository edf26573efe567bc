#!/usr/bin/env bash
# Rollout benchmark (issue 14): N namespaced hosts, each with its own sshd,
# rolled out with `ansible-playbook netdsl.fabric.rollout` over real SSH from a
# controller namespace (tests/fleet/lib.sh sets the fleet up, root only).
#
#   sudo bench/fleet/rollout.sh [N=100] [FORKS=20]
#
# The fabric is bench/gen_fabric.py with N hosts, N/10 tenants and 10 VM
# NICs per host, built by the packaged netdslc. Reports the rollout's wall
# time (canary, 10 %, the rest), netdsl's own apply time per host (measured
# by netdsl_apply around `netdsl apply` on the host), and Ansible's share:
# the fraction of the workers' time (wall x forks) not spent in netdsl apply.
# Then a second run (nothing to do: plan only) and a --check --diff run.
set -euo pipefail
N=${1:-100}
export FLEET_FORKS=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
export NETDSL_SRCROOT=${NETDSL_SRCROOT:-$(cd "$here/../.." && pwd)}
export NETDSL_BUILD=${NETDSL_BUILD:-$NETDSL_SRCROOT/build}
source "$NETDSL_SRCROOT/tests/fleet/lib.sh"

fleet_install_debs
python3 "$NETDSL_SRCROOT/bench/gen_fabric.py" --hosts "$N" --tenants $(((N + 9) / 10)) --subnets 1 \
  --nics $((N * 10)) -o "$WORK/fabric.netdsl" >/dev/null
"$NETDSLC" build "$WORK/fabric.netdsl" -o "$WORK/out" --target=linux,tables >/dev/null
mapfile -t hosts < <(python3 -c 'import json,sys; [print(h["name"]) for h in json.load(open(sys.argv[1]))["hosts"]]' "$WORK/out/manifest.json")
t0=$SECONDS
fleet_setup "${hosts[@]}"
echo "fleet: ${#hosts[@]} hosts with sshd up in $((SECONDS - t0)) s; forks $FLEET_FORKS"
fleet_inventory "$WORK/out/manifest.json"

timed() {  # label, playbook args...
  local label=$1 start end
  shift
  start=$(date +%s.%N)
  playbook "$@" >"$WORK/$label.log" 2>&1 || { tail -50 "$WORK/$label.log"; fail "$label failed"; }
  end=$(date +%s.%N)
  python3 - "$WORK/report.json" "$label" "$start" "$end" "$FLEET_FORKS" <<'PY'
import json, statistics, sys
report, label, start, end, forks = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
hosts = json.load(open(report))['hosts']
wall = end - start
applies = [h['apply_seconds'] for h in hosts if h.get('apply_seconds') is not None]
outcomes = {}
for h in hosts:
    outcomes[h['outcome']] = outcomes.get(h['outcome'], 0) + 1
line = '%-22s wall %7.1f s for %d hosts (%.2f s/host)' % (label, wall, len(hosts), wall / len(hosts))
if applies:
    line += '; netdsl apply per host: mean %.2f s, max %.2f s, sum %.1f s; Ansible share of worker time %.0f %%' % (
        statistics.mean(applies), max(applies), sum(applies), 100 * (1 - sum(applies) / (wall * forks)))
print(line + '; ' + ', '.join('%s: %d' % kv for kv in sorted(outcomes.items())))
PY
}
timed rollout -e '{"netdsl_serial": [1, "10%", "100%"]}'
timed second-run -e '{"netdsl_serial": [1, "10%", "100%"]}'
timed check-diff --check --diff
