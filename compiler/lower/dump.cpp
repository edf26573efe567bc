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
  for (const auto& sw : h.switches) {
    o << "  switch " << Q(sw.name) << " bridge=" << sw.bridge_ifname
      << " bond=" << (sw.bond_ifname.empty() ? "-" : sw.bond_ifname) << " uplink_mode=" << Name(sw.uplink_mode)
      << " sriov=" << B(sw.sriov) << " minimum_bandwidth_mode=" << Name(sw.minimum_bandwidth_mode) << " teaming=";
    if (sw.teaming) o << Name(sw.teaming->mode) << "/" << Name(sw.teaming->load_balancing);
    else o << "-";
    o << "\n";
    for (const auto& up : sw.uplinks) {
      o << "    uplink " << Q(up.nic) << " profile=" << Q(up.profile) << " vlans=[";
      for (size_t i = 0; i < up.vlans.size(); ++i) o << (i ? "," : "") << up.vlans[i];
      o << "]\n";
    }
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
    o << " minimum_absolute=" << Bw(p.minimum_absolute) << " maximum=" << Bw(p.maximum) << "\n";
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
      << (r.local ? " local port=" + std::to_string(r.port_id) : std::string(" remote")) << "\n";
  for (const auto& r : h.customer_routes) {
    o << "  route rdid=" << r.rdid << " " << r.prefix.ToString();
    if (r.kind == ir::CustomerRoute::Kind::OnLink) o << " on_link vsid=" << r.vsid;
    else o << " via " << Opt(r.next_hop) << " host=" << Q(r.via_host);
    o << "\n";
  }
  for (const auto& n : h.nat_rules) {
    o << "  nat vm_network=" << Q(n.vm_network) << " rdid=" << n.rdid << " external=" << n.external_ip.ToString()
      << " pool=" << Q(n.external_pool) << " inside=[";
    for (size_t i = 0; i < n.inside_prefixes.size(); ++i) o << (i ? "," : "") << n.inside_prefixes[i].ToString();
    o << "]\n";
  }
  return o.str();
}

std::string HostIrHash(const ir::HostIr& host) { return io::Sha256Hex(DumpHostIr(host, false)); }

}  // namespace netdsl::lower
