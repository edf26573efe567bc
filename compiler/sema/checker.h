// Internal to sema: the state one Check() run shares between the per-construct
// files — the model under construction, the AST block behind every object,
// name tables per kind and scope, and helpers for typed property access and
// name resolution with "did you mean".
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/diag/diagnostics.h"
#include "compiler/sema/model.h"
#include "compiler/sema/schema.h"
#include "compiler/syntax/ast.h"

namespace netdsl::sema {

using model::kNone;

/// A block that passed schema validation: its well-typed properties by key.
struct Props {
  static constexpr size_t kMaxKeys = 10;
  const ast::Block* block = nullptr;
  const BlockSpec* spec = nullptr;
  /// Parallel to spec->keys: the first well-typed occurrence, or nullptr.
  std::array<const ast::Property*, kMaxKeys> values{};

  const ast::Value* Get(std::string_view key) const;
  const ast::Property* GetProperty(std::string_view key) const;
  /// Whether `key` is written at all (even if ill-typed), to avoid follow-on errors.
  bool Present(std::string_view key) const;
};

/// Names of one kind in one scope → object id.
class NameTable {
 public:
  /// Returns the id already holding `name`, or kNone after inserting. The
  /// table keeps its own copy of the name.
  uint32_t Insert(const std::string& name, uint32_t id);
  uint32_t Find(std::string_view name) const;
  /// Names sorted, for "did you mean".
  std::vector<std::string_view> Names() const;
  bool empty() const { return map_.empty(); }
  void reserve(size_t n) { map_.reserve(n); }

 private:
  /// Transparent hashing: lookups by string_view allocate nothing.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> map_;
};

class Checker {
 public:
  explicit Checker(DiagnosticEngine& diags) : diags_(diags) {}

  DiagnosticEngine& diags() { return diags_; }
  model::Fabric& fabric() { return f_; }

  // ---- Phase 1: declare (check_*.cpp Declare functions) -------------------
  void DeclareAll(const ast::Program& program);
  void DeclareHostGroup(const ast::Block& block, uint32_t parent);
  void DeclareHost(const ast::Block& block, uint32_t group);
  void DeclareLogicalNetwork(const ast::Block& block);
  void DeclareMacPool(const ast::Block& block);
  void DeclareVmNetwork(const ast::Block& block);
  void DeclareClassification(const ast::Block& block);
  void DeclarePortProfile(const ast::Block& block);
  void DeclareUplinkProfile(const ast::Block& block);
  void DeclareSwitch(const ast::Block& block);
  void DeclareVm(const ast::Block& block);
  // ---- Phase 2: fill properties and resolve references --------------------
  void ResolveHosts();
  void ResolveNetworks();
  void ResolveMacPools();
  void ResolveVmNetworks();
  void ResolveProfiles();
  void ResolveSwitches();
  void ResolveVms();
  /// `description` of every object that has one (the model's Declared::description).
  void ReadDescriptions();
  // ---- Phase 3: cross-object rules ----------------------------------------
  void CheckNetworkRules();
  void CheckPoolRules();
  void CheckVmNetworkRules();
  void CheckSwitchRules();
  void CheckVmRules();
  void CheckCapacity();
  // ---- Management adapters (check_management.cpp) ---------------------------
  /// Reads each host's `management` (its own, or `inherit` from its groups)
  /// once its NICs are resolved.
  void ResolveManagement();
  /// Management addresses against pools and each other.
  void CheckManagementRules();

  // ---- Pools (check_pools.cpp) -----------------------------------------------
  void ReadLogicalNetworkPool(uint32_t pool);
  void ReadVmNetworkPool(uint32_t pool);
  /// Range, gateway, DNS, reserved and VIPs of a pool whose `subnet` is known.
  void ReadPoolAddresses(uint32_t pool);

  // ---- Helpers used by every construct ------------------------------------
  /// Validates `block` against `spec`: label, keys, types, enums, duplicate
  /// keys, required keys, and child block kinds (unknown or repeated).
  Props Validate(const ast::Block& block, const BlockSpec& spec);
  /// Validates a block found inside `parent_kind`; nullptr spec = unknown (already reported).
  const BlockSpec* ChildSpec(std::string_view parent_kind, const ast::Block& child);

  /// Declares `name` in `table`; on a clash reports DuplicateName with a note at
  /// `first_range(existing id)`. Returns false on a clash.
  template <typename RangeOf>
  bool Declare(NameTable& table, const std::string& name, uint32_t id, llvm::SMRange range, const char* what,
               std::string_view scope, RangeOf first_range) {
    uint32_t existing = table.Insert(name, id);
    if (existing == kNone) return true;
    ReportDuplicate(name, range, first_range(existing), what, scope);
    return false;
  }
  void ReportDuplicate(const std::string& name, llvm::SMRange range, llvm::SMRange first, const char* what,
                       std::string_view scope);

