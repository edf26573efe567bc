// The text form of the per-host IR (`netdslc build --dump=ir`) and its hash.
#include <sstream>

#include "common/io/sha256.h"
#include "compiler/lower/lower.h"

namespace netdsl::lower {
namespace {

const char* Name(ir::Isolation i) {
  switch (i) {
    case ir::Isolation::None: return "none";
    case ir::Isolation::Vlan: return "vlan";
    case ir::Isolation::Vxlan: return "vxlan";
    case ir::Isolation::Nvgre: return "nvgre";
  }
  return "?";
}
const char* Name(ir::UplinkMode m) {
  switch (m) {
    case ir::UplinkMode::NoTeam: return "no_team";
    case ir::UplinkMode::Team: return "team";
    case ir::UplinkMode::EmbeddedTeam: return "embedded_team";
  }
  return "?";
}
const char* Name(ir::MinimumBandwidthMode m) {
  switch (m) {
    case ir::MinimumBandwidthMode::Weight: return "weight";
    case ir::MinimumBandwidthMode::Absolute: return "absolute";
    case ir::MinimumBandwidthMode::None: return "none";
  }
  return "?";
}
const char* Name(ir::TeamingMode m) {
  switch (m) {
    case ir::TeamingMode::SwitchIndependent: return "switch_independent";
    case ir::TeamingMode::Lacp: return "lacp";
    case ir::TeamingMode::Static: return "static";
  }
  return "?";
}
const char* Name(ir::LoadBalancing l) {
  switch (l) {
    case ir::LoadBalancing::HostDefault: return "host_default";
    case ir::LoadBalancing::AddressHash: return "address_hash";
    case ir::LoadBalancing::HyperVPort: return "hyperv_port";
    case ir::LoadBalancing::Dynamic: return "dynamic";
  }
  return "?";
}

/// Names are printed as JSON-style quoted strings so spaces and quotes stay unambiguous.
std::string Q(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[(c >> 4) & 15]);
      out.push_back(kHex[c & 15]);
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}
std::string Opt(const std::optional<net::IpAddress>& ip) { return ip ? ip->ToString() : "-"; }
std::string Bw(const std::optional<net::BitsPerSecond>& bw) { return bw ? net::FormatBandwidth(*bw) : "-"; }
const char* B(bool b) { return b ? "true" : "false"; }

}  // namespace

