// `netdsl tables trace`: one packet from a port (or arriving from a tunnel)
// through the tables, hop by hop, naming every entry used and ending in a
// verdict (deliver, encapsulate, route, NAT, drop) and a structured TraceEnd.
#include "runtime/tables/trace.h"

#include <cstring>

#include "common/net/address.h"
#include "runtime/tables/render.h"

namespace netdsl::runtime::tables {
namespace {

const char* IsolationName(uint8_t i) {
  switch (static_cast<ndt::Isolation>(i)) {
    case ndt::Isolation::kNone: return "none";
    case ndt::Isolation::kVlan: return "vlan";
    case ndt::Isolation::kVxlan: return "vxlan";
    case ndt::Isolation::kNvgre: return "nvgre";
  }
  return "unknown";
}

bool PrefixContains(const ndt::Prefix& p, const net::IpAddress& a) {
  net::Prefix np;
  np.address.family = p.family == ndt::kFamilyV6 ? net::IpAddress::Family::V6 : net::IpAddress::Family::V4;
  std::memcpy(np.address.bytes.data(), p.bytes, 16);
  np.length = p.length;
  return (p.family == ndt::kFamilyV4) == a.IsV4() && np.Contains(a);
}

uint8_t FamilyOf(const net::IpAddress& a) { return a.IsV4() ? ndt::kFamilyV4 : ndt::kFamilyV6; }

net::IpAddress ToIp(uint8_t family, const uint8_t bytes[16]) {
  net::IpAddress ip;
  ip.family = family == ndt::kFamilyV6 ? net::IpAddress::Family::V6 : net::IpAddress::Family::V4;
  std::memcpy(ip.bytes.data(), bytes, 16);
  return ip;
}

class Tracer {
 public:
  Tracer(const Image& image, std::string* out, int first_hop) : image_(image), out_(out), hop_(first_hop - 1) {}

  TraceEnd end;

  void Hop(const std::string& text) {
    ++hop_;
    if (out_) *out_ += std::to_string(hop_) + ". " + text + "\n";
  }
  int Verdict(bool ok, const std::string& text) {
    if (!ok) end.kind = TraceEnd::Kind::kDrop;
    if (out_) *out_ += std::string(ok ? "verdict: " : "verdict: drop: ") + text + "\n";
    return ok ? 0 : 1;
  }
  int End(TraceEnd::Kind kind, const std::string& text) {
    end.kind = kind;
    return Verdict(true, text);
  }
  std::string Name(uint32_t off) { return "`" + std::string(image_.String(off)) + "`"; }

  /// Why `dst` is unreachable: the same address in another routing domain means
  /// isolation (the lowest such VSID is named, so the answer is deterministic).
  int NotFound(uint32_t rdid, const net::IpAddress& dst, const std::string& what) {
    const ndt::CaSlot* other = nullptr;
    uint32_t other_rdid = 0;
    for (const ndt::CaSlot& s : image_.ca_slots()) {
      if (!(s.flags & ndt::kSlotOccupied) || s.ca_family != FamilyOf(dst) ||
          std::memcmp(s.ca, dst.bytes.data(), 16) != 0)
        continue;
      const ndt::SegmentEntry* seg = image_.FindSegment(s.vsid);
      uint32_t seg_rdid = seg ? seg->rdid : 0;
      if (seg_rdid != rdid && (!other || s.vsid < other->vsid)) other = &s, other_rdid = seg_rdid;
    }
    if (other) {
      end.isolated = true;
      return Verdict(false, "isolated: " + dst.ToString() + " is vm " + Name(other->vm) + " nic " + Name(other->nic) +
                                " in vsid " + std::to_string(other->vsid) + " (rdid " + std::to_string(other_rdid) +
                                "), another routing domain");
    }
    return Verdict(false, what);
  }