  /// Resolves a name value in `table`; reports UnresolvedName with "did you
  /// mean" (scope like " in logical network `X`") and returns kNone on a miss.
  uint32_t Resolve(const ast::Value& name, const NameTable& table, const char* what, std::string_view scope_what = {},
                   std::string_view scope_name = {});

  // Values.
  static bool Bool(const ast::Value* v, bool fallback) { return v ? v->boolean : fallback; }
  std::string Text(const ast::Value* v) { return v ? v->text : std::string(); }
  /// Integer in [lo, hi] or reports `kind`; nullopt when absent or out of range.
  /// Reports "`noun` N of `owner` is out of range; expected lo-hi".
  std::optional<uint64_t> IntegerIn(const ast::Value* v, uint64_t lo, uint64_t hi, DiagKind kind,
                                    const std::string& noun, const std::string& owner);
  /// A prefix value; reports NonCanonicalPrefix with a fix-it when host bits are set.
  std::optional<net::Prefix> CanonicalPrefix(const ast::Value& v, const std::string& what);

  /// The value range of `key` in `block` (first occurrence), else the block's label or kind range.
  static llvm::SMRange KeyRange(const ast::Block& block, std::string_view key);
  static llvm::SMRange NameRangeOf(const ast::Block& block);
  /// "IP pool `x`", "gateway of VM network `y`" for messages.
  static std::string Describe(const Props& props);
  static std::string Q(std::string_view name) { return "`" + std::string(name) + "`"; }

  // ---- The model and its AST blocks, indexed like the model's vectors ------
  model::Fabric f_;
  std::vector<Props> host_group_props_, host_props_, ln_props_, site_props_, pool_props_, mac_pool_props_,
      vm_network_props_, vm_subnet_props_, pc_props_, pp_props_, upp_props_, ls_props_, vm_props_;
  std::vector<std::vector<Props>> host_nic_props_;      ///< [host][nic]
  std::vector<Props> host_management_props_;            ///< per host: `management { }` (block nullptr = none)
  std::vector<std::vector<Props>> vm_nic_props_;        ///< [vm][nic]
  std::vector<Props> gateway_props_;                    ///< per VM network (block nullptr = none)
  std::vector<std::vector<Props>> site_subnet_props_;   ///< [site][subnet]
  std::vector<std::vector<Props>> virtual_port_props_;  ///< [switch][port]
  /// Nested single blocks (block nullptr = absent).
  std::vector<Props> pp_bandwidth_props_, pp_offload_props_, upp_teaming_props_;
  /// Per-object flags: the object's own values are sound enough for cross-object rules.
  std::vector<bool> pool_ok_, mac_pool_ok_, vm_subnet_ok_;
  /// Per VM network: its isolation is known (absent or valid, not misspelled).
  std::vector<bool> isolation_ok_;
  /// Objects with a reference that did not resolve (already reported): rules
  /// that depend on what is missing skip them, so one typo gives one error.
  std::vector<bool> site_incomplete_, uplink_incomplete_, switch_incomplete_, host_incomplete_;

  // ---- Name tables ----------------------------------------------------------
  NameTable host_groups_, hosts_, logical_networks_, mac_pools_, vm_networks_, classifications_, port_profiles_,
      uplink_profiles_, switches_, vms_;
  std::vector<NameTable> sites_in_ln_, pools_in_ln_, pools_in_vmn_, vm_subnets_in_vmn_;
  /// Sites and logical-network pools by bare name across all logical networks
  /// (for references from uplink profiles and gateways).
  std::unordered_map<std::string, std::vector<uint32_t>> sites_by_name_, ln_pools_by_name_, vm_pools_by_name_;

  // ---- Derived facts (computed after resolution) ---------------------------
  /// Host groups: children (direct) and, per host, the chain of groups up to the root.
  std::vector<std::vector<uint32_t>> host_group_children_;
  /// Per host: logical networks it reaches (sorted) and, per logical network, the switches through which.
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> host_reach_;  ///< sorted (ln, switch) pairs
  /// Per site: which host groups are in its scope (listed ones and their descendants).
  std::vector<std::vector<bool>> site_scope_;
  void ComputeReach();
  bool HostReaches(uint32_t host, uint32_t ln) const;
  /// Whether `host` is inside the scope of `site` (its group or an ancestor is listed).
  bool HostInSiteScope(uint32_t host, uint32_t site) const;

 private:
  DiagnosticEngine& diags_;
};

}  // namespace netdsl::sema
