// Lower stage: allocated fabric → per-host IR (host_ir.h). The index is built
// once per build; lowering one host then costs time proportional to what that
// host receives, so lowering every host is O(total output), and hosts can be
// lowered in parallel (LowerHost only reads the fabric and the index).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "compiler/alloc/allocation.h"
#include "compiler/lower/host_ir.h"

namespace netdsl::lower {

/// Lookups shared by every host's lowering.
struct LowerIndex {
  /// VM NICs placed on each host, as (vm, nic), in (vm, nic) order.
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> nics_by_host;
  /// VM NICs of each VM subnet, as (vm, nic), sorted by (CA, vm, nic): the
  /// lookup records of a VSID in table order.
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> nics_by_subnet;
  /// Hosts that carry each VM subnet (a local port, or the gateway of its VM network), sorted.
  std::vector<std::vector<uint32_t>> hosts_by_subnet;
  /// VM networks whose gateway runs on each host.
  std::vector<std::vector<uint32_t>> gateway_networks_by_host;
  /// sha256 hex over the inputs and the lock's allocations, copied into every HostIr.
  std::string source_hash;
};

/// The MAC of the gateway host's customer address in VSID `vsid`:
/// `02:6e:67` + the VSID (locally administered, "ng"; one per VSID, apart
/// from every anycast gateway MAC `02:6e:64:…`).
net::MacAddress GatewayMac(uint32_t vsid);

/// Builds the index in O(NICs log NICs).
LowerIndex BuildLowerIndex(const alloc::AllocatedFabric& fabric, std::string source_hash);

/// Everything `host` needs and nothing about VSIDs it does not carry. The
/// result's generation is 1; the driver sets it from netdsl.lock.
ir::HostIr LowerHost(const alloc::AllocatedFabric& fabric, const LowerIndex& index, uint32_t host);

/// A readable, deterministic text form of the IR (`netdslc build --dump=ir`).
/// Without provenance, the generation and source hash lines are left out.
std::string DumpHostIr(const ir::HostIr& host, bool with_provenance = true);

/// sha256 hex over a canonical binary encoding of every field except
/// `generation` and `source_hash`: changes exactly when what the host receives
/// changes; netdsl.lock bumps the host's generation when it does.
std::string HostIrHash(const ir::HostIr& host);

}  // namespace netdsl::lower
