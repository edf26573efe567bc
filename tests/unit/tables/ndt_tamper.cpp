// ndt-tamper IN OUT OP ARGS...: rewrites a built table image with one change,
// for the tampered-build tests of `netdslc verify` (tests/lit/verify). The
// image is read back into a per-host IR, changed, and written again by the
// real writer, so the result is a valid image that says something wrong.
//   move-record VSID CA NEWVSID   the lookup record (VSID, CA) now claims NEWVSID
//   drop-route RDID PREFIX        the customer route is gone
//   port-vsid PORT VSID           port PORT is in VSID
//   port-vm PORT VM               port PORT belongs to VM
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>

#include "backends/tables/table_writer.h"
#include "runtime/tables/image.h"

using namespace netdsl;

namespace {

net::IpAddress Ip(const ndt::Ip& ip) {
  net::IpAddress a;
  a.family = ip.family == ndt::kFamilyV6 ? net::IpAddress::Family::V6 : net::IpAddress::Family::V4;
  std::memcpy(a.bytes.data(), ip.bytes, 16);
  return a;
}
std::optional<net::IpAddress> OptIp(const ndt::Ip& ip) {
  if (ip.family == ndt::kFamilyNone) return std::nullopt;
  return Ip(ip);
}
net::IpAddress Ip(uint8_t family, const uint8_t* bytes) {
  ndt::Ip ip{};
  ip.family = family;
  std::memcpy(ip.bytes, bytes, 16);
  return Ip(ip);
}
net::Prefix Pfx(const ndt::Prefix& p) {
  net::Prefix out;
  out.address = Ip(p.family, p.bytes);
  out.length = p.length;
  return out;
}
net::MacAddress Mac(const uint8_t* m) {
  net::MacAddress mac;
  std::memcpy(mac.bytes.data(), m, 6);
  return mac;
}

ir::HostIr ToIr(const runtime::tables::Image& img) {
  ir::HostIr h;
  auto S = [&](uint32_t off) { return std::string(img.String(off)); };
  h.host = std::string(img.host());
  h.generation = img.generation();
  h.source_hash = img.SourceHashHex();
  h.underlay_mtu = img.header().underlay_mtu;
  for (const ndt::PolicyEntry& p : img.policies()) {
    ir::PortPolicy pol;
    pol.profile = S(p.profile);
    pol.vmq = p.flags & ndt::kPolicyVmq;
    pol.ipsec_offload = p.flags & ndt::kPolicyIpsecOffload;
    pol.sriov = p.flags & ndt::kPolicySriov;
    pol.mac_spoofing = p.flags & ndt::kPolicyMacSpoofing;
    pol.dhcp_guard = p.flags & ndt::kPolicyDhcpGuard;
    pol.router_guard = p.flags & ndt::kPolicyRouterGuard;
    pol.guest_specified_ip = p.flags & ndt::kPolicyGuestSpecifiedIp;
    pol.ieee_priority_tagging = p.flags & ndt::kPolicyIeeePriorityTagging;
    if (p.flags & ndt::kPolicyHasMinimumWeight) pol.minimum_weight = p.minimum_weight;
    if (p.flags & ndt::kPolicyHasMinimumAbsolute) pol.minimum_absolute = p.minimum_absolute;
    if (p.flags & ndt::kPolicyHasMaximum) pol.maximum = p.maximum;
    h.policies.push_back(pol);
  }
  for (const ndt::PortEntry& p : img.ports()) {
    ir::Port port;
    port.id = p.id;
    port.vm = S(p.vm);
    port.nic = S(p.nic);
    port.ifname = S(p.ifname);
    port.switch_name = S(p.switch_name);
    port.classification = S(p.classification);
    port.vm_network = S(p.vm_network);
    port.vm_subnet = S(p.vm_subnet);
    port.vsid = p.vsid;
    port.rdid = p.rdid;
    port.mac = Mac(p.mac);
    port.ca = Ip(p.ca);
    port.prefix_length = p.prefix_length;
    port.gateway = OptIp(p.gateway);
    port.mtu = p.mtu;
    port.vlan = p.vlan;
    port.policy = p.policy == ndt::kNoIndex ? ir::kNoPolicy : p.policy;
    h.ports.push_back(port);
  }
  for (const ndt::SegmentEntry& s : img.segments()) {
    ir::Segment seg;
    seg.vsid = s.vsid;
    seg.rdid = s.rdid;
    seg.vm_network = S(s.vm_network);
    seg.vm_subnet = S(s.vm_subnet);
    seg.isolation = ir::Isolation(s.isolation);
    seg.prefix = Pfx(s.prefix);
    seg.gateway = OptIp(s.gateway);
    seg.mtu = s.mtu;
    seg.vlan = s.vlan;
    seg.switch_name = S(s.switch_name);
    seg.bridge_ifname = S(s.bridge_ifname);
    seg.tunnel_ifname = S(s.tunnel_ifname);
    seg.local_pa = Ip(s.local_pa);
    h.segments.push_back(seg);
  }
  for (const ndt::CaSlot& s : img.ca_slots()) {
    if (!(s.flags & ndt::kSlotOccupied)) continue;
    ir::LookupRecord r;
    r.vsid = s.vsid;
    r.ca = Ip(s.ca_family, s.ca);
    r.mac = Mac(s.mac);
    r.pa = Ip(s.pa_family, s.pa);
    r.host = S(s.host);
    r.vm = S(s.vm);
    r.nic = S(s.nic);
    r.local = s.flags & ndt::kSlotLocal;
    r.port_id = s.port_id;
    h.lookup_records.push_back(r);
  }
  std::sort(h.lookup_records.begin(), h.lookup_records.end(), [](const auto& a, const auto& b) {
    return std::tie(a.vsid, a.ca) < std::tie(b.vsid, b.ca);
  });
  for (const ndt::RouteEntry& r : img.routes()) {
    ir::CustomerRoute route;
    route.rdid = r.rdid;
    route.prefix = Pfx(r.prefix);
    route.kind = r.kind == uint8_t(ndt::RouteKind::kGateway) ? ir::CustomerRoute::Kind::Gateway
                                                               : ir::CustomerRoute::Kind::OnLink;
    route.vsid = r.vsid;
    route.next_hop = OptIp(r.next_hop);
    route.via_host = S(r.via_host);
    h.customer_routes.push_back(route);
  }
  for (const ndt::RouteDomainEntry& d : img.route_domains()) {
    if (d.vm_network == 0 && d.vrf_ifname == 0 && d.table == 0) continue;  // implied by a route or segment
    h.routing_domains.push_back({d.rdid, S(d.vm_network), S(d.vrf_ifname), d.table});
  }
  for (const ndt::NatEntry& n : img.nat()) {
    ir::NatRule nat;
    nat.vm_network = S(n.vm_network);
    nat.rdid = n.rdid;
    nat.external_ip = Ip(n.external_ip);
    nat.external_pool = S(n.external_pool);
    for (const ndt::Prefix& p : img.NatInside(n)) nat.inside_prefixes.push_back(Pfx(p));
    h.nat_rules.push_back(nat);
  }
  return h;
}

int Usage() {
  std::fprintf(stderr, "usage: ndt-tamper IN OUT move-record VSID CA NEWVSID | drop-route RDID PREFIX | port-vsid PORT VSID | port-vm PORT VM\n");
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return Usage();
  std::string error;
  auto image = runtime::tables::Image::Open(argv[1], &error);
  if (!image) {
    std::fprintf(stderr, "ndt-tamper: %s\n", error.c_str());
    return 1;
  }
  ir::HostIr h = ToIr(*image);
  std::string op = argv[3];
  bool done = false;
  if (op == "move-record" && argc == 7) {
    uint32_t vsid = std::stoul(argv[4]), to = std::stoul(argv[6]);
    auto ca = net::ParseIp(argv[5]);
    for (ir::LookupRecord& r : h.lookup_records)
      if (ca && r.vsid == vsid && r.ca == *ca) r.vsid = to, done = true;
  } else if (op == "drop-route" && argc == 6) {
    uint32_t rdid = std::stoul(argv[4]);
    auto p = net::ParsePrefix(argv[5]);
    for (auto it = h.customer_routes.begin(); it != h.customer_routes.end(); ++it)
      if (p && it->rdid == rdid && it->prefix == *p) {
        h.customer_routes.erase(it);
        done = true;
        break;
      }
  } else if (op == "port-vm" && argc == 6) {
    uint32_t id = std::stoul(argv[4]);
    for (ir::Port& p : h.ports)
      if (p.id == id) p.vm = argv[5], done = true;
  } else if (op == "port-vsid" && argc == 6) {
    uint32_t id = std::stoul(argv[4]), vsid = std::stoul(argv[5]);
    for (ir::Port& p : h.ports)
      if (p.id == id) p.vsid = vsid, done = true;
  } else {
    return Usage();
  }
  if (!done) {
    std::fprintf(stderr, "ndt-tamper: nothing matched `%s`\n", op.c_str());
    return 1;
  }
  llvm::Expected<std::string> bytes = backends::WriteTableImage(h);
  if (!bytes) {
    std::fprintf(stderr, "ndt-tamper: the writer refuses the change: %s\n", llvm::toString(bytes.takeError()).c_str());
    return 1;
  }
  std::ofstream(argv[2], std::ios::binary).write(bytes->data(), std::streamsize(bytes->size()));
  return 0;
}
