// The Linux state of one host as netdsl models it: the same types describe the
// desired state (read from linux.yaml) and the actual state (read via netlink).
#pragma once

#include <cstdint>
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

struct Address {
  std::string dev;
  net::IpAddress address;
  uint8_t prefix_length = 0;
  SourceLoc loc;
};

struct Route {
  uint32_t table = 254;
  net::Prefix dst;
  std::string dev;
  std::optional<net::IpAddress> via;
  SourceLoc loc;
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
