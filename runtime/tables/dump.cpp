// Renders an image's sections as keyed entries for `netdsl tables dump` and `diff`.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <tuple>

#include "common/net/address.h"
#include "runtime/tables/render.h"

namespace netdsl::runtime::tables {
namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

net::IpAddress ToIp(uint8_t family, const uint8_t bytes[16]) {
  net::IpAddress ip;
  ip.family = family == ndt::kFamilyV6 ? net::IpAddress::Family::V6 : net::IpAddress::Family::V4;
  std::copy(bytes, bytes + 16, ip.bytes.begin());
  return ip;
}

const char* IsolationName(uint8_t i) {
  switch (static_cast<ndt::Isolation>(i)) {
    case ndt::Isolation::kNone: return "none";
    case ndt::Isolation::kVlan: return "vlan";
    case ndt::Isolation::kVxlan: return "vxlan";
    case ndt::Isolation::kNvgre: return "nvgre";
  }
  return "unknown";
}

std::string PolicyName(const Image& image, uint32_t index) {
  const ndt::PolicyEntry* p = image.Policy(index);
  if (!p) return "-";
  std::string_view name = image.String(p->profile);
  return name.empty() ? "(defaults)" : std::string(name);
}

}  // namespace

std::string FormatIp(uint8_t family, const uint8_t bytes[16]) {
  if (family != ndt::kFamilyV4 && family != ndt::kFamilyV6) return "-";
  return ToIp(family, bytes).ToString();
}

std::string FormatPrefix(const ndt::Prefix& p) {
  return FormatIp(p.family, p.bytes) + "/" + std::to_string(p.length);
}

std::string FormatMac(const uint8_t mac[6]) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return buf;
}

Entry RenderHeader(const Image& image) {
  const ndt::Header& h = image.header();
  using K = Field::Kind;
  return Entry{"header",
               {{"host", std::string(image.host()), K::kName},
                {"format", Num(h.major) + "." + Num(h.minor), K::kText},
                {"generation", Num(h.generation), K::kNumber},
                {"source_hash", image.SourceHashHex(), K::kText},
                {"underlay_mtu", Num(h.underlay_mtu), K::kNumber},
                {"size", Num(h.total_size), K::kNumber}}};
}

