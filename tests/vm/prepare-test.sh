#!/usr/bin/env bash
# CTest fixture `vm.prepare`: prepares the kernel and initramfs the VM tests
# boot (tests/vm/prepare.sh), then boots once and checks the guest is the
# stock 6.1 kernel with the harness's mounts. 77 = QEMU cannot run here (not
# under CI=true, where a missing piece is a failure).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: prepare-test.sh VM_DIR}
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v busybox >/dev/null; then
  [[ -n ${CI:-} ]] && { echo "FAIL: qemu-system-x86_64 or busybox missing under CI (bootstrap.sh installs them)"; exit 1; }
  echo "SKIP: qemu-system-x86_64 or busybox is not installed (./bootstrap.sh installs them)"
  exit 77
fi
"$HERE/prepare.sh" "$OUT" >/dev/null
out=$(NETDSL_VM_DIR=$OUT "$HERE/vm-run" --timeout 60 -- bash -c \
  'uname -r; findmnt -n -o FSTYPE /; findmnt -n -o FSTYPE /tmp; touch /tmp/w && echo tmp-writable; touch /usr/ndvm-probe 2>/dev/null || echo root-read-only; modprobe bonding && echo modprobe-ok')
echo "$out"
grep -qx '6\.1\.[0-9]*-[0-9]*-amd64' <<<"$out" || { echo "FAIL: the guest does not run Debian's 6.1 kernel"; exit 1; }
for want in 9p tmpfs tmp-writable root-read-only modprobe-ok; do
  grep -qx "$want" <<<"$out" || { echo "FAIL: guest check \`$want\` missing"; exit 1; }
done
echo "PASS"
