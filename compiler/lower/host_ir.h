// Per-host IR: exactly what one host needs, resolved to plain values (names,
// addresses, ids) — what every backend reads. No references into the model.
// Every vector is sorted as documented so that artifacts are deterministic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fabric/enums.h"
#include "common/net/address.h"

namespace netdsl::ir {

using fabric::Isolation;
using fabric::LoadBalancing;
using fabric::MinimumBandwidthMode;
using fabric::Platform;
using fabric::Teaming;
using fabric::TeamingMode;
using fabric::UplinkMode;

/// `Port::policy` of a port without a policy entry.
inline constexpr uint32_t kNoPolicy = UINT32_MAX;

/// A physical NIC of this host attached to a switch.
struct Uplink {
  std::string nic;             ///< host NIC name (also its Linux ifname)
  std::string profile;         ///< uplink port profile name
  std::vector<uint16_t> vlans; ///< site VLANs this uplink carries (sorted, unique, 0 = untagged)
};

/// A logical switch instantiated on this host.
struct Switch {
  std::string name;
  std::string bridge_ifname;   ///< Linux bridge
  std::string bond_ifname;     ///< non-empty when uplink_mode is Team/EmbeddedTeam with >1 uplink or teaming set
  UplinkMode uplink_mode = UplinkMode::NoTeam;
  bool sriov = false;
  MinimumBandwidthMode minimum_bandwidth_mode = MinimumBandwidthMode::Weight;
  std::optional<Teaming> teaming;
  std::vector<Uplink> uplinks;  ///< in host NIC source order
  std::vector<std::string> extensions;  ///< virtual switch extensions to enable, in source order
};

/// This host's provider address on a virtualized logical network.
struct ProviderAddress {
  std::string logical_network;
  net::IpAddress ip;
  uint8_t prefix_length = 0;
  std::optional<net::IpAddress> gateway;
  uint16_t vlan = 0;
  std::string switch_name;  ///< the switch whose bridge carries it
};

/// A VM network's routing domain present on this host.
struct RoutingDomain {
  uint32_t rdid = 0;
  std::string vm_network;
  std::string vrf_ifname;  ///< `nd-vrf<rdid>` shortened as needed
  uint32_t table = 0;      ///< Linux routing table = rdid
};

/// A VM subnet present on this host (some local port uses it).
struct Segment {
  uint32_t vsid = 0;
  uint32_t rdid = 0;
  std::string vm_network;
  std::string vm_subnet;
  Isolation isolation = Isolation::None;
  net::Prefix prefix;
  std::optional<net::IpAddress> gateway;  ///< the VM subnet pool's default gateway
  uint32_t mtu = 1500;                    ///< VM-side MTU
  uint16_t vlan = 0;                      ///< for isolation = vlan
  std::string switch_name;
  std::string bridge_ifname;              ///< per-VSID bridge
  std::string tunnel_ifname;              ///< vxlan / gretap device; empty for vlan/none
  net::IpAddress local_pa;                ///< tunnel source
  std::vector<net::IpAddress> remote_pas; ///< other hosts carrying this VSID (sorted, unique)
};

/// Resolved port policy (from the port profile the NIC's classification maps to).
struct PortPolicy {
  std::string profile;  ///< port profile name ("" = defaults)
  bool vmq = true, ipsec_offload = false, sriov = false;
  bool mac_spoofing = false, dhcp_guard = false, router_guard = false;
  bool guest_specified_ip = false, ieee_priority_tagging = false;
  bool guest_teaming = false, vrss = false;
  std::optional<uint32_t> minimum_weight;
  std::optional<net::BitsPerSecond> minimum_absolute;
  std::optional<net::BitsPerSecond> maximum;
  auto operator<=>(const PortPolicy&) const = default;
};

/// A VM NIC placed on this host.
struct Port {
  uint32_t id = 0;        ///< stable, unique per host
  std::string vm, nic;
  std::string ifname;     ///< host-side interface (veth/tap)
  std::string switch_name;
  std::string classification;
  std::string vm_network, vm_subnet;  ///< vm_subnet empty for isolation none
  uint32_t vsid = 0;      ///< 0 when the VM network has no virtualization
  uint32_t rdid = 0;
  net::MacAddress mac;
  net::IpAddress ca;
  uint8_t prefix_length = 0;
  std::optional<net::IpAddress> gateway;
  uint32_t mtu = 1500;
  uint16_t vlan = 0;
  uint32_t policy = kNoPolicy;  ///< index into HostIr::policies
};

/// CA/MAC → PA for one VM NIC anywhere in the fabric that shares a VSID with this host.
struct LookupRecord {
  uint32_t vsid = 0;
  net::IpAddress ca;
  net::MacAddress mac;
  net::IpAddress pa;
  std::string host;  ///< where the NIC lives
  std::string vm, nic;
  bool local = false;  ///< on this host
  uint32_t port_id = 0;  ///< when local
  /// The routing domain's gateway in this VSID (a GatewayAddress of the
  /// gateway host `host`; vm and nic empty): never `local`, it has no port.
  bool gateway = false;
};

/// A route in a routing domain.
struct CustomerRoute {
  enum class Kind : uint8_t { OnLink, Gateway };
  uint32_t rdid = 0;
  net::Prefix prefix;
  Kind kind = Kind::OnLink;
  uint32_t vsid = 0;  ///< OnLink: the subnet's VSID
  /// Gateway: the gateway host's CA in subnet `vsid` (a carried subnet of
  /// the routing domain here); unset when the gateway has no CA there.
  std::optional<net::IpAddress> next_hop;
  std::string via_host;  ///< Gateway: host running the gateway
};

/// A customer address the gateway host owns in one VM subnet of a routing
/// domain it is the gateway of: the next hop of the other hosts' default
/// routes (netdsl.lock `gateway_customer_address`). On the gateway host only.
struct GatewayAddress {
  uint32_t rdid = 0;
  uint32_t vsid = 0;
  std::string vm_network, vm_subnet;
  net::IpAddress ca;
  uint8_t prefix_length = 0;  ///< the VM subnet's
  net::MacAddress mac;        ///< GatewayMac(vsid), as in the lookup record
};

/// NAT duty of a gateway host for one VM network.
struct NatRule {
  std::string vm_network;
  uint32_t rdid = 0;
  net::IpAddress external_ip;
  std::string external_pool;
  std::vector<net::Prefix> inside_prefixes;  ///< the VM network's subnets
  /// Where the external address lives on this host (the switch carrying the
  /// external pool's site; "" = unknown, then the Linux backend assigns no
  /// external address), the pool subnet's prefix length and the site VLAN.
  std::string external_switch;
  uint8_t external_prefix_length = 0;
  uint16_t external_vlan = 0;
  /// The external pool's gateway (of the external address's family): the
  /// next hop of the routing domain's default route on the gateway host.
  std::optional<net::IpAddress> external_gateway;
};

/// The host's management adapter (SPEC §2 `management`): the host's own
/// address, on the switch the NIC `nic` is bound to. Hyper-V: the switch's
/// management vNIC (`-AllowManagementOS`, VMM `-CreateManagementAdapter`);
/// Linux: the NIC's addresses and routes move onto the switch bridge.
struct Management {
  std::string nic;          ///< host NIC (an uplink of `switch_name`)
  std::string switch_name;  ///< the logical switch carrying it
  /// True: the NIC's current settings move onto the switch as they are
  /// (`management = inherit;`, or a block without `address`). False: the
  /// declared address (and gateway) replace them.
  bool inherit = true;
  std::optional<net::IpAddress> address;  ///< set exactly when !inherit
  uint8_t prefix_length = 0;
  std::optional<net::IpAddress> gateway;  ///< the default route's next hop
  uint16_t vlan = 0;                      ///< 0 = untagged
};

struct HostIr {
  std::string host;
  std::string host_group;
  /// What the host runs; decides which backends' host artifacts it gets
  /// (backends/backend.h, pipeline Serves()).
  Platform platform = Platform::Linux;
  uint32_t underlay_mtu = 1500;
  std::vector<Switch> switches;                  ///< by name
  std::vector<ProviderAddress> provider_addresses;  ///< by logical network
  std::vector<RoutingDomain> routing_domains;    ///< by rdid
  std::vector<Segment> segments;                 ///< by vsid
  std::vector<Port> ports;                       ///< by id
  std::vector<PortPolicy> policies;              ///< unique, sorted
  std::vector<LookupRecord> lookup_records;      ///< by (vsid, ca)
  std::vector<CustomerRoute> customer_routes;    ///< by (rdid, prefix)
  std::vector<NatRule> nat_rules;                ///< by vm_network
  std::vector<GatewayAddress> gateway_addresses; ///< by (rdid, vsid)
  std::optional<Management> management;          ///< absent: not declared (nor inherited from a host group)
  /// sha256 (hex) over the inputs and lock: identifies the source of artifacts.
  std::string source_hash;
  /// Per-host generation from netdsl.lock: bumped when this host's IR changes.
  uint64_t generation = 1;
};

}  // namespace netdsl::ir