std::vector<RenderedSection> Render(const Image& image) {
  using K = Field::Kind;
  std::vector<RenderedSection> out;
  auto name = [&](uint32_t off) { return std::string(image.String(off)); };

  RenderedSection ports{"ports", false, {}};
  for (const ndt::PortEntry& p : image.ports()) {
    ports.entries.push_back(
        {"port " + Num(p.id),
         {{"vm", name(p.vm), K::kName},
          {"nic", name(p.nic), K::kName},
          {"ifname", name(p.ifname), K::kName},
          {"switch", name(p.switch_name), K::kName},
          {"classification", name(p.classification), K::kName},
          {"vm_network", name(p.vm_network), K::kName},
          {"vm_subnet", name(p.vm_subnet), K::kName},
          {"vsid", Num(p.vsid), K::kNumber},
          {"rdid", Num(p.rdid), K::kNumber},
          {"ca", FormatIp(p.ca.family, p.ca.bytes) + "/" + Num(p.prefix_length), K::kText},
          {"mac", FormatMac(p.mac), K::kText},
          {"gateway", FormatIp(p.gateway.family, p.gateway.bytes), K::kText},
          {"mtu", Num(p.mtu), K::kNumber},
          {"vlan", Num(p.vlan), K::kNumber},
          {"policy", PolicyName(image, p.policy), K::kName}}});
  }
  out.push_back(std::move(ports));

  RenderedSection segments{"segments", false, {}};
  for (const ndt::SegmentEntry& s : image.segments()) {
    segments.entries.push_back({"vsid " + Num(s.vsid),
                                {{"rdid", Num(s.rdid), K::kNumber},
                                 {"vm_network", name(s.vm_network), K::kName},
                                 {"vm_subnet", name(s.vm_subnet), K::kName},
                                 {"isolation", IsolationName(s.isolation), K::kText},
                                 {"prefix", FormatPrefix(s.prefix), K::kText},
                                 {"gateway", FormatIp(s.gateway.family, s.gateway.bytes), K::kText},
                                 {"local_pa", FormatIp(s.local_pa.family, s.local_pa.bytes), K::kText},
                                 {"mtu", Num(s.mtu), K::kNumber},
                                 {"vlan", Num(s.vlan), K::kNumber},
                                 {"switch", name(s.switch_name), K::kName},
                                 {"bridge", name(s.bridge_ifname), K::kName},
                                 {"tunnel", name(s.tunnel_ifname), K::kName}}});
  }
  out.push_back(std::move(segments));

  RenderedSection policies{"policies", false, {}};
  for (uint32_t i = 0; i < image.policies().size(); ++i) {
    const ndt::PolicyEntry& p = image.policies()[i];
    auto flag = [&](uint32_t bit) { return std::string(p.flags & bit ? "true" : "false"); };
    Entry e{"policy " + Num(i) + " `" + PolicyName(image, i) + "`",
            {{"vmq", flag(ndt::kPolicyVmq), K::kText},
             {"ipsec_offload", flag(ndt::kPolicyIpsecOffload), K::kText},
             {"sriov", flag(ndt::kPolicySriov), K::kText},
             {"mac_spoofing", flag(ndt::kPolicyMacSpoofing), K::kText},
             {"dhcp_guard", flag(ndt::kPolicyDhcpGuard), K::kText},
             {"router_guard", flag(ndt::kPolicyRouterGuard), K::kText},
             {"guest_specified_ip", flag(ndt::kPolicyGuestSpecifiedIp), K::kText},
             {"ieee_priority_tagging", flag(ndt::kPolicyIeeePriorityTagging), K::kText}}};
    if (p.flags & ndt::kPolicyHasMinimumWeight) e.fields.push_back({"minimum_weight", Num(p.minimum_weight), K::kNumber});
    if (p.flags & ndt::kPolicyHasMinimumAbsolute)
      e.fields.push_back({"minimum_absolute", net::FormatBandwidth(p.minimum_absolute), K::kText});
    if (p.flags & ndt::kPolicyHasMaximum) e.fields.push_back({"maximum", net::FormatBandwidth(p.maximum), K::kText});
    policies.entries.push_back(std::move(e));
  }
  out.push_back(std::move(policies));

  // Hash tables are listed by key, not slot, so that dumps read (and diff) naturally.
  std::vector<const ndt::CaSlot*> cas;
  for (const ndt::CaSlot& s : image.ca_slots())
    if (s.flags & ndt::kSlotOccupied) cas.push_back(&s);
  std::sort(cas.begin(), cas.end(), [](const ndt::CaSlot* a, const ndt::CaSlot* b) {
    return std::tie(a->vsid, a->ca_family) < std::tie(b->vsid, b->ca_family) ||
           (a->vsid == b->vsid && a->ca_family == b->ca_family && std::memcmp(a->ca, b->ca, 16) < 0);
  });
  RenderedSection lookup_ca{"lookup_ca", false, {}};
  for (const ndt::CaSlot* s : cas) {
    Entry e{"vsid " + Num(s->vsid) + " ca " + FormatIp(s->ca_family, s->ca),
            {{"pa", FormatIp(s->pa_family, s->pa), K::kText},
             {"mac", FormatMac(s->mac), K::kText},
             {"host", name(s->host), K::kName},
             {"vm", name(s->vm), K::kName},
             {"nic", name(s->nic), K::kName}}};
    if (s->flags & ndt::kSlotLocal) e.fields.push_back({"local_port", Num(s->port_id), K::kNumber});
    lookup_ca.entries.push_back(std::move(e));
  }
  out.push_back(std::move(lookup_ca));

  std::vector<const ndt::MacSlot*> macs;
  for (const ndt::MacSlot& s : image.mac_slots())
    if (s.flags & ndt::kSlotOccupied) macs.push_back(&s);
  std::sort(macs.begin(), macs.end(), [](const ndt::MacSlot* a, const ndt::MacSlot* b) {
    return a->vsid != b->vsid ? a->vsid < b->vsid : std::memcmp(a->mac, b->mac, 6) < 0;
  });
  RenderedSection lookup_mac{"lookup_mac", false, {}};
  for (const ndt::MacSlot* s : macs) {
    Entry e{"vsid " + Num(s->vsid) + " mac " + FormatMac(s->mac), {{"pa", FormatIp(s->pa_family, s->pa), K::kText}}};
    if (s->flags & ndt::kSlotLocal) e.fields.push_back({"local_port", Num(s->port_id), K::kNumber});
    lookup_mac.entries.push_back(std::move(e));
  }
  out.push_back(std::move(lookup_mac));

  RenderedSection routes{"routes", false, {}};
  for (const ndt::RouteEntry& r : image.routes()) {
    Entry e{"rdid " + Num(r.rdid) + " " + FormatPrefix(r.prefix), {}};
    if (r.kind == uint8_t(ndt::RouteKind::kOnLink)) {
      e.fields = {{"kind", "on-link", K::kText}, {"vsid", Num(r.vsid), K::kNumber}};
    } else {
      e.fields = {{"kind", "gateway", K::kText},
                  {"next_hop", FormatIp(r.next_hop.family, r.next_hop.bytes), K::kText},
                  {"via_host", name(r.via_host), K::kName}};
    }
    routes.entries.push_back(std::move(e));
  }
  out.push_back(std::move(routes));

  RenderedSection domains{"route_domains", false, {}};
  RenderedSection lpm{"lpm", /*derived=*/true, {}};
  for (const ndt::RouteDomainEntry& d : image.route_domains()) {
    domains.entries.push_back({"rdid " + Num(d.rdid),
                               {{"vm_network", name(d.vm_network), K::kName},
                                {"vrf", name(d.vrf_ifname), K::kName},
                                {"table", Num(d.table), K::kNumber},
                                {"v4_ranges", Num(d.v4_count), K::kNumber},
                                {"v6_ranges", Num(d.v6_count), K::kNumber}}});
    auto route_text = [&](uint32_t route) {
      return route == ndt::kNoIndex || route >= image.routes().size()
                 ? std::string("none")
                 : "route " + FormatPrefix(image.routes()[route].prefix);
    };
    for (uint32_t k = 0; k < d.v4_count; ++k) {
      const ndt::LpmV4Range& r = image.lpm_v4()[d.v4_first + k];
      lpm.entries.push_back({"rdid " + Num(d.rdid) + " from " + net::IpAddress::V4(r.start).ToString(),
                             {{"resolves", route_text(r.route), K::kText}}});
    }
    for (uint32_t k = 0; k < d.v6_count; ++k) {
      const ndt::LpmV6Range& r = image.lpm_v6()[d.v6_first + k];
      uint8_t bytes[16];
      for (int i = 0; i < 8; ++i) bytes[i] = uint8_t(r.start_hi >> (56 - 8 * i)), bytes[8 + i] = uint8_t(r.start_lo >> (56 - 8 * i));
      lpm.entries.push_back({"rdid " + Num(d.rdid) + " from [" + FormatIp(ndt::kFamilyV6, bytes) + "]",
                             {{"resolves", route_text(r.route), K::kText}}});
    }
  }
  out.push_back(std::move(domains));
  out.push_back(std::move(lpm));

  RenderedSection nat{"nat", false, {}};
  for (const ndt::NatEntry& n : image.nat()) {
    std::string inside;
    for (const ndt::Prefix& p : image.NatInside(n)) {
      if (!inside.empty()) inside += ',';
      inside += FormatPrefix(p);
    }
    nat.entries.push_back({"vm_network `" + name(n.vm_network) + "`",
                           {{"rdid", Num(n.rdid), K::kNumber},
                            {"external_ip", FormatIp(n.external_ip.family, n.external_ip.bytes), K::kText},
                            {"external_pool", name(n.external_pool), K::kName},
                            {"inside", inside.empty() ? "-" : inside, K::kText}}});
  }
  out.push_back(std::move(nat));
  return out;
}

}  // namespace netdsl::runtime::tables
