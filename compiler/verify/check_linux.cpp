// One host's linux.yaml against its table image (agreement, d): the same
// ports in the same bridges, a tunnel per carried VSID, an FDB and neighbour
// entry per remote lookup record and nothing else, the image's on-link routes
// in the VRF. And the host's VRFs (isolation at layer 3, a): no route, and no
// fall-through to the main table, leads from one routing domain into another.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "compiler/verify/check_host.h"

namespace netdsl::verify {
namespace {

using runtime::HostState;
using runtime::Link;

uint32_t NvgreKey(uint32_t vsid) { return vsid << 8; }  // RFC 7637: VSID in the upper 24 bits

/// Some address of `p` no prefix of `covered` contains, if any.
std::optional<net::IpAddress> Uncovered(const net::Prefix& p, const std::vector<LinuxRoute>& covered) {
  std::vector<net::IpAddress> candidates{p.First()};
  for (const LinuxRoute& c : covered) {
    if (c.dst.address.family != p.address.family || c.dst.length == 0) continue;
    net::IpAddress after = c.dst.Last().Plus(1);
    if (after > c.dst.Last() && p.Contains(after)) candidates.push_back(after);
  }
  for (const net::IpAddress& a : candidates) {
    bool hit = false;
    for (const LinuxRoute& c : covered) hit |= c.dst.address.family == a.family && c.dst.Contains(a);
    if (!hit) return a;
  }
  return std::nullopt;
}

bool Covers(const std::vector<LinuxRoute>& routes, const net::IpAddress& a) {
  for (const LinuxRoute& r : routes)
    if (r.dst.address.family == a.family && r.dst.Contains(a)) return true;
  return false;
}

/// `iifname "P" ip daddr != A ... drop` in the input chain: the routing-domain
/// guard of port P, with the prefixes it lets through.
std::unordered_map<std::string, std::vector<net::Prefix>> RoutingDomainGuards(const HostState& st) {
  std::unordered_map<std::string, std::vector<net::Prefix>> guards;
  for (const runtime::NftRule& r : st.nft.rules) {
    if (r.chain != "input" || r.rule.rfind("iifname \"", 0) != 0 || r.rule.find(" daddr != ") == std::string::npos ||
        r.rule.size() < 5 || r.rule.compare(r.rule.size() - 5, 5, " drop") != 0)
      continue;
    size_t q = r.rule.find('"', 9);
    if (q == std::string::npos) continue;
    std::string port = r.rule.substr(9, q - 9);
    std::vector<net::Prefix>& allowed = guards[port];
    for (size_t at = r.rule.find(" daddr != ", q); at != std::string::npos; at = r.rule.find(" daddr != ", at + 1)) {
      size_t b = at + 10, e = r.rule.find(' ', b);
      if (auto p = net::ParsePrefix(r.rule.substr(b, e - b))) allowed.push_back(*p);
    }
  }
  return guards;
}

class LinuxChecker {
 public:
  LinuxChecker(Fabric& fabric, uint32_t h, const HostState& st)
      : fabric_(fabric), h_(h), host_(fabric.hosts[h]), img_(*host_.image), st_(st) {}

  void Run() {
    for (size_t i = 0; i < st_.links.size(); ++i) {
      links_[st_.links[i].name] = i;
      if (!st_.links[i].master.empty()) members_[st_.links[i].master].push_back(i);
    }
    // Per device, sorted (a host has thousands of entries; no node per entry).
    for (const runtime::FdbEntry& e : st_.fdb) fdb_[e.dev].push_back({e.mac, e.dst});
    for (const runtime::Neighbour& n : st_.neighbours) neighbours_[n.dev].push_back({n.address, n.mac});
    for (auto& [dev, list] : fdb_) std::sort(list.begin(), list.end());
    for (auto& [dev, list] : neighbours_) std::sort(list.begin(), list.end());
    for (const ndt::CaSlot& s : img_.ca_slots())
      if (s.flags & ndt::kSlotOccupied) records_[s.vsid].push_back(&s);
    Ports();
    Segments();
    Vrfs();
    Nat();
    guards_ = RoutingDomainGuards(st_);
    Leaks();
    Layer2();
    Uplinks();
    for (const runtime::Address& a : st_.addresses) host_.linux.addresses.push_back({a.address, a.dev});
  }

 private:
  void Add(DiagKind kind, int line, std::string message, std::vector<std::string> path = {}) {
    fabric_.findings.Add({kind, host_.linux_path, line, line ? 3 : 0, std::move(message), std::move(path)});
  }
  const Link* FindLink(const std::string& name) const {
    auto it = links_.find(name);
    return it == links_.end() ? nullptr : &st_.links[it->second];
  }
  /// The VRF a device routes in: itself, or its master.
  std::string VrfOf(const std::string& dev) const {
    const Link* l = FindLink(dev);
    if (!l) return "";
    if (l->kind == "vrf") return l->name;
    const Link* m = FindLink(l->master);
    return m && m->kind == "vrf" ? m->name : "";
  }

  void Ports() {
    std::unordered_set<std::string_view> port_names;
    port_names.reserve(img_.ports().size());
    for (const ndt::PortEntry& port : img_.ports()) {
      std::string ifname(img_.String(port.ifname));
      port_names.insert(img_.String(port.ifname));
      // Named only in a finding (not built for each of a million ports).
      auto who = [&] { return "port " + std::to_string(port.id) + " (" + PortName(img_, port) + ")"; };
      const Link* l = FindLink(ifname);
      if (!l) {
        Add(DiagKind::VerifyDisagreement, 0, who() + " of tables.ndt has no link " + Q(ifname) + " in linux.yaml");
        continue;
      }
      int line = l->loc.line;
      if (l->kind != "veth") {
        Add(DiagKind::VerifyDisagreement, line, who() + " is link " + Q(ifname) + " of kind `" + l->kind +
                                                    "` in linux.yaml, not a veth");
        continue;
      }
      net::MacAddress mac = ToMac(port.mac);
      if (!l->veth_peer_mac || *l->veth_peer_mac != mac)
        Add(DiagKind::VerifyDisagreement, line,
            who() + " has mac " + mac.ToString() + " in tables.ndt but " +
                (l->veth_peer_mac ? l->veth_peer_mac->ToString() : std::string("none")) + " in linux.yaml");
      if (port.mtu && l->veth_peer_mtu && l->veth_peer_mtu != port.mtu)
        Add(DiagKind::VerifyDisagreement, line,
            who() + " has mtu " + std::to_string(port.mtu) + " in tables.ndt but " + std::to_string(l->veth_peer_mtu) +
                " in linux.yaml");
      if (port.vsid == 0) continue;
      const ndt::SegmentEntry* seg = img_.FindSegment(port.vsid);
      if (!seg || !OwnBridge(*seg)) continue;
      std::string bridge(img_.String(seg->bridge_ifname));
      if (l->master != bridge)
        Add(DiagKind::VerifyDisagreement, line,
            who() + " is in vsid " + std::to_string(port.vsid) + " (bridge " + Q(bridge) + ") in tables.ndt, but " +
                Q(ifname) + " is " + (l->master.empty() ? "in no bridge" : "in " + Q(l->master)) + " in linux.yaml");
    }
    // A veth whose peer is on an owned bridge is a routing domain's NAT veth (Nat() checks it).
    for (const Link& l : st_.links)
      if (l.kind == "veth" && !port_names.count(l.name) && l.veth_peer_master.empty())
        Add(DiagKind::VerifyDisagreement, l.loc.line,
            "veth " + Q(l.name) + " (a VM port) in linux.yaml is no port of tables.ndt");
  }

