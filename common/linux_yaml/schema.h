// linux.yaml (docs/linux-yaml.md, format 1): the one schema shared by the
// writer (backends/linux) and the reader (runtime/linux), as common/ndt/format.h
// is for table images. Std and common/net only.
//
// Each struct is one linux.yaml object; its document fields are the keys of
// that object, in the order the writer emits them. A few fields are not in
// the document and say so: reader positions (`loc`), what the runtime reads
// from the kernel into the same types for the actual state ("kernel side"),
// and the writer's linux.batch comments ("batch only").
//
// Adding a field: add it here with its default, write it in
// backends/linux/emit_yaml.cpp, read and validate it in
// runtime/linux/plan_reader.cpp, and extend the round trip in
// tests/unit/linux_backend/contract_test.cpp; note it in docs/linux-yaml.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/address.h"

namespace netdsl::linux_yaml {

inline constexpr int kFormat = 1;

/// The owner marker: owned names start with the prefix, and every owned
/// link carries the alias as IFLA_IFALIAS (the `owner:` section; defaults).
inline constexpr const char* kOwnerPrefix = "nd";
inline constexpr const char* kOwnerAlias = "netdsl";
/// Values the writer uses (the reader accepts others).
inline constexpr uint16_t kVxlanPort = 4789;
inline constexpr uint8_t kVxlanTtl = 64;
inline constexpr uint32_t kBondMiimonMs = 100;
inline constexpr uint32_t kTbfLatencyUs = 50000;
/// The kernel's main routing table (RT_TABLE_MAIN), the default `table` of a route.
inline constexpr uint32_t kMainTable = 254;

/// `links[].kind`.
inline constexpr std::array<std::string_view, 7> kLinkKinds = {"bridge", "bond",  "vlan", "vxlan",
                                                               "gretap", "vrf", "veth"};
/// `links[].bond.mode`, indexed by the kernel's mode number (IFLA_BOND_MODE).
inline constexpr std::array<std::string_view, 7> kBondModes = {"balance-rr", "active-backup", "balance-xor",
                                                               "broadcast",  "802.3ad",       "balance-tlb",
                                                               "balance-alb"};
/// `links[].bond.xmit_hash_policy`, indexed by the kernel's number (IFLA_BOND_XMIT_HASH_POLICY).
inline constexpr std::array<std::string_view, 6> kXmitHashPolicies = {"layer2",   "layer3+4", "layer2+3",
                                                                      "encap2+3", "encap3+4", "vlan+srcmac"};
/// `requires[]`: kernel features a plan may need, sorted.
inline constexpr std::array<std::string_view, 11> kFeatures = {"bond", "bridge", "gretap", "htb", "nft-bridge",
                                                               "nft-nat", "tbf", "veth", "vlan", "vrf", "vxlan"};
/// `nftables*.chains[].hook`.
inline constexpr std::array<std::string_view, 5> kNftHooks = {"forward", "input", "output", "prerouting",
                                                              "postrouting"};
/// The longest `host:` (a DNS name; docs/linux-yaml.md).
inline constexpr size_t kMaxHostName = 253;

/// `host:` is a host name, as the compiler checks it (sema ND host names):
/// 1..253 bytes of letters, digits, `-`, `.` and `_`, not starting with `-`
/// or `.`. It reaches the journal, the host record and the terminal.
constexpr bool IsValidHostName(std::string_view name) {
  if (name.empty() || name.size() > kMaxHostName || name.front() == '-' || name.front() == '.') return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_'))
      return false;
  return true;
}

/// Index of `value` in `table`, or -1.
template <size_t N>
constexpr int IndexIn(const std::array<std::string_view, N>& table, std::string_view value) {
  for (size_t i = 0; i < N; ++i)
    if (table[i] == value) return static_cast<int>(i);
  return -1;
}

/// Where an object came from in linux.yaml (1-based; 0 = not from a file).
/// Not part of an object's value: positions always compare equal.
struct SourceLoc {
  int line = 0;
  int col = 0;
  bool operator==(const SourceLoc&) const { return true; }
};

/// `links[]`: one owned link (network interface).
struct Link {
  std::string name;  ///< 1..15 bytes of [A-Za-z0-9._-], starting with the owner prefix
  std::string kind;  ///< kLinkKinds (kernel side: whatever the kernel reports; "" = physical)
  uint32_t mtu = 0;  ///< 0 = unspecified
  std::string master;  ///< "" = none
  std::optional<net::MacAddress> mac;  ///< none = the kernel chooses
  /// Bridge port isolation (IFLA_BRPORT_ISOLATED): the port forwards only to
  /// the bridge's non-isolated ports (NVGRE split horizon: a frame from one
  /// tunnel never leaves by another).
  bool isolated = false;
  /// A VM port (the host end of a VM NIC's veth): the VM NIC it belongs to,
  /// e.g. `vm01/nic0` ("" = not a VM port). A different identity on an
  /// existing link means delete and create, never a move.
  std::string identity;
  /// IPv4 forwarding on this device (`net.ipv4.conf.DEV.forwarding`, set
  /// through rtnetlink IFLA_AF_SPEC/AF_INET/IFLA_INET_CONF): true = netdsl
  /// turns it on and keeps it on (the devices of a routing domain, the NAT
  /// veths); false = netdsl leaves the device's setting alone. Never the
  /// host-wide `net.ipv4.ip_forward`/`all`. Kernel side: the device's value.
  bool forwarding = false;

