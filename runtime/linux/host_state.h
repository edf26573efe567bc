// The Linux state of one host as netdsl models it: the same types describe the
// desired state (read from linux.yaml) and the actual state (read via netlink).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/net/address.h"

namespace netdsl::runtime {

/// Where an object came from in linux.yaml (1-based; 0 = not from a file).
struct SourceLoc {
  int line = 0;
  int col = 0;
};

/// One link (network interface). For the actual state only the fields the
/// kernel reported are filled; `ifindex`, `up`, `alias` are actual-only.
struct Link {
  std::string name;
  std::string kind;  ///< bridge bond vlan vxlan gretap vrf veth, or "" (physical / unknown)
  uint32_t mtu = 0;  ///< 0 = unspecified (desired) / unknown (actual)
  std::string master;
  std::optional<net::MacAddress> mac;
  /// Bridge port isolation (IFLA_BRPORT_ISOLATED): the port forwards only to
  /// the bridge's non-isolated ports (split horizon between tunnel ports).
  bool isolated = false;

  // kind: bond
  std::string bond_mode;               ///< balance-rr active-backup balance-xor broadcast 802.3ad balance-tlb balance-alb
  std::string bond_xmit_hash_policy;   ///< layer2 layer3+4 layer2+3 encap2+3 encap3+4 vlan+srcmac
  uint32_t bond_miimon = 0;
  // kind: vlan
  std::string vlan_link;
  uint16_t vlan_id = 0;
  // kind: vxlan
  uint32_t vxlan_id = 0;
  std::optional<net::IpAddress> vxlan_local;
  uint16_t vxlan_dstport = 4789;
  bool vxlan_learning = false;
  uint8_t vxlan_ttl = 0;
  // kind: gretap
  uint32_t gretap_key = 0;
  std::optional<net::IpAddress> gretap_local;
  std::optional<net::IpAddress> gretap_remote;  ///< point-to-point remote PA
  // kind: vrf
  uint32_t vrf_table = 0;
  // kind: veth
  std::string veth_peer;
  std::optional<net::MacAddress> veth_peer_mac;
  uint32_t veth_peer_mtu = 0;
  bool veth_peer_elsewhere = false;  ///< actual: the peer lives in another namespace

  // actual-only
  int ifindex = 0;
  bool up = false;
  std::string alias;

