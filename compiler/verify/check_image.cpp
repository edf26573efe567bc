// The table image of one host against itself and the rest of the fabric:
// ports in their segments, one routing domain per VSID, lookup records that
// name exactly the fabric's ports of the VSID and lead to their hosts, routes
// within their routing domain. Violations of the first kind are isolation
// (a), missing or wrong records reachability (b).
#include <algorithm>
#include <functional>
#include <map>

#include "compiler/verify/check_host.h"
#include "compiler/verify/follow.h"

namespace netdsl::verify {
namespace {

using runtime::tables::TraceEnd;

bool SameBytes(const uint8_t* a, const uint8_t* b, size_t n) { return std::memcmp(a, b, n) == 0; }

/// A port of `vsid` on host `h`, or null: the sender of a counterexample.
const ndt::PortEntry* LocalPortIn(const Image& image, uint32_t vsid) {
  for (const ndt::PortEntry& p : image.ports())
    if (p.vsid == vsid) return &p;
  return nullptr;
}

/// A counterexample for a packet from some port of `vsid` (on `h` when it has
/// one, else anywhere) to `dst`: the path through the images.
std::vector<std::string> PathTo(const Fabric& fabric, uint32_t h, uint32_t vsid, const net::IpAddress& dst) {
  if (const ndt::PortEntry* p = LocalPortIn(*fabric.hosts[h].image, vsid))
    return Follow(fabric, h, p->id, dst, true).hops;
  auto it = fabric.ports_by_vsid.find(vsid);
  if (it != fabric.ports_by_vsid.end() && !it->second.empty())
    return Follow(fabric, it->second.front().host, it->second.front().port->id, dst, true).hops;
  return {};
}

}  // namespace

void CheckImage(Fabric& fabric, uint32_t h) {
  const Host& host = fabric.hosts[h];
  const Image& img = *host.image;
  const std::string& file = host.tables_path;
  // The counterexample (a walk through the images) is built only for a finding that is shown.
  using PathFn = std::function<std::vector<std::string>()>;
  auto add = [&](DiagKind kind, const std::string& message, const PathFn& path = {}) {
    if (fabric.findings.Full(kind)) return;
    fabric.findings.Add({kind, file, 0, 0, message, path ? path() : std::vector<std::string>{}});
  };

  // Ports in their segments, in their segment's routing domain.
  for (const ndt::PortEntry& port : img.ports()) {
    if (port.vsid == 0) continue;
    const ndt::SegmentEntry* seg = img.FindSegment(port.vsid);
    if (!seg) {
      add(DiagKind::VerifyUnreachable, "port " + std::to_string(port.id) + " (" + PortName(img, port) +
                                           ") is in vsid " + std::to_string(port.vsid) +
                                           ", which has no segment on this host: nothing it sends is delivered");
      continue;
    }
    if (seg->rdid != port.rdid || img.String(seg->vm_network) != img.String(port.vm_network))
      add(DiagKind::VerifyIsolation,
          "port " + std::to_string(port.id) + " (" + PortName(img, port) + ") belongs to vm network " +
              Q(img.String(port.vm_network)) + " (rdid " + std::to_string(port.rdid) + "), but its segment vsid " +
              std::to_string(seg->vsid) + " is vm network " + Q(img.String(seg->vm_network)) + " (rdid " +
              std::to_string(seg->rdid) + "): the port is routed in another routing domain");
  }

  // One routing domain per VSID across the fabric.
  for (const ndt::SegmentEntry& seg : img.segments()) {
    auto it = fabric.carriers.find(seg.vsid);
    if (it == fabric.carriers.end()) continue;
    if (it->second.front().host != h) continue;  // reported once, by the first carrier
    for (const Carrier& c : it->second) {
      if (c.segment->rdid == seg.rdid) continue;
      PathFn path;
      auto ports = fabric.ports_by_vsid.find(seg.vsid);
      if (ports != fabric.ports_by_vsid.end())
        for (const PortRef& q : ports->second)
          if (q.host == c.host) {
            net::IpAddress dst = ToIp(q.port->ca);
            uint32_t vsid = seg.vsid;
            path = [&fabric, h, vsid, dst] { return PathTo(fabric, h, vsid, dst); };
            break;
          }
      add(DiagKind::VerifyIsolation,
          "vsid " + std::to_string(seg.vsid) + " is rdid " + std::to_string(seg.rdid) + " (vm network " +
              Q(img.String(seg.vm_network)) + ") on host " + Q(host.name) + " but rdid " +
              std::to_string(c.segment->rdid) + " (vm network " +
              Q(fabric.hosts[c.host].image->String(c.segment->vm_network)) + ") on host " +
              Q(fabric.hosts[c.host].name) + ": frames of one routing domain enter the other",
          path);
      break;
    }
  }

  // CA lookup records: local ones name a port of the VSID, and every record
  // the fabric needs is there and leads to the right host.
  std::map<uint32_t, size_t> records_per_vsid;
  for (const ndt::CaSlot& s : img.ca_slots()) {
    if (!(s.flags & ndt::kSlotOccupied)) continue;
    ++records_per_vsid[s.vsid];
    net::IpAddress ca = ToIp(s.ca_family, s.ca);
    if (!(s.flags & ndt::kSlotLocal)) continue;
    const ndt::PortEntry* port = img.FindPort(s.port_id);
    auto rec = [&] { return "lookup record (vsid " + std::to_string(s.vsid) + ", " + ca.ToString() + ")"; };
    if (!port) {
      add(DiagKind::VerifyUnreachable, rec() + " names local port " + std::to_string(s.port_id) +
                                           ", which is not in section `ports`");
      continue;
    }
    if (port->vsid != s.vsid) {
      uint32_t rd_rec = fabric.rdid_of_vsid.count(s.vsid) ? fabric.rdid_of_vsid.at(s.vsid) : 0;
      uint32_t rd_port = fabric.rdid_of_vsid.count(port->vsid) ? fabric.rdid_of_vsid.at(port->vsid) : port->rdid;
      bool other_domain = rd_rec != rd_port;
      add(other_domain ? DiagKind::VerifyIsolation : DiagKind::VerifyUnreachable,
          rec() + " delivers to port " + std::to_string(port->id) + " (" + PortName(img, *port) + "), which is in vsid " +
              std::to_string(port->vsid) + (other_domain ? " of another routing domain (rdid " +
                                                               std::to_string(rd_port) + ", not " +
                                                               std::to_string(rd_rec) + ")"
                                                         : ", not in vsid " + std::to_string(s.vsid)),
          [&] { return PathTo(fabric, h, s.vsid, ca); });
      continue;
    }
    if (!SameBytes(port->ca.bytes, s.ca, 16) || !SameBytes(port->mac, s.mac, 6))
      add(DiagKind::VerifyUnreachable,
          rec() + " delivers to port " + std::to_string(port->id) + " (" + PortName(img, *port) + "), whose address is " +
              ToIp(port->ca).ToString() + " mac " + ToMac(port->mac).ToString() + ", not " + ca.ToString() + " mac " +
              ToMac(s.mac).ToString());
  }

  for (const ndt::SegmentEntry& seg : img.segments()) {
    if (!Virtualized(seg)) continue;  // no lookup records: forwarded by learned MAC on the VLAN
    auto ports = fabric.ports_by_vsid.find(seg.vsid);
    size_t expected = 0;
    if (ports != fabric.ports_by_vsid.end()) {
      for (const PortRef& q : ports->second) {
        if (q.port->ca.family == ndt::kFamilyNone) continue;  // a NIC without an address has no record
        ++expected;
        const Host& qh = fabric.hosts[q.host];
        net::IpAddress ca = ToIp(q.port->ca);
        const ndt::CaSlot* rec = img.LookupCa(seg.vsid, q.port->ca.family, q.port->ca.bytes);
        // Named only in a finding (building it for every port of the fabric was 8 % of verify's time).
        auto who = [&] {
          return PortName(*qh.image, *q.port) + " (" + ca.ToString() + ", port " + std::to_string(q.port->id) +
                 " on host " + Q(qh.name) + ")";
        };
        if (!rec) {
          add(DiagKind::VerifyUnreachable,
              "vsid " + std::to_string(seg.vsid) + " has no lookup record for " + who() + " on host " + Q(host.name) +
                  ": packets from this host to it are dropped",
              [&] { return PathTo(fabric, h, seg.vsid, ca); });
          continue;
        }
        bool local = rec->flags & ndt::kSlotLocal;
        if (q.host == h) {
          if (!local || rec->port_id != q.port->id)
            add(DiagKind::VerifyUnreachable,
                "the lookup record for " + who() + " does not deliver to its port " + std::to_string(q.port->id) +
                    " on its own host",
                [&] { return PathTo(fabric, h, seg.vsid, ca); });
          continue;
        }
        const ndt::SegmentEntry* qseg = qh.image->FindSegment(seg.vsid);
        net::IpAddress want = qseg ? ToIp(qseg->local_pa) : net::IpAddress{};
        if (local || !qseg || ToIp(rec->pa_family, rec->pa) != want || !SameBytes(rec->mac, q.port->mac, 6))
          add(DiagKind::VerifyUnreachable,
              "the lookup record for " + who() + " on host " + Q(host.name) + " says " +
                  (local ? "local port " + std::to_string(rec->port_id)
                         : "pa " + ToIp(rec->pa_family, rec->pa).ToString() + " mac " + ToMac(rec->mac).ToString()) +
                  ", but the nic is behind pa " + (qseg ? want.ToString() : "(none: its host has no segment)") +
                  " with mac " + ToMac(q.port->mac).ToString(),
              [&] { return PathTo(fabric, h, seg.vsid, ca); });
        const ndt::MacSlot* mrec = img.LookupMac(seg.vsid, q.port->mac);
        if (!mrec || ToIp(mrec->pa_family, mrec->pa) != (qseg ? want : net::IpAddress{}))
          add(DiagKind::VerifyUnreachable, "the mac lookup record for " + who() + " on host " + Q(host.name) +
                                               (mrec ? " says pa " + ToIp(mrec->pa_family, mrec->pa).ToString()
                                                     : " is missing"));
      }
    }
    size_t have = records_per_vsid.count(seg.vsid) ? records_per_vsid[seg.vsid] : 0;
    if (have > expected) {
      // Records for NICs no host has a port for: find them.
      for (const ndt::CaSlot& s : img.ca_slots()) {
        if (!(s.flags & ndt::kSlotOccupied) || s.vsid != seg.vsid) continue;
        net::IpAddress ca = ToIp(s.ca_family, s.ca);
        if (fabric.port_by_ca.count(CaKey{s.vsid, ca})) continue;
        // The routing domain's gateway (no vm, no nic): its host is the domain's gateway.
        if (img.String(s.vm).empty() && img.String(s.nic).empty())
          if (auto g = fabric.gateway_hosts.find(seg.rdid);
              g != fabric.gateway_hosts.end() && g->second.count(std::string(img.String(s.host))))
            continue;
        add(DiagKind::VerifyUnreachable,
            "lookup record (vsid " + std::to_string(s.vsid) + ", " + ca.ToString() + ") for vm " +
                Q(img.String(s.vm)) + " nic " + Q(img.String(s.nic)) + " on host " + Q(img.String(s.host)) +
                " names no port of this build: packets to it go to pa " + ToIp(s.pa_family, s.pa).ToString() +
                " and are dropped there");
      }
    }
  }
  for (const auto& [vsid, count] : records_per_vsid)
    if (!img.FindSegment(vsid))
      add(DiagKind::VerifyUnreachable, std::to_string(count) + " lookup records of vsid " + std::to_string(vsid) +
                                           ", which this host does not carry (no segment)");

  // Routes stay in their routing domain.
  for (const ndt::RouteEntry& route : img.routes()) {
    if (route.kind != uint8_t(ndt::RouteKind::kOnLink)) continue;
    const ndt::SegmentEntry* seg = img.FindSegment(route.vsid);
    uint32_t target = seg ? seg->rdid
                          : (fabric.rdid_of_vsid.count(route.vsid) ? fabric.rdid_of_vsid.at(route.vsid) : route.rdid);
    if (target == route.rdid && seg) continue;
    PathFn path;
    net::IpAddress witness = ToPrefix(route.prefix).First();
    auto ports = fabric.ports_by_vsid.find(route.vsid);
    if (ports != fabric.ports_by_vsid.end())
      for (const PortRef& q : ports->second)
        if (ToPrefix(route.prefix).Contains(ToIp(q.port->ca))) {
          witness = ToIp(q.port->ca);
          break;
        }
    for (const ndt::SegmentEntry& s : img.segments())
      if (s.rdid == route.rdid) {
        uint32_t vsid = s.vsid;
        path = [&fabric, h, vsid, witness] { return PathTo(fabric, h, vsid, witness); };
        break;
      }
    if (target != route.rdid)
      add(DiagKind::VerifyIsolation,
          "route rdid " + std::to_string(route.rdid) + " " + ToPrefix(route.prefix).ToString() + " is on-link in vsid " +
              std::to_string(route.vsid) + ", which is rdid " + std::to_string(target) +
              ": the route leads into another routing domain",
          path);
    else
      add(DiagKind::VerifyUnreachable, "route rdid " + std::to_string(route.rdid) + " " +
                                           ToPrefix(route.prefix).ToString() + " is on-link in vsid " +
                                           std::to_string(route.vsid) + ", which this host does not carry",
          path);
  }

  // Gateway routes lead into the routing domain's CA space: the next hop is
  // the gateway host's address in a subnet of the domain this host carries
  // (route.vsid), with a lookup record to the gateway host (HNV: a customer
  // route's -NextHop is a CA; Linux: the route's `via` on that subnet's
  // bridge). A provider address there leads nowhere (issue 13).
  for (const ndt::RouteEntry& route : img.routes()) {
    if (route.kind != uint8_t(ndt::RouteKind::kGateway)) continue;
    std::string via_host(img.String(route.via_host));
    std::string what = "route rdid " + std::to_string(route.rdid) + " " + ToPrefix(route.prefix).ToString() +
                       " towards the gateway host " + Q(via_host);
    if (route.next_hop.family == ndt::kFamilyNone) {
      add(DiagKind::VerifyUnreachable, what + " has no next hop: the gateway has no customer address in a subnet "
                                               "of the routing domain this host carries");
      continue;
    }
    net::IpAddress next = ToIp(route.next_hop);
    const ndt::SegmentEntry* seg = img.FindSegment(route.vsid);
    if (!seg || seg->rdid != route.rdid || !ToPrefix(seg->prefix).Contains(next)) {
      add(DiagKind::VerifyUnreachable,
          what + " goes via " + next.ToString() + ", which is not in the routing domain's customer address space " +
              (seg ? "(vsid " + std::to_string(route.vsid) + " is " + ToPrefix(seg->prefix).ToString() +
                         (seg->rdid != route.rdid ? " of rdid " + std::to_string(seg->rdid) : "") + ")"
                   : "(vsid " + std::to_string(route.vsid) + " is no subnet this host carries)") +
              ": nothing on a subnet of the domain answers for it");
      continue;
    }
    if (!Virtualized(*seg)) continue;  // VLAN subnets: no lookup records, resolved by ARP
    const ndt::CaSlot* rec = img.LookupCa(route.vsid, route.next_hop.family, route.next_hop.bytes);
    if (!rec || img.String(rec->host) != via_host)
      add(DiagKind::VerifyUnreachable,
          what + " goes via " + next.ToString() + ", which " +
              (rec ? "the lookup record of vsid " + std::to_string(route.vsid) + " places on host " +
                         Q(std::string(img.String(rec->host)))
                   : "has no lookup record in vsid " + std::to_string(route.vsid)) +
              ": packets for the gateway are not tunnelled to it");
  }
}

}  // namespace netdsl::verify