  /// Segments with a bridge of their own (the others share the switch's bridge).
  static bool OwnBridge(const ndt::SegmentEntry& seg) {
    auto iso = ndt::Isolation(seg.isolation);
    return iso == ndt::Isolation::kVxlan || iso == ndt::Isolation::kNvgre ||
           (iso == ndt::Isolation::kVlan && seg.vlan != 0);
  }

  void Segments() {
    for (const ndt::SegmentEntry& seg : img_.segments()) {
      if (!OwnBridge(seg)) continue;
      std::string what = "vsid " + std::to_string(seg.vsid);
      std::string bridge(img_.String(seg.bridge_ifname));
      const Link* b = FindLink(bridge);
      if (!b || b->kind != "bridge") {
        Add(DiagKind::VerifyDisagreement, b ? b->loc.line : 0,
            what + " has bridge " + Q(bridge) + " in tables.ndt, which linux.yaml " +
                (b ? "has as a `" + b->kind + "`" : "lacks"));
        continue;
      }
      LinuxSegment ls;
      ls.bridge = bridge;
      ls.bridge_line = b->loc.line;
      if (const Link* m = FindLink(b->master); m && m->kind == "vrf") ls.vrf = m->name, ls.vrf_table = m->vrf_table;
      for (const runtime::Address& a : st_.addresses)
        if (a.dev == bridge) ls.addresses.push_back(a.address);
      net::IpAddress local = ToIp(seg.local_pa);
      auto iso = ndt::Isolation(seg.isolation);
      for (size_t idx : members_[bridge]) {
        const Link& t = st_.links[idx];
        TunnelPort tp;
        tp.name = t.name;
        tp.line = t.loc.line;
        tp.isolated = t.isolated;  // links[].isolated: bridge port isolation (split horizon between tunnels)
        if (t.kind == "veth") continue;
        if (t.kind == "vxlan") {
          tp.kind = TunnelPort::Kind::kVxlan;
          tp.id = t.vxlan_id;
          tp.local = t.vxlan_local.value_or(net::IpAddress{});
          if (auto it = fdb_.find(t.name); it != fdb_.end())
            for (const auto& [mac, dst] : it->second)
              if (mac.IsZero()) tp.flood.push_back(dst);
          if (iso != ndt::Isolation::kVxlan || tp.id != seg.vsid || tp.local != local)
            Add(DiagKind::VerifyDisagreement, t.loc.line,
                "vxlan " + Q(t.name) + " in bridge " + Q(bridge) + " has id " + std::to_string(tp.id) + " local " +
                    tp.local.ToString() + "; tables.ndt has " + what + " as " +
                    (iso == ndt::Isolation::kVxlan ? "vxlan id " + std::to_string(seg.vsid) + " from pa " +
                                                         local.ToString()
                                                   : std::string("another isolation")));
        } else if (t.kind == "gretap") {
          tp.kind = TunnelPort::Kind::kGretap;
          tp.id = t.gretap_key;
          tp.local = t.gretap_local.value_or(net::IpAddress{});
          tp.remote = t.gretap_remote;
          if (tp.remote) tp.flood.push_back(*tp.remote);
          if (iso != ndt::Isolation::kNvgre || tp.id != NvgreKey(seg.vsid) || tp.local != local)
            Add(DiagKind::VerifyDisagreement, t.loc.line,
                "gretap " + Q(t.name) + " in bridge " + Q(bridge) + " has key " + std::to_string(tp.id) +
                    " local " + tp.local.ToString() + "; tables.ndt has " + what + " as " +
                    (iso == ndt::Isolation::kNvgre ? "nvgre key " + std::to_string(NvgreKey(seg.vsid)) +
                                                         " from pa " + local.ToString()
                                                   : std::string("another isolation")));
        } else if (t.kind == "vlan") {
          tp.kind = TunnelPort::Kind::kVlan;
          tp.id = t.vlan_id;
          if (iso != ndt::Isolation::kVlan || tp.id != seg.vlan)
            Add(DiagKind::VerifyDisagreement, t.loc.line,
                "vlan device " + Q(t.name) + " (vlan " + std::to_string(tp.id) + ") is in bridge " + Q(bridge) +
                    " of " + what + ", which tables.ndt has on vlan " + std::to_string(seg.vlan));
        } else {
          Add(DiagKind::VerifyDisagreement, t.loc.line,
              "bridge " + Q(bridge) + " of " + what + " has member " + Q(t.name) + " of kind `" + t.kind +
                  "`, which carries no VSID");
          continue;
        }
        ls.tunnels.push_back(std::move(tp));
      }
      for (TunnelPort& tp : ls.tunnels) {
        std::sort(tp.flood.begin(), tp.flood.end());
        tp.flood.erase(std::unique(tp.flood.begin(), tp.flood.end()), tp.flood.end());
      }
      if (iso == ndt::Isolation::kVxlan || iso == ndt::Isolation::kNvgre) {
        Records(seg, ls);
        BridgeNeighbours(seg, ls);
      }
      host_.linux.segments[seg.vsid] = std::move(ls);
    }
  }

