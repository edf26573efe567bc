// The seed demo and a hostile-names fabric, built by hand (no parser needed).
#include "fixtures.h"

#include <cassert>

namespace netdsl::testing {
namespace {

net::IpAddress Ip(const char* text) {
  auto a = net::ParseIp(text);
  assert(a);
  return *a;
}
net::Prefix Pfx(const char* text) {
  auto p = net::ParsePrefix(text);
  assert(p);
  return *p;
}
net::MacAddress Mac(const char* text) {
  auto m = net::ParseMac(text);
  assert(m);
  return *m;
}
template <typename T>
T Named(const std::string& name) {
  T t;
  t.name = name;
  return t;
}

}  // namespace

alloc::AllocatedFabric SeedDemoFabric() {
  alloc::AllocatedFabric af;
  model::Fabric& f = af.fabric;

  f.host_groups = {Named<model::HostGroup>("Lenovo"), Named<model::HostGroup>("Gateways")};
  f.host_groups[0].hosts = {0, 1};
  f.host_groups[1].hosts = {2};

  auto host = [](const char* name, uint32_t group, std::vector<model::HostNic> nics) {
    model::Host h = Named<model::Host>(name);
    h.host_group = group;
    h.platform = model::Platform::HyperV;  // the article's hosts run Hyper-V
    h.nics = std::move(nics);
    return h;
  };
  auto nic = [](const char* name, uint32_t sw, uint32_t upp) {
    model::HostNic n = Named<model::HostNic>(name);
    n.logical_switch = sw;
    n.uplink_profile = upp;
    return n;
  };
  f.hosts = {host("host01", 0, {nic("Ethernet", 0, 0)}), host("host02", 0, {nic("Ethernet", 0, 0)}),
             host("gateway", 1, {nic("inside", 1, 1), nic("outside", 1, 2)})};

  model::LogicalNetwork vs = Named<model::LogicalNetwork>("Virtual Switch");
  vs.sites = {0};
  vs.ip_pools = {0};
  model::LogicalNetwork tenant = Named<model::LogicalNetwork>("Tenant");
  tenant.network_virtualization = true;
  tenant.sites = {1};
  tenant.ip_pools = {1};
  f.logical_networks = {vs, tenant};

  model::Site shangdi = Named<model::Site>("shangdi");
  shangdi.logical_network = 0;
  shangdi.host_groups = {0, 1};
  shangdi.subnets = {{Pfx("192.168.10.0/24"), 0, {}}};
  model::Site tsite = Named<model::Site>("tenant");
  tsite.logical_network = 1;
  tsite.host_groups = {0, 1};
  tsite.subnets = {{Pfx("192.168.0.0/24"), 0, {}}};
  f.sites = {shangdi, tsite};

  model::IpPool test_pool = Named<model::IpPool>("test IP pool");
  test_pool.logical_network = 0;
  test_pool.site = 0;
  test_pool.subnet = Pfx("192.168.10.0/24");
  test_pool.range_first = Ip("192.168.10.40");
  test_pool.range_last = Ip("192.168.10.50");
  test_pool.gateway = Ip("192.168.10.1");
  test_pool.dns = {Ip("192.168.10.1")};
  model::IpPool pa_pool = Named<model::IpPool>("PA pool");
  pa_pool.logical_network = 1;
  pa_pool.site = 1;
  pa_pool.subnet = Pfx("192.168.0.0/24");
  pa_pool.range_first = Ip("192.168.0.10");
  pa_pool.range_last = Ip("192.168.0.250");
  model::IpPool web_pool = Named<model::IpPool>("web_pool");
  web_pool.vm_network = 1;
  web_pool.vm_subnet = 0;
  web_pool.subnet = Pfx("10.0.1.0/24");
  web_pool.range_first = Ip("10.0.1.10");
  web_pool.range_last = Ip("10.0.1.200");
  web_pool.gateway = Ip("10.0.1.1");
  f.ip_pools = {test_pool, pa_pool, web_pool};

  model::MacPool mac = Named<model::MacPool>("default");
  mac.first = Mac("00:1D:D8:B7:1C:00");
  mac.last = Mac("00:1D:D8:F4:1F:FF");
  f.mac_pools = {mac};

  model::VmNetwork vsn = Named<model::VmNetwork>("Virtual Switch");
  vsn.logical_network = 0;
  model::VmNetwork ta = Named<model::VmNetwork>("tenant A");
  ta.logical_network = 1;
  ta.isolation = model::Isolation::Nvgre;
  ta.vm_subnets = {0, 1};
  ta.ip_pools = {2};
  ta.gateway = model::Gateway{2, 0, true, {}};
  f.vm_networks = {vsn, ta};

  model::VmSubnet web = Named<model::VmSubnet>("web");
  web.vm_network = 1;
  web.prefix = Pfx("10.0.1.0/24");
  web.ip_pools = {2};
  model::VmSubnet db = Named<model::VmSubnet>("db");
  db.vm_network = 1;
  db.prefix = Pfx("10.0.2.0/24");
  db.vsid = 6001;
  f.vm_subnets = {web, db};

  model::PortClassification pc = Named<model::PortClassification>("Tenant");
  pc.description = "tenant VM adapters";
  f.port_classifications = {pc};

  model::PortProfile pp = Named<model::PortProfile>("Tenant");
  pp.offload = {true, true, false};
  pp.security.mac_spoofing = false;
  pp.security.dhcp_guard = true;
  pp.security.router_guard = true;
  pp.security.guest_specified_ip = true;
  pp.bandwidth.minimum_weight = 1;
  pp.bandwidth.maximum = 1000000000ull;
  f.port_profiles = {pp};

  model::UplinkPortProfile upp = Named<model::UplinkPortProfile>("uplink port profile");
  upp.sites = {0, 1};
  upp.teaming = model::UplinkPortProfile::Teaming{model::TeamingMode::SwitchIndependent,
                                                   model::LoadBalancing::HyperVPort};
  model::UplinkPortProfile inbound = Named<model::UplinkPortProfile>("inbound");
  inbound.sites = {1};
  model::UplinkPortProfile outbound = Named<model::UplinkPortProfile>("outbound");
  outbound.sites = {0};
  f.uplink_port_profiles = {upp, inbound, outbound};

  model::VirtualPort vp = Named<model::VirtualPort>("Tenant");
  vp.classification = 0;
  vp.profile = 0;
  model::LogicalSwitch ls = Named<model::LogicalSwitch>("test logical switch");
  ls.sriov = true;
  ls.uplink_mode = model::UplinkMode::Team;
  ls.uplinks = {0};
  ls.virtual_ports = {vp};
  model::LogicalSwitch gs = Named<model::LogicalSwitch>("gateway switch");
  gs.uplinks = {1, 2};
  gs.virtual_ports = {vp};
  f.logical_switches = {ls, gs};

  model::Vm vm = Named<model::Vm>("winserver10");
  vm.host = 1;
  model::VmNic vnic;
  vnic.name = "nic0";
  vnic.vm_network = 1;
  vnic.vm_subnet = 0;
  vnic.classification = 0;
  vm.nics = {vnic};
  f.vms = {vm};

  alloc::Allocation& a = af.allocation;
  a.vsid = {5001, 6001};
  a.rdid = {0, 1};
  a.provider_addresses = {{0, 1, 1, Ip("192.168.0.10")}, {1, 1, 1, Ip("192.168.0.11")}, {2, 1, 1, Ip("192.168.0.12")}};
  a.nics = {{{Ip("10.0.1.10"), Mac("00:1D:D8:B7:1C:00"), "nd-p1", 1, 2}}};
  a.switch_ifname = {"nd-br0", "nd-br1"};
  a.gateway_external_ip = {std::nullopt, Ip("192.168.10.40")};
  return af;
}

ir::HostIr SeedDemoHost02() {
  ir::HostIr h;
  h.host = "host02";
  h.host_group = "Lenovo";
  h.platform = ir::Platform::HyperV;
  h.source_hash = std::string(64, 'a');
  ir::Switch sw;
  sw.name = "test logical switch";
  sw.bridge_ifname = "nd-br0";
  sw.uplink_mode = model::UplinkMode::Team;
  sw.sriov = true;
  sw.teaming = model::UplinkPortProfile::Teaming{model::TeamingMode::SwitchIndependent,
                                                  model::LoadBalancing::HyperVPort};
  sw.uplinks = {{"Ethernet", "uplink port profile", {0}}};
  h.switches = {sw};
  h.provider_addresses = {{"Tenant", Ip("192.168.0.11"), 24, std::nullopt, 0, "test logical switch"}};
  h.routing_domains = {{1, "tenant A", "nd-vrf1", 1}};
  ir::Segment seg;
  seg.vsid = 5001;
  seg.rdid = 1;
  seg.vm_network = "tenant A";
  seg.vm_subnet = "web";
  seg.isolation = model::Isolation::Nvgre;
  seg.prefix = Pfx("10.0.1.0/24");
  seg.gateway = Ip("10.0.1.1");
  seg.mtu = 1458;
  seg.switch_name = "test logical switch";
  seg.local_pa = Ip("192.168.0.11");
  seg.remote_pas = {Ip("192.168.0.12")};
  h.segments = {seg};
  ir::PortPolicy policy;
  policy.profile = "Tenant";
  policy.ipsec_offload = true;
  policy.dhcp_guard = policy.router_guard = policy.guest_specified_ip = true;
  policy.minimum_weight = 1;
  policy.maximum = 1000000000ull;
  h.policies = {policy};
  ir::Port port;
  port.id = 1;
  port.vm = "winserver10";
  port.nic = "nic0";
  port.ifname = "nd-p1";
  port.switch_name = "test logical switch";
  port.classification = "Tenant";
  port.vm_network = "tenant A";
  port.vm_subnet = "web";
  port.vsid = 5001;
  port.rdid = 1;
  port.mac = Mac("00:1D:D8:B7:1C:00");
  port.ca = Ip("10.0.1.10");
  port.prefix_length = 24;
  port.gateway = Ip("10.0.1.1");
  port.mtu = 1458;
  port.policy = 0;
  h.ports = {port};
  h.lookup_records = {{5001, Ip("10.0.1.10"), Mac("00:1D:D8:B7:1C:00"), Ip("192.168.0.11"), "host02", "winserver10",
                       "nic0", true, 1}};
  ir::CustomerRoute on_link;
  on_link.rdid = 1;
  on_link.prefix = Pfx("10.0.1.0/24");
  on_link.vsid = 5001;
  ir::CustomerRoute def;
  def.rdid = 1;
  def.prefix = Pfx("0.0.0.0/0");
  def.kind = ir::CustomerRoute::Kind::Gateway;
  def.next_hop = Ip("192.168.0.12");
  def.via_host = "gateway";
  h.customer_routes = {def, on_link};
  return h;
}

ir::HostIr SeedDemoGateway() {
  ir::HostIr h;
  h.host = "gateway";
  h.host_group = "Gateways";
  h.platform = ir::Platform::HyperV;
  h.source_hash = std::string(64, 'a');
  ir::Switch sw;
  sw.name = "gateway switch";
  sw.bridge_ifname = "nd-br1";
  sw.uplinks = {{"inside", "inbound", {0}}, {"outside", "outbound", {0}}};
  h.switches = {sw};
  h.provider_addresses = {{"Tenant", Ip("192.168.0.12"), 24, Ip("192.168.0.1"), 0, "gateway switch"}};
  ir::NatRule nat;
  nat.vm_network = "tenant A";
  nat.rdid = 1;
  nat.external_ip = Ip("192.168.10.40");
  nat.external_pool = "test IP pool";
  nat.inside_prefixes = {Pfx("10.0.1.0/24"), Pfx("10.0.2.0/24")};
  h.nat_rules = {nat};
  return h;
}

alloc::AllocatedFabric VariantFabric() {
  alloc::AllocatedFabric af = SeedDemoFabric();
  model::Fabric& f = af.fabric;
  model::HostGroup rack = Named<model::HostGroup>("Rack 1");
  rack.parent = 0;
  f.host_groups.push_back(rack);  // index 2, nested under Lenovo

  model::LogicalNetwork dc = Named<model::LogicalNetwork>("Datacenter");
  dc.sites = {2};
  dc.ip_pools = {3};
  f.logical_networks.push_back(dc);  // index 2
  model::Site site = Named<model::Site>("dc");
  site.logical_network = 2;
  site.host_groups = {2};
  site.subnets = {{Pfx("10.10.0.0/24"), 10, {}}, {Pfx("10.10.1.0/24"), 11, {}}};
  f.sites.push_back(site);  // index 2
  model::IpPool pool = Named<model::IpPool>("dc pool");
  pool.logical_network = 2;
  pool.site = 2;
  pool.subnet = Pfx("10.10.0.0/24");
  pool.range_first = Ip("10.10.0.10");
  pool.range_last = Ip("10.10.0.99");
  pool.reserved = {Ip("10.10.0.11"), Ip("10.10.0.12")};
  pool.vips = {Ip("10.10.0.90")};
  f.ip_pools.push_back(pool);  // index 3

  model::VmNetwork vlan = Named<model::VmNetwork>("vlan net");
  vlan.logical_network = 2;
  vlan.isolation = model::Isolation::Vlan;
  vlan.vm_subnets = {2};
  f.vm_networks.push_back(vlan);  // index 2
  model::VmSubnet v11 = Named<model::VmSubnet>("v11");
  v11.vm_network = 2;
  v11.prefix = Pfx("10.10.1.0/24");
  v11.vlan = 11;
  f.vm_subnets.push_back(v11);  // index 2
  af.allocation.vsid.push_back(0);
  af.allocation.rdid.push_back(2);
  af.allocation.gateway_external_ip.push_back(std::nullopt);

  model::PortProfile& pp = f.port_profiles[0];
  pp.description = "absolute";
  pp.bandwidth.minimum_weight.reset();
  pp.bandwidth.minimum_absolute = 100000000ull;
  pp.bandwidth.maximum = 1500000ull;
  model::UplinkPortProfile& upp = f.uplink_port_profiles[0];
  upp.description = "lacp uplinks";
  upp.sites.push_back(2);
  upp.teaming = model::UplinkPortProfile::Teaming{model::TeamingMode::Lacp, model::LoadBalancing::AddressHash};
  model::LogicalSwitch& ls = f.logical_switches[0];
  ls.description = "embedded";
  ls.uplink_mode = model::UplinkMode::EmbeddedTeam;
  ls.minimum_bandwidth_mode = model::MinimumBandwidthMode::Absolute;
  ls.extensions = {"Microsoft Windows Filtering Platform"};
  ls.virtual_ports[0].description = "tenant port";
  // Descriptions on every kind that has one, guest teaming and vRSS, an
  // uplink profile with network virtualization turned off on purpose.
  f.host_groups[2].description = "rack one";
  f.hosts[1].description = "second host";
  f.hosts[1].nics[0].description = "first cable";
  f.logical_networks[2].description = "datacenter LN";
  f.sites[2].description = "no VMM property";
  f.ip_pools[3].description = "dc addresses";
  f.mac_pools[0].description = "all MACs";
  f.vm_networks[2].description = "vlan tenants";
  f.vm_subnets[2].description = "vlan 11";
  pp.security.guest_teaming = true;
  pp.offload.vrss = true;
  f.uplink_port_profiles[1].network_virtualization = false;
  // host02's management adapter, inherited and untagged.
  model::Management management;
  management.nic = 0;
  f.hosts[1].management = management;
  return af;
}

ir::HostIr VariantHost() {
  ir::HostIr h = SeedDemoHost02();
  h.switches[0].minimum_bandwidth_mode = model::MinimumBandwidthMode::Absolute;
  h.provider_addresses[0].ip = Ip("2001:db8::11");
  h.provider_addresses[0].prefix_length = 64;
  h.provider_addresses[0].gateway = Ip("2001:db8::1");
  h.provider_addresses[0].vlan = 20;
  h.policies[0].minimum_weight.reset();
  h.policies[0].minimum_absolute = 100000000ull;
  h.policies[0].sriov = true;
  h.policies[0].mac_spoofing = true;
  h.ports[0].vlan = 11;
  h.policies[0].guest_teaming = true;
  h.policies[0].vrss = true;
  h.switches[0].extensions = {"Microsoft Windows Filtering Platform"};
  // An untagged IPv6 management address on the only switch.
  ir::Management management;
  management.nic = "Ethernet";
  management.switch_name = h.switches[0].name;
  management.inherit = false;
  management.address = Ip("2001:db8::20");
  management.prefix_length = 64;
  management.gateway = Ip("2001:db8::1");
  h.management = management;
  return h;
}

std::vector<std::string> HostileNames() {
  return {
      "it's",
      "typographic \xE2\x80\x98left\xE2\x80\x99 and \xE2\x80\x9A low\xE2\x80\x9B",
      "$(Invoke-Evil)",
      "back`tick`n",
      "semi; Remove-Item C:\\ -Recurse",
      "line\nbreak",
      "quote \"double\" $env:PATH",
      "{0} format {1}",
      "wild*card[1]?",
      "hash # not a comment <# block #>",
      "@' here-string '@",
      "\xE2\x80\x99; Invoke-Evil; \xE2\x80\x98",
  };
}

alloc::AllocatedFabric HostileFabric() {
  alloc::AllocatedFabric af = SeedDemoFabric();
  model::Fabric& f = af.fabric;
  const std::vector<std::string> names = HostileNames();
  size_t next = 0;
  auto rename = [&](auto& objects) {
    for (auto& o : objects) {
      const size_t k = next++;
      o.name = names[k % names.size()] + " #" + std::to_string(k + 1);
    }
  };
  rename(f.host_groups);
  rename(f.hosts);
  for (model::Host& h : f.hosts) rename(h.nics);
  rename(f.logical_networks);
  rename(f.sites);
  rename(f.ip_pools);
  rename(f.mac_pools);
  rename(f.vm_networks);
  rename(f.vm_subnets);
  rename(f.port_classifications);
  rename(f.port_profiles);
  rename(f.uplink_port_profiles);
  rename(f.logical_switches);
  for (model::LogicalSwitch& s : f.logical_switches) rename(s.virtual_ports);
  rename(f.vms);
  f.port_classifications[0].description = names[0] + names[2] + names[6];
  f.logical_switches[0].description = names[1];
  // host02's one cable carries management too, inherited, on VLAN 12.
  model::Management management;
  management.nic = 0;
  management.vlan = 12;
  f.hosts[1].management = management;
  return af;
}

ir::HostIr HostileHost() {
  ir::HostIr h = SeedDemoHost02();
  const std::vector<std::string> names = HostileNames();
  h.host = names[2];
  h.switches[0].name = names[0];
  h.switches[0].uplinks[0].nic = names[8];
  h.provider_addresses[0].switch_name = names[0];
  h.ports[0].vm = names[4];
  h.ports[0].nic = names[5];
  h.ports[0].switch_name = names[0];
  h.lookup_records[0].vm = names[4];
  h.lookup_records[0].nic = names[5];
  h.lookup_records[0].host = names[2];
  ir::NatRule nat;
  nat.vm_network = names[11];
  nat.rdid = 1;
  nat.external_ip = net::IpAddress::V4(0xC0A80A28u);
  nat.external_pool = names[7];
  h.nat_rules = {nat};
  // The management adapter on the (hostile) switch, with a declared address.
  ir::Management management;
  management.nic = names[8];
  management.switch_name = names[0];
  management.inherit = false;
  management.address = Ip("192.168.0.20");
  management.prefix_length = 24;
  management.gateway = Ip("192.168.0.1");
  management.vlan = 12;
  h.management = management;
  return h;
}

}  // namespace netdsl::testing