  SourceLoc loc;
};

/// A host NIC netdsl attaches to an owned master but does not own.
struct AdoptedNic {
  std::string name;
  std::string master;
  SourceLoc loc;
};

/// linux.yaml `management:`: the host's management adapter. The NIC's
/// settings move onto the switch when it is adopted; a declared address
/// (and gateway) replace that family's addresses (and default route) of the
/// NIC instead of moving them (docs/linux-yaml.md "Management").
struct ManagementSpec {
  std::string nic;  ///< an adopted NIC
  std::string dev;  ///< owned link carrying the declared address
  std::optional<net::Prefix> address;   ///< declared, host bits kept; absent = inherit
  std::optional<net::IpAddress> gateway;
  SourceLoc loc;
};

/// What the kernel holds of an address beyond its identity, kept for the
/// objects netdsl moves but does not own (the settings of an adopted NIC,
/// docs/runtime.md "Management continuity"), so that they are moved and put
/// back exactly as they were. Null on netdsl's own objects.
struct AddressAttrs {
  uint8_t scope = 0;       ///< ifa_scope
  uint32_t flags = 0;      ///< IFA_FLAGS, settable ones (nodad, noprefixroute, ...)
  std::string label;       ///< IFA_LABEL (IPv4); "" = the device's name
  std::optional<net::IpAddress> peer;       ///< IFA_ADDRESS when it differs from the local address
  std::optional<net::IpAddress> broadcast;  ///< IFA_BROADCAST
  uint32_t valid_lft = 0xffffffffu;      ///< seconds left; all ones = forever
  uint32_t preferred_lft = 0xffffffffu;
  uint8_t proto = 0;       ///< IFA_PROTO (0 = unspecified)
  bool operator==(const AddressAttrs&) const = default;
};

struct RouteAttrs {
  uint8_t protocol = 4;    ///< rtm_protocol (boot 3, static 4, dhcp 16, ...)
  uint8_t scope = 0;       ///< rtm_scope
  uint8_t tos = 0;
  uint32_t priority = 0;   ///< RTA_PRIORITY, the metric
  uint32_t flags = 0;      ///< rtm_flags the kernel takes from userspace (onlink)
  std::optional<net::IpAddress> prefsrc;  ///< RTA_PREFSRC
  std::string metrics;     ///< RTA_METRICS payload as the kernel gave it (mtu, advmss, ...)
  int pref = -1;           ///< RTA_PREF (IPv6 router preference), -1 = absent
  /// The route has several next hops or a nexthop object: netdsl cannot move it.
  bool multipath = false;
  bool operator==(const RouteAttrs&) const = default;
};

struct NeighbourAttrs {
  uint16_t state = 0x80;   ///< ndm_state (NUD_PERMANENT)
  uint8_t flags = 0;       ///< ndm_flags (router, ...)
  bool operator==(const NeighbourAttrs&) const = default;
};

struct Address {
  std::string dev;
  net::IpAddress address;
  uint8_t prefix_length = 0;
  SourceLoc loc;
  std::shared_ptr<const AddressAttrs> attrs;  ///< see AddressAttrs; null = netdsl's defaults
};

struct Route {
  uint32_t table = 254;
  net::Prefix dst;
  std::string dev;
  std::optional<net::IpAddress> via;
  SourceLoc loc;
  std::shared_ptr<const RouteAttrs> attrs;  ///< null = netdsl's defaults (proto static, no metric)
};

struct FdbEntry {
  std::string dev;
  net::MacAddress mac;
  net::IpAddress dst;
  SourceLoc loc;
};

struct Neighbour {
  std::string dev;
  net::IpAddress address;
  net::MacAddress mac;
  SourceLoc loc;
  std::shared_ptr<const NeighbourAttrs> attrs;  ///< null = permanent, no flags
};

/// An object that lives on an owned device but belongs to the host: the
/// settings of an adopted NIC that netdsl moved onto the switch (an address,
/// a route or a permanent neighbour, as an operation that adds it there).
/// Later applies leave it alone, and put it back on `nic` when the NIC is
/// released. Recorded in the state directory (`<scope>.hosted`).
struct HostedObject {
  std::string nic;  ///< where it came from
  std::string dev;  ///< where it lives now
  enum class Kind : uint8_t { Address, Route, Neighbour } kind = Kind::Address;
  Address address;
  Route route;
  Neighbour neighbour;
};

struct HtbClass {
  uint16_t minor = 0;
  uint16_t parent = 0;  ///< minor of the parent class; 0 = the qdisc root `1:`
  uint64_t rate_bps = 0;
  uint64_t ceil_bps = 0;
};

/// Root qdisc of a device.
struct Qdisc {
  std::string dev;
  std::string kind;  ///< tbf | htb (actual: whatever the kernel reports)
  // tbf
  uint64_t rate_bps = 0;
  uint32_t burst_bytes = 0;
  uint32_t latency_us = 0;
  // htb
  uint16_t default_class = 0;
  std::vector<HtbClass> classes;  ///< desired: parents first (creation order); actual: by minor
  SourceLoc loc;
};

struct NftChain {
  std::string name;
  std::string type = "filter";  ///< filter | nat
  std::string hook;
  int priority = 0;
  std::string policy = "accept";
};

struct NftRule {
  std::string chain;
  std::string rule;
  std::string comment;
};

/// A table netdsl owns (`nftables`: bridge family; `nftables_nat`: ip
/// family); each is replaced atomically as a whole.
struct NftTable {
  bool present = false;
  std::string family = "bridge";
  std::string table = "netdsl";
  std::vector<NftChain> chains;
  std::vector<NftRule> rules;
  /// Content fingerprint stored in the table's comment ("netdsl <hash>").
  std::string fingerprint;
  SourceLoc loc;
};

/// Everything netdsl manages on one host (desired or actual).
struct HostState {
  std::string host;
  uint64_t generation = 0;
  std::string source_hash;
  std::string owner_prefix = "nd";
  std::string owner_alias = "netdsl";
  std::vector<std::string> requires_;  ///< kernel features, sorted
  std::vector<Link> links;             ///< desired: creation order
  std::vector<AdoptedNic> adopted;
  std::optional<ManagementSpec> management;
  /// Actual only: the host's objects netdsl moved onto owned devices (read
  /// from the state directory, not from the kernel).
  std::vector<HostedObject> hosted;
  std::vector<Address> addresses;
  std::vector<Route> routes;
  std::vector<FdbEntry> fdb;
  std::vector<Neighbour> neighbours;
  std::vector<Qdisc> qdiscs;
  NftTable nft;
  NftTable nft_nat;  ///< `nftables_nat` (gateway hosts with NAT duty)
};

/// Kernel features a plan may require, sorted.
const std::vector<std::string>& KnownFeatures();

/// Features the plan's objects need (union with `requires:`), each with the
/// first object that needs it, e.g. {"vrf", "link `nd-vrf1001`"}.
std::vector<std::pair<std::string, std::string>> NeededFeatures(const HostState& desired);

/// Fingerprint of the desired nftables table (hex FNV-1a 64 of its canonical text).
std::string NftFingerprint(const NftTable& table);

}  // namespace netdsl::runtime