std::string DumpHostIr(const ir::HostIr& h, bool with_provenance) {
  std::ostringstream o;
  o << "host " << Q(h.host) << "\n";
  o << "  host_group " << Q(h.host_group) << "\n";
  if (with_provenance) {
    o << "  generation " << h.generation << "\n";
    o << "  source_hash " << h.source_hash << "\n";
  }
  o << "  underlay_mtu " << h.underlay_mtu << "\n";
  o << "  platform " << (h.platform == ir::Platform::HyperV ? "hyperv" : "linux") << "\n";
  for (const auto& sw : h.switches) {
    o << "  switch " << Q(sw.name) << " bridge=" << sw.bridge_ifname
      << " bond=" << (sw.bond_ifname.empty() ? "-" : sw.bond_ifname) << " uplink_mode=" << Name(sw.uplink_mode)
      << " sriov=" << B(sw.sriov) << " minimum_bandwidth_mode=" << Name(sw.minimum_bandwidth_mode) << " teaming=";
    if (sw.teaming) o << Name(sw.teaming->mode) << "/" << Name(sw.teaming->load_balancing);
    else o << "-";
    if (!sw.extensions.empty()) {
      o << " extensions=[";
      for (size_t i = 0; i < sw.extensions.size(); ++i) o << (i ? "," : "") << Q(sw.extensions[i]);
      o << "]";
    }
    o << "\n";
    for (const auto& up : sw.uplinks) {
      o << "    uplink " << Q(up.nic) << " profile=" << Q(up.profile) << " vlans=[";
      for (size_t i = 0; i < up.vlans.size(); ++i) o << (i ? "," : "") << up.vlans[i];
      o << "]\n";
    }
  }
  if (const auto& m = h.management) {
    o << "  management nic=" << Q(m->nic) << " switch=" << Q(m->switch_name);
    if (m->inherit) o << " inherit";
    else o << " address=" << m->address->ToString() << "/" << int(m->prefix_length) << " gateway=" << Opt(m->gateway)
           << " vlan=" << m->vlan;
    o << "\n";
  }
  for (const auto& pa : h.provider_addresses)
    o << "  provider_address " << Q(pa.logical_network) << " " << pa.ip.ToString() << "/" << int(pa.prefix_length)
      << " gateway=" << Opt(pa.gateway) << " vlan=" << pa.vlan << " switch=" << Q(pa.switch_name) << "\n";
  for (const auto& rd : h.routing_domains)
    o << "  routing_domain " << rd.rdid << " vm_network=" << Q(rd.vm_network) << " vrf=" << rd.vrf_ifname
      << " table=" << rd.table << "\n";
  for (const auto& s : h.segments) {
    o << "  segment vsid=" << s.vsid << " rdid=" << s.rdid << " vm_network=" << Q(s.vm_network)
      << " vm_subnet=" << Q(s.vm_subnet) << " isolation=" << Name(s.isolation) << " prefix=" << s.prefix.ToString()
      << " gateway=" << Opt(s.gateway) << " mtu=" << s.mtu << " vlan=" << s.vlan << " switch=" << Q(s.switch_name)
      << " bridge=" << s.bridge_ifname << " tunnel=" << (s.tunnel_ifname.empty() ? "-" : s.tunnel_ifname)
      << " local_pa=" << (s.tunnel_ifname.empty() ? std::string("-") : s.local_pa.ToString()) << " remote_pas=[";
    for (size_t i = 0; i < s.remote_pas.size(); ++i) o << (i ? "," : "") << s.remote_pas[i].ToString();
    o << "]\n";
  }
  for (size_t i = 0; i < h.policies.size(); ++i) {
    const auto& p = h.policies[i];
    o << "  policy " << i << " profile=" << Q(p.profile) << " vmq=" << B(p.vmq) << " ipsec_offload=" << B(p.ipsec_offload)
      << " sriov=" << B(p.sriov) << " mac_spoofing=" << B(p.mac_spoofing) << " dhcp_guard=" << B(p.dhcp_guard)
      << " router_guard=" << B(p.router_guard) << " guest_specified_ip=" << B(p.guest_specified_ip)
      << " ieee_priority_tagging=" << B(p.ieee_priority_tagging) << " minimum_weight=";
    if (p.minimum_weight) o << *p.minimum_weight;
    else o << "-";
    o << " minimum_absolute=" << Bw(p.minimum_absolute) << " maximum=" << Bw(p.maximum);
    if (p.guest_teaming) o << " guest_teaming=true";
    if (p.vrss) o << " vrss=true";
    o << "\n";
  }
  for (const auto& p : h.ports)
    o << "  port " << p.id << " vm=" << Q(p.vm) << " nic=" << Q(p.nic) << " ifname=" << p.ifname
      << " switch=" << Q(p.switch_name) << " classification=" << Q(p.classification)
      << " vm_network=" << Q(p.vm_network) << " vm_subnet=" << Q(p.vm_subnet) << " vsid=" << p.vsid
      << " rdid=" << p.rdid << " mac=" << p.mac.ToString() << " ca=" << p.ca.ToString() << "/" << int(p.prefix_length)
      << " gateway=" << Opt(p.gateway) << " mtu=" << p.mtu << " vlan=" << p.vlan << " policy=" << p.policy << "\n";
  for (const auto& r : h.lookup_records)
    o << "  lookup vsid=" << r.vsid << " ca=" << r.ca.ToString() << " mac=" << r.mac.ToString()
      << " pa=" << r.pa.ToString() << " host=" << Q(r.host) << " vm=" << Q(r.vm) << " nic=" << Q(r.nic)
      << (r.local ? " local port=" + std::to_string(r.port_id) : std::string(" remote"))
      << (r.gateway ? " gateway" : "") << "\n";
  for (const auto& r : h.customer_routes) {
    o << "  route rdid=" << r.rdid << " " << r.prefix.ToString();
    if (r.kind == ir::CustomerRoute::Kind::OnLink) o << " on_link vsid=" << r.vsid;
    else o << " via " << Opt(r.next_hop) << " vsid=" << r.vsid << " host=" << Q(r.via_host);
    o << "\n";
  }
  for (const auto& n : h.nat_rules) {
    o << "  nat vm_network=" << Q(n.vm_network) << " rdid=" << n.rdid << " external=" << n.external_ip.ToString()
      << " pool=" << Q(n.external_pool);
    if (!n.external_switch.empty())
      o << " on=" << Q(n.external_switch) << "/" << int(n.external_prefix_length) << " vlan=" << n.external_vlan;
    if (n.external_gateway) o << " via=" << n.external_gateway->ToString();
    o << " inside=[";
    for (size_t i = 0; i < n.inside_prefixes.size(); ++i) o << (i ? "," : "") << n.inside_prefixes[i].ToString();
    o << "]\n";
  }
  for (const auto& g : h.gateway_addresses)
    o << "  gateway_address rdid=" << g.rdid << " vsid=" << g.vsid << " vm_network=" << Q(g.vm_network)
      << " vm_subnet=" << Q(g.vm_subnet) << " ca=" << g.ca.ToString() << "/" << int(g.prefix_length)
      << " mac=" << g.mac.ToString() << "\n";
  return o.str();
}

