// The fabric-wide forwarding model verify builds from the artifacts of every
// host: per VSID its carriers, ports and tunnel endpoints, per host what its
// linux.yaml does with each VSID and routing domain. verify-internal.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/net/address.h"
#include "compiler/diag/diagnostics.h"
#include "runtime/tables/image.h"

namespace netdsl::verify {

using runtime::tables::Image;

/// A (VSID, customer address) key.
struct CaKey {
  uint32_t vsid = 0;
  net::IpAddress ca;
  bool operator==(const CaKey& o) const { return vsid == o.vsid && ca == o.ca; }
};
struct CaKeyHash {
  size_t operator()(const CaKey& k) const;
};

/// A port (VM NIC) of some host's image.
struct PortRef {
  uint32_t host = 0;
  const ndt::PortEntry* port = nullptr;
};

/// A host whose image carries a VSID.
struct Carrier {
  uint32_t host = 0;
  const ndt::SegmentEntry* segment = nullptr;
};

/// A device that carries a VSID's frames between its bridge on this host and
/// other hosts: a vxlan device, a gretap device or a VLAN device.
struct TunnelPort {
  enum class Kind : uint8_t { kVxlan, kGretap, kVlan };
  std::string name;
  Kind kind = Kind::kVxlan;
  uint32_t id = 0;                         ///< VNI, GRE key or VLAN id
  net::IpAddress local;                    ///< tunnel source (vxlan, gretap)
  std::optional<net::IpAddress> remote;    ///< gretap: the one remote (point to point)
  std::vector<net::IpAddress> flood;       ///< where a broadcast is sent (sorted, unique)
  bool isolated = false;                   ///< bridge port isolation: no forwarding between isolated ports
  int line = 0;
};

/// What one host's linux.yaml does with one VSID.
struct LinuxSegment {
  std::string bridge;
  int bridge_line = 0;
  std::string vrf;                    ///< the VRF the bridge is enslaved to ("" = none)
  uint32_t vrf_table = 0;
  std::vector<net::IpAddress> addresses;  ///< on the bridge (the gateway, when the host routes)
  std::vector<TunnelPort> tunnels;
};

/// A route a host's VRF (or main table) uses, for reachability and leaks.
struct LinuxRoute {
  net::Prefix dst;
  std::string dev;
  bool connected = false;  ///< from an address on `dev`
  int line = 0;
  std::optional<net::IpAddress> via;  ///< the next hop (a gateway's CA)
};

struct LinuxVrf {
  std::string name;
  uint32_t table = 0;
  uint32_t rdid = 0;                 ///< the routing domain of the bridges enslaved to it (0 = none)
  std::vector<LinuxRoute> routes;    ///< table routes and connected routes of its devices
  int line = 0;
};

/// A SNAT rule of `nftables_nat`: `[oifname "D"] ip saddr P ... snat to X`.
struct SnatRule {
  net::Prefix source;
  net::IpAddress to;
  std::string oif;  ///< "" = any output device
};

/// The first of a run of a layer-2 domain's ports (in the image's order)
/// with the same VSID and routing domain: the layer-2 check decides alike
/// for every port of a run, so a domain keeps its runs only (state.h).
struct L2Port {
  uint32_t id = 0, vsid = 0, rdid = 0;
  std::string vm, nic, ifname;
  int line = 0;        ///< its veth's line in linux.yaml
  std::string bridge;  ///< its veth's master
};

/// A layer-2 domain of one host: links joined by bridge (and bond) membership.
struct L2Domain {
  std::string bridge;          ///< a bridge of the domain, for messages
  std::vector<L2Port> ports;   ///< the image's ports whose veth is in it, one per run
};

/// Where a host's layer-2 domain leaves the host: a tunnel, or the physical
/// network (an uplink, a VLAN device over a switch bridge with an uplink).
struct L2Exit {
  enum class Kind : uint8_t { kVxlan, kGretap, kWire };
  Kind kind = Kind::kWire;
  uint32_t domain = 0;
  std::string device;
  uint32_t id = 0;                       ///< VNI / GRE key
  net::IpAddress local;
  std::optional<net::IpAddress> remote;  ///< gretap
  std::vector<net::IpAddress> dsts;      ///< vxlan: every FDB destination
  std::string wire;                      ///< kWire: `switch-bridge/vlan`
  int line = 0;
};

/// What verify keeps of one host's linux.yaml after the per-host checks.
struct LinuxHost {
  std::vector<L2Domain> domains;
  std::vector<L2Exit> exits;
  std::unordered_map<uint32_t, LinuxSegment> segments;  ///< by VSID (segments of the image)
  std::vector<LinuxVrf> vrfs;
  std::vector<std::pair<net::IpAddress, std::string>> addresses;  ///< every address and its device
  std::vector<SnatRule> snat;
  /// Bridge devices that carry a host address outside any VRF (underlay/external side).
  std::vector<std::string> guarded_ports;  ///< ports with a routing-domain guard (input chain)
};

struct Host {
  std::string name;
  std::string tables_path;  ///< as given (DIR/hosts/NAME/tables.ndt), as findings name it
  std::string linux_path;   ///< "" when the host has no linux.yaml
  /// Where the files are read from: "" = `dir`, else the directory that
  /// stands for `dir` (an incremental verify reads an unchanged host from
  /// VerifyOptions::base_dir).
  std::string read_dir;
  bool checked = true;      ///< read and checked in this run (else taken from the state)
  std::shared_ptr<const Image> image;
  LinuxHost linux;
  bool linux_ok = false;    ///< linux.yaml was read
};

/// The part of the fabric a finding is a function of (incremental verify,
/// state.h): one host's artifacts (the per-host checks), one VSID's carriers
/// (flooding, two ports with one address), one routing domain (reachability),
/// or the whole fabric (provider addresses, layer 2).
struct Scope {
  enum Kind : uint8_t { kFabric, kHost, kVsid, kRdid, kPrevious /* against --previous: not kept */, kNone };
  Kind kind = kFabric;
  uint32_t id = 0;  ///< host index, VSID or rdid
};

/// Sets the scope of the findings this thread adds while it lives.
class ScopeGuard {
 public:
  explicit ScopeGuard(Scope scope);
  ~ScopeGuard();
  ScopeGuard(const ScopeGuard&) = delete;

