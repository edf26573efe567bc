// VMs and their NICs: placement against the host's switches, classification
// against the switch's virtual ports, explicit addresses, MACs and MTUs.
#include <algorithm>

#include "compiler/sema/checker.h"

namespace netdsl::sema {

void Checker::DeclareVm(const ast::Block& block) {
  Props props = Validate(block, *FindSpec("", "vm"));
  if (!block.label || !block.label->IsName() || block.label->text.empty()) return;
  uint32_t id = (uint32_t)f_.vms.size();
  model::Vm vm;
  vm.name = block.label->text;
  vm.name_range = block.label->range;
  if (!Declare(vms_, vm.name, id, vm.name_range, "VM", "", [&](uint32_t e) { return f_.vms[e].name_range; })) return;
  std::vector<Props> nics;
  unsigned position = 0;
  for (const ast::Block& child : block.blocks) {
    const BlockSpec* spec = FindSpec("vm", child.kind);
    if (!spec) continue;
    Props np = Validate(child, *spec);
    model::VmNic nic;
    bool labeled = child.label && child.label->IsName() && !child.label->text.empty();
    nic.name = labeled ? child.label->text : "nic" + std::to_string(position);
    nic.range = labeled ? child.label->range : child.kind_range;
    ++position;
    auto clash = std::find_if(vm.nics.begin(), vm.nics.end(), [&](const model::VmNic& n) { return n.name == nic.name; });
    if (clash != vm.nics.end()) {
      ReportDuplicate(nic.name, nic.range, clash->range, "NIC", " in VM `" + vm.name + "`");
      continue;
    }
    vm.nics.push_back(std::move(nic));
    nics.push_back(std::move(np));
  }
  f_.vms.push_back(std::move(vm));
  vm_props_.push_back(std::move(props));
  vm_nic_props_.push_back(std::move(nics));
}

void Checker::ResolveVms() {
  for (uint32_t v = 0; v < f_.vms.size(); ++v) {
    model::Vm& vm = f_.vms[v];
    if (const ast::Value* h = vm_props_[v].Get("host")) vm.host = Resolve(*h, hosts_, "host");
    for (uint32_t i = 0; i < vm.nics.size(); ++i) {
      model::VmNic& nic = vm.nics[i];
      const Props& np = vm_nic_props_[v][i];
      auto who = [&] { return "NIC `" + nic.name + "` of VM `" + vm.name + "`"; };
      if (const ast::Value* n = np.Get("vm_network")) nic.vm_network = Resolve(*n, vm_networks_, "VM network");
      if (const ast::Value* c = np.Get("classification"))
        nic.classification = Resolve(*c, classifications_, "port classification");
      if (nic.vm_network != kNone) {
        const model::VmNetwork& vmn = f_.vm_networks[nic.vm_network];
        if (const ast::Value* s = np.Get("vm_subnet")) {
          nic.vm_subnet = Resolve(*s, vm_subnets_in_vmn_[nic.vm_network], "VM subnet", "VM network", vmn.name);
        } else if (vmn.vm_subnets.size() == 1) {
          nic.vm_subnet = vmn.vm_subnets.front();
        } else if (vmn.vm_subnets.size() > 1) {
          diags_.Report(DiagKind::MissingRequiredProperty, nic.range,
                        who() + " has no `vm_subnet`, and VM network `" + vmn.name + "` has " +
                            std::to_string(vmn.vm_subnets.size()) + "; add `vm_subnet = ...;`");
        } else if (vmn.isolation != model::Isolation::None && isolation_ok_[nic.vm_network]) {
          diags_.Report(DiagKind::NicNeedsVmSubnet, KeyRange(*np.block, "vm_network"),
                        who() + " joins VM network `" + vmn.name + "`, which has `" +
                            (vmn.isolation == model::Isolation::Vlan ? std::string("vlan") : vmn.isolation == model::Isolation::Vxlan ? "vxlan" : "nvgre") +
                            "` isolation but no VM subnet to attach to; add a `vm_subnet` to the VM network")
              .Note(vmn.name_range, "VM network `" + vmn.name + "` defined here");
        }
      }
      if (const ast::Value* ip = np.Get("ip")) nic.ip = ip->address, nic.ip_range = ip->range;
      if (const ast::Value* mac = np.Get("mac")) {
        if (mac->mac.IsMulticast() || mac->mac.IsZero())
          diags_.Report(DiagKind::InvalidMac, mac->range,
                        "MAC `" + mac->mac.ToString() + "` of " + who() + " is " +
                            (mac->mac.IsZero() ? "all zero" : "a multicast address (low bit of the first octet set)") +
                            "; a NIC needs a unicast MAC");
        else
          nic.mac = mac->mac, nic.mac_range = mac->range;
      }
      if (const ast::Value* m = np.Get("mtu"))
        if (std::optional<uint64_t> mtu = IntegerIn(m, 68, 9216, DiagKind::MtuOutOfRange, "MTU", who()))
          nic.mtu = (uint32_t)*mtu;
    }
  }
}

void Checker::CheckVmRules() {
  // Classifications each switch maps, sorted for lookup.
  std::vector<std::vector<uint32_t>> switch_classes(f_.logical_switches.size());
  for (uint32_t s = 0; s < f_.logical_switches.size(); ++s) {
    for (const model::VirtualPort& vp : f_.logical_switches[s].virtual_ports)
      if (vp.classification != kNone) switch_classes[s].push_back(vp.classification);
    std::sort(switch_classes[s].begin(), switch_classes[s].end());
  }

  // Sites that define each VLAN-isolated VM subnet's subnet/VLAN pair.
  std::vector<std::vector<uint32_t>> vlan_sites(f_.vm_subnets.size());
  for (uint32_t s = 0; s < f_.vm_subnets.size(); ++s) {
    const model::VmSubnet& vs = f_.vm_subnets[s];
    const model::VmNetwork& vmn = f_.vm_networks[vs.vm_network];
    if (vmn.isolation != model::Isolation::Vlan || vmn.logical_network == kNone || !vm_subnet_ok_[s]) continue;
    for (uint32_t site : f_.logical_networks[vmn.logical_network].sites)
      for (const model::SiteSubnet& ss : f_.sites[site].subnets)
        if (ss.prefix == vs.prefix && ss.vlan == vs.vlan) {
          vlan_sites[s].push_back(site);
          break;
        }
  }

  // Address claims per routing domain: (domain, ip, claimer sequence).
  // Domain: 2*vm_network for isolated VM networks, 2*ln+1 for the address
  // space of a logical network (VM networks without isolation, its pools).
  struct Claim {
    uint64_t domain;
    net::IpAddress ip;
    uint64_t seq;
    llvm::SMRange range;
    std::string who;
    bool operator<(const Claim& o) const {
      if (domain != o.domain) return domain < o.domain;
      if (ip != o.ip) return ip < o.ip;
      return seq < o.seq;
    }
  };
  std::vector<Claim> claims;
  uint64_t seq = 0;
  for (uint32_t p = 0; p < f_.ip_pools.size(); ++p) {
    const model::IpPool& pool = f_.ip_pools[p];
    uint64_t domain = pool.vm_network != kNone ? 2ull * pool.vm_network : 2ull * pool.logical_network + 1;
    if (pool.gateway)
      claims.push_back({domain, *pool.gateway, seq++, KeyRange(*pool_props_[p].block, "gateway"),
                        "gateway of IP pool `" + pool.name + "`"});
    for (const net::IpAddress& vip : pool.vips)
      claims.push_back({domain, vip, seq++, KeyRange(*pool_props_[p].block, "vips"), "VIP of IP pool `" + pool.name + "`"});
  }
  struct MacClaim {
    net::MacAddress mac;
    uint64_t seq;
    uint32_t vm, nic;
  };
  std::vector<MacClaim> macs;

  for (uint32_t v = 0; v < f_.vms.size(); ++v) {
    const model::Vm& vm = f_.vms[v];
    for (uint32_t i = 0; i < vm.nics.size(); ++i) {
      const model::VmNic& nic = vm.nics[i];
      const Props& np = vm_nic_props_[v][i];
      auto who = [&] { return "NIC `" + nic.name + "` of VM `" + vm.name + "`"; };
      if (nic.mac) macs.push_back({*nic.mac, seq++, v, i});
      if (nic.vm_network == kNone) continue;
      const model::VmNetwork& vmn = f_.vm_networks[nic.vm_network];
      uint32_t ln = vmn.logical_network;
      if (!isolation_ok_[nic.vm_network]) continue;  // misspelled isolation: reported once already

      // Placement: the host must reach the logical network, through a switch that maps the classification.
      if (vm.host != kNone && ln != kNone && !host_incomplete_[vm.host]) {
        const model::Host& host = f_.hosts[vm.host];
        if (!HostReaches(vm.host, ln)) {
          diags_.Report(DiagKind::VmNetworkUnreachable, KeyRange(*np.block, "vm_network"),
                        who() + " joins VM network `" + vmn.name + "` on logical network `" + f_.logical_networks[ln].name +
                            "`, but no switch of host `" + host.name + "` has an uplink carrying a site of it")
              .Note(host.name_range, "host `" + host.name + "` defined here");
        } else if (nic.classification != kNone) {
          bool mapped = false;
          const auto& reach = host_reach_[vm.host];
          for (auto it = std::lower_bound(reach.begin(), reach.end(), std::pair<uint32_t, uint32_t>{ln, 0});
               it != reach.end() && it->first == ln && !mapped; ++it)
            mapped = switch_incomplete_[it->second] ||
                     std::binary_search(switch_classes[it->second].begin(), switch_classes[it->second].end(),
                                        nic.classification);
          if (!mapped) {
            auto it = std::lower_bound(reach.begin(), reach.end(), std::pair<uint32_t, uint32_t>{ln, 0});
            const model::LogicalSwitch& ls = f_.logical_switches[it->second];
            diags_.Report(DiagKind::ClassificationNotOnSwitch, KeyRange(*np.block, "classification"),
                          who() + " asks for classification `" + f_.port_classifications[nic.classification].name +
                              "`, but logical switch `" + ls.name + "` on host `" + host.name +
                              "` has no virtual port for it")
                .Note(ls.name_range, "logical switch `" + ls.name + "` defined here");
          }
        }
        if (nic.vm_subnet != kNone && !vlan_sites[nic.vm_subnet].empty()) {
          const auto& sites = vlan_sites[nic.vm_subnet];
          bool in_scope = std::any_of(sites.begin(), sites.end(), [&](uint32_t s) {
            return HostInSiteScope(vm.host, s) || site_incomplete_[s];
          });
          if (!in_scope) {
            const model::VmSubnet& vs = f_.vm_subnets[nic.vm_subnet];
            const model::Site& site = f_.sites[sites.front()];
            diags_.Report(DiagKind::VlanSubnetNotOnHost, KeyRange(*np.block, "vm_subnet"),
                          who() + " uses VM subnet `" + vs.name + "` (VLAN " + std::to_string(vs.vlan) + ", `" +
                              vs.prefix.ToString() + "`), but its site `" + site.name + "` does not include host `" +
                              host.name + "`")
                .Note(site.name_range, "site `" + site.name + "` defined here");
          }
        }
        if (nic.mtu) {
          uint32_t overhead = model::EncapOverhead(vmn.isolation);
          if (*nic.mtu + overhead > host.mtu)
            diags_.Report(DiagKind::VmMtuTooLarge, KeyRange(*np.block, "mtu"),
                          "MTU " + std::to_string(*nic.mtu) + " of " + who() + " does not fit the underlay MTU " +
                              std::to_string(host.mtu) + " of host `" + host.name + "`" +
                              (overhead ? " with " + std::to_string(overhead) + " bytes of " +
                                              (vmn.isolation == model::Isolation::Vxlan ? "VXLAN" : "NVGRE") + " overhead"
                                        : std::string()) +
                              "; at most " + std::to_string(host.mtu - std::min(host.mtu, overhead)))
                .Note(host.name_range, "host `" + host.name + "` defined here");
        }
      }

      // Explicit address: inside its subnet, once per routing domain.
      if (!nic.ip) continue;
      llvm::SMRange ip_range = KeyRange(*np.block, "ip");
      if (nic.vm_subnet != kNone) {
        const model::VmSubnet& subnet = f_.vm_subnets[nic.vm_subnet];
        if (vm_subnet_ok_[nic.vm_subnet] && !subnet.prefix.Contains(*nic.ip)) {
          diags_.Report(DiagKind::NicIpOutsideSubnet, ip_range,
                        "address `" + nic.ip->ToString() + "` of " + who() + " is outside its VM subnet `" + subnet.name +
                            "` (`" + subnet.prefix.ToString() + "`)")
              .Note(subnet.name_range, "VM subnet `" + subnet.name + "` defined here");
          continue;
        }
        // IPv4 subnets of /30 and wider reserve the network and broadcast addresses.
        if (vm_subnet_ok_[nic.vm_subnet] && subnet.prefix.address.IsV4() && subnet.prefix.length <= 30 &&
            (*nic.ip == subnet.prefix.First() || *nic.ip == subnet.prefix.Last())) {
          diags_.Report(DiagKind::NicIpOutsideSubnet, ip_range,
                        "address `" + nic.ip->ToString() + "` of " + who() + " is the " +
                            (*nic.ip == subnet.prefix.First() ? "network" : "broadcast") + " address of VM subnet `" +
                            subnet.name + "` (`" + subnet.prefix.ToString() + "`)")
              .Note(subnet.name_range, "VM subnet `" + subnet.name + "` defined here");
          continue;
        }
        claims.push_back({2ull * nic.vm_network, *nic.ip, seq++, ip_range, who()});
      } else if (vmn.isolation == model::Isolation::None && ln != kNone) {
        bool inside = false, in_scope = false;
        uint32_t first_site = kNone;
        for (uint32_t s : f_.logical_networks[ln].sites)
          for (const model::SiteSubnet& ss : f_.sites[s].subnets)
            if (ss.prefix.Contains(*nic.ip)) {
              inside = true;
              if (first_site == kNone) first_site = s;
              in_scope = in_scope || vm.host == kNone || host_incomplete_[vm.host] || site_incomplete_[s] ||
                         HostInSiteScope(vm.host, s);
            }
        if (inside && !in_scope) {
          const model::Site& site = f_.sites[first_site];
          diags_.Report(DiagKind::VlanSubnetNotOnHost, ip_range,
                        "address `" + nic.ip->ToString() + "` of " + who() + " belongs to site `" + site.name +
                            "`, which does not include host `" + f_.hosts[vm.host].name + "`")
              .Note(site.name_range, "site `" + site.name + "` defined here");
          continue;
        }
        if (!inside) {
          diags_.Report(DiagKind::NicIpOutsideSubnet, ip_range,
                        "address `" + nic.ip->ToString() + "` of " + who() + " is in no site subnet of logical network `" +
                            f_.logical_networks[ln].name + "`, which VM network `" + vmn.name + "` uses directly")
              .Note(f_.logical_networks[ln].name_range, "logical network `" + f_.logical_networks[ln].name + "` defined here");
          continue;
        }
        claims.push_back({2ull * ln + 1, *nic.ip, seq++, ip_range, who()});
      }
    }
  }

  std::sort(claims.begin(), claims.end());
  for (size_t i = 1, first = 0; i < claims.size(); ++i) {
    if (claims[i].domain != claims[first].domain || claims[i].ip != claims[first].ip) {
      first = i;
      continue;
    }
    uint64_t d = claims[i].domain;
    std::string domain = d % 2 == 0 ? "VM network `" + f_.vm_networks[d / 2].name + "`"
                                    : "logical network `" + f_.logical_networks[d / 2].name + "`";
    diags_.Report(DiagKind::DuplicateAddress, claims[i].range,
                  "address `" + claims[i].ip.ToString() + "` of " + claims[i].who + " is already claimed by " +
                      claims[first].who + " in the address space of " + domain)
        .Note(claims[first].range, "first claimed here");
  }
  std::sort(macs.begin(), macs.end(), [](const MacClaim& a, const MacClaim& b) {
    return a.mac != b.mac ? a.mac < b.mac : a.seq < b.seq;
  });
  for (size_t i = 1, first = 0; i < macs.size(); ++i) {
    if (macs[i].mac != macs[first].mac) {
      first = i;
      continue;
    }
    const model::Vm& a = f_.vms[macs[first].vm];
    const model::Vm& b = f_.vms[macs[i].vm];
    diags_.Report(DiagKind::DuplicateMac, KeyRange(*vm_nic_props_[macs[i].vm][macs[i].nic].block, "mac"),
                  "MAC `" + macs[i].mac.ToString() + "` of NIC `" + b.nics[macs[i].nic].name + "` of VM `" + b.name +
                      "` is already used by NIC `" + a.nics[macs[first].nic].name + "` of VM `" + a.name + "`")
        .Note(KeyRange(*vm_nic_props_[macs[first].vm][macs[first].nic].block, "mac"), "first used here");
  }
}

}  // namespace netdsl::sema
