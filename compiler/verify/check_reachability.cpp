// Reachability (b): every pair the fabric says can talk is delivered, in the
// tables' semantics (following the images from host to host) and in Linux's
// (who answers for a subnet's gateway, and whether that router routes on).
// Checked per equivalence class, never per pair: a VM's host and VSID
// decide everything but the last lookup, and every lookup record of every
// carrier is checked once in check_image.cpp; so per (host, VSID with a port)
// one packet to the gateway, one to each other VSID of the routing domain and
// one out through NAT.
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "compiler/verify/fabric.h"
#include "compiler/verify/follow.h"

namespace netdsl::verify {
namespace {

using runtime::tables::TraceEnd;

struct NatDuty {
  uint32_t host = 0;
  const ndt::NatEntry* entry = nullptr;
};

class Reachability {
 public:
  explicit Reachability(Fabric& fabric) : fabric_(fabric) {}

  void Prepare() {
    for (uint32_t h = 0; h < fabric_.hosts.size(); ++h) {
      const Host& host = fabric_.hosts[h];
      if (!host.image) continue;
      for (const ndt::NatEntry& n : host.image->nat()) nat_.emplace(n.rdid, NatDuty{h, &n});
      for (const ndt::SegmentEntry& s : host.image->segments()) prefixes_[s.rdid].insert(ToPrefix(s.prefix));
    }
    for (const auto& [rdid, duty] : nat_) {
      // An IPv4 address outside every subnet of the routing domain.
      for (const char* candidate : {"192.0.2.1", "198.51.100.1", "203.0.113.1", "8.8.8.8", "1.1.1.1", "9.9.9.9"}) {
        net::IpAddress a = *net::ParseIp(candidate);
        bool inside = false;
        for (const net::Prefix& p : prefixes_[rdid]) inside |= p.address.family == a.family && p.Contains(a);
        for (const ndt::Prefix& p : fabric_.hosts[duty.host].image->NatInside(*duty.entry))
          inside |= ToPrefix(p).address.family == a.family && ToPrefix(p).Contains(a);
        if (!inside) {
          outside_[rdid] = a;
          break;
        }
      }
    }
  }

  void Classes(uint32_t h) {
    const struct Host& host = fabric_.hosts[h];
    if (!host.image) return;
    for (const ndt::SegmentEntry& seg : host.image->segments()) {
      const ndt::PortEntry* port = nullptr;
      for (const ndt::PortEntry& p : host.image->ports())
        if (p.vsid == seg.vsid) {
          port = &p;
          break;
        }
      if (!port || !Virtualized(seg)) continue;  // VLAN subnets: the physical network routes (docs/verify.md)
      ScopeGuard scope({Scope::kRdid, seg.rdid});
      Tables(h, seg, *port);
      if (host.linux_ok) Linux(h, seg, *port);
    }
  }

  void Nat() {
    for (const auto& [rdid, duty] : nat_) {
      const struct Host& g = fabric_.hosts[duty.host];
      if (!g.linux_ok) continue;
      ScopeGuard scope({Scope::kRdid, rdid});
      const Image& img = *g.image;
      net::IpAddress ext = ToIp(duty.entry->external_ip);
      if (!ext.IsV4()) continue;  // the Linux backend translates IPv4 only
      std::string network = Q(img.String(duty.entry->vm_network));
      bool assigned = false;
      for (const auto& [ip, dev] : g.linux.addresses) assigned |= ip == ext;
      if (!assigned)
        fabric_.findings.Add({DiagKind::VerifyUnreachable, g.linux_path, 0, 0,
                              "nat of vm network " + network + " (rdid " + std::to_string(rdid) + ") translates to " +
                                  ext.ToString() + ", which is on no interface of host " + Q(g.name) +
                                  ": nothing answers for it, so no reply comes back",
                              {"1. host " + Q(g.name) + ": snat of " + network + " to " + ext.ToString(),
                               "2. the external network sends the reply to " + ext.ToString(),
                               "verdict: drop: host " + Q(g.name) + " has no interface with " + ext.ToString() +
                                   " (linux.yaml `addresses`), so it never receives the reply"}});
      for (const ndt::Prefix& inside : img.NatInside(*duty.entry)) {
        net::Prefix p = ToPrefix(inside);
        if (!p.address.IsV4()) continue;
        bool found = false;
        for (const SnatRule& r : g.linux.snat) found |= r.source == p.Canonical() && r.to == ext;
        if (!found)
          fabric_.findings.Add({DiagKind::VerifyUnreachable, g.linux_path, 0, 0,
                                "nat of vm network " + network + " in tables.ndt translates " + p.ToString() + " to " +
                                    ext.ToString() + ", which linux.yaml `nftables_nat` does not",
                                {}});
      }
    }
  }

