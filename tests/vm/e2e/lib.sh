# Shared by the VM-only tests (tests/vm/e2e/*_test.sh): the e2e helpers, and
# `kernel_lacks` for a probe that fails: skipped on a kernel without the
# feature (this machine's), a failure in the VM, whose 6.1 kernel has it all.
source "$(dirname "${BASH_SOURCE[0]}")/../../e2e/lib.sh"

# kernel_lacks WHAT ERROR: the probe for WHAT failed with ERROR.
kernel_lacks() {
  [[ -z ${NETDSL_IN_VM:-} ]] || fail "the VM's kernel (${NETDSL_VM_KERNEL:-?}) lacks $1: $2"
  skip "the kernel has no $1 (run in the VM: vm.$(basename "$0" _test.sh))"
}
