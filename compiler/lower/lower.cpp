// Lowering one host: switches, PAs, segments, ports, policies, lookup records,
// customer routes and NAT duties, all resolved to plain values.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "compiler/alloc/alloc.h"
#include "compiler/lower/lower.h"

namespace netdsl::lower {

using model::kNone;

net::MacAddress GatewayMac(uint32_t vsid) { return net::MacAddress::FromValue(0x026e67000000ULL | (vsid & 0xffffff)); }

LowerIndex BuildLowerIndex(const alloc::AllocatedFabric& af, std::string source_hash) {
  const auto& f = af.fabric;
  const auto& a = af.allocation;
  LowerIndex index;
  index.source_hash = std::move(source_hash);
  index.nics_by_host.resize(f.hosts.size());
  index.nics_by_subnet.resize(f.vm_subnets.size());
  index.hosts_by_subnet.resize(f.vm_subnets.size());
  index.gateway_networks_by_host.resize(f.hosts.size());
  for (uint32_t v = 0; v < f.vms.size(); ++v) {
    const auto& vm = f.vms[v];
    for (uint32_t i = 0; i < vm.nics.size(); ++i) {
      if (vm.host != kNone) index.nics_by_host[vm.host].push_back({v, i});
      uint32_t s = vm.nics[i].vm_subnet;
      if (s == kNone) continue;
      index.nics_by_subnet[s].push_back({v, i});
      if (vm.host != kNone) index.hosts_by_subnet[s].push_back(vm.host);
    }
  }
  for (uint32_t n = 0; n < f.vm_networks.size(); ++n) {
    const auto& net = f.vm_networks[n];
    if (!net.gateway || net.gateway->host == kNone) continue;
    index.gateway_networks_by_host[net.gateway->host].push_back(n);
    for (uint32_t s : net.vm_subnets) index.hosts_by_subnet[s].push_back(net.gateway->host);
  }
  for (auto& hosts : index.hosts_by_subnet) {
    std::sort(hosts.begin(), hosts.end());
    hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
  }
  for (auto& nics : index.nics_by_subnet)
    std::sort(nics.begin(), nics.end(), [&](const auto& x, const auto& y) {
      const auto& cx = a.nics[x.first][x.second].ca;
      const auto& cy = a.nics[y.first][y.second].ca;
      if (cx != cy) return cx < cy;
      return x < y;
    });
  return index;
}

namespace {

/// Per-host context: which switch carries which site / logical network.
class HostLowering {
 public:
  HostLowering(const alloc::AllocatedFabric& af, const LowerIndex& index, uint32_t host)
      : af_(af), f_(af.fabric), a_(af.allocation), index_(index), host_(host) {}

  ir::HostIr Run();

 private:
  void LowerSwitches();
  void LowerManagement();
  void LowerProviderAddresses();
  void LowerSegments();
  void LowerPorts();
  void LowerRoutesAndNat();

  /// The host switch whose uplinks carry `site`, or kNone.
  uint32_t SwitchForSite(uint32_t site) const {
    auto it = site_switch_.find(site);
    return it == site_switch_.end() ? kNone : it->second;
  }
  /// The host switch whose uplinks carry a site of `ln`, or kNone.
  uint32_t SwitchForNetwork(uint32_t ln) const {
    auto it = ln_switch_.find(ln);
    return it == ln_switch_.end() ? kNone : it->second;
  }
  std::string SwitchName(uint32_t sw) const { return sw == kNone ? std::string() : f_.logical_switches[sw].name; }
  /// The VLAN of the site subnet of `site` containing `ip` (0 if none).
  std::pair<uint16_t, uint8_t> SiteVlanAndLength(uint32_t site, const net::IpAddress& ip) const {
    if (site == kNone) return {0, 0};
    for (const auto& sub : f_.sites[site].subnets)
      if (sub.prefix.Contains(ip)) return {sub.vlan, sub.prefix.length};
    return {0, 0};
  }
  std::optional<net::IpAddress> SubnetGateway(uint32_t s) const {
    for (uint32_t p : f_.vm_subnets[s].ip_pools)
      if (f_.ip_pools[p].gateway) return f_.ip_pools[p].gateway;
    for (uint32_t p = 0; p < f_.ip_pools.size(); ++p)
      if (f_.ip_pools[p].vm_subnet == s && f_.ip_pools[p].gateway) return f_.ip_pools[p].gateway;
    return std::nullopt;
  }
  const net::IpAddress* Pa(uint32_t host, uint32_t ln) const {
    const auto* pa = a_.FindProviderAddress(host, ln);
    return pa ? &pa->ip : nullptr;
  }