 private:
  /// Reports once per `key`, as found from the first host `h` (in host
  /// order, not thread order: the same text every run); `path` builds the
  /// counterexample only when the finding can still be shown.
  void Add(uint32_t h, DiagKind kind, const std::string& file, std::string key,
           const std::function<std::string()>& message, const std::function<std::vector<std::string>()>& path) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pending_.find(key);
      if (it != pending_.end() && it->second.h <= h) return;
    }
    Pending p{h, {kind, file, 0, 0, {}, {}, CurrentScope()}};
    if (fabric_.findings.Counted(kind) < Findings::kPerKind) {  // else never shown (only counted)
      p.finding.message = message();
      p.finding.path = path();
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = pending_.emplace(std::move(key), p);
    if (!inserted && h < it->second.h) it->second = std::move(p);
  }

 public:
  /// The findings of Classes(), once every host is done: in key order.
  void Flush() {
    for (auto& [key, p] : pending_)
      if (!fabric_.findings.Full(p.finding.kind)) fabric_.findings.Add(std::move(p.finding));
    pending_.clear();
  }

 private:

  /// The first port (with an address of `family`) of each other VSID of the
  /// routing domain that the fabric promises host `h` reaches: one `h`
  /// carries, or any when the routing domain has a gateway (docs/ir.md,
  /// locality: without a gateway, a subnet the host does not carry is not
  /// routed from it).
  std::vector<PortRef> Targets(uint32_t h, uint32_t rdid, uint32_t except, uint8_t family) const {
    std::vector<PortRef> out;
    auto vsids = fabric_.vsids_by_rdid.find(rdid);
    if (vsids == fabric_.vsids_by_rdid.end()) return out;
    const Image& img = *fabric_.hosts[h].image;
    bool gateway = nat_.count(rdid) > 0;
    for (const ndt::RouteEntry& r : img.routes())
      gateway |= r.rdid == rdid && r.kind == uint8_t(ndt::RouteKind::kGateway);
    for (uint32_t v : vsids->second) {
      if (v == except || (!gateway && !img.FindSegment(v))) continue;
      auto ports = fabric_.ports_by_vsid.find(v);
      if (ports == fabric_.ports_by_vsid.end()) continue;
      for (const PortRef& q : ports->second)
        if (q.port->ca.family == family) {
          out.push_back(q);
          break;
        }
    }
    return out;
  }

  std::string From(uint32_t h, const ndt::PortEntry& p) const {
    const struct Host& host = fabric_.hosts[h];
    return PortName(*host.image, p) + " (port " + std::to_string(p.id) + " on host " + Q(host.name) + ", vsid " +
           std::to_string(p.vsid) + ")";
  }

