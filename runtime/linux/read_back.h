// After the steps of an apply: read the state back and compare it with the
// plan (apply's verification; docs/runtime.md, "Read back and verify").
#pragma once

#include <string>

#include "runtime/linux/change_set.h"
#include "runtime/linux/host_state.h"
#include "runtime/linux/kernel.h"

namespace netdsl::runtime {

/// Reads the state back after the steps `cs` ran and compares it with
/// `desired`; returns "" when they agree, else why not. `actual` is the
/// state read before (after the kernel's notification log started). Kinds no
/// step touched are as read before; links, addresses, routes, qdiscs and nft
/// tables are read again. Neighbours and vxlan FDB entries are `actual`'s
/// plus the kernel's notifications since, when that is exact: the log is
/// complete and no link was deleted, re-enslaved or set down (the kernel may
/// flush a device's entries without notifying). Otherwise, or when the
/// result differs from `desired` (a notification that never came must not
/// fail an apply by itself), they are read again: a dump for neighbours,
/// and one get request per vxlan FDB entry instead of the FDB dump, which
/// is quadratic in the kernel. `verified_by` says which way it went.
std::string VerifyApplied(Kernel& kernel, const HostState& desired, const HostState& actual, const ChangeSet& cs,
                          std::string* verified_by);

/// The first difference between `desired` and `after`, for a message.
std::string FirstDifference(const HostState& desired, HostState after);

}  // namespace netdsl::runtime
