// Alloc stage: checked model + netdsl.lock → allocated model + the new lock
// content. Deterministic and stable (SPEC §4, docs/lock.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compiler/alloc/allocation.h"
#include "compiler/alloc/lock_file.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/sema/model.h"

namespace netdsl::alloc {

/// Values held by VM NICs the model leaves out: the incremental build
/// (compiler/pipeline/incremental.h) allocates only the VMs an edit touched,
/// against a lock reduced to theirs. Retained values are in use: never handed
/// out, never released, and they end a quarantine like any value in use.
struct RetainedValues {
  std::vector<uint64_t> macs;                             ///< sorted
  std::vector<std::pair<uint32_t, net::IpAddress>> ips;   ///< (ip_pool, address) in that pool
  std::vector<std::pair<uint32_t, uint64_t>> ports;       ///< (host, port id), sorted
};

/// Id spaces (inclusive). Tests shrink them to exercise exhaustion.
struct AllocOptions {
  uint32_t vsid_first = 4096, vsid_last = 16777214;  ///< SPEC §3
  uint32_t rdid_first = 1001, rdid_last = 16777214;  ///< Linux VRF table numbers, clear of 253-255
  uint32_t port_first = 1, port_last = 999999999;    ///< `nd-p<id>g` stays within 15 bytes
  /// A port id or MAC released by the build that writes lock revision R is
  /// not handed out by the builds writing revisions R .. R + 16
  /// (docs/lock.md, "Released values").
  uint64_t quarantine_revisions = 16;
  /// Values of NICs outside the model (nullptr: the model is the whole fabric).
  const RetainedValues* retained = nullptr;
};

/// Allocates every value the source leaves open. Values recorded in `lock`
/// (may be null: no lock yet) are kept; new objects take the lowest free value,
/// visiting objects in sorted key order; lock entries of objects that are gone
/// are released, and released port ids and MACs are quarantined (not handed
/// out again for `quarantine_revisions` lock revisions). Reports contradictions between source and lock, tampered lock
/// values and exhausted pools; returns nullopt after any error. The result's
/// `lock` holds the allocation sections of the new lock, plus `lock->hosts`
/// copied unchanged (the driver updates them after lowering).
std::optional<AllocatedFabric> Allocate(model::Fabric fabric, const LockFile* lock, const AllocOptions& options,
                                        DiagnosticEngine& diags);

/// The Linux bridge name of a logical switch: `nd-` + up to 6 lowercase
/// letters/digits of the name + `-` + 4 hex digits of sha256(name, attempt);
/// at most 14 bytes. `attempt` > 0 derives alternatives after a collision.
std::string DeriveSwitchIfname(std::string_view switch_name, unsigned attempt);

/// The bond over a switch's uplinks: the bridge name with `nd-` replaced by `ndb-`.
std::string BondIfnameFor(std::string_view bridge_ifname);

/// The host-side interface of a VM NIC port: `nd-p<id>` (guest end: + `g`).
std::string PortIfname(uint32_t port_id);

/// Lock keys (full name paths), as used in netdsl.lock.
std::string VmSubnetKey(const model::Fabric& f, uint32_t vm_subnet);
std::string VmNetworkKey(const model::Fabric& f, uint32_t vm_network);
std::string ProviderAddressKey(const model::Fabric& f, uint32_t host, uint32_t logical_network);
std::string NicKey(const model::Fabric& f, uint32_t vm, uint32_t nic);
std::string PortKey(const model::Fabric& f, uint32_t host, uint32_t vm, uint32_t nic);
std::string SwitchKey(const model::Fabric& f, uint32_t logical_switch);
std::string GatewayKey(const model::Fabric& f, uint32_t vm_network);
/// `vm_subnet NET/SUBNET/gateway`: the gateway host's customer address in a VM subnet.
std::string GatewayCaKey(const model::Fabric& f, uint32_t vm_subnet);

}  // namespace netdsl::alloc