  /// Remote lookup records ↔ FDB and neighbour entries on the VSID's tunnels.
  void Records(const ndt::SegmentEntry& seg, const LinuxSegment& ls) {
    bool vxlan = ndt::Isolation(seg.isolation) == ndt::Isolation::kVxlan;
    net::IpAddress local = ToIp(seg.local_pa);
    std::set<std::string> tunnels;
    for (const TunnelPort& t : ls.tunnels)
      if (t.kind != TunnelPort::Kind::kVlan) tunnels.insert(t.name);
    auto has_fdb = [&](const net::MacAddress& mac, const net::IpAddress& pa) {
      for (const std::string& t : tunnels)
        if (auto it = fdb_.find(t);
            it != fdb_.end() && std::binary_search(it->second.begin(), it->second.end(), std::make_pair(mac, pa)))
          return true;
      return false;
    };
    auto has_neighbour = [&](const net::IpAddress& ca, const net::MacAddress& mac) {
      for (const std::string& t : tunnels)
        if (auto it = neighbours_.find(t);
            it != neighbours_.end() && std::binary_search(it->second.begin(), it->second.end(), std::make_pair(ca, mac)))
          return true;
      return false;
    };
    std::string what = "vsid " + std::to_string(seg.vsid);
    size_t reported = 0;
    for (const ndt::CaSlot* s : records_[seg.vsid]) {
      net::IpAddress pa = ToIp(s->pa_family, s->pa), ca = ToIp(s->ca_family, s->ca);
      if ((s->flags & ndt::kSlotLocal) || pa == local) continue;
      net::MacAddress mac = ToMac(s->mac);
      auto rec = [&] {
        return "the lookup record (" + what + ", " + ca.ToString() + ") of vm " + Q(img_.String(s->vm)) + " nic " +
               Q(img_.String(s->nic)) + " (mac " + mac.ToString() + ", pa " + pa.ToString() + ")";
      };
      if (vxlan && !has_fdb(mac, pa) && reported++ < 3)
        Add(DiagKind::VerifyDisagreement, ls.bridge_line, rec() + " has no fdb entry on the vsid's vxlan device");
      if (s->ca_family != ndt::kFamilyNone && !has_neighbour(ca, mac) && reported++ < 3)
        Add(DiagKind::VerifyDisagreement, ls.bridge_line, rec() + " has no neighbour entry on the vsid's tunnels");
    }
    // And nothing the image does not have.
    for (const std::string& t : tunnels) {
      if (auto it = fdb_.find(t); it != fdb_.end())
        for (const auto& [mac, dst] : it->second) {
          if (mac.IsZero()) continue;
          const ndt::MacSlot* m = img_.LookupMac(seg.vsid, mac.bytes.data());
          if (!m || ToIp(m->pa_family, m->pa) != dst)
            Add(DiagKind::VerifyDisagreement, Line(st_.fdb, t, mac),
                "fdb entry " + mac.ToString() + " → " + dst.ToString() + " on " + Q(t) + " (" + what + ") " +
                    (m ? "says pa " + dst.ToString() + ", tables.ndt " + ToIp(m->pa_family, m->pa).ToString()
                       : "has no lookup record in tables.ndt"));
        }
      if (auto it = neighbours_.find(t); it != neighbours_.end())
        for (const auto& [ca, mac] : it->second) {
          const ndt::CaSlot* r = img_.LookupCa(seg.vsid, ca.IsV4() ? ndt::kFamilyV4 : ndt::kFamilyV6, ca.bytes.data());
          if (!r || ToMac(r->mac) != mac)
            Add(DiagKind::VerifyDisagreement, 0,
                "neighbour " + ca.ToString() + " → " + mac.ToString() + " on " + Q(t) + " (" + what + ") " +
                    (r ? "has mac " + ToMac(r->mac).ToString() + " in tables.ndt" : "has no lookup record in tables.ndt"));
        }
    }
  }

  /// A host that routes a virtualized subnet (its bridge holds the subnet's
  /// gateway) keeps each remote VM of the subnet as a permanent neighbour on
  /// that bridge (backends/linux MapRemoteNics): it cannot resolve them by
  /// ARP, since the VM answers to the anycast gateway MAC, which the VM's own
  /// host keeps when it routes the subnet too. Every remote lookup record has
  /// its neighbour there, and every neighbour on a segment's bridge is a
  /// lookup record of the segment with the record's MAC.
  void BridgeNeighbours(const ndt::SegmentEntry& seg, const LinuxSegment& ls) {
    net::IpAddress gateway = ToIp(seg.gateway), local = ToIp(seg.local_pa);
    bool routes = seg.gateway.family != ndt::kFamilyNone &&
                  std::find(ls.addresses.begin(), ls.addresses.end(), gateway) != ls.addresses.end();
    auto entries = neighbours_.find(ls.bridge);
    std::string vsid = "vsid " + std::to_string(seg.vsid);
    std::string router = "host " + Q(host_.name) + ": " +
                         (ls.vrf.empty() ? std::string("the main table") : "vrf " + Q(ls.vrf) + " (table " +
                                                                                 std::to_string(ls.vrf_table) + ")");
    auto vm = [&](const ndt::CaSlot& s) {
      return "vm " + Q(img_.String(s.vm)) + " nic " + Q(img_.String(s.nic)) + " on host " + Q(img_.String(s.host));
    };
    if (routes)
      for (const ndt::CaSlot* s : records_[seg.vsid]) {
        net::IpAddress pa = ToIp(s->pa_family, s->pa), ca = ToIp(s->ca_family, s->ca);
        if ((s->flags & ndt::kSlotLocal) || pa == local || s->ca_family == ndt::kFamilyNone) continue;
        if (entries != neighbours_.end()) {
          auto at = std::lower_bound(entries->second.begin(), entries->second.end(),
                                     std::make_pair(ca, net::MacAddress{}));
          if (at != entries->second.end() && at->first == ca) continue;  // present (a wrong MAC is reported below)
        }
        if (fabric_.findings.Full(DiagKind::VerifyDisagreement)) return;
        const Host* owner = fabric_.HostByPa(pa);
        bool owner_routes = false;
        if (owner && owner->image)
          if (const ndt::SegmentEntry* there = owner->image->FindSegment(seg.vsid);
              there && there->gateway.family != ndt::kFamilyNone)
            for (const ndt::RouteDomainEntry& rd : owner->image->route_domains())
              owner_routes |= rd.rdid == seg.rdid && !owner->image->String(rd.vrf_ifname).empty();
        std::string owner_name = owner ? Q(owner->name) : "at pa " + pa.ToString();
        Add(DiagKind::VerifyDisagreement, ls.bridge_line,
            "bridge " + Q(ls.bridge) + " routes " + vsid + " (it holds the gateway " + gateway.ToString() +
                ") but has no neighbour entry for " + ca.ToString() + " (" + vm(*s) + ", mac " +
                ToMac(s->mac).ToString() + ") in linux.yaml",
            {"1. " + router + " routes a packet for " + ca.ToString() + " (" + vm(*s) + ") out of bridge " +
                 Q(ls.bridge) + ", which holds the gateway " + gateway.ToString(),
             "2. host " + Q(host_.name) + ": bridge " + Q(ls.bridge) + " has no neighbour entry for " +
                 ca.ToString() + ": the kernel asks for its mac by ARP through the tunnels of " + vsid,
             owner_routes ? "3. host " + owner_name + ": vm " + Q(img_.String(s->vm)) + " answers to " +
                                gateway.ToString() + "'s anycast gateway mac, which host " + owner_name +
                                " owns too (it routes " + vsid + "): the answer stays there"
                          : "3. host " + owner_name + " does not route " + vsid +
                                ": the answer comes back through the tunnel",
             owner_routes ? "verdict: drop: host " + Q(host_.name) + " never learns the mac of " + ca.ToString() +
                                ", and what it routes to it is lost"
                          : "verdict: resolved by ARP, but linux.yaml lacks the neighbour tables.ndt has"});
      }
    if (entries == neighbours_.end()) return;
    for (const auto& [ca, mac] : entries->second) {
      const ndt::CaSlot* r = img_.LookupCa(seg.vsid, ca.IsV4() ? ndt::kFamilyV4 : ndt::kFamilyV6, ca.bytes.data());
      if (r && ToMac(r->mac) == mac) continue;
      if (fabric_.findings.Full(DiagKind::VerifyDisagreement)) return;
      int line = 0;
      for (const runtime::Neighbour& n : st_.neighbours)
        if (n.dev == ls.bridge && n.address == ca && n.mac == mac) line = n.loc.line;
      const ndt::CaSlot* holder = nullptr;  // the VM of the segment that has `mac`
      for (const ndt::CaSlot* s : records_[seg.vsid])
        if (ToMac(s->mac) == mac) holder = s;
      std::vector<std::string> hops = {"1. " + router + " routes a packet for " + ca.ToString() +
                                       (r ? " (" + vm(*r) + ")" : std::string()) + " out of bridge " +
                                       Q(ls.bridge) + " to mac " + mac.ToString() + " (linux.yaml line " +
                                       std::to_string(line) + ")"};
      if (r)
        hops.push_back("2. tables.ndt: lookup record (" + vsid + ", " + ca.ToString() + ") has mac " +
                       ToMac(r->mac).ToString());
      else
        hops.push_back("2. tables.ndt: " + vsid + " has no lookup record for " + ca.ToString());
      if (holder)
        hops.push_back("verdict: delivered to " + vm(*holder) + (r ? " instead of vm " + Q(img_.String(r->vm)) : ""));
      else
        hops.push_back("verdict: drop: no vm of " + vsid + " has mac " + mac.ToString());
      Add(DiagKind::VerifyDisagreement, line,
          "neighbour " + ca.ToString() + " → " + mac.ToString() + " on bridge " + Q(ls.bridge) + " (" + vsid + ") " +
              (r ? "has mac " + ToMac(r->mac).ToString() + " in tables.ndt" : "has no lookup record in tables.ndt"),
          std::move(hops));
    }
  }

