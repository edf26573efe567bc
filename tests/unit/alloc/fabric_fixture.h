// A small hand-built fabric for alloc and lower unit tests (no parser needed).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "compiler/sema/model.h"

namespace netdsl::testing {

using model::kNone;

inline net::IpAddress Ip(const char* s) { return *net::ParseIp(s); }

/// One virtualized logical network, one VM network (nvgre, subnet `web`),
/// hosts h1 and h2 on one switch, and the given VMs (name, host index).
inline model::Fabric MakeFabric(const std::vector<std::pair<std::string, uint32_t>>& vms,
                         const char* ca_last = "10.0.1.200") {
  model::Fabric f;
  model::HostGroup group;
  group.name = "g";
  group.hosts = {0, 1};
  f.host_groups.push_back(group);
  for (const char* name : {"h1", "h2"}) {
    model::Host h;
    h.name = name;
    h.host_group = 0;
    h.nics.push_back({{"eth0", {}, ""}, 0, 0});
    f.hosts.push_back(h);
  }
  model::LogicalNetwork ln;
  ln.name = "Tenant";
  ln.network_virtualization = true;
  ln.sites = {0};
  ln.ip_pools = {0};
  f.logical_networks.push_back(ln);
  model::Site site;
  site.name = "tenant";
  site.logical_network = 0;
  site.host_groups = {0};
  site.subnets.push_back({*net::ParsePrefix("192.168.0.0/24"), 0, {}});
  f.sites.push_back(site);
  model::IpPool pa;
  pa.name = "PA pool";
  pa.logical_network = 0;
  pa.site = 0;
  pa.subnet = *net::ParsePrefix("192.168.0.0/24");
  pa.range_first = Ip("192.168.0.10");
  pa.range_last = Ip("192.168.0.250");
  f.ip_pools.push_back(pa);
  model::IpPool ca;
  ca.name = "web_pool";
  ca.vm_network = 0;
  ca.vm_subnet = 0;
  ca.subnet = *net::ParsePrefix("10.0.1.0/24");
  ca.range_first = Ip("10.0.1.10");
  ca.range_last = Ip(ca_last);
  ca.gateway = Ip("10.0.1.1");
  ca.reserved = {Ip("10.0.1.12")};
  f.ip_pools.push_back(ca);
  model::MacPool mac;
  mac.name = "default";
  mac.first = *net::ParseMac("00:1d:d8:b7:1c:00");
  mac.last = *net::ParseMac("00:1d:d8:b7:1c:ff");
  f.mac_pools.push_back(mac);
  model::VmNetwork vn;
  vn.name = "tenant A";
  vn.logical_network = 0;
  vn.isolation = model::Isolation::Nvgre;
  vn.vm_subnets = {0};
  vn.ip_pools = {1};
  f.vm_networks.push_back(vn);
  model::VmSubnet sn;
  sn.name = "web";
  sn.vm_network = 0;
  sn.prefix = *net::ParsePrefix("10.0.1.0/24");
  sn.ip_pools = {1};
  f.vm_subnets.push_back(sn);
  model::UplinkPortProfile up;
  up.name = "uplink";
  up.sites = {0};
  f.uplink_port_profiles.push_back(up);
  model::LogicalSwitch sw;
  sw.name = "test logical switch";
  sw.uplinks = {0};
  f.logical_switches.push_back(sw);
  for (const auto& [name, host] : vms) {
    model::Vm vm;
    vm.name = name;
    vm.host = host;
    model::VmNic nic;
    nic.name = "nic0";
    nic.vm_network = 0;
    nic.vm_subnet = 0;
    vm.nics.push_back(nic);
    f.vms.push_back(vm);
  }
  return f;
}

}  // namespace netdsl::testing