namespace {

/// Feeds a canonical binary encoding into SHA-256: fixed-width little-endian
/// integers, length-prefixed strings, tagged optionals, count-prefixed lists.
/// Much cheaper than hashing the text dump, and as exact.
class IrHasher {
 public:
  void U(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = char(v >> (8 * i));
    Put(b, 8);
  }
  void S(const std::string& s) {
    U(s.size());
    Put(s.data(), s.size());
  }
  void Ip(const net::IpAddress& ip) {
    char f = char(ip.family);
    Put(&f, 1);
    Put(reinterpret_cast<const char*>(ip.bytes.data()), ip.bytes.size());
  }
  void Pfx(const net::Prefix& p) {
    Ip(p.address);
    U(p.length);
  }
  void Mac(const net::MacAddress& m) { U(m.Value()); }
  template <typename T, typename F>
  void Opt(const std::optional<T>& o, F f) {
    U(o ? 1 : 0);
    if (o) f(*o);
  }
  template <typename V, typename F>
  void List(const V& v, F f) {
    U(v.size());
    for (const auto& x : v) f(x);
  }
  std::string Finish() {
    h_.Update(buf_);
    return h_.FinalHex();
  }

 private:
  void Put(const char* p, size_t n) {
    buf_.append(p, n);
    if (buf_.size() >= (1 << 16)) {
      h_.Update(buf_);
      buf_.clear();
    }
  }
  io::Sha256 h_;
  std::string buf_;
};

}  // namespace