  /// `port` is null for a packet that arrived from a tunnel (`arrived`).
  int Resolve(const ndt::PortEntry* port, const ndt::SegmentEntry& src_seg, uint32_t vsid,
              const net::IpAddress& dst, const std::optional<net::MacAddress>& dst_mac, bool arrived = false) {
    // The subnet's gateway address belongs to the routing domain's router, which
    // every host carrying the subnet runs (a distributed router, as in Hyper-V NV).
    if (const ndt::SegmentEntry* gw_seg = image_.FindSegment(vsid);
        gw_seg && gw_seg->gateway.family == FamilyOf(dst) && std::memcmp(gw_seg->gateway.bytes, dst.bytes.data(), 16) == 0) {
      Hop(dst.ToString() + " is the gateway address of vsid " + std::to_string(vsid));
      end.vsid = vsid;
      end.rdid = gw_seg->rdid;
      return End(TraceEnd::Kind::kRouter, "deliver to the router of rdid " + std::to_string(gw_seg->rdid) +
                                              " on this host (gateway address " + dst.ToString() + " of vsid " +
                                              std::to_string(vsid) + ")");
    }
    const ndt::CaSlot* rec = image_.LookupCa(vsid, FamilyOf(dst), dst.bytes.data());
    if (!rec)
      return NotFound(src_seg.rdid, dst,
                      "no lookup record for (vsid " + std::to_string(vsid) + ", " + dst.ToString() + ")");
    std::string rec_text = "lookup_ca (vsid " + std::to_string(vsid) + ", " + dst.ToString() + ") → pa " +
                           FormatIp(rec->pa_family, rec->pa) + " mac " + FormatMac(rec->mac) + " host " +
                           Name(rec->host) + " vm " + Name(rec->vm) + " nic " + Name(rec->nic);
    Hop(rec_text);
    if (dst_mac) {
      const ndt::MacSlot* m = image_.LookupMac(vsid, dst_mac->bytes.data());
      if (!m)
        return Verdict(false, "no lookup record for (vsid " + std::to_string(vsid) + ", " + dst_mac->ToString() + ")");
      Hop("lookup_mac (vsid " + std::to_string(vsid) + ", " + dst_mac->ToString() + ") → pa " +
          FormatIp(m->pa_family, m->pa));
      if (std::memcmp(m->mac, rec->mac, 6) != 0)
        return Verdict(false, "destination mac " + dst_mac->ToString() + " is not " + dst.ToString() + "'s mac " +
                                  FormatMac(rec->mac));
    }
    const ndt::SegmentEntry* dst_seg = image_.FindSegment(vsid);
    end.vsid = vsid;
    if (rec->flags & ndt::kSlotLocal) {
      end.port_id = rec->port_id;
      if (port && rec->port_id == port->id)
        return End(TraceEnd::Kind::kDeliver, "deliver to the sending port itself (port " + std::to_string(port->id) + ")");
      return End(TraceEnd::Kind::kDeliver, "deliver locally to port " + std::to_string(rec->port_id) + " (vm " +
                                               Name(rec->vm) + " nic " + Name(rec->nic) + ")");
    }
    end.pa = ToIp(rec->pa_family, rec->pa);
    if (arrived && vsid == src_seg.vsid)
      return Verdict(false, "arrived from a tunnel for vm " + Name(rec->vm) + " nic " + Name(rec->nic) +
                                ", which is on host " + Name(rec->host) + ", not here (no tunnel-to-tunnel forwarding)");
    uint8_t isolation = dst_seg ? dst_seg->isolation : src_seg.isolation;
    if (isolation == uint8_t(ndt::Isolation::kVlan) || isolation == uint8_t(ndt::Isolation::kNone))
      return End(TraceEnd::Kind::kForward, "forward unencapsulated on vlan " + std::to_string(dst_seg ? dst_seg->vlan : 0) +
                                               " to host " + Name(rec->host) + " (pa " +
                                               FormatIp(rec->pa_family, rec->pa) + ")");
    const ndt::Ip& local = dst_seg ? dst_seg->local_pa : src_seg.local_pa;
    return End(TraceEnd::Kind::kEncapsulate,
               std::string("encapsulate ") + IsolationName(isolation) + " vsid " + std::to_string(vsid) +
                   " from pa " + FormatIp(local.family, local.bytes) + " to pa " + FormatIp(rec->pa_family, rec->pa) +
                   " (host " + Name(rec->host) + ")");
  }