  void Tables(uint32_t h, const ndt::SegmentEntry& seg, const ndt::PortEntry& port) {
    const struct Host& host = fabric_.hosts[h];
    if (seg.gateway.family != ndt::kFamilyNone) {
      net::IpAddress g = ToIp(seg.gateway);
      Followed f = Follow(fabric_, h, port.id, g, false);
      if (f.end.kind != TraceEnd::Kind::kRouter)
        Add(h, DiagKind::VerifyUnreachable, host.tables_path, "tgw " + std::to_string(h) + " " + std::to_string(seg.vsid),
            [&] { return "in the table images, " + From(h, port) + " does not reach its gateway " + g.ToString(); },
            [&] { return Follow(fabric_, h, port.id, g, true).hops; });
    }
    for (const PortRef& q : Targets(h, seg.rdid, seg.vsid, port.ca.family)) {
      net::IpAddress dst = ToIp(q.port->ca);
      Followed f = Follow(fabric_, h, port.id, dst, false);
      if (f.end.kind == TraceEnd::Kind::kDeliver && f.host == q.host && f.end.port_id == q.port->id) continue;
      Add(h, DiagKind::VerifyUnreachable, host.tables_path,
          "troute " + std::to_string(h) + " " + std::to_string(seg.vsid) + " " + std::to_string(q.port->vsid),
          [&] {
            return "in the table images, " + From(h, port) + " does not reach " + From(q.host, *q.port) +
                   " of the same routing domain (rdid " + std::to_string(seg.rdid) + ")";
          },
          [&] { return Follow(fabric_, h, port.id, dst, true).hops; });
    }
    if (auto out = outside_.find(seg.rdid); out != outside_.end() && port.ca.family == ndt::kFamilyV4) {
      Followed f = Follow(fabric_, h, port.id, out->second, false);
      if (f.end.kind != TraceEnd::Kind::kNat)
        Add(h, DiagKind::VerifyUnreachable, host.tables_path, "tnat " + std::to_string(h) + " " + std::to_string(seg.vsid),
            [&] {
              return "in the table images, " + From(h, port) + " does not get out through the nat of its vm network (to " +
                     out->second.ToString() + ")";
            },
            [&] { return Follow(fabric_, h, port.id, out->second, true).hops; });
    }
  }

  /// Where the router `router`'s VRF `vrf` sends `dst` when its longest
  /// match is a route via a gateway's customer address: the gateway host that
  /// holds that address in its VRF of the same routing domain, and that VRF
  /// (docs/verify.md "Gateway"); nullopt when the match is no such route.
  std::optional<std::pair<uint32_t, const LinuxVrf*>> ViaGateway(const LinuxVrf& vrf, const net::IpAddress& dst) const {
    const LinuxRoute* best = nullptr;
    for (const LinuxRoute& r : vrf.routes)
      if (r.dst.address.family == dst.family && r.dst.Contains(dst) && (!best || r.dst.length > best->dst.length))
        best = &r;
    if (!best || !best->via) return std::nullopt;
    auto gateways = fabric_.gateway_hosts.find(vrf.rdid);
    if (gateways == fabric_.gateway_hosts.end()) return std::nullopt;
    net::Prefix own{*best->via, uint8_t(best->via->Bits())};
    for (const std::string& name : gateways->second) {
      auto g = fabric_.host_by_name.find(name);
      if (g == fabric_.host_by_name.end() || !fabric_.hosts[g->second].linux_ok) continue;
      for (const LinuxVrf& v : fabric_.hosts[g->second].linux.vrfs) {
        if (v.rdid != vrf.rdid) continue;
        for (const LinuxRoute& r : v.routes)
          if (r.connected && r.dst == own) return std::make_pair(g->second, &v);
      }
    }
    return std::nullopt;
  }

  /// Hosts that answer for `g` in `vsid`: with linux.yaml, a bridge of the
  /// VSID holding `g`; without (Hyper-V), every carrier (a distributed router).
  std::vector<uint32_t> Owners(uint32_t vsid, const net::IpAddress& g) const {
    std::vector<uint32_t> owners;
    auto carriers = fabric_.carriers.find(vsid);
    if (carriers == fabric_.carriers.end()) return owners;
    for (const Carrier& c : carriers->second) {
      const struct Host& b = fabric_.hosts[c.host];
      if (!b.linux_ok) {
        if (b.linux_path.empty()) owners.push_back(c.host);
        continue;
      }
      auto ls = b.linux.segments.find(vsid);
      if (ls == b.linux.segments.end()) continue;
      if (std::find(ls->second.addresses.begin(), ls->second.addresses.end(), g) != ls->second.addresses.end())
        owners.push_back(c.host);
    }
    return owners;
  }