  static int Line(const std::vector<runtime::FdbEntry>& fdb, const std::string& dev, const net::MacAddress& mac) {
    for (const runtime::FdbEntry& e : fdb)
      if (e.dev == dev && e.mac == mac) return e.loc.line;
    return 0;
  }

  void Vrfs() {
    for (const Link& l : st_.links) {
      if (l.kind != "vrf") continue;
      LinuxVrf v;
      v.name = l.name;
      v.table = l.vrf_table;
      v.line = l.loc.line;
      for (const auto& [vsid, ls] : host_.linux.segments) {
        if (ls.vrf != l.name) continue;
        const ndt::SegmentEntry* seg = img_.FindSegment(vsid);
        if (!seg) continue;
        if (v.rdid && v.rdid != seg->rdid)
          Add(DiagKind::VerifyIsolation, l.loc.line,
              "vrf " + Q(l.name) + " routes between rdid " + std::to_string(v.rdid) + " and rdid " +
                  std::to_string(seg->rdid) + " (bridge " + Q(ls.bridge) + " of vsid " + std::to_string(vsid) + ")");
        else
          v.rdid = seg->rdid;
      }
      if (!v.rdid)
        for (const ndt::RouteDomainEntry& rd : img_.route_domains())
          if (img_.String(rd.vrf_ifname) == l.name) v.rdid = rd.rdid;
      for (const runtime::Route& r : st_.routes)
        if (r.table == v.table) v.routes.push_back({r.dst.Canonical(), r.dev, false, r.loc.line, r.via});
      for (const runtime::Address& a : st_.addresses)
        if (VrfOf(a.dev) == l.name)
          v.routes.push_back({net::Prefix{a.address, a.prefix_length}.Canonical(), a.dev, true, a.loc.line});
      host_.linux.vrfs.push_back(std::move(v));
    }
    // The image's on-link routes are in the VRF of their routing domain.
    std::map<uint32_t, size_t> onlink_per_rdid;
    for (const ndt::RouteEntry& route : img_.routes()) {
      if (route.kind != uint8_t(ndt::RouteKind::kOnLink)) continue;
      ++onlink_per_rdid[route.rdid];
      auto ls = host_.linux.segments.find(route.vsid);
      if (ls == host_.linux.segments.end() || ls->second.vrf.empty()) continue;
      const LinuxVrf* vrf = FindVrf(ls->second.vrf);
      net::Prefix p = ToPrefix(route.prefix).Canonical();
      bool found = false;
      for (const LinuxRoute& r : vrf->routes) found |= r.dst == p && r.dev == ls->second.bridge;
      if (!found)
        Add(DiagKind::VerifyDisagreement, vrf->line,
            "route rdid " + std::to_string(route.rdid) + " " + p.ToString() + " on-link vsid " +
                std::to_string(route.vsid) + " of tables.ndt is not in vrf " + Q(vrf->name) + " (table " +
                std::to_string(vrf->table) + ") via " + Q(ls->second.bridge) + " in linux.yaml");
    }
    // And the VRFs route nothing into a segment bridge that the image does not.
    std::map<std::string, uint32_t> vsid_of_bridge;
    for (const auto& [vsid, ls] : host_.linux.segments) vsid_of_bridge[ls.bridge] = vsid;
    for (const LinuxVrf& v : host_.linux.vrfs)
      for (const LinuxRoute& r : v.routes) {
        auto b = vsid_of_bridge.find(r.dev);
        if (b == vsid_of_bridge.end()) continue;
        bool found = false;
        for (const ndt::RouteEntry& route : img_.routes())
          found |= route.rdid == v.rdid && route.vsid == b->second && ToPrefix(route.prefix).Canonical() == r.dst &&
                   (route.kind == uint8_t(ndt::RouteKind::kOnLink)
                        ? !r.via
                        : r.via && route.next_hop.family != ndt::kFamilyNone && *r.via == ToIp(route.next_hop));
        if (!found)
          Add(DiagKind::VerifyDisagreement, r.line,
              std::string(r.connected ? "connected route " : "route ") + r.dst.ToString() + " via " + Q(r.dev) +
                  " in vrf " + Q(v.name) + " (table " + std::to_string(v.table) +
                  ") of linux.yaml is no on-link route of rdid " + std::to_string(v.rdid) + " vsid " +
                  std::to_string(b->second) + " in tables.ndt");
      }
    // The image's gateway routes are in the VRF too, via the same next hop on
    // that subnet's bridge (without a VRF the host routes nothing: layer 2).
    for (const ndt::RouteEntry& route : img_.routes()) {
      if (route.kind != uint8_t(ndt::RouteKind::kGateway) || route.next_hop.family == ndt::kFamilyNone) continue;
      auto ls = host_.linux.segments.find(route.vsid);
      if (ls == host_.linux.segments.end() || ls->second.vrf.empty()) continue;
      const LinuxVrf* vrf = FindVrf(ls->second.vrf);
      net::Prefix p = ToPrefix(route.prefix).Canonical();
      net::IpAddress next = ToIp(route.next_hop);
      bool found = false;
      for (const LinuxRoute& r : vrf->routes) found |= r.dst == p && r.dev == ls->second.bridge && r.via == next;
      if (!found)
        Add(DiagKind::VerifyDisagreement, vrf->line,
            "route rdid " + std::to_string(route.rdid) + " " + p.ToString() + " via " + next.ToString() +
                " of tables.ndt is not in vrf " + Q(vrf->name) + " (table " + std::to_string(vrf->table) + ") via " +
                next.ToString() + " on " + Q(ls->second.bridge) + " in linux.yaml");
    }
    for (const auto& [rdid, count] : onlink_per_rdid) {
      if (count < 2) continue;
      bool routed = false;
      for (const LinuxVrf& v : host_.linux.vrfs) routed |= v.rdid == rdid;
      size_t bridged = 0;
      for (const auto& [vsid, ls] : host_.linux.segments)
        if (const ndt::SegmentEntry* seg = img_.FindSegment(vsid); seg && seg->rdid == rdid) ++bridged;
      if (!routed && bridged >= 2)
        Add(DiagKind::VerifyDisagreement, 0,
            "tables.ndt routes between " + std::to_string(count) + " subnets of rdid " + std::to_string(rdid) +
                " on this host, but linux.yaml has no vrf for them");
    }
  }