  /// Routing (and NAT) in the segment's routing domain for a destination
  /// outside the segment's subnet; `port` is null for an arrival.
  int Route(const ndt::PortEntry* port, const ndt::SegmentEntry* seg, const net::IpAddress& dst,
            const std::optional<net::MacAddress>& dst_mac, bool arrived) {
    end.rdid = seg->rdid;
    const ndt::RouteEntry* route = image_.LookupRoute(seg->rdid, FamilyOf(dst), dst.bytes.data());
    // The NAT gateway host has no default route (it is where the route leads):
    // what its routes miss outside the VM network's prefixes is translated.
    const ndt::NatEntry* nat = image_.FindNat(seg->rdid);
    bool outside = false;
    if (nat) {
      outside = true;
      for (const ndt::Prefix& p : image_.NatInside(*nat)) outside &= !PrefixContains(p, dst);
    }
    if (!route && !(nat && outside))
      return NotFound(seg->rdid, dst, "no route to " + dst.ToString() + " in rdid " + std::to_string(seg->rdid));
    if (route && route->kind == uint8_t(ndt::RouteKind::kOnLink)) {
      Hop("route rdid " + std::to_string(route->rdid) + " " + FormatPrefix(route->prefix) + ": on-link vsid " +
          std::to_string(route->vsid));
      return Resolve(port, *seg, route->vsid, dst, dst_mac, arrived);
    }
    std::string next_hop = route ? FormatIp(route->next_hop.family, route->next_hop.bytes) : "";
    if (route)
      Hop("route rdid " + std::to_string(route->rdid) + " " + FormatPrefix(route->prefix) + ": via gateway " +
          next_hop + " on host " + Name(route->via_host));
    else
      Hop("no route to " + dst.ToString() + " in rdid " + std::to_string(seg->rdid) +
          ": this host is the routing domain's nat gateway");
    if (nat && outside) {
      const ndt::Ip& src = port ? port->ca : ndt::Ip{};
      std::string src_text = port ? FormatIp(src.family, src.bytes) : std::string("the source");
      Hop("nat vm network " + Name(nat->vm_network) + ": source " + src_text + " → " +
          FormatIp(nat->external_ip.family, nat->external_ip.bytes) + " from pool " + Name(nat->external_pool));
      end.nat_ip = ToIp(nat->external_ip.family, nat->external_ip.bytes);
      return End(TraceEnd::Kind::kNat, "nat to " + FormatIp(nat->external_ip.family, nat->external_ip.bytes) +
                                           " and forward to the external network");
    }
    // The next hop lives in the route's subnet (the gateway's CA there): the
    // frame leaves in that VSID, whichever subnet of the domain sent it.
    const uint32_t via_vsid = route->vsid ? route->vsid : seg->vsid;
    end.vsid = via_vsid;
    end.to_gateway = true;
    if (route->next_hop.family != ndt::kFamilyNone) {
      end.pa = ToIp(route->next_hop.family, route->next_hop.bytes);
      if (const ndt::CaSlot* gw = image_.LookupCa(via_vsid, route->next_hop.family, route->next_hop.bytes)) {
        Hop("lookup_ca (vsid " + std::to_string(via_vsid) + ", " + next_hop + ") → pa " +
            FormatIp(gw->pa_family, gw->pa) + " host " + Name(gw->host));
        end.pa = ToIp(gw->pa_family, gw->pa);
        return End(TraceEnd::Kind::kEncapsulate, std::string("encapsulate ") + IsolationName(seg->isolation) +
                                                     " vsid " + std::to_string(via_vsid) + " from pa " +
                                                     FormatIp(seg->local_pa.family, seg->local_pa.bytes) +
                                                     " to gateway pa " + FormatIp(gw->pa_family, gw->pa) + " (host " +
                                                     Name(gw->host) + ")");
      }
    }
    return End(TraceEnd::Kind::kEncapsulate, std::string("encapsulate ") + IsolationName(seg->isolation) + " vsid " +
                                                 std::to_string(seg->vsid) + " from pa " +
                                                 FormatIp(seg->local_pa.family, seg->local_pa.bytes) + " to gateway " +
                                                 next_hop + " (host " + Name(route->via_host) + ")");
  }

  int RunArrival(uint32_t vsid, const net::IpAddress& src_pa, const net::IpAddress& dst) {
    Hop("arrives from pa " + src_pa.ToString() + " in vsid " + std::to_string(vsid) + " for " + dst.ToString());
    const ndt::SegmentEntry* seg = image_.FindSegment(vsid);
    if (!seg) return Verdict(false, "vsid " + std::to_string(vsid) + " has no entry in section `segments`");
    end.rdid = seg->rdid;
    Hop("segment vsid " + std::to_string(seg->vsid) + ": rdid " + std::to_string(seg->rdid) + " vm network " +
        Name(seg->vm_network) + " subnet " + Name(seg->vm_subnet) + " " + FormatPrefix(seg->prefix) +
        " isolation " + IsolationName(seg->isolation));
    if (PrefixContains(seg->prefix, dst)) return Resolve(nullptr, *seg, seg->vsid, dst, std::nullopt, true);
    return Route(nullptr, seg, dst, std::nullopt, true);
  }

