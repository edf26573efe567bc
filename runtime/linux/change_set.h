// The change set: desired vs actual → ordered steps of operations, each step
// with the inverse operations that undo it (what the journal persists).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "runtime/linux/host_state.h"

namespace netdsl::runtime {

/// The attributes of an existing link one operation changes.
struct LinkChange {
  std::string name;
  std::optional<uint32_t> mtu;
  std::optional<std::string> master;  ///< "" = release
  std::optional<net::MacAddress> mac;
  std::optional<bool> up;
  std::optional<bool> isolated;  ///< bridge port isolation, set after any change of master
  std::optional<std::string> alias;  ///< IFLA_IFALIAS (the marker of a veth's guest end)
  std::optional<bool> forwarding;    ///< net.ipv4.conf.NAME.forwarding (IFLA_AF_SPEC/AF_INET)
};

enum class OpKind : uint8_t {
  CreateLink,
  DeleteLink,
  SetLink,
  AddAddress,
  DelAddress,
  AddRoute,
  DelRoute,
  ReplaceRoute,  ///< add or replace the route with the same table, destination, tos and metric (one request)
  AddFdb,
  DelFdb,
  AddNeighbour,
  DelNeighbour,
  ReplaceQdisc,
  DelQdisc,
  ReplaceNft,  ///< replace the table with `NftTable`
  RestoreNft,  ///< replace the table with a saved listing (`std::string`, "" = no table)
};

/// A large object kept out of line and shared between copies, so that an
/// `Op` stays the size of the bulk objects (a `Link` by value made every
/// `Op` 408 bytes; now 112). Immutable once built.
template <typename T>
class Boxed {
 public:
  Boxed(T v) : p_(std::make_shared<const T>(std::move(v))) {}  // NOLINT: implicit on purpose
  const T& operator*() const { return *p_; }
  const T* operator->() const { return p_.get(); }

 private:
  std::shared_ptr<const T> p_;
};

/// One kernel operation.
struct Op {
  OpKind kind;
  std::variant<Boxed<Link>, LinkChange, Address, Route, FdbEntry, Neighbour, Boxed<Qdisc>, Boxed<NftTable>,
               std::string>
      object;
};

/// A batch of operations of one kind, executed and journaled together.
struct Step {
  std::string label;             ///< "create link `nd-br6001`", "add 4096 fdb entries"
  std::vector<Op> ops;
  std::vector<Op> inverse;       ///< run in this order to undo the step
};

/// One line of `plan` output.
struct PlanLine {
  char action;         ///< '+' create, '~' modify, '-' delete, '>' move (a NIC's settings onto its switch, or back)
  std::string object;  ///< "link", "address", "route", "fdb", "neighbour", "qdisc", "nftables",
                       ///< "nft chain", "nft set", "nft element", "nft rule", "adopted"
  std::string name;
  std::string detail;
  /// The kernel cannot make this change in place: the link goes down and is
  /// recreated (both its `-` and its `+` line are marked).
  bool disruptive = false;
};

/// A link the change set recreates (deletes and creates again) because the
/// kernel cannot change it in place: whatever uses it loses it for a moment
/// (a VM port's guest end is a new device). `apply` refuses these unless
/// `--allow-disruptive`.
struct Disruption {
  std::string link;
  std::string reason;  ///< "vxlan local 192.168.0.10 -> 192.168.0.20"
};

struct ChangeSet {
  std::vector<PlanLine> lines;  ///< what `plan` prints, in execution order (empty when not asked for)
  size_t changes = 0;           ///< number of plan lines, also when they were not built
  std::vector<Step> steps;
  std::vector<std::string> conflicts;  ///< errors: netdsl refuses to proceed
  std::vector<std::string> warnings;   ///< objects with the prefix that netdsl leaves alone
  /// The links recreated, in plan order (also when the lines are not built).
  std::vector<Disruption> disruptive;
  /// The record of hosted objects once the change is applied (management.h);
  /// written when the apply commits.
  std::vector<HostedObject> hosted_after;
  size_t operation_count() const;
};

/// What Diff builds besides the steps.
enum class PlanText : uint8_t {
  kLines,  ///< the plan lines `plan` prints
  kCount,  ///< only their number (apply: formatting 100k lines is most of a diff)
};

/// Computes the minimal ordered change set. `bulk` caps operations per step.
ChangeSet Diff(const HostState& desired, const HostState& actual, size_t bulk = 4096,
               PlanText text = PlanText::kLines);

/// One-line human description of an operation (for messages).
std::string Describe(const Op& op);

/// Journal line encoding of an operation (no newlines) and back.
std::string EncodeOp(const Op& op);
std::optional<Op> DecodeOp(const std::string& line);
/// EncodeOp appended to `out` (no temporary strings for the bulk kinds).
void AppendEncodedOp(const Op& op, std::string* out);

}  // namespace netdsl::runtime
