// Executes operations against the kernel: rtnetlink requests pipelined over
// one socket, nftables through libnftables.
#pragma once

#include <string>
#include <vector>

#include "runtime/linux/change_set.h"
#include "runtime/linux/netlink.h"

namespace netdsl::runtime {

/// Runs `ops` (one step). In `tolerant` mode (rollback), "already exists" and
/// "not found" answers count as success. On failure `error` names the first
/// failed operation and the kernel's reason.
bool ExecuteOps(Netlink& nl, const std::vector<Op>& ops, bool tolerant, std::string* error);

}  // namespace netdsl::runtime
