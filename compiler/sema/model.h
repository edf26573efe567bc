// The checked model: the fabric after name resolution, typing and validation.
// Immutable once sema returns it. Objects refer to each other by index into
// the Fabric's vectors (Id<T>), never by pointer, so the model is cheap to
// copy and its iteration order is the deterministic source order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fabric/enums.h"
#include "common/net/address.h"
#include "llvm/Support/SMLoc.h"

namespace netdsl::model {

inline constexpr uint32_t kNone = UINT32_MAX;

/// Where an object was declared: the name's range (for diagnostics in later stages).
struct Declared {
  std::string name;         ///< as written (SCVMM names may contain spaces)
  llvm::SMRange name_range;
  std::string description;  ///< `description = "...";` ("" when not written)
};

using fabric::Isolation;
using fabric::LoadBalancing;
using fabric::MinimumBandwidthMode;
using fabric::Platform;
using fabric::TeamingMode;
using fabric::UplinkMode;

struct HostGroup : Declared {
  uint32_t parent = kNone;  ///< enclosing host_group, if nested
  std::vector<uint32_t> hosts;
  /// `management = inherit;` on the group: the default of its hosts and nested groups.
  bool management_inherit = false;
  /// `platform` written on this group or the nearest enclosing group that has one.
  std::optional<Platform> platform;
};

/// A physical NIC of a host bound to a logical switch through an uplink profile.
struct HostNic : Declared {
  uint32_t logical_switch = kNone;
  uint32_t uplink_profile = kNone;
};

/// The host's management adapter (`management { ... }` or `management = inherit;`):
/// the host's own address moves onto the switch its NIC is bound to, as VMM's
/// "create a management adapter" does.
struct Management {
  uint32_t nic = kNone;  ///< index into Host::nics; the NIC is bound to a switch
  /// The NIC's current settings move onto the switch as they are (no address
  /// below); otherwise the declared address and gateway replace them.
  bool inherit = true;
  std::optional<net::IpAddress> address;
  uint8_t prefix_length = 0;
  std::optional<net::IpAddress> gateway;
  uint16_t vlan = 0;  ///< 0 = untagged
  llvm::SMRange range;  ///< the declaration (block or property value)
};

struct Host : Declared {
  uint32_t host_group = kNone;
  /// What the host runs: its own `platform`, else its group's (nested groups
  /// inherit), else Linux (docs/powershell.md says why).
  Platform platform = Platform::Linux;
  std::vector<HostNic> nics;
  std::optional<Management> management;
  /// Underlay (PA side) MTU; 1500 unless set with `mtu = N;` on the host.
  uint32_t mtu = 1500;
};

struct SiteSubnet {
  net::Prefix prefix;
  uint16_t vlan = 0;
  llvm::SMRange range;
};

struct Site : Declared {
  uint32_t logical_network = kNone;
  std::vector<uint32_t> host_groups;
  std::vector<SiteSubnet> subnets;
};

/// A static IP pool of a logical network (site subnet) or of a VM network (VM subnet).
struct IpPool : Declared {
  uint32_t logical_network = kNone;  ///< owner when a logical network pool
  uint32_t site = kNone;
  uint32_t vm_network = kNone;       ///< owner when a VM network pool
  uint32_t vm_subnet = kNone;
  net::Prefix subnet;                ///< the site subnet or VM subnet prefix
  net::IpAddress range_first, range_last;
  std::optional<net::IpAddress> gateway;
  std::vector<net::IpAddress> dns;
  std::vector<net::IpAddress> reserved;  ///< never handed out
  std::vector<net::IpAddress> vips;      ///< load-balancer VIPs, never handed out
};

struct LogicalNetwork : Declared {
  bool network_virtualization = false;
  std::vector<uint32_t> sites;
  std::vector<uint32_t> ip_pools;
};

struct MacPool : Declared {
  net::MacAddress first, last;
};

struct VmSubnet : Declared {
  uint32_t vm_network = kNone;
  net::Prefix prefix;
  std::optional<uint32_t> vsid;  ///< explicit, else allocated
  llvm::SMRange vsid_range;      ///< the explicit value, for diagnostics
  uint16_t vlan = 0;             ///< for isolation = vlan
  std::vector<uint32_t> ip_pools;
};

struct Gateway {
  uint32_t host = kNone;
  uint32_t external_pool = kNone;  ///< an IpPool of a logical network
  bool nat = false;
  llvm::SMRange range;
};

struct VmNetwork : Declared {
  uint32_t logical_network = kNone;
  Isolation isolation = Isolation::None;
  std::optional<uint32_t> rdid;  ///< explicit routing domain id, else allocated
  llvm::SMRange rdid_range;      ///< the explicit value, for diagnostics
  std::vector<uint32_t> vm_subnets;
  std::vector<uint32_t> ip_pools;
  std::optional<Gateway> gateway;
};

struct PortClassification : Declared {};

struct PortProfile : Declared {
  struct Offload {
    bool vmq = true, ipsec_offload = false, sriov = false;
    bool vrss = false;  ///< virtual receive side scaling
  } offload;
  struct Security {
    bool mac_spoofing = false;  ///< true = allowed
    bool dhcp_guard = false, router_guard = false;
    bool guest_specified_ip = false;   ///< guest may use addresses other than its CA
    bool ieee_priority_tagging = false;
    bool guest_teaming = false;  ///< the guest may team this adapter with others
  } security;
  struct Bandwidth {
    std::optional<uint32_t> minimum_weight;           ///< 0-100
    std::optional<net::BitsPerSecond> minimum_absolute;
    std::optional<net::BitsPerSecond> maximum;
  } bandwidth;
};

struct UplinkPortProfile : Declared {
  std::vector<uint32_t> sites;
  using Teaming = fabric::Teaming;
  std::optional<Teaming> teaming;  ///< absent: VMM defaults (switch independent, host default)
  /// Hyper-V network virtualization on adapters using this profile; absent:
  /// on when a carried site's logical network has network virtualization.
  std::optional<bool> network_virtualization;
};

struct VirtualPort : Declared {
  uint32_t classification = kNone;
  uint32_t profile = kNone;
};

struct LogicalSwitch : Declared {
  bool sriov = false;
  UplinkMode uplink_mode = UplinkMode::NoTeam;
  MinimumBandwidthMode minimum_bandwidth_mode = MinimumBandwidthMode::Weight;
  std::vector<uint32_t> uplinks;  ///< UplinkPortProfile ids
  std::vector<VirtualPort> virtual_ports;
  /// Virtual switch extensions enabled on the switch, by name, in source order.
  std::vector<std::string> extensions;
};

struct VmNic {
  std::string name;  ///< `nic0`, `nic1`, ... when the block has no label
  llvm::SMRange range;
  uint32_t vm_network = kNone;
  uint32_t vm_subnet = kNone;        ///< kNone for a VM network without subnets (isolation none)
  uint32_t classification = kNone;   ///< kNone: no port profile
  std::optional<net::IpAddress> ip;  ///< explicit CA, else allocated
  std::optional<net::MacAddress> mac;
  llvm::SMRange ip_range, mac_range;  ///< the explicit values, for diagnostics
  std::optional<uint32_t> mtu;       ///< explicit VM MTU, else underlay MTU - overhead
};

struct Vm : Declared {
  uint32_t host = kNone;
  std::vector<VmNic> nics;
};

/// The whole checked fabric. Vectors are in source order (files in import order).
struct Fabric {
  std::vector<HostGroup> host_groups;
  std::vector<Host> hosts;
  std::vector<LogicalNetwork> logical_networks;
  std::vector<Site> sites;
  std::vector<IpPool> ip_pools;
  std::vector<MacPool> mac_pools;
  std::vector<VmNetwork> vm_networks;
  std::vector<VmSubnet> vm_subnets;
  std::vector<PortClassification> port_classifications;
  std::vector<PortProfile> port_profiles;
  std::vector<UplinkPortProfile> uplink_port_profiles;
  std::vector<LogicalSwitch> logical_switches;
  std::vector<Vm> vms;
  /// Input files (root first) for the manifest.
  std::vector<std::string> input_files;
};

using fabric::EncapOverhead;

}  // namespace netdsl::model
