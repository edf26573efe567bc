// Following one packet through a table image, with a structured answer: where
// the packet ends on this host (delivered to a port, to the host's router,
// encapsulated towards another host, translated, dropped). `netdsl tables
// trace` prints the hops; `netdslc verify` follows the answer from host to host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/net/address.h"
#include "runtime/tables/image.h"

namespace netdsl::runtime::tables {

/// Where a traced packet ends on the host whose image was walked.
struct TraceEnd {
  enum class Kind : uint8_t {
    kDrop,         ///< dropped (no record, no route, a guard, another routing domain)
    kDeliver,      ///< delivered to local port `port_id`
    kRouter,       ///< delivered to the routing domain's router (a subnet's gateway address)
    kEncapsulate,  ///< sent in `vsid` to provider address `pa` (another host)
    kForward,      ///< sent unencapsulated (vlan / no isolation) to the host at `pa`
    kNat,          ///< translated to `nat_ip` and sent to the external network
    kBridged,      ///< not virtualized: bridged onto the switch without a lookup
  };
  Kind kind = Kind::kDrop;
  uint32_t port_id = 0;
  uint32_t vsid = 0;
  uint32_t rdid = 0;            ///< the routing domain the decision was made in
  net::IpAddress pa;            ///< kEncapsulate / kForward
  bool to_gateway = false;      ///< kEncapsulate: towards a gateway route's next hop
  bool isolated = false;        ///< kDrop: the address belongs to another routing domain
  net::IpAddress nat_ip;        ///< kNat
  bool Delivered() const { return kind != Kind::kDrop; }
};

/// The packet a trace follows from a port.
struct TraceRequest {
  enum class Kind { kData, kDhcpOffer, kRouterAdvertisement };
  net::IpAddress dst;
  std::optional<net::MacAddress> dst_mac;
  std::optional<net::MacAddress> src_mac;  ///< checked against the port's MAC (mac_spoofing guard)
  Kind kind = Kind::kData;
};

/// From local port `port_id`. Hop lines and the verdict are appended to `out`
/// when it is not null (numbered from `first_hop`).
TraceEnd TraceFromPort(const Image& image, uint32_t port_id, const TraceRequest& request, std::string* out,
                       int first_hop = 1);

/// What the host does with a packet for `dst` that arrived from another host
/// encapsulated in `vsid` (from `src_pa`): delivered to a local port or the
/// router, routed on (a gateway host), translated, or dropped. A packet for a
/// NIC of another host is dropped, never sent back into a tunnel.
TraceEnd TraceArrival(const Image& image, uint32_t vsid, const net::IpAddress& src_pa, const net::IpAddress& dst,
                      std::string* out, int first_hop = 1);

}  // namespace netdsl::runtime::tables