  const LinuxVrf* FindVrf(const std::string& name) const {
    for (const LinuxVrf& v : host_.linux.vrfs)
      if (v.name == name) return &v;
    return nullptr;
  }

  /// `iifname "D" ct zone set N` rules of prerouting chains that run before
  /// conntrack (priority < -200): device → zone.
  std::map<std::string, uint32_t> CtZones() const {
    std::map<std::string, uint32_t> zones;
    std::set<std::string> raw;
    for (const runtime::NftChain& c : st_.nft_nat.chains)
      if (c.hook == "prerouting" && c.priority < -200) raw.insert(c.name);
    for (const runtime::NftRule& r : st_.nft_nat.rules) {
      if (!raw.count(r.chain)) continue;
      size_t i = r.rule.find("iifname \""), z = r.rule.find(" ct zone set ");
      if (i == std::string::npos || z == std::string::npos) continue;
      size_t b = i + 9, e = r.rule.find('"', b);
      if (e == std::string::npos) continue;
      zones[r.rule.substr(b, e - b)] = static_cast<uint32_t>(std::strtoul(r.rule.c_str() + z + 13, nullptr, 10));
    }
    return zones;
  }

  /// A veth of this gateway host in a VRF that holds one of its own gateway
  /// customer addresses (a lookup record without vm and nic naming this host),
  /// with its peer on that subnet's bridge (docs/verify.md "Gateway").
  bool GatewayDevice(const Link& l) const {
    if (l.kind != "veth" || l.master.empty() || l.veth_peer_master.empty()) return false;
    for (const auto& [vsid, ls] : host_.linux.segments) {
      if (ls.bridge != l.veth_peer_master || ls.vrf != l.master) continue;
      for (const runtime::Address& a : st_.addresses) {
        if (a.dev != l.name) continue;
        const ndt::CaSlot* rec =
            img_.LookupCa(vsid, a.address.IsV4() ? ndt::kFamilyV4 : ndt::kFamilyV6, a.address.bytes.data());
        if (rec && img_.String(rec->vm).empty() && img_.String(rec->nic).empty() && img_.String(rec->host) == host_.name &&
            l.mac && ToMac(rec->mac) == *l.mac)
          return true;
      }
    }
    return false;
  }