 private:
  Scope saved_;
};

/// The scope this thread's findings get (ScopeGuard).
Scope CurrentScope();

/// One violation, reported when all checks are done (in a deterministic order).
struct Finding {
  DiagKind kind;
  std::string file;         ///< artifact path, or "" for the fabric as a whole
  int line = 0, col = 0;    ///< in `file` (linux.yaml); 0 = no line
  std::string message;
  std::vector<std::string> path;  ///< counterexample hops
  Scope scope{Scope::kNone, 0};   ///< set by Findings::Add from the thread's ScopeGuard
};

/// Thread-safe collection of findings, at most `kPerKind` per kind (the rest counted).
class Findings {
 public:
  static constexpr size_t kPerKind = 25;
  void Add(Finding f);
  std::vector<Finding> Take();
  /// Findings of `kind` so far (shown or not).
  size_t Counted(DiagKind kind) const;
  /// Findings of `kind` beyond the cap.
  size_t Dropped(DiagKind kind) const;
  /// True when a finding of `kind` would no longer be printed: count it
  /// without building its message and counterexample.
  bool Full(DiagKind kind);
  size_t Count() const;

 private:
  mutable std::mutex mu_;
  std::vector<Finding> findings_;
  std::map<DiagKind, size_t> per_kind_;
};

struct Fabric {
  std::string dir;
  std::vector<Host> hosts;  ///< sorted by name
  std::unordered_map<std::string, uint32_t> host_by_name;
  std::map<net::IpAddress, uint32_t> host_by_pa;              ///< provider addresses (segments' local PA)
  std::map<uint32_t, std::vector<Carrier>> carriers;          ///< VSID → hosts carrying it, by host index
  std::unordered_map<CaKey, PortRef, CaKeyHash> port_by_ca;   ///< (VSID, CA) → its port
  std::map<uint32_t, std::vector<PortRef>> ports_by_vsid;
  std::map<uint32_t, uint32_t> rdid_of_vsid;                  ///< from the first carrier
  std::map<uint32_t, std::vector<uint32_t>> vsids_by_rdid;
  /// rdid → hosts that are its gateway: the NAT entries' hosts and the
  /// `via_host` of the images' gateway routes. A lookup record without vm and
  /// nic names such a host's customer address (docs/verify.md "Gateway").
  std::map<uint32_t, std::set<std::string>> gateway_hosts;
  Findings findings;

  /// Where `file` (a path under `dir` that names a host's artifact) is read from.
  std::string ReadPath(const Host& host, const std::string& file) const {
    if (host.read_dir.empty() || file.compare(0, dir.size(), dir) != 0) return file;
    return host.read_dir + file.substr(dir.size());
  }

  const Host* HostByPa(const net::IpAddress& pa) const {
    auto it = host_by_pa.find(pa);
    return it == host_by_pa.end() ? nullptr : &hosts[it->second];
  }
};

// ---- helpers shared by the checks ----

/// A VSID whose forwarding the tables decide (vxlan, nvgre: lookup records
/// and tunnels). VLAN-isolated and unisolated subnets forward by learned MAC
/// on the physical network, and their gateway is a router there.
inline bool Virtualized(const ndt::SegmentEntry& seg) {
  return seg.isolation == uint8_t(ndt::Isolation::kVxlan) || seg.isolation == uint8_t(ndt::Isolation::kNvgre);
}

net::IpAddress ToIp(const ndt::Ip& ip);
net::IpAddress ToIp(uint8_t family, const uint8_t bytes[16]);
net::Prefix ToPrefix(const ndt::Prefix& p);
net::MacAddress ToMac(const uint8_t mac[6]);
std::string Q(std::string_view name);  ///< `name`
/// `text` with every `from` replaced by `to`.
std::string ReplaceAll(std::string text, const std::string& from, const std::string& to);
/// `vm `x` nic `y``.
std::string PortName(const Image& image, const ndt::PortEntry& port);

// ---- the checks (one file each) ----

/// Per host: tables.ndt against linux.yaml (d), the image's own invariants
/// against the fabric (a, tables), the host's VRFs (a, Linux L3); fills host.linux.
void CheckHost(Fabric& fabric, uint32_t host);
/// Per VSID: exactly one copy of a broadcast to each carrier (c).
void CheckFlooding(Fabric& fabric);
/// L2 domains across the fabric contain one routing domain each (a, Linux L2).
void CheckL2Isolation(Fabric& fabric);
/// Every pair the fabric says can talk is delivered (b), in both semantics.
void CheckReachability(Fabric& fabric, unsigned jobs);
/// Ports that pass from one VM NIC to another since `previous`.
void CheckTransition(Fabric& fabric, const std::string& previous);

}  // namespace netdsl::verify
