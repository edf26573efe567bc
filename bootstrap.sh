#!/usr/bin/env bash
# Sets up a Debian 12 machine for netdsl, builds it, and runs one job:
#   ./bootstrap.sh demo   — check and build examples/seed-demo into out/seed-demo
#   ./bootstrap.sh test   — run every test (CTest: doctest units, lit, e2e, fuzzers)
#   ./bootstrap.sh build  — only install dependencies and build
#   ./bootstrap.sh locks  — refresh every example's committed lock (examples/*/fabric.lock)
set -euo pipefail
cd "$(dirname "$0")"
job=${1:-build}
BUILD=${NETDSL_BUILD_DIR:-build}

debs=(cmake ninja-build g++ python3 python3-yaml git iproute2 nftables iputils-ping
      antlr4 libantlr4-runtime-dev llvm-15-dev llvm-15-tools
      libfmt-dev libyaml-cpp-dev doctest-dev libmnl-dev libnl-route-3-dev libnftables-dev
      clang libclang-rt-14-dev graphviz nodejs
      ansible-core openssh-server lintian man-db dpkg-dev file   # this line: packages, man pages, the fleet rollout (tests/packaging, tests/fleet)
      qemu-system-x86 busybox-static kmod cpio xz-utils procps)   # this line: the VM harness (tests/vm)
missing=()
for d in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'install ok installed' || missing+=("$d")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Install services without starting them (openssh-server would listen on
  # every address): the fleet tests start their own sshd inside namespaces.
  policy_rc=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    policy_rc=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy_rc" && chmod 755 "$policy_rc"
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [[ -z $policy_rc ]] || rm -f "$policy_rc"
fi

# ccache, when a developer has it, shares objects between checkouts (CI has none).
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNETDSL_FUZZ=ON "${launcher[@]}" >/dev/null
cmake --build "$BUILD" -j "$(nproc)"

# pscheck's node modules (tree-sitter PowerShell grammar) live in the build tree.
if [[ -d ../shared/tools/pscheck && ! -d "$BUILD/pscheck/node_modules" ]]; then
  mkdir -p "$BUILD/pscheck"
  cp ../shared/tools/pscheck/package.json "$BUILD/pscheck/"
  (cd "$BUILD/pscheck" && npm install --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "bootstrap: npm install for pscheck failed; the PowerShell checks (fixture `pscheck`) will fail until it works" >&2
fi

case "$job" in
  demo)
    "$BUILD/bin/netdslc" check examples/seed-demo/fabric.netdsl
    "$BUILD/bin/netdslc" build examples/seed-demo/fabric.netdsl -o out/seed-demo
    echo "bootstrap: artifacts in out/seed-demo:" >&2
    (cd out/seed-demo && find . -type f | sort)
    ;;
  test)
    ctest --test-dir "$BUILD" --output-on-failure -j "$(nproc)"
    ;;
  build) ;;
  locks)
    # After a change of the IR or of the lock's content, each example's lock
    # is stale (lit.build examples-locked fails): build every example once, as
    # its first build by a user would, which keeps every allocated value and
    # records the new per-host generations and IR hashes. Commit the result
    # (with any golden that names a generation) in one commit.
    for root in examples/*/fabric.netdsl; do
      out=$(mktemp -d)
      "$BUILD/bin/netdslc" build "$root" -o "$out" --no-verify || { rm -rf "$out"; exit 1; }
      rm -rf "$out"
    done
    git status --short -- examples/
    ;;
  *) echo "bootstrap: unknown job '$job' (demo, test, build, locks)" >&2; exit 64 ;;
esac