std::string HostIrHash(const ir::HostIr& h) {
  IrHasher x;
  x.S("netdsl host ir v1");
  x.S(h.host);
  x.S(h.host_group);
  x.U(uint64_t(h.platform));
  x.U(h.underlay_mtu);
  auto ip = [&](const net::IpAddress& a) { x.Ip(a); };
  x.List(h.switches, [&](const ir::Switch& sw) {
    x.S(sw.name);
    x.S(sw.bridge_ifname);
    x.S(sw.bond_ifname);
    x.U(uint64_t(sw.uplink_mode));
    x.U(sw.sriov);
    x.U(uint64_t(sw.minimum_bandwidth_mode));
    x.Opt(sw.teaming, [&](const auto& t) {
      x.U(uint64_t(t.mode));
      x.U(uint64_t(t.load_balancing));
    });
    x.List(sw.uplinks, [&](const ir::Uplink& up) {
      x.S(up.nic);
      x.S(up.profile);
      x.List(up.vlans, [&](uint16_t v) { x.U(v); });
    });
    x.List(sw.extensions, [&](const std::string& e) { x.S(e); });
  });
  if (const auto& m = h.management) {  // only when declared: other hosts keep their hashes
    x.S("management");
    x.S(m->nic);
    x.S(m->switch_name);
    x.U(m->inherit);
    x.Opt(m->address, ip);
    x.U(m->prefix_length);
    x.Opt(m->gateway, ip);
    x.U(m->vlan);
  }
  x.List(h.provider_addresses, [&](const ir::ProviderAddress& pa) {
    x.S(pa.logical_network);
    x.Ip(pa.ip);
    x.U(pa.prefix_length);
    x.Opt(pa.gateway, ip);
    x.U(pa.vlan);
    x.S(pa.switch_name);
  });
  x.List(h.routing_domains, [&](const ir::RoutingDomain& rd) {
    x.U(rd.rdid);
    x.S(rd.vm_network);
    x.S(rd.vrf_ifname);
    x.U(rd.table);
  });
  x.List(h.segments, [&](const ir::Segment& s) {
    x.U(s.vsid);
    x.U(s.rdid);
    x.S(s.vm_network);
    x.S(s.vm_subnet);
    x.U(uint64_t(s.isolation));
    x.Pfx(s.prefix);
    x.Opt(s.gateway, ip);
    x.U(s.mtu);
    x.U(s.vlan);
    x.S(s.switch_name);
    x.S(s.bridge_ifname);
    x.S(s.tunnel_ifname);
    x.Ip(s.local_pa);
    x.List(s.remote_pas, ip);
  });
  x.List(h.policies, [&](const ir::PortPolicy& p) {
    x.S(p.profile);
    for (bool b : {p.vmq, p.ipsec_offload, p.sriov, p.mac_spoofing, p.dhcp_guard, p.router_guard,
                   p.guest_specified_ip, p.ieee_priority_tagging, p.guest_teaming, p.vrss})
      x.U(b);
    x.Opt(p.minimum_weight, [&](uint32_t w) { x.U(w); });
    x.Opt(p.minimum_absolute, [&](uint64_t b) { x.U(b); });
    x.Opt(p.maximum, [&](uint64_t b) { x.U(b); });
  });
  x.List(h.ports, [&](const ir::Port& p) {
    x.U(p.id);
    x.S(p.vm);
    x.S(p.nic);
    x.S(p.ifname);
    x.S(p.switch_name);
    x.S(p.classification);
    x.S(p.vm_network);
    x.S(p.vm_subnet);
    x.U(p.vsid);
    x.U(p.rdid);
    x.Mac(p.mac);
    x.Ip(p.ca);
    x.U(p.prefix_length);
    x.Opt(p.gateway, ip);
    x.U(p.mtu);
    x.U(p.vlan);
    x.U(p.policy);
  });
  x.List(h.lookup_records, [&](const ir::LookupRecord& r) {
    x.U(r.vsid);
    x.Ip(r.ca);
    x.Mac(r.mac);
    x.Ip(r.pa);
    x.S(r.host);
    x.S(r.vm);
    x.S(r.nic);
    x.U(r.local);
    x.U(r.port_id);
    x.U(r.gateway);
  });
  x.List(h.customer_routes, [&](const ir::CustomerRoute& r) {
    x.U(r.rdid);
    x.Pfx(r.prefix);
    x.U(uint64_t(r.kind));
    x.U(r.vsid);
    x.Opt(r.next_hop, ip);
    x.S(r.via_host);
  });
  x.List(h.nat_rules, [&](const ir::NatRule& n) {
    x.S(n.vm_network);
    x.U(n.rdid);
    x.Ip(n.external_ip);
    x.S(n.external_pool);
    x.S(n.external_switch);
    x.U(n.external_prefix_length);
    x.U(n.external_vlan);
    x.List(n.inside_prefixes, [&](const net::Prefix& p) { x.Pfx(p); });
    x.Opt(n.external_gateway, ip);
  });
  x.List(h.gateway_addresses, [&](const ir::GatewayAddress& g) {
    x.U(g.rdid);
    x.U(g.vsid);
    x.S(g.vm_network);
    x.S(g.vm_subnet);
    x.Ip(g.ca);
    x.U(g.prefix_length);
    x.Mac(g.mac);
  });
  return x.Finish();
}

}  // namespace netdsl::lower
