#!/usr/bin/env bash
# CTest fixture `vm.prepare`: prepares the kernel and initramfs the VM tests
# boot (tests/vm/prepare.sh). 77 = QEMU cannot run here (not
# under CI=true, where a missing piece is a failure).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: prepare-test.sh VM_DIR}
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v busybox >/dev/null; then
  [[ -n ${CI:-} ]] && { echo "FAIL: qemu-system-x86_64 or busybox missing under CI (bootstrap.sh installs them)"; exit 1; }
  echo "SKIP: qemu-system-x86_64 or busybox is not installed (./bootstrap.sh installs them)"
  exit 77
fi
"$HERE/prepare.sh" "$OUT"
# No boot here: the suite's VMs and vm.harness boot it (the harness's first
# case checks the guest: the 6.1 kernel, the mounts, module loading). A boot
# costs ~5 s of CPU under TCG.
echo "PASS"