  /// Gateway NAT inside each routing domain (docs/verify.md "NAT"): the
  /// external address is on a device of the domain's VRF that reaches the
  /// external network (a veth whose peer is on an owned bridge), the VRF
  /// table leads outbound traffic to it, the SNAT rules match it, and every
  /// device of the domain puts the domain's packets in a conntrack zone that
  /// no other NATed domain with overlapping addresses shares.
  void Nat() {
    for (const runtime::NftRule& r : st_.nft_nat.rules) {
      // `[oifname "D"] ip saddr P ... snat to X`
      size_t s = r.rule.find("ip saddr "), t = r.rule.find("snat to ");
      if (s == std::string::npos || t == std::string::npos) continue;
      size_t b = s + 9, e = r.rule.find(' ', b);
      auto p = net::ParsePrefix(r.rule.substr(b, e - b));
      auto to = net::ParseIp(r.rule.substr(t + 8, r.rule.find(' ', t + 8) - (t + 8)));
      std::string oif;
      if (size_t o = r.rule.find("oifname \""); o != std::string::npos && o < s)
        oif = r.rule.substr(o + 9, r.rule.find('"', o + 9) - (o + 9));
      if (p && to) host_.linux.snat.push_back({p->Canonical(), *to, oif});
    }
    const std::map<std::string, uint32_t> zones = CtZones();
    struct Duty {
      uint32_t rdid;
      std::string network;
      std::vector<net::Prefix> inside;
      std::optional<uint32_t> zone;  ///< none: some device of the domain has no zone
      int line;
    };
    std::vector<Duty> duties;
    std::set<std::string> nat_devices;
    for (const ndt::NatEntry& n : img_.nat()) {
      net::IpAddress ext = ToIp(n.external_ip);
      if (!ext.IsV4()) continue;  // the Linux backend translates IPv4 only
      std::string network = "vm network " + Q(img_.String(n.vm_network)) + " (rdid " + std::to_string(n.rdid) + ")";
      const runtime::Address* addr = nullptr;
      for (const runtime::Address& a : st_.addresses)
        if (a.address == ext) addr = &a;
      if (!addr) continue;  // reachability reports an external address on no interface
      const Link* dev = FindLink(addr->dev);
      int line = addr->loc.line;
      std::string vrf = VrfOf(addr->dev);
      const LinuxVrf* domain = nullptr;
      for (const LinuxVrf& v : host_.linux.vrfs)
        if (v.rdid == n.rdid) domain = &v;
      std::string step1 = "1. host " + Q(host_.name) + ": the nat of " + network + " translates to " +
                          ext.ToString() + ", on " + Q(addr->dev) + " (linux.yaml line " + std::to_string(line) + ")";
      if (!domain || vrf != domain->name) {
        Add(DiagKind::VerifyUnreachable, line,
            "the nat of " + network + " has its external address " + ext.ToString() + " on " + Q(addr->dev) +
                ", which is " + (vrf.empty() ? "in no vrf" : "in vrf " + Q(vrf)) + ", not in the routing domain's " +
                (domain ? "vrf " + Q(domain->name) : "vrf (there is none)"),
            {step1, "2. a reply to " + ext.ToString() + " is translated back and routed " +
                        (vrf.empty() ? std::string("by the main table") : "by vrf " + Q(vrf)) + ", not by " +
                        (domain ? "table " + std::to_string(domain->table) : std::string("the routing domain")),
             "verdict: drop: the reply does not get back into " + network});
        continue;
      }
      nat_devices.insert(addr->dev);
      if (!dev || dev->kind != "veth" || dev->veth_peer_master.empty())
        Add(DiagKind::VerifyUnreachable, line,
            "the nat of " + network + " has its external address on " + Q(addr->dev) +
                ", which does not reach the external network (not a veth whose peer is on a bridge)",
            {step1, "verdict: drop: nothing leaves " + Q(addr->dev) + " towards the external network"});
      bool out = false;
      for (const LinuxRoute& r : domain->routes) out |= !r.connected && r.dst.length == 0 && r.dev == addr->dev;
      if (!out)
        Add(DiagKind::VerifyUnreachable, domain->line,
            "vrf " + Q(domain->name) + " (table " + std::to_string(domain->table) + ") of " + network +
                " has no default route through its nat device " + Q(addr->dev),
            {"1. a port of " + network + " sends to an external address through its gateway",
             "2. table " + std::to_string(domain->table) + " has no default route to " + Q(addr->dev),
             "verdict: drop: not translated by the nat to " + ext.ToString()});
      Duty d{n.rdid, network, {}, std::nullopt, line};
      for (const ndt::Prefix& p : img_.NatInside(n))
        if (ToPrefix(p).address.IsV4()) d.inside.push_back(ToPrefix(p).Canonical());
      // Every device the domain's packets come in on: its bridges and the nat device.
      std::vector<std::string> devices{addr->dev};
      for (const Link& l : st_.links)
        if (l.master == domain->name && (l.kind == "bridge" || GatewayDevice(l))) devices.push_back(l.name);
      bool all = true;
      std::set<uint32_t> seen;
      for (const std::string& dv : devices) {
        auto z = zones.find(dv);
        if (z == zones.end()) all = false;
        else seen.insert(z->second);
      }
      if (all && seen.size() == 1 && *seen.begin() != 0) d.zone = *seen.begin();
      for (const SnatRule& r : host_.linux.snat)
        if (r.to == ext && !r.oif.empty() && r.oif != addr->dev)
          Add(DiagKind::VerifyUnreachable, line,
              "the nat of " + network + " translates " + r.source.ToString() + " to " + ext.ToString() +
                  " only for packets leaving " + Q(r.oif) + ", not its nat device " + Q(addr->dev));
      duties.push_back(std::move(d));
    }
    // Two NATed domains whose addresses overlap must not share conntrack:
    // a flow of one would match (and be translated back into) the other's.
    for (size_t i = 0; i < duties.size(); ++i)
      for (size_t j = i + 1; j < duties.size(); ++j) {
        const Duty &a = duties[i], &b = duties[j];
        std::optional<net::Prefix> common;
        for (const net::Prefix& x : a.inside)
          for (const net::Prefix& y : b.inside)
            if (!common && x.Overlaps(y)) common = x.length >= y.length ? x : y;
        if (!common || (a.zone && b.zone && *a.zone != *b.zone)) continue;
        auto zone_text = [](const Duty& d) {
          return d.zone ? "conntrack zone " + std::to_string(*d.zone) : std::string("no conntrack zone of its own");
        };
        Add(DiagKind::VerifyIsolation, b.line,
            b.network + " and " + a.network + " are NATed on host " + Q(host_.name) + " with overlapping addresses (" +
                common->ToString() + ") and share conntrack (" + zone_text(a) + ", " + zone_text(b) + ")",
            {"1. " + a.network + " opens a flow from an address in " + common->ToString() + " to an external host",
             "2. " + b.network + " sends from the same address and port to the same destination",
             "3. conntrack sees one flow: the second packet takes the first flow's translation",
             "verdict: delivered into the other routing domain: replies of one tenant reach the other"});
      }
    for (const Link& l : st_.links)
      if (l.kind == "veth" && !l.veth_peer_master.empty() && !nat_devices.count(l.name) && !GatewayDevice(l))
        Add(DiagKind::VerifyDisagreement, l.loc.line,
            "veth " + Q(l.name) + " with its peer on " + Q(l.veth_peer_master) +
                " in linux.yaml is neither a port of tables.ndt nor the nat device of a routing domain it NATs");
  }

  /// A port of routing domain `rdid` that can send into `vrf` here: a port
  /// (anywhere, preferring another host: tunnel ingress has no guard) of a
  /// VSID whose bridge on this host is in `vrf`.
  std::optional<std::pair<PortRef, uint32_t>> Sender(const std::string& vrf, const net::IpAddress& witness) const {
    std::optional<std::pair<PortRef, uint32_t>> local;
    for (const auto& [vsid, ls] : host_.linux.segments) {
      if (ls.vrf != vrf) continue;
      auto ports = fabric_.ports_by_vsid.find(vsid);
      if (ports == fabric_.ports_by_vsid.end()) continue;
      for (const PortRef& p : ports->second) {
        if (p.host != h_) return std::make_pair(p, vsid);
        if (local) continue;
        // A local sender passes only if its routing-domain guard lets the witness through.
        auto g = guards_.find(std::string(img_.String(p.port->ifname)));
        bool dropped = false;
        if (g != guards_.end()) {
          dropped = true;
          for (const net::Prefix& allowed : g->second) dropped &= !allowed.Contains(witness);
        }
        if (!dropped) local = std::make_pair(p, vsid);
      }
    }
    return local;
  }

