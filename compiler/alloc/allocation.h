// Allocated model: the checked fabric plus every value the source left open
// (VSIDs, RDIDs, PAs, CAs, MACs, Linux interface names), as recorded in netdsl.lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/net/address.h"
#include "compiler/alloc/lock_file.h"
#include "compiler/sema/model.h"

namespace netdsl::alloc {

/// A host's provider address on one network-virtualized logical network.
struct ProviderAddress {
  uint32_t host = model::kNone;
  uint32_t logical_network = model::kNone;
  uint32_t ip_pool = model::kNone;  ///< the pool it was drawn from
  net::IpAddress ip;
};

/// What one VM NIC received (explicit values are copied here too).
struct NicAllocation {
  net::IpAddress ca;       ///< customer address (or logical-network address for isolation none)
  net::MacAddress mac;
  std::string ifname;      ///< host-side Linux interface name, <= 15 bytes, unique per host
  uint32_t port_id = 0;    ///< unique per host, stable
  uint32_t ip_pool = model::kNone;  ///< pool the CA came from (kNone if explicit)
};

struct Allocation {
  std::vector<uint32_t> vsid;  ///< per vm_subnet
  std::vector<uint32_t> rdid;  ///< per vm_network
  /// Sorted by (host, logical_network).
  std::vector<ProviderAddress> provider_addresses;
  /// [vm][nic]
  std::vector<std::vector<NicAllocation>> nics;
  /// Linux bridge name of each logical switch (same on every host), <= 15 bytes.
  std::vector<std::string> switch_ifname;
  /// Per VM network with a NAT gateway: its external address from the external pool.
  std::vector<std::optional<net::IpAddress>> gateway_external_ip;
  /// Per VM subnet of a VM network whose gateway runs on a host: the gateway
  /// host's customer address in that subnet (from the subnet's pool), the
  /// next hop of the routing domain's default route (HNV: a customer route's
  /// -NextHop is a CA). nullopt when the subnet has no gateway or no pool.
  std::vector<std::optional<net::IpAddress>> gateway_ca;

  /// The PA of `host` on `logical_network`, if it has one.
  const ProviderAddress* FindProviderAddress(uint32_t host, uint32_t logical_network) const;
};

struct AllocatedFabric {
  model::Fabric fabric;
  Allocation allocation;
  /// The allocation sections of netdsl.lock after this run (every allocated
  /// value keyed by its object's full name path) and the per-host entries
  /// carried over from the previous lock; see alloc.h and docs/lock.md.
  LockFile lock;
};

}  // namespace netdsl::alloc
