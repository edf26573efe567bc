// Verification after apply: read back (or replay the kernel's notifications) and compare.
#include "runtime/linux/read_back.h"

#include <vector>

#include <fmt/format.h>

namespace netdsl::runtime {

std::string FirstDifference(const HostState& desired, HostState after) {
  CanonicalOrder(&after);
  ChangeSet left = Diff(desired, after);
  if (!left.conflicts.empty()) return left.conflicts[0];
  if (left.lines.empty()) return "?";
  const PlanLine& l = left.lines[0];
  return fmt::format("{} {} {}{}{}", l.action, l.object, l.name, l.detail.empty() ? "" : ": ", l.detail);
}

std::string VerifyApplied(Kernel& kernel, const HostState& desired, const HostState& actual, const ChangeSet& cs,
                          std::string* verified_by) {
  ReadScope scope{false, false, false, false, false, false};
  scope.canonical_order = false;
  bool replayable = kernel.NotificationsComplete();
  for (const Step& step : cs.steps)
    for (const Op& op : step.ops) {
      switch (op.kind) {
        case OpKind::AddAddress: case OpKind::DelAddress: scope.addresses = true; break;
        case OpKind::AddRoute: case OpKind::DelRoute: case OpKind::ReplaceRoute: scope.routes = true; break;
        case OpKind::AddNeighbour: case OpKind::DelNeighbour: scope.neighbours = true; break;
        case OpKind::AddFdb: case OpKind::DelFdb: scope.fdb = true; break;
        case OpKind::ReplaceQdisc: case OpKind::DelQdisc: scope.qdiscs = true; break;
        case OpKind::ReplaceNft: case OpKind::RestoreNft: scope.nft = true; break;
        case OpKind::CreateLink: scope = ReadScope{.canonical_order = false}; break;
        case OpKind::DeleteLink: scope = ReadScope{.canonical_order = false}; replayable = false; break;
        case OpKind::SetLink: {
          const auto& c = std::get<LinkChange>(op.object);
          if (c.master || (c.up && !*c.up)) replayable = false;
          break;
        }
      }
    }
  std::string err;
  HostState after;
  after.hosted = cs.hosted_after;
  auto keep_unread = [&](const ReadScope& read) {
    if (!read.addresses) after.addresses = actual.addresses;
    if (!read.routes) after.routes = actual.routes;
    if (!read.neighbours) after.neighbours = actual.neighbours;
    if (!read.fdb) after.fdb = actual.fdb;
    if (!read.qdiscs) after.qdiscs = actual.qdiscs;
    if (!read.nft) {
      after.nft = actual.nft;
      after.nft_nat = actual.nft_nat;
    }
  };
  if (replayable) {
    ReadScope fresh = scope;
    fresh.neighbours = fresh.fdb = false;
    if (!kernel.Read(desired, &after, &err, fresh)) return "reading the state back failed: " + err;
    keep_unread(fresh);
    if (kernel.ReplayNotifications(desired, &after)) {
      ChangeSet left = Diff(desired, after, 4096, PlanText::kCount);
      if (left.conflicts.empty() && left.changes == 0) {
        KernelCounters n = kernel.counters();
        *verified_by = fmt::format("reading back ({} dumps) and {} kernel notifications", n.dumps, n.notifications);
        return "";
      }
    }
    after = HostState();  // not confirmed: read everything the steps touched
    after.hosted = cs.hosted_after;
  }
  // FDB: one get request per entry the plan wants plus per entry deleted.
  std::vector<FdbEntry> fdb_probe;
  if (scope.fdb) {
    fdb_probe = desired.fdb;
    for (const Step& step : cs.steps)
      for (const Op& op : step.ops)
        if (op.kind == OpKind::DelFdb) fdb_probe.push_back(std::get<FdbEntry>(op.object));
    scope.fdb_probe = &fdb_probe;
  }
  if (!kernel.Read(desired, &after, &err, scope)) return "reading the state back failed: " + err;
  keep_unread(scope);
  ChangeSet left = Diff(desired, after, 4096, PlanText::kCount);
  KernelCounters n = kernel.counters();
  *verified_by = fmt::format("reading back ({} dumps, {} get requests){}", n.dumps, n.get_requests,
                             kernel.NotificationsComplete() ? "" : "; the kernel's notification log was incomplete");
  if (left.conflicts.empty() && left.changes == 0) return "";
  return "verification failed: the kernel does not show the applied state (" + FirstDifference(desired, after) + ")";
}

}  // namespace netdsl::runtime