  void Leaks() {
    for (const LinuxVrf& x : host_.linux.vrfs) {
      // Routes of the VRF's own table that leave it.
      for (const LinuxRoute& r : x.routes) {
        if (r.connected) continue;
        std::string target = VrfOf(r.dev);
        if (target == x.name) continue;
        const LinuxVrf* y = FindVrf(target);
        Add(DiagKind::VerifyIsolation, r.line,
            "route " + r.dst.ToString() + " in table " + std::to_string(x.table) + " (vrf " + Q(x.name) + ", rdid " +
                std::to_string(x.rdid) + ") leaves the routing domain through " + Q(r.dev) +
                (y ? ", which is in vrf " + Q(y->name) + " (rdid " + std::to_string(y->rdid) + ")"
                   : ", which is in no vrf"));
      }
      // Misses fall through to the main table (no unreachable default): its
      // routes into other VRFs are reachable from this one.
      for (const runtime::Route& m : st_.routes) {
        if (m.table != 254) continue;
        std::string target = VrfOf(m.dev);
        if (target.empty() || target == x.name) continue;
        const LinuxVrf* y = FindVrf(target);
        if (!y || y->rdid == x.rdid) continue;
        net::Prefix p = m.dst.Canonical();
        // The witness: a port of the other routing domain in p that x does not route, else any such address.
        std::optional<net::IpAddress> witness;
        std::optional<PortRef> victim;
        auto vsids = fabric_.vsids_by_rdid.find(y->rdid);
        if (vsids != fabric_.vsids_by_rdid.end())
          for (uint32_t vsid : vsids->second) {
            auto ports = fabric_.ports_by_vsid.find(vsid);
            if (ports == fabric_.ports_by_vsid.end()) continue;
            for (const PortRef& q : ports->second) {
              net::IpAddress ca = ToIp(q.port->ca);
              if (!witness && p.Contains(ca) && !Covers(x.routes, ca)) witness = ca, victim = q;
            }
            if (witness) break;
          }
        if (!witness) witness = Uncovered(p, x.routes);
        if (!witness) continue;
        auto sender = Sender(x.name, *witness);
        if (!sender) continue;
        Add(DiagKind::VerifyIsolation, m.loc.line,
            "rdid " + std::to_string(x.rdid) + " reaches rdid " + std::to_string(y->rdid) + " on host " +
                Q(host_.name) + ": what vrf " + Q(x.name) + " does not route falls through to the main table, whose " +
                "route " + p.ToString() + " leads into vrf " + Q(y->name),
            LeakPath(x, *y, m, *witness, sender->first, sender->second, victim));
      }
    }
  }

  /// The host's layer-2 domains (union of bridge membership; a VRF master is
  /// layer 3) and their exits, for the fabric-wide isolation check; a domain
  /// that holds ports of two routing domains is reported here.
  void Layer2() {
    size_t n = st_.links.size();
    std::vector<size_t> parent(n);
    for (size_t i = 0; i < n; ++i) parent[i] = i;
    std::function<size_t(size_t)> find = [&](size_t x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];
      return x;
    };
    for (size_t i = 0; i < n; ++i) {
      const Link& l = st_.links[i];
      auto m = links_.find(l.master);
      if (m == links_.end() || st_.links[m->second].kind == "vrf") continue;
      parent[find(i)] = find(m->second);
    }
    // Bridges with an uplink (adopted NIC, directly or through a bond) are on the physical network.
    std::set<size_t> uplinked;
    for (const runtime::AdoptedNic& a : st_.adopted)
      if (auto m = links_.find(a.master); m != links_.end()) uplinked.insert(find(m->second));
    std::map<size_t, uint32_t> domain_of;
    auto domain = [&](size_t link) {
      size_t root = find(link);
      auto [it, inserted] = domain_of.emplace(root, uint32_t(host_.linux.domains.size()));
      if (inserted) {
        L2Domain d;
        // Name the domain after a bridge in it (the root is one when there is any).
        d.bridge = st_.links[root].name;
        for (size_t i = 0; i < n && st_.links[root].kind != "bridge"; ++i)
          if (find(i) == root && st_.links[i].kind == "bridge") {
            d.bridge = st_.links[i].name;
            break;
          }
        host_.linux.domains.push_back(std::move(d));
      }
      return it->second;
    };
    std::string wire_prefix = host_.name + ":";
    for (size_t i = 0; i < n; ++i) {
      const Link& l = st_.links[i];
      L2Exit e;
      e.device = l.name;
      e.line = l.loc.line;
      if (l.kind == "vxlan") {
        e.kind = L2Exit::Kind::kVxlan;
        e.id = l.vxlan_id;
        e.local = l.vxlan_local.value_or(net::IpAddress{});
        if (auto it = fdb_.find(l.name); it != fdb_.end())
          for (const auto& [mac, dst] : it->second) e.dsts.push_back(dst);
        std::sort(e.dsts.begin(), e.dsts.end());
        e.dsts.erase(std::unique(e.dsts.begin(), e.dsts.end()), e.dsts.end());
      } else if (l.kind == "gretap") {
        e.kind = L2Exit::Kind::kGretap;
        e.id = l.gretap_key;
        e.local = l.gretap_local.value_or(net::IpAddress{});
        e.remote = l.gretap_remote;
      } else if (l.kind == "vlan") {
        auto lower = links_.find(l.vlan_link);
        // Over a bridge with an uplink: that VLAN of the physical network; else the host's own.
        bool physical = lower == links_.end() || uplinked.count(find(lower->second));
        e.kind = L2Exit::Kind::kWire;
        e.wire = (physical ? "" : wire_prefix) + l.vlan_link + "/" + std::to_string(l.vlan_id);
      } else {
        if (uplinked.count(find(i)) && find(i) == i) {
          e.kind = L2Exit::Kind::kWire;
          e.wire = l.name + "/0";
          e.domain = domain(i);
          host_.linux.exits.push_back(std::move(e));
        }
        continue;
      }
      e.domain = domain(i);
      host_.linux.exits.push_back(std::move(e));
    }
    // A VM port directly on a bridge that carries tagged traffic (an uplinked
    // bridge, or the lower link of VLAN devices) can send frames tagged with
    // any VLAN: a bridge without VLAN filtering forwards them as they are, and
    // no guard rule drops them (`ether type 8021q drop`), so that port's
    // domain reaches every VLAN of the bridge.
    std::set<std::string> trunks;
    for (const Link& l : st_.links)
      if (l.kind == "vlan") trunks.insert(l.vlan_link);
    for (size_t i = 0; i < n; ++i)
      if (st_.links[i].kind == "bridge" && uplinked.count(find(i)) && find(i) == i) trunks.insert(st_.links[i].name);
    std::set<std::string> tag_guarded;
    for (const runtime::NftRule& r : st_.nft.rules)
      if (r.rule.rfind("iifname \"", 0) == 0 &&
          (r.rule.find(" ether type 8021q drop") != std::string::npos ||
           r.rule.find(" ether type vlan drop") != std::string::npos))
        tag_guarded.insert(r.rule.substr(9, r.rule.find('"', 9) - 9));
    std::set<std::pair<uint32_t, std::string>> trunk_exits;
    for (size_t i = 0; i < n; ++i) {
      const Link& l = st_.links[i];
      if (l.kind != "veth" || !trunks.count(l.master) || tag_guarded.count(l.name)) continue;
      auto lower = links_.find(l.master);
      bool physical = lower != links_.end() && uplinked.count(find(lower->second));
      std::string wire = (physical ? "" : wire_prefix) + l.master + "/*";
      if (!trunk_exits.insert({domain(i), wire}).second) continue;
      L2Exit e;
      e.kind = L2Exit::Kind::kWire;
      e.device = l.name;
      e.line = l.loc.line;
      e.wire = wire;
      e.domain = domain(i);
      host_.linux.exits.push_back(std::move(e));
    }
    std::vector<const ndt::PortEntry*> last(host_.linux.domains.size(), nullptr);
    for (const ndt::PortEntry& port : img_.ports()) {
      auto it = links_.find(std::string(img_.String(port.ifname)));
      if (it == links_.end()) continue;
      uint32_t di = domain(it->second);
      if (di >= last.size()) last.resize(di + 1, nullptr);
      L2Domain& d = host_.linux.domains[di];
      // One entry per run of ports with the same VSID and routing domain (fabric.h L2Port).
      if (last[di] && last[di]->vsid == port.vsid && last[di]->rdid == port.rdid) continue;
      last[di] = &port;
      d.ports.push_back({port.id, port.vsid, port.rdid, std::string(img_.String(port.vm)),
                         std::string(img_.String(port.nic)), std::string(img_.String(port.ifname)),
                         st_.links[it->second].loc.line, st_.links[it->second].master});
    }
  }