  int Run(uint32_t port_id, const net::IpAddress& dst, const std::optional<net::MacAddress>& dst_mac,
          const std::optional<net::MacAddress>& src_mac, TraceRequest::Kind kind) {
    const ndt::PortEntry* port = image_.FindPort(port_id);
    if (!port) return Verdict(false, "no port " + std::to_string(port_id) + " in section `ports`");
    Hop("port " + std::to_string(port->id) + ": vm " + Name(port->vm) + " nic " + Name(port->nic) + " ca " +
        FormatIp(port->ca.family, port->ca.bytes) + "/" + std::to_string(port->prefix_length) + " mac " +
        FormatMac(port->mac) + " vsid " + std::to_string(port->vsid) + " rdid " + std::to_string(port->rdid));
    if (const ndt::PolicyEntry* pol = image_.Policy(port->policy)) {
      std::string text = "policy " + Name(pol->profile) + ":";
      auto flag = [&](const char* n, uint32_t bit) { text += std::string(" ") + n + (pol->flags & bit ? " on" : " off"); };
      flag("mac_spoofing", ndt::kPolicyMacSpoofing);
      flag("dhcp_guard", ndt::kPolicyDhcpGuard);
      flag("router_guard", ndt::kPolicyRouterGuard);
      if (pol->flags & ndt::kPolicyHasMaximum) text += " maximum " + net::FormatBandwidth(pol->maximum);
      Hop(text);
    }
    // Guards act on what the VM sends; a port without a profile has the defaults (all off).
    const ndt::PolicyEntry* pol = image_.Policy(port->policy);
    uint32_t flags = pol ? pol->flags : 0;
    std::string id = std::to_string(port->id);
    if (src_mac) {
      if (std::memcmp(src_mac->bytes.data(), port->mac, 6) != 0) {
        if (!(flags & ndt::kPolicyMacSpoofing))
          return Verdict(false, "guard: mac_spoofing is off and source mac " + src_mac->ToString() + " is not port " +
                                    id + "'s mac " + FormatMac(port->mac));
        Hop("source mac " + src_mac->ToString() + " is not the port's, allowed by mac_spoofing on");
      } else {
        Hop("source mac " + src_mac->ToString() + " is the port's");
      }
    }
    if (kind == TraceRequest::Kind::kDhcpOffer && (flags & ndt::kPolicyDhcpGuard))
      return Verdict(false, "guard: dhcp_guard drops dhcp server messages from port " + id);
    if (kind == TraceRequest::Kind::kRouterAdvertisement && (flags & ndt::kPolicyRouterGuard))
      return Verdict(false, "guard: router_guard drops router advertisements and redirects from port " + id);
    if (port->vsid == 0)
      return End(TraceEnd::Kind::kBridged, "not virtualized: bridged onto switch " + Name(port->switch_name) + " vlan " +
                               std::to_string(port->vlan) + " without table lookup");
    const ndt::SegmentEntry* seg = image_.FindSegment(port->vsid);
    if (!seg) return Verdict(false, "vsid " + std::to_string(port->vsid) + " has no entry in section `segments`");
    Hop("segment vsid " + std::to_string(seg->vsid) + ": rdid " + std::to_string(seg->rdid) + " vm network " +
        Name(seg->vm_network) + " subnet " + Name(seg->vm_subnet) + " " + FormatPrefix(seg->prefix) +
        " isolation " + IsolationName(seg->isolation));
    end.rdid = seg->rdid;
    if (PrefixContains(seg->prefix, dst)) {
      Hop(dst.ToString() + " is in the port's subnet " + FormatPrefix(seg->prefix));
      return Resolve(port, *seg, seg->vsid, dst, dst_mac);
    }
    return Route(port, seg, dst, dst_mac, false);
  }

 private:
  const Image& image_;
  std::string* out_;
  int hop_ = 0;
};

}  // namespace

TraceEnd TraceFromPort(const Image& image, uint32_t port_id, const TraceRequest& request, std::string* out,
                       int first_hop) {
  Tracer tracer(image, out, first_hop);
  tracer.Run(port_id, request.dst, request.dst_mac, request.src_mac, request.kind);
  return tracer.end;
}

TraceEnd TraceArrival(const Image& image, uint32_t vsid, const net::IpAddress& src_pa, const net::IpAddress& dst,
                      std::string* out, int first_hop) {
  Tracer tracer(image, out, first_hop);
  tracer.RunArrival(vsid, src_pa, dst);
  return tracer.end;
}

int Trace(const Image& image, uint32_t port_id, const TracePacket& packet, std::string* out) {
  std::optional<net::IpAddress> ip = net::ParseIp(packet.dst);
  if (!ip) {
    *out += "verdict: drop: `" + packet.dst + "` is not an address\n";
    return 1;
  }
  TraceRequest request;
  request.dst = *ip;
  if (!packet.dst_mac.empty()) request.dst_mac = net::ParseMac(packet.dst_mac);
  if (!packet.src_mac.empty()) request.src_mac = net::ParseMac(packet.src_mac);
  request.kind = packet.kind == TracePacket::Kind::kDhcpOffer            ? TraceRequest::Kind::kDhcpOffer
                 : packet.kind == TracePacket::Kind::kRouterAdvertisement ? TraceRequest::Kind::kRouterAdvertisement
                                                                          : TraceRequest::Kind::kData;
  return TraceFromPort(image, port_id, request, out).Delivered() ? 0 : 1;
}

int Trace(const Image& image, uint32_t port_id, const std::string& dst, const std::string& dst_mac,
          std::string* out) {
  TracePacket packet;
  packet.dst = dst;
  packet.dst_mac = dst_mac;
  return Trace(image, port_id, packet, out);
}

}  // namespace netdsl::runtime::tables