  const alloc::AllocatedFabric& af_;
  const model::Fabric& f_;
  const alloc::Allocation& a_;
  const LowerIndex& index_;
  uint32_t host_;
  ir::HostIr ir_;
  std::map<uint32_t, uint32_t> site_switch_, ln_switch_;
  std::vector<uint32_t> carried_subnets_;  ///< sorted by VSID
  std::set<uint32_t> networks_;            ///< VM networks with a routing domain here
};

ir::HostIr HostLowering::Run() {
  const auto& h = f_.hosts[host_];
  ir_.host = h.name;
  ir_.host_group = h.host_group == kNone ? std::string() : f_.host_groups[h.host_group].name;
  ir_.underlay_mtu = h.mtu;
  ir_.platform = h.platform;
  ir_.source_hash = index_.source_hash;
  ir_.generation = 1;
  for (const auto& nic : h.nics) {
    if (nic.uplink_profile == kNone || nic.logical_switch == kNone) continue;
    for (uint32_t site : f_.uplink_port_profiles[nic.uplink_profile].sites) {
      site_switch_.emplace(site, nic.logical_switch);
      ln_switch_.emplace(f_.sites[site].logical_network, nic.logical_switch);
    }
  }
  LowerSwitches();
  LowerManagement();
  LowerProviderAddresses();
  LowerSegments();
  LowerPorts();
  LowerRoutesAndNat();
  return std::move(ir_);
}

void HostLowering::LowerManagement() {
  const auto& h = f_.hosts[host_];
  if (!h.management || h.management->nic == kNone) return;
  const model::Management& m = *h.management;
  ir::Management out;
  out.nic = h.nics[m.nic].name;
  out.switch_name = SwitchName(h.nics[m.nic].logical_switch);
  out.inherit = m.inherit;
  out.address = m.address;
  out.prefix_length = m.prefix_length;
  out.gateway = m.gateway;
  out.vlan = m.vlan;
  ir_.management = std::move(out);
}

void HostLowering::LowerSwitches() {
  const auto& h = f_.hosts[host_];
  std::map<uint32_t, ir::Switch> by_switch;
  for (const auto& nic : h.nics) {
    if (nic.logical_switch == kNone) continue;
    const auto& ls = f_.logical_switches[nic.logical_switch];
    auto [it, inserted] = by_switch.try_emplace(nic.logical_switch);
    ir::Switch& sw = it->second;
    if (inserted) {
      sw.name = ls.name;
      sw.bridge_ifname = a_.switch_ifname[nic.logical_switch];
      sw.uplink_mode = ls.uplink_mode;
      sw.sriov = ls.sriov;
      sw.minimum_bandwidth_mode = ls.minimum_bandwidth_mode;
      sw.extensions = ls.extensions;
    }
    ir::Uplink up;
    up.nic = nic.name;
    if (nic.uplink_profile != kNone) {
      const auto& profile = f_.uplink_port_profiles[nic.uplink_profile];
      up.profile = profile.name;
      for (uint32_t site : profile.sites)
        for (const auto& sub : f_.sites[site].subnets) up.vlans.push_back(sub.vlan);
      std::sort(up.vlans.begin(), up.vlans.end());
      up.vlans.erase(std::unique(up.vlans.begin(), up.vlans.end()), up.vlans.end());
      if (!sw.teaming && profile.teaming) sw.teaming = profile.teaming;
    }
    sw.uplinks.push_back(std::move(up));
  }
  for (auto& [id, sw] : by_switch) {
    bool teamed = sw.uplink_mode != ir::UplinkMode::NoTeam && (sw.uplinks.size() > 1 || sw.teaming);
    if (teamed) sw.bond_ifname = alloc::BondIfnameFor(sw.bridge_ifname);
    if (sw.uplink_mode == ir::UplinkMode::NoTeam) sw.teaming.reset();
    ir_.switches.push_back(std::move(sw));
  }
  std::sort(ir_.switches.begin(), ir_.switches.end(),
            [](const ir::Switch& x, const ir::Switch& y) { return x.name < y.name; });
}

void HostLowering::LowerProviderAddresses() {
  auto first = std::lower_bound(a_.provider_addresses.begin(), a_.provider_addresses.end(), host_,
                                [](const alloc::ProviderAddress& pa, uint32_t h) { return pa.host < h; });
  for (auto it = first; it != a_.provider_addresses.end() && it->host == host_; ++it) {
    const auto& pool = f_.ip_pools[it->ip_pool];
    ir::ProviderAddress pa;
    pa.logical_network = f_.logical_networks[it->logical_network].name;
    pa.ip = it->ip;
    pa.prefix_length = pool.subnet.length;
    pa.gateway = pool.gateway;
    pa.vlan = SiteVlanAndLength(pool.site, it->ip).first;
    pa.switch_name = SwitchName(pool.site != kNone ? SwitchForSite(pool.site) : SwitchForNetwork(it->logical_network));
    ir_.provider_addresses.push_back(std::move(pa));
  }
  std::sort(ir_.provider_addresses.begin(), ir_.provider_addresses.end(),
            [](const auto& x, const auto& y) { return x.logical_network < y.logical_network; });
}

void HostLowering::LowerSegments() {
  std::set<uint32_t> subnets;
  for (const auto& [v, i] : index_.nics_by_host[host_])
    if (f_.vms[v].nics[i].vm_subnet != kNone) subnets.insert(f_.vms[v].nics[i].vm_subnet);
  for (uint32_t n : index_.gateway_networks_by_host[host_])
    for (uint32_t s : f_.vm_networks[n].vm_subnets) subnets.insert(s);
  carried_subnets_.assign(subnets.begin(), subnets.end());
  std::sort(carried_subnets_.begin(), carried_subnets_.end(),
            [&](uint32_t x, uint32_t y) { return std::pair(a_.vsid[x], x) < std::pair(a_.vsid[y], y); });
  for (uint32_t s : carried_subnets_) {
    const auto& subnet = f_.vm_subnets[s];
    const auto& net = f_.vm_networks[subnet.vm_network];
    networks_.insert(subnet.vm_network);
    ir::Segment seg;
    seg.vsid = a_.vsid[s];
    seg.rdid = a_.rdid[subnet.vm_network];
    seg.vm_network = net.name;
    seg.vm_subnet = subnet.name;
    seg.isolation = net.isolation;
    seg.prefix = subnet.prefix;
    seg.gateway = SubnetGateway(s);
    seg.mtu = f_.hosts[host_].mtu - model::EncapOverhead(net.isolation);
    seg.vlan = net.isolation == model::Isolation::Vlan ? subnet.vlan : 0;
    seg.switch_name = SwitchName(SwitchForNetwork(net.logical_network));
    seg.bridge_ifname = "nd-br" + std::to_string(seg.vsid);
    bool tunneled = net.isolation == model::Isolation::Vxlan || net.isolation == model::Isolation::Nvgre;
    if (net.isolation == model::Isolation::Vxlan) seg.tunnel_ifname = "nd-vx" + std::to_string(seg.vsid);
    if (net.isolation == model::Isolation::Nvgre) seg.tunnel_ifname = "nd-gt" + std::to_string(seg.vsid);
    if (tunneled) {
      if (const auto* pa = Pa(host_, net.logical_network)) seg.local_pa = *pa;
      for (uint32_t other : index_.hosts_by_subnet[s])
        if (other != host_)
          if (const auto* pa = Pa(other, net.logical_network)) seg.remote_pas.push_back(*pa);
      std::sort(seg.remote_pas.begin(), seg.remote_pas.end());
      seg.remote_pas.erase(std::unique(seg.remote_pas.begin(), seg.remote_pas.end()), seg.remote_pas.end());
      // Lookup records: every NIC of this VSID anywhere, already in (CA, vm, nic) order.
      const size_t first_record = ir_.lookup_records.size();
      for (const auto& [v, i] : index_.nics_by_subnet[s]) {
        const auto& vm = f_.vms[v];
        if (vm.host == kNone) continue;
        const auto* pa = Pa(vm.host, net.logical_network);
        if (!pa) continue;
        const auto& alloc_nic = a_.nics[v][i];
        ir::LookupRecord rec;
        rec.vsid = seg.vsid;
        rec.ca = alloc_nic.ca;
        rec.mac = alloc_nic.mac;
        rec.pa = *pa;
        rec.host = f_.hosts[vm.host].name;
        rec.vm = vm.name;
        rec.nic = vm.nics[i].name;
        rec.local = vm.host == host_;
        rec.port_id = rec.local ? alloc_nic.port_id : 0;
        ir_.lookup_records.push_back(std::move(rec));
      }
      // The routing domain's gateway in this VSID: the next hop of the
      // default route (HNV: the gateway's lookup record), in CA order.
      if (net.gateway && net.gateway->host != kNone && a_.gateway_ca[s])
        if (const auto* pa = Pa(net.gateway->host, net.logical_network)) {
          ir::LookupRecord rec;
          rec.vsid = seg.vsid;
          rec.ca = *a_.gateway_ca[s];
          rec.mac = GatewayMac(seg.vsid);
          rec.pa = *pa;
          rec.host = f_.hosts[net.gateway->host].name;
          rec.gateway = true;
          auto at = std::find_if(ir_.lookup_records.begin() + ptrdiff_t(first_record), ir_.lookup_records.end(), [&](const ir::LookupRecord& r) { return rec.ca < r.ca; });
          ir_.lookup_records.insert(at, std::move(rec));
        }
    }
    ir_.segments.push_back(std::move(seg));
  }
}

void HostLowering::LowerPorts() {
  std::map<ir::PortPolicy, uint32_t> policies;
  std::vector<ir::PortPolicy> port_policy;
  for (const auto& [v, i] : index_.nics_by_host[host_]) {
    const auto& vm = f_.vms[v];
    const auto& nic = vm.nics[i];
    const auto& an = a_.nics[v][i];
    ir::Port port;
    port.id = an.port_id;
    port.vm = vm.name;
    port.nic = nic.name;
    port.ifname = an.ifname;
    port.mac = an.mac;
    port.ca = an.ca;
    model::Isolation isolation = model::Isolation::None;
    uint32_t ln = kNone;
    if (nic.vm_network != kNone) {
      const auto& net = f_.vm_networks[nic.vm_network];
      isolation = net.isolation;
      ln = net.logical_network;
      port.vm_network = net.name;
      port.rdid = a_.rdid[nic.vm_network];
    }
    uint32_t sw = ln == kNone ? kNone : SwitchForNetwork(ln);
    port.switch_name = SwitchName(sw);
    if (nic.vm_subnet != kNone) {
      const auto& subnet = f_.vm_subnets[nic.vm_subnet];
      port.vm_subnet = subnet.name;
      port.vsid = a_.vsid[nic.vm_subnet];
      port.prefix_length = subnet.prefix.length;
      port.gateway = an.ip_pool != kNone && f_.ip_pools[an.ip_pool].gateway ? f_.ip_pools[an.ip_pool].gateway
                                                                            : SubnetGateway(nic.vm_subnet);
      port.vlan = isolation == model::Isolation::Vlan ? subnet.vlan : 0;
    } else if (ln != kNone) {
      // Isolation none: the address lives in a site subnet of the logical network.
      uint32_t pool = an.ip_pool;
      if (pool == kNone)
        for (uint32_t p : f_.logical_networks[ln].ip_pools)
          if (f_.ip_pools[p].subnet.Contains(an.ca)) { pool = p; break; }
      if (pool != kNone) {
        port.prefix_length = f_.ip_pools[pool].subnet.length;
        port.gateway = f_.ip_pools[pool].gateway;
        port.vlan = SiteVlanAndLength(f_.ip_pools[pool].site, an.ca).first;
      } else {
        for (uint32_t site : f_.logical_networks[ln].sites)
          if (auto [vlan, len] = SiteVlanAndLength(site, an.ca); len) {
            port.vlan = vlan;
            port.prefix_length = len;
            break;
          }
      }
    }
    port.mtu = nic.mtu ? *nic.mtu : f_.hosts[host_].mtu - model::EncapOverhead(isolation);
    ir::PortPolicy policy;
    if (nic.classification != kNone) {
      port.classification = f_.port_classifications[nic.classification].name;
      if (sw != kNone)
        for (const auto& vp : f_.logical_switches[sw].virtual_ports) {
          if (vp.classification != nic.classification || vp.profile == kNone) continue;
          const auto& pp = f_.port_profiles[vp.profile];
          policy.profile = pp.name;
          policy.vmq = pp.offload.vmq;
          policy.ipsec_offload = pp.offload.ipsec_offload;
          policy.sriov = pp.offload.sriov;
          policy.mac_spoofing = pp.security.mac_spoofing;
          policy.dhcp_guard = pp.security.dhcp_guard;
          policy.router_guard = pp.security.router_guard;
          policy.guest_specified_ip = pp.security.guest_specified_ip;
          policy.ieee_priority_tagging = pp.security.ieee_priority_tagging;
          policy.guest_teaming = pp.security.guest_teaming;
          policy.vrss = pp.offload.vrss;
          policy.minimum_weight = pp.bandwidth.minimum_weight;
          policy.minimum_absolute = pp.bandwidth.minimum_absolute;
          policy.maximum = pp.bandwidth.maximum;
          break;
        }
    }
    policies.emplace(policy, 0);
    port_policy.push_back(std::move(policy));
    ir_.ports.push_back(std::move(port));
  }
  for (auto& [policy, idx] : policies) {
    idx = uint32_t(ir_.policies.size());
    ir_.policies.push_back(policy);
  }
  for (size_t k = 0; k < ir_.ports.size(); ++k) ir_.ports[k].policy = policies.at(port_policy[k]);
  std::sort(ir_.ports.begin(), ir_.ports.end(), [](const ir::Port& x, const ir::Port& y) { return x.id < y.id; });
}

void HostLowering::LowerRoutesAndNat() {
  for (uint32_t n : index_.gateway_networks_by_host[host_]) networks_.insert(n);
  std::vector<uint32_t> networks(networks_.begin(), networks_.end());
  std::sort(networks.begin(), networks.end(),
            [&](uint32_t x, uint32_t y) { return std::pair(a_.rdid[x], x) < std::pair(a_.rdid[y], y); });
  for (uint32_t n : networks) {
    const auto& net = f_.vm_networks[n];
    ir::RoutingDomain rd;
    rd.rdid = a_.rdid[n];
    rd.vm_network = net.name;
    rd.vrf_ifname = "nd-vrf" + std::to_string(rd.rdid);
    rd.table = rd.rdid;
    ir_.routing_domains.push_back(std::move(rd));
  }
  // On-link routes for every carried VM subnet of the routing domain.
  std::map<uint32_t, std::set<net::IpAddress::Family>> families;
  for (uint32_t s : carried_subnets_) {
    const auto& subnet = f_.vm_subnets[s];
    ir::CustomerRoute route;
    route.rdid = a_.rdid[subnet.vm_network];
    route.prefix = subnet.prefix.Canonical();
    route.kind = ir::CustomerRoute::Kind::OnLink;
    route.vsid = a_.vsid[s];
    ir_.customer_routes.push_back(std::move(route));
    families[subnet.vm_network].insert(subnet.prefix.address.family);
  }
  // Default routes towards the VM network's gateway host (not on the gateway
  // itself: it NATs), via the gateway's CA in the first carried subnet (by
  // VSID) of the family that has one: customer routes live in the routing
  // domain's CA space (HNV: New-NetVirtualizationCustomerRoute -NextHop CA).
  for (const auto& [n, fams] : families) {
    const auto& net = f_.vm_networks[n];
    if (!net.gateway || net.gateway->host == kNone || net.gateway->host == host_) continue;
    for (auto family : fams) {
      ir::CustomerRoute route;
      route.rdid = a_.rdid[n];
      route.prefix.address.family = family;
      route.prefix.length = 0;
      route.kind = ir::CustomerRoute::Kind::Gateway;
      for (uint32_t s : carried_subnets_)
        if (f_.vm_subnets[s].vm_network == n && a_.gateway_ca[s] && a_.gateway_ca[s]->family == family) {
          route.next_hop = *a_.gateway_ca[s];
          route.vsid = a_.vsid[s];
          break;
        }
      route.via_host = f_.hosts[net.gateway->host].name;
      ir_.customer_routes.push_back(std::move(route));
    }
  }
  std::sort(ir_.customer_routes.begin(), ir_.customer_routes.end(), [](const auto& x, const auto& y) {
    return std::tie(x.rdid, x.prefix, x.vsid) < std::tie(y.rdid, y.prefix, y.vsid);
  });
  // The CAs this host owns as the gateway of its VM networks.
  for (uint32_t n : index_.gateway_networks_by_host[host_])
    for (uint32_t s : f_.vm_networks[n].vm_subnets) {
      if (!a_.gateway_ca[s]) continue;
      ir::GatewayAddress g;
      g.rdid = a_.rdid[n];
      g.vsid = a_.vsid[s];
      g.vm_network = f_.vm_networks[n].name;
      g.vm_subnet = f_.vm_subnets[s].name;
      g.ca = *a_.gateway_ca[s];
      g.prefix_length = f_.vm_subnets[s].prefix.length;
      g.mac = GatewayMac(g.vsid);
      ir_.gateway_addresses.push_back(std::move(g));
    }
  std::sort(ir_.gateway_addresses.begin(), ir_.gateway_addresses.end(),
            [](const auto& x, const auto& y) { return std::tie(x.rdid, x.vsid) < std::tie(y.rdid, y.vsid); });
  for (uint32_t n : index_.gateway_networks_by_host[host_]) {
    const auto& net = f_.vm_networks[n];
    if (!net.gateway->nat || !a_.gateway_external_ip[n]) continue;
    ir::NatRule nat;
    nat.vm_network = net.name;
    nat.rdid = a_.rdid[n];
    nat.external_ip = *a_.gateway_external_ip[n];
    const auto& pool = f_.ip_pools[net.gateway->external_pool];
    nat.external_pool = pool.name;
    // The external address lives on the switch carrying the pool's site (as a
    // provider address does); without one the backend assigns no address.
    nat.external_switch = SwitchName(pool.site != kNone ? SwitchForSite(pool.site) : kNone);
    if (!nat.external_switch.empty()) {
      nat.external_prefix_length = pool.subnet.length;
      nat.external_vlan = SiteVlanAndLength(pool.site, nat.external_ip).first;
      if (pool.gateway && pool.gateway->family == nat.external_ip.family) nat.external_gateway = pool.gateway;
    }
    // Only subnets of the external address's family can be translated to it.
    for (uint32_t s : net.vm_subnets)
      if (f_.vm_subnets[s].prefix.address.family == nat.external_ip.family)
        nat.inside_prefixes.push_back(f_.vm_subnets[s].prefix.Canonical());
    std::sort(nat.inside_prefixes.begin(), nat.inside_prefixes.end());
    ir_.nat_rules.push_back(std::move(nat));
  }
  std::sort(ir_.nat_rules.begin(), ir_.nat_rules.end(),
            [](const auto& x, const auto& y) { return x.vm_network < y.vm_network; });
}

}  // namespace

ir::HostIr LowerHost(const alloc::AllocatedFabric& fabric, const LowerIndex& index, uint32_t host) {
  return HostLowering(fabric, index, host).Run();
}

}  // namespace netdsl::lower