  /// Two physical NICs directly in one bridge (not through a bond): the
  /// bridge forwards between them, so the networks they are cabled to become
  /// one segment, and a broadcast loops if they already were one (issue 11,
  /// defect 5: a `no_team` switch with several NICs on one host).
  void Uplinks() {
    std::map<std::string, std::vector<const runtime::AdoptedNic*>> by_bridge;
    for (const runtime::AdoptedNic& a : st_.adopted)
      if (const Link* m = FindLink(a.master); m && m->kind == "bridge") by_bridge[a.master].push_back(&a);
    for (const auto& [bridge, nics] : by_bridge) {
      if (nics.size() < 2) continue;
      const runtime::AdoptedNic& first = *nics[0];
      const runtime::AdoptedNic& second = *nics[1];
      std::string others;
      for (size_t i = 2; i < nics.size(); ++i) others += ", " + Q(nics[i]->name);
      std::vector<std::string> hops = {
          "1. host " + Q(host_.name) + ": physical nic " + Q(first.name) + " is a port of bridge " + Q(bridge) +
              " (linux.yaml line " + std::to_string(first.loc.line) + ")",
          "2. host " + Q(host_.name) + ": physical nic " + Q(second.name) + " is a port of the same bridge (line " +
              std::to_string(second.loc.line) + "), not teamed in a bond",
          "3. a broadcast received on " + Q(first.name) + " is flooded out " + Q(second.name) + ", and back",
          "verdict: the networks cabled to " + Q(first.name) + " and " + Q(second.name) +
              " become one segment (a loop if they already are one)"};
      Add(DiagKind::VerifyUplinksBridged, second.loc.line,
          "host " + Q(host_.name) + " bridges its physical nics " + Q(first.name) + " and " + Q(second.name) + others +
              " in " + Q(bridge) + " without a team: a switch has one uplink per host unless they are teamed",
          std::move(hops));
    }
  }

  std::vector<std::string> LeakPath(const LinuxVrf& x, const LinuxVrf& y, const runtime::Route& m,
                                    const net::IpAddress& witness, const PortRef& from, uint32_t from_vsid,
                                    const std::optional<PortRef>& victim) const {
    std::vector<std::string> hops;
    auto hop = [&](std::string text) { hops.push_back(std::to_string(hops.size() + 1) + ". " + text); };
    const Host& fh = fabric_.hosts[from.host];
    const LinuxSegment& ls = host_.linux.segments.at(from_vsid);
    const ndt::SegmentEntry* seg = img_.FindSegment(from_vsid);
    std::string gateway = seg && seg->gateway.family ? ToIp(seg->gateway).ToString() : std::string("its gateway");
    hop("host " + Q(fh.name) + ": port " + std::to_string(from.port->id) + " (" + PortName(*fh.image, *from.port) +
        ", vsid " + std::to_string(from_vsid) + ", rdid " + std::to_string(x.rdid) + ") sends to " +
        witness.ToString() + " through its gateway " + gateway);
    hop("host " + Q(host_.name) + ": bridge " + Q(ls.bridge) + " of vsid " + std::to_string(from_vsid) +
        " answers for " + gateway + " in vrf " + Q(x.name) + " (table " + std::to_string(x.table) + ")");
    hop("table " + std::to_string(x.table) + " has no route to " + witness.ToString() +
        ": the lookup falls through to the main table");
    hop("main table: " + m.dst.Canonical().ToString() + " dev " + Q(m.dev) + " (linux.yaml line " +
        std::to_string(m.loc.line) + ")");
    std::string via;
    for (const LinuxRoute& r : y.routes)
      if (r.dst.address.family == witness.family && r.dst.Contains(witness)) via = r.dev;
    hop("vrf " + Q(y.name) + " (table " + std::to_string(y.table) + ", rdid " + std::to_string(y.rdid) + "): " +
        witness.ToString() + (via.empty() ? " has no route" : " on " + Q(via)));
    if (victim) {
      const Host& vh = fabric_.hosts[victim->host];
      hops.push_back("verdict: delivered into rdid " + std::to_string(y.rdid) + ": port " +
                     std::to_string(victim->port->id) + " (" + PortName(*vh.image, *victim->port) + ") on host " +
                     Q(vh.name));
    } else {
      hops.push_back("verdict: delivered into rdid " + std::to_string(y.rdid) + " (vrf " + Q(y.name) + ")");
    }
    return hops;
  }

  Fabric& fabric_;
  uint32_t h_;
  Host& host_;
  const Image& img_;
  const HostState& st_;
  std::unordered_map<std::string, size_t> links_;
  std::unordered_map<std::string, std::vector<size_t>> members_;
  std::unordered_map<std::string, std::vector<std::pair<net::MacAddress, net::IpAddress>>> fdb_;
  std::unordered_map<std::string, std::vector<std::pair<net::IpAddress, net::MacAddress>>> neighbours_;
  std::unordered_map<uint32_t, std::vector<const ndt::CaSlot*>> records_;
  std::unordered_map<std::string, std::vector<net::Prefix>> guards_;
};

}  // namespace

void CheckLinux(Fabric& fabric, uint32_t host, const HostState& state) { LinuxChecker(fabric, host, state).Run(); }

}  // namespace netdsl::verify
