// Desired Linux state of one host, as plain values: what linux.yaml records
// and linux.batch spells as commands. Built once from the per-host IR by
// BuildLinuxState (linux_state.cpp); both emitters only format it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/lower/host_ir.h"
#include "llvm/Support/Error.h"

namespace netdsl::backends::linux_backend {

/// The owner marker of docs/linux-yaml.md: owned names start with `kOwnerPrefix`
/// and every owned link carries `kOwnerAlias` as IFLA_IFALIAS.
inline constexpr const char* kOwnerPrefix = "nd";
inline constexpr const char* kOwnerAlias = "netdsl";
inline constexpr uint16_t kVxlanPort = 4789;
inline constexpr uint8_t kVxlanTtl = 64;
inline constexpr uint32_t kBondMiimonMs = 100;
inline constexpr uint32_t kTbfLatencyUs = 50000;
/// The kernel's main routing table (RT_TABLE_MAIN).
inline constexpr uint32_t kMainTable = 254;
/// Link rate minimum weights are shared out against (the IR carries no NIC speed).
inline constexpr uint64_t kNominalUplinkBps = 10'000'000'000ULL;

enum class LinkKind : uint8_t { Bridge, Bond, Vlan, Vxlan, Gretap, Vrf, Veth };

/// One owned link (`links:` entry).
struct Link {
  std::string name;
  LinkKind kind = LinkKind::Bridge;
  uint32_t mtu = 1500;
  std::string master;  ///< "" = none
  std::string mac;     ///< "" = kernel chooses
  /// Bridge port isolation: forwards only to the bridge's non-isolated ports
  /// (NVGRE split horizon: a frame from one tunnel never leaves by another).
  bool isolated = false;
  // bond
  std::string bond_mode, bond_xmit_hash_policy;
  uint32_t bond_miimon = kBondMiimonMs;
  // vlan
  std::string vlan_link;
  uint16_t vlan_id = 0;
  // vxlan / gretap
  uint32_t tunnel_id = 0;  ///< vxlan id / gretap key
  std::string local;
  std::string remote;      ///< gretap: the one remote PA of this point-to-point tunnel
  // vrf
  uint32_t vrf_table = 0;
  // veth
  std::string peer, peer_mac;
  uint32_t peer_mtu = 0;
  /// Who this link is for, already sanitized (CommentText) — batch comments only.
  std::string comment;
};

/// A host NIC netdsl enslaves but does not own.
struct AdoptedNic {
  std::string name, master;
  bool master_is_bond = false;
};

struct Address {
  std::string dev, address;  ///< address as `ip/len`
  net::IpAddress ip;         ///< for sorting
  uint8_t length = 0;
};

struct Route {
  uint32_t table = 0;
  net::Prefix dst;
  std::string dev;
  std::string via;  ///< "" = on-link
};

struct FdbEntry {
  std::string dev;
  net::MacAddress mac;
  net::IpAddress dst;
};

struct Neighbour {
  std::string dev;
  net::IpAddress address;
  net::MacAddress mac;
};

struct HtbClass {
  uint32_t minor = 0;
  uint32_t parent = 0;  ///< 0 = the qdisc root, else the minor of the parent class
  uint64_t rate_bps = 0, ceil_bps = 0;
  std::string comment;  ///< sanitized, batch only
};

struct Qdisc {
  std::string dev;
  enum class Kind : uint8_t { Tbf, Htb } kind = Kind::Tbf;
  // tbf
  uint64_t rate_bps = 0, burst_bytes = 0;
  uint32_t latency_us = kTbfLatencyUs;
  // htb
  uint32_t default_class = 0;
  std::vector<HtbClass> classes;  ///< parents before children
};

struct NftChain {
  std::string name, hook, type;  ///< type: filter | nat
  int32_t priority = 0;
  std::string policy = "accept";
};

struct NftRule {
  std::string chain, rule, comment;  ///< comment sanitized (CommentText)
};

/// One nftables table, replaced as a whole.
struct NftTable {
  std::string family, table;
  std::vector<NftChain> chains;
  std::vector<NftRule> rules;  ///< in evaluation order
  bool Empty() const { return rules.empty(); }
};

/// The host's management adapter (linux.yaml `management:`).
struct Management {
  std::string nic;      ///< the adopted NIC whose settings it takes over
  std::string dev;      ///< where the declared address lives: the switch bridge, or a vlan device on it
  std::string address;  ///< declared `ip/len`; "" = inherit: the NIC's settings move as they are
  std::string gateway;  ///< the declared default route's next hop; "" = none
};

/// Everything linux.yaml says, in emission order.
struct LinuxState {
  std::string host;
  uint64_t generation = 0;
  std::string source_hash;
  std::vector<std::string> requires_features;  ///< sorted, unique
  std::vector<Link> links;                     ///< creation order
  std::vector<AdoptedNic> adopted;             ///< by name
  std::optional<Management> management;
  std::vector<Address> addresses;              ///< by (dev, address)
  std::vector<Route> routes;                   ///< by (table, dst)
  std::vector<FdbEntry> fdb;                   ///< by (dev, mac, dst)
  std::vector<Neighbour> neighbours;           ///< by (dev, address)
  std::vector<Qdisc> qdiscs;                   ///< by dev
  NftTable nft;      ///< bridge netdsl: port guards and htb classification
  NftTable nft_nat;  ///< ip netdsl_nat: gateway NAT (empty unless the host has NAT duty)
};

/// Maps the IR to Linux objects (docs/linux-backend.md). Fails, naming the
/// host and the offending value, when a name could not be emitted safely or
/// the IR is inconsistent (a port on a segment the host lacks, ...).
llvm::Expected<LinuxState> BuildLinuxState(const ir::HostIr& host);

/// Formats the state as linux.yaml (emit_yaml.cpp).
std::string FormatLinuxYaml(const LinuxState& state);
/// Formats the state as sh-runnable ip/bridge/tc/nft commands (emit_batch.cpp).
std::string FormatLinuxBatch(const LinuxState& state);

const char* LinkKindName(LinkKind kind);

}  // namespace netdsl::backends::linux_backend