  // `bond: {mode, xmit_hash_policy, miimon}`
  std::string bond_mode;              ///< kBondModes
  std::string bond_xmit_hash_policy;  ///< kXmitHashPolicies; "" = the kernel's default
  uint32_t bond_miimon = 0;
  // `vlan: {link, id}`
  std::string vlan_link;
  uint16_t vlan_id = 0;
  // `vxlan: {id, local, dstport, learning, ttl}`
  uint32_t vxlan_id = 0;
  std::optional<net::IpAddress> vxlan_local;
  uint16_t vxlan_dstport = kVxlanPort;
  bool vxlan_learning = false;
  uint8_t vxlan_ttl = 0;
  // `gretap: {key, local, remote}`
  uint32_t gretap_key = 0;
  std::optional<net::IpAddress> gretap_local;
  std::optional<net::IpAddress> gretap_remote;  ///< point-to-point remote PA
  // `vrf: {table}`
  uint32_t vrf_table = 0;
  // `veth: {peer, peer_mac, peer_mtu, peer_master}`: the guest end
  std::string veth_peer;
  std::optional<net::MacAddress> veth_peer_mac;
  uint32_t veth_peer_mtu = 0;
  /// An owned bridge the peer end is a port of ("" = none; the peer then
  /// stays in the host namespace, up): a gateway's NAT veth, whose host end
  /// is in a routing domain's VRF and whose peer is on the external switch.
  std::string veth_peer_master;

  SourceLoc loc;

  // Kernel side (the runtime's actual state; never in linux.yaml).
  /// The link's index; on a link netdsl creates, the index it asks the
  /// kernel for (journaled before the create is sent; 0 = the kernel picks).
  int ifindex = 0;
  int veth_peer_ifindex = 0;  ///< the same for a veth's guest end
  uint32_t group = 0;         ///< IFLA_GROUP; netdsl's own (OwnerGroup) on links it creates
  bool up = false;
  std::string alias;                 ///< IFLA_IFALIAS
  bool veth_peer_elsewhere = false;  ///< the peer lives in another namespace

  // Batch only (never in linux.yaml).
  std::string comment;  ///< who the link is for, sanitized

