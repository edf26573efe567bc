// Reads a host's actual Linux state through netlink (and libnftables).
#pragma once

#include <string>
#include <vector>

#include "runtime/linux/host_state.h"
#include "runtime/linux/netlink.h"

namespace netdsl::runtime {

/// Which object kinds ReadActualState dumps (links are always read).
struct ReadScope {
  bool addresses = true;
  bool routes = true;
  bool neighbours = true;
  bool fdb = true;
  bool qdiscs = true;
  bool nft = true;
  /// When set (verification after apply), the FDB is read with one get
  /// request per listed entry instead of a dump: the result holds the listed
  /// entries the kernel shows with that dst. Falls back to the dump when a get
  /// cannot decide (a MAC listed with several dsts, the kernel answering with
  /// another dst, or refusing fdb get requests).
  const std::vector<FdbEntry>* fdb_probe = nullptr;
  /// Sort the lists (CanonicalOrder); verification only counts differences
  /// and skips sorting 100k objects.
  bool canonical_order = true;
};

/// Sorts the object lists into the order `plan` prints and the journal
/// records them in, so that both are deterministic.
void CanonicalOrder(HostState* s);

/// Reads links (all of them), and the addresses, routes, permanent
/// neighbours, vxlan FDB entries and root tbf/htb qdiscs on the devices in
/// `devices` (names; empty = every device), plus the nftables table
/// `desired.nft` names. Returns false with `error` set on a netlink failure.
bool ReadActualState(Netlink& nl, const HostState& desired, HostState* actual, std::string* error,
                     const ReadScope& scope = ReadScope());

/// Brings the neighbours and vxlan FDB entries of `state`, read after
/// `monitor` subscribed, up to date by replaying the kernel's notifications
/// in order (objects on the devices netdsl owns in `state->links`; upsert or
/// remove by key, as object_key.h defines it); the lists are left unsorted.
/// Returns false when the log is incomplete (the socket overflowed) or a
/// list held two objects with one key; then only a fresh read can tell.
bool ReplayNotifications(const NlMonitor& monitor, const HostState& desired, HostState* state);

/// Runs nft commands through libnftables; returns false with the error text.
bool NftRun(const std::string& commands, std::string* output, std::string* error, bool json = false);

/// The text listing of `table bridge NAME` (reloadable as nft input), or ""
/// when the table does not exist.
std::string NftListTable(const std::string& family, const std::string& table);

}  // namespace netdsl::runtime
