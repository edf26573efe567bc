// Management continuity (docs/runtime.md "Management continuity"): when a
// switch adopts a NIC, the NIC's addresses, routes and permanent neighbours
// move onto the switch in the steps right after the NIC is attached (routes
// by one in-place replace each, so the host is never without its default
// route), and back onto the NIC when netdsl releases it. Moved objects are
// the host's, not netdsl's: they are "hosted" on the switch, recorded in the
// state directory, and left alone by later applies.
#pragma once

#include <string>
#include <vector>

#include "runtime/linux/change_set.h"
#include "runtime/linux/host_state.h"

namespace netdsl::runtime {

/// The device an adopted NIC's settings move to: the topmost owned master
/// above it in `desired` (the switch bridge, also over a bond), or "" when
/// `nic` is not adopted.
std::string SettingsTarget(const HostState& desired, const std::string& nic);

/// The moves of one diff, computed before the rest (Diff merges them in).
struct ManagementPlan {
  /// Adopted NICs present on the host: the diff neither deletes nor compares
  /// their addresses, routes, neighbours and unlisted qdiscs.
  std::vector<std::string> nics;
  /// Hosted objects that stay: unwanted by the plan, still not deleted.
  std::vector<Address> kept_addresses;
  std::vector<Route> kept_routes;
  std::vector<Neighbour> kept_neighbours;
  /// Hosted objects the back steps move off their switch: the diff neither
  /// compares nor deletes them.
  std::vector<Address> moving_addresses;
  std::vector<Route> moving_routes;
  std::vector<Neighbour> moving_neighbours;
  /// Desired objects the move steps install themselves (a declared
  /// management address and gateway replacing the NIC's): not added again.
  std::vector<Address> installed_addresses;
  std::vector<Route> installed_routes;
  /// Steps that move settings back to NICs netdsl releases (before any
  /// deletion), and onto switches (right after the NICs are attached).
  std::vector<Step> back_steps, forward_steps;
  std::vector<PlanLine> back_lines, forward_lines;
  std::vector<std::string> conflicts, warnings;
  /// The record once the apply committed (ChangeSet::hosted_after).
  std::vector<HostedObject> hosted_after;
};

/// Plans the moves of `actual`'s adopted-NIC settings and hosted objects.
ManagementPlan PlanManagement(const HostState& desired, const HostState& actual);

/// `<state dir>/<scope>.hosted`: the record of hosted objects.
std::string HostedPath(const std::string& scope);
/// Reads the record (none = empty). False with `error` when it is unreadable.
bool LoadHosted(const std::string& scope, std::vector<HostedObject>* out, std::string* error);
/// Replaces the record atomically (temporary file, fsync, rename); an empty
/// list removes it.
bool SaveHosted(const std::string& scope, const std::vector<HostedObject>& hosted, std::string* error);

/// Around an apply that awaits confirmation: the record as it was before
/// (`<scope>.hosted.before`), put back when the change is reverted.
bool SnapshotHosted(const std::string& scope, std::string* error);
bool RestoreHostedSnapshot(const std::string& scope, std::string* error);
void DropHostedSnapshot(const std::string& scope);

/// One line of the record (tests): `nic|dev|<journal encoding of the add>`.
std::string EncodeHosted(const HostedObject& h);
std::optional<HostedObject> DecodeHosted(const std::string& line);

}  // namespace netdsl::runtime