  bool operator==(const Link&) const = default;
};

/// `adopted[]`: a host NIC netdsl enslaves to an owned master but does not own.
struct AdoptedNic {
  std::string name;
  std::string master;
  SourceLoc loc;
  bool operator==(const AdoptedNic&) const = default;
};

/// `management:`, the host's management adapter: the adopted NIC whose
/// settings move onto its switch; a declared address (and gateway) replace
/// that family's addresses (and default route) of the NIC instead of moving
/// them (docs/linux-yaml.md "Management").
struct Management {
  std::string nic;                        ///< an adopted NIC
  std::string dev;                        ///< the owned link carrying the declared address
  std::optional<net::Prefix> address;     ///< declared, host bits kept; none = inherit
  std::optional<net::IpAddress> gateway;  ///< the declared default route's next hop
  SourceLoc loc;
  bool operator==(const Management&) const = default;
};

// Kernel side: what the kernel holds of an address, route or neighbour
// beyond its identity, kept for the objects netdsl moves but does not own
// (the settings of an adopted NIC, docs/runtime.md "Management continuity"),
// so that they are moved and put back exactly as they were. Never in linux.yaml.

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

/// `addresses[]`: `{dev, address: ADDRESS/LENGTH}`.
struct Address {
  std::string dev;
  net::IpAddress address;
  uint8_t prefix_length = 0;
  SourceLoc loc;
  std::shared_ptr<const AddressAttrs> attrs;  ///< kernel side; null = netdsl's defaults
  bool operator==(const Address&) const = default;
};

/// `routes[]`: `{table, dst, dev, via}`; via "" = on-link.
struct Route {
  uint32_t table = kMainTable;
  net::Prefix dst;
  std::string dev;
  std::optional<net::IpAddress> via;
  SourceLoc loc;
  std::shared_ptr<const RouteAttrs> attrs;  ///< kernel side; null = netdsl's defaults (proto static, no metric)
  bool operator==(const Route&) const = default;
};

/// `fdb[]`: a static entry on a vxlan device.
struct FdbEntry {
  std::string dev;
  net::MacAddress mac;
  net::IpAddress dst;
  SourceLoc loc;
  bool operator==(const FdbEntry&) const = default;
};

/// `neighbours[]`: a permanent neighbour entry.
struct Neighbour {
  std::string dev;
  net::IpAddress address;
  net::MacAddress mac;
  SourceLoc loc;
  std::shared_ptr<const NeighbourAttrs> attrs;  ///< kernel side; null = permanent, no flags
  bool operator==(const Neighbour&) const = default;
};

/// `qdiscs[].classes[]`.
struct HtbClass {
  uint16_t minor = 0;
  uint16_t parent = 0;  ///< minor of the parent class; 0 = the qdisc root `1:`
  uint64_t rate_bps = 0;
  uint64_t ceil_bps = 0;
  std::string comment;  ///< batch only
  bool operator==(const HtbClass&) const = default;
};

/// `qdiscs[]`: the root qdisc of a device.
struct Qdisc {
  std::string dev;
  std::string kind;  ///< tbf | htb (kernel side: whatever the kernel reports)
  // tbf
  uint64_t rate_bps = 0;
  uint32_t burst_bytes = 0;
  uint32_t latency_us = 0;
  // htb
  uint16_t default_class = 0;
  std::vector<HtbClass> classes;  ///< desired: parents first (creation order); kernel side: by minor
  SourceLoc loc;
  bool operator==(const Qdisc&) const = default;
};

/// `nftables*.chains[]`.
struct NftChain {
  std::string name;
  std::string type = "filter";  ///< filter | nat
  std::string hook;             ///< kNftHooks
  int priority = 0;
  std::string policy = "accept";
  bool operator==(const NftChain&) const = default;
};

/// `nftables*.sets[].type`: what a port guard set is keyed by (a port's
/// host-end ifname, alone or with the one source it may use).
inline constexpr std::array<std::string_view, 4> kNftSetTypes = {"ifname", "ifname . ether_addr",
                                                                "ifname . ipv4_addr", "ifname . ipv6_addr"};

/// `nftables*.sets[]`: a named set of the table that rules use as `@name`.
struct NftSet {
  std::string name;
  std::string type;  ///< kNftSetTypes
  /// One entry per element, one part per component of `type`, canonical text
  /// (ifname, lowercase MAC, address as net::IpAddress::ToString); sorted.
  std::vector<std::vector<std::string>> elements;
  bool operator==(const NftSet&) const = default;
};

/// `nftables*.rules[]`.
struct NftRule {
  std::string chain;
  std::string rule;
  std::string comment;  ///< sanitized (the writer never puts user text here unescaped)
  bool operator==(const NftRule&) const = default;
};

/// `nftables` (bridge family) or `nftables_nat` (ip family): one table,
/// replaced atomically as a whole.
struct NftTable {
  bool present = false;  ///< the key is in the document (the writer: the table has rules)
  std::string family = "bridge";
  std::string table = "netdsl";
  std::vector<NftSet> sets;    ///< by name
  std::vector<NftChain> chains;
  std::vector<NftRule> rules;  ///< in evaluation order
  SourceLoc loc;
  // Not in linux.yaml: the fingerprint of the table's content, which netdsl
  // stores in the kernel table's comment ("netdsl <hash>"); the reader
  // computes it for the desired table, the runtime reads it from the kernel.
  std::string fingerprint;
  bool operator==(const NftTable&) const = default;
};

/// An empty `nftables_nat` table: ip netdsl_nat.
inline NftTable NatTable() {
  NftTable t;
  t.family = "ip";
  t.table = "netdsl_nat";
  return t;
}

/// The whole document: the desired Linux state of one host. The runtime
/// reads the actual state into the same type.
struct Plan {
  std::string host;
  uint64_t generation = 0;
  std::string source_hash;
  std::string owner_prefix = kOwnerPrefix;  ///< `owner.prefix`
  std::string owner_alias = kOwnerAlias;    ///< `owner.alias`
  std::vector<std::string> requires_;       ///< `requires`: kFeatures, sorted, unique
  std::vector<Link> links;                  ///< creation order (a master or lower link before its users)
  std::vector<AdoptedNic> adopted;          ///< by name
  std::optional<Management> management;     ///< `management:`
  std::vector<Address> addresses;           ///< by (dev, address)
  std::vector<Route> routes;                ///< by (table, dst)
  std::vector<FdbEntry> fdb;                ///< by (dev, mac, dst)
  std::vector<Neighbour> neighbours;        ///< by (dev, address)
  std::vector<Qdisc> qdiscs;                ///< by dev
  NftTable nft;                             ///< `nftables`: bridge netdsl
  NftTable nft_nat = NatTable();             ///< `nftables_nat` (gateway hosts with NAT duty)
  bool operator==(const Plan&) const = default;
};

}  // namespace netdsl::linux_yaml
