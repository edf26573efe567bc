// Executes operations against the kernel: rtnetlink requests pipelined over
// one socket, nftables through libnftables.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "runtime/linux/change_set.h"
#include "runtime/linux/netlink.h"

namespace netdsl::runtime {

/// The netlink requests of one bulk step (addresses, routes, FDB entries,
/// neighbours only), built ahead of running it: apply builds step k+1 on a
/// second thread while the kernel works through step k.
struct PreparedOps {
  struct Info {
    bool optional = false;
    std::string what;  ///< "" = describe its operation
  };
  NlBatch batch;
  std::vector<Info> info;
  std::vector<size_t> owner;  ///< request -> operation
  /// Requests on links this step creates: their ownership markers
  /// (IFLA_IFALIAS, which the kernel takes only on an existing link) and
  /// bridge port flags. Sent after `batch`, each only when the create it
  /// follows succeeded, so that a create that finds its name (or its veth
  /// peer's name) taken never marks or changes the other party's link.
  NlBatch marks;
  std::vector<size_t> mark_after;  ///< mark -> the create request in `batch`
  std::vector<std::string> mark_what;
};

/// Whether every operation of `ops` is of a bulk kind, i.e. touches no link,
/// qdisc or nftables table: such a step can be built before the previous
/// bulk step ran (device indexes cannot change in between).
bool IsBulkStep(const std::vector<Op>& ops);

/// Builds the requests of a bulk step (IsBulkStep). Fails when a device it
/// names does not exist.
bool PrepareOps(const std::vector<Op>& ops, PreparedOps* out, std::string* error);

/// Sends the requests of a prepared step; as ExecuteOps (not tolerant).
bool RunPrepared(Netlink& nl, const std::vector<Op>& ops, PreparedOps& prepared, std::string* error);

/// Runs `ops` (one step). In `tolerant` mode (rollback), "already exists" and
/// "not found" answers count as success. On failure `error` names the first
/// failed operation and the kernel's reason.
bool ExecuteOps(Netlink& nl, const std::vector<Op>& ops, bool tolerant, std::string* error);

}  // namespace netdsl::runtime