  void Linux(uint32_t h, const ndt::SegmentEntry& seg, const ndt::PortEntry& port) {
    const struct Host& host = fabric_.hosts[h];
    if (seg.gateway.family == ndt::kFamilyNone) return;  // no gateway: the subnet does not route
    net::IpAddress g = ToIp(seg.gateway);
    std::vector<PortRef> targets = Targets(h, seg.rdid, seg.vsid, port.ca.family);
    auto nat = nat_.find(seg.rdid);
    auto outside = outside_.find(seg.rdid);
    // A routing domain with nothing to route to (one subnet, no nat) needs no
    // router: its gateway address may go unanswered (docs/linux-backend.md).
    if (targets.empty() && (nat == nat_.end() || outside == outside_.end())) return;
    std::vector<uint32_t> owners = Owners(seg.vsid, g);
    std::string gw = g.ToString();
    if (owners.empty()) {
      Add(h, DiagKind::VerifyUnreachable, host.linux_path, "lgw " + std::to_string(seg.vsid),
          [&] {
            return "in linux.yaml, no host answers for " + gw + ", the gateway of vsid " + std::to_string(seg.vsid) +
                   ": no bridge of the vsid has the address (only a host with a vrf for the routing domain gets it)";
          },
          [&] {
            return std::vector<std::string>{
                "1. host " + Q(host.name) + ": " + PortName(*host.image, port) + " (port " + std::to_string(port.id) +
                    ") asks for " + gw + " (ARP), which is flooded to every host carrying vsid " +
                    std::to_string(seg.vsid),
                "verdict: drop: no bridge of vsid " + std::to_string(seg.vsid) + " on any host has " + gw};
          });
      return;
    }
    // A host with the gateway answers its own VMs (anycast); otherwise any owner may.
    std::vector<uint32_t> routers =
        std::find(owners.begin(), owners.end(), h) != owners.end() ? std::vector<uint32_t>{h} : owners;
    for (uint32_t x : routers) {
      const struct Host& router = fabric_.hosts[x];
      if (!router.linux_ok) continue;  // Hyper-V routes with the tables
      const LinuxSegment& ls = router.linux.segments.at(seg.vsid);
      const LinuxVrf* vrf = nullptr;
      for (const LinuxVrf& v : router.linux.vrfs)
        if (v.name == ls.vrf) vrf = &v;
      if (!vrf) continue;
      auto prefix = [&](std::vector<std::string>& hops) {
        hops.push_back("1. host " + Q(host.name) + ": " + From(h, port) + " sends through its gateway " + gw);
        hops.push_back("2. host " + Q(router.name) + ": bridge " + Q(ls.bridge) + " answers for " + gw +
                       (x == h ? "" : " (over the tunnel: the anycast gateway)") + " in vrf " + Q(vrf->name) +
                       " (table " + std::to_string(vrf->table) + ")");
      };
      for (const PortRef& q : targets) {
        net::IpAddress dst = ToIp(q.port->ca);
        auto target = router.linux.segments.find(q.port->vsid);
        bool ok = false;
        for (const LinuxRoute& r : vrf->routes)
          ok |= r.dst.address.family == dst.family && r.dst.Contains(dst) && target != router.linux.segments.end() &&
                r.dev == target->second.bridge;
        // Or one hop on: via the gateway's CA to the gateway host, which routes it onto the target's bridge.
        if (auto via = ViaGateway(*vrf, dst); !ok && via) {
          const struct Host& gwh = fabric_.hosts[via->first];
          auto there = gwh.linux.segments.find(q.port->vsid);
          for (const LinuxRoute& r : via->second->routes)
            ok |= r.dst.address.family == dst.family && r.dst.Contains(dst) && there != gwh.linux.segments.end() &&
                  r.dev == there->second.bridge;
        }
        if (ok) continue;
        Add(h, DiagKind::VerifyUnreachable, router.linux_path,
            "lroute " + std::to_string(x) + " " + std::to_string(seg.rdid) + " " + std::to_string(seg.vsid) + " " +
                std::to_string(q.port->vsid),
            [&] {
              return "in linux.yaml, host " + Q(router.name) + " routes vsid " + std::to_string(seg.vsid) + " (rdid " +
                     std::to_string(seg.rdid) + ") but not to vsid " + std::to_string(q.port->vsid) +
                     " of the same routing domain: " + From(h, port) + " does not reach " + From(q.host, *q.port);
            },
            [&] {
              std::vector<std::string> hops;
              prefix(hops);
              hops.push_back("3. table " + std::to_string(vrf->table) + " has no route to " + dst.ToString() +
                             " on a bridge of vsid " + std::to_string(q.port->vsid) +
                             (target == router.linux.segments.end()
                                  ? " (host " + Q(router.name) + " does not carry it)"
                                  : ""));
              hops.push_back(x == h ? "4. the routing-domain guard of the port drops what its host does not route "
                                      "(input chain)"
                                    : "4. the lookup falls through to host " + Q(router.name) +
                                          "'s main table, which does not lead back into the routing domain");
              hops.push_back("verdict: drop: " + From(q.host, *q.port) + " is not reached");
              return hops;
            });
      }
      // The NAT host translates what reaches its VRF (Nat() checks that VRF's way out).
      if (auto via = outside != outside_.end() ? ViaGateway(*vrf, outside->second) : std::nullopt;
          via && nat != nat_.end() && via->first == nat->second.host)
        continue;
      if (nat != nat_.end() && outside != outside_.end() && x != nat->second.host && port.ca.family == ndt::kFamilyV4) {
        const struct Host& gwh = fabric_.hosts[nat->second.host];
        Add(h, DiagKind::VerifyUnreachable, router.linux_path,
            "lnat " + std::to_string(x) + " " + std::to_string(seg.rdid),
            [&] {
              return "in linux.yaml, host " + Q(router.name) + " routes rdid " + std::to_string(seg.rdid) +
                     " but sends nothing to its nat gateway " + Q(gwh.name) + ": " + From(h, port) +
                     " does not get out through nat";
            },
            [&] {
              std::vector<std::string> hops;
              prefix(hops);
              hops.push_back("3. table " + std::to_string(vrf->table) + " has no route to " +
                             outside->second.ToString() + " towards the nat gateway, host " + Q(gwh.name));
              hops.push_back(x == h ? "4. the routing-domain guard of the port drops it (input chain)"
                                    : "4. the lookup falls through to host " + Q(router.name) +
                                          "'s main table: the packet leaves untranslated, or not at all");
              hops.push_back("verdict: drop: not translated by the nat of host " + Q(gwh.name));
              return hops;
            });
      }
    }
  }

  Fabric& fabric_;
  std::multimap<uint32_t, NatDuty> nat_;
  std::map<uint32_t, std::set<net::Prefix>> prefixes_;
  std::map<uint32_t, net::IpAddress> outside_;
  struct Pending {
    uint32_t h;
    Finding finding;
  };
  std::mutex mu_;
  std::map<std::string, Pending> pending_;
};

}  // namespace

void CheckReachability(Fabric& fabric, unsigned jobs) {
  Reachability r(fabric);
  r.Prepare();
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < fabric.hosts.size();) r.Classes(uint32_t(i));
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs && t < fabric.hosts.size(); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  r.Flush();
  r.Nat();
}

}  // namespace netdsl::verify
