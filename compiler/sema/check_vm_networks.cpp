// VM networks, VM subnets and gateways: isolation against the logical
// network's virtualization, VSIDs and RDIDs, overlapping CA space within one
// routing domain, and the gateway's host and external pool.
#include <algorithm>
#include <map>
#include <tuple>

#include "compiler/sema/checker.h"
#include "compiler/sema/overlap.h"

namespace netdsl::sema {
namespace {

model::Isolation ParseIsolation(const std::string& s) {
  if (s == "vxlan") return model::Isolation::Vxlan;
  if (s == "nvgre") return model::Isolation::Nvgre;
  if (s == "vlan") return model::Isolation::Vlan;
  return model::Isolation::None;
}

const char* IsolationName(model::Isolation i) {
  switch (i) {
    case model::Isolation::Vxlan: return "vxlan";
    case model::Isolation::Nvgre: return "nvgre";
    case model::Isolation::Vlan: return "vlan";
    case model::Isolation::None: return "none";
  }
  return "none";
}

}  // namespace

void Checker::DeclareVmNetwork(const ast::Block& block) {
  Props props = Validate(block, *FindSpec("", "vm_network"));
  uint32_t id = (uint32_t)f_.vm_networks.size();
  model::VmNetwork vmn;
  if (block.label && block.label->IsName()) {
    vmn.name = block.label->text;
    vmn.name_range = block.label->range;
  }
  if (const ast::Value* v = props.Get("isolation")) vmn.isolation = ParseIsolation(v->text);
  isolation_ok_.push_back(!props.Present("isolation") || props.Get("isolation"));
  f_.vm_networks.push_back(vmn);
  vm_network_props_.push_back(props);
  vm_subnets_in_vmn_.emplace_back();
  pools_in_vmn_.emplace_back();
  gateway_props_.emplace_back();
  if (!vmn.name.empty())
    Declare(vm_networks_, vmn.name, id, vmn.name_range, "VM network", "",
            [&](uint32_t e) { return f_.vm_networks[e].name_range; });
  std::string scope = " in VM network `" + vmn.name + "`";
  for (const ast::Block& child : block.blocks) {
    const BlockSpec* spec = FindSpec("vm_network", child.kind);
    if (!spec) continue;
    Props cp = Validate(child, *spec);
    if (child.kind == "gateway") {
      if (!gateway_props_[id].block) gateway_props_[id] = cp;
      continue;
    }
    if (!child.label || !child.label->IsName() || child.label->text.empty()) continue;
    if (child.kind == "vm_subnet") {
      uint32_t sid = (uint32_t)f_.vm_subnets.size();
      if (!Declare(vm_subnets_in_vmn_[id], child.label->text, sid, child.label->range, "VM subnet", scope,
                   [&](uint32_t e) { return f_.vm_subnets[e].name_range; }))
        continue;
      model::VmSubnet s;
      s.name = child.label->text;
      s.name_range = child.label->range;
      s.vm_network = id;
      f_.vm_subnets.push_back(s);
      vm_subnet_props_.push_back(cp);
      vm_subnet_ok_.push_back(false);
      f_.vm_networks[id].vm_subnets.push_back(sid);
    } else if (child.kind == "ip_pool") {
      uint32_t pid = (uint32_t)f_.ip_pools.size();
      if (!Declare(pools_in_vmn_[id], child.label->text, pid, child.label->range, "IP pool", scope,
                   [&](uint32_t e) { return f_.ip_pools[e].name_range; }))
        continue;
      model::IpPool pool;
      pool.name = child.label->text;
      pool.name_range = child.label->range;
      pool.vm_network = id;
      f_.ip_pools.push_back(pool);
      pool_props_.push_back(cp);
      pool_ok_.push_back(false);
      f_.vm_networks[id].ip_pools.push_back(pid);
      vm_pools_by_name_[pool.name].push_back(pid);
    }
  }
}

void Checker::ResolveVmNetworks() {
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n) {
    model::VmNetwork& vmn = f_.vm_networks[n];
    const Props& props = vm_network_props_[n];
    if (const ast::Value* v = props.Get("logical_network"))
      vmn.logical_network = Resolve(*v, logical_networks_, "logical network");
    // Linux routes a routing domain in VRF table = RDID; 253-255 are the kernel's default/main/local tables.
    if (const ast::Value* v = props.Get("rdid")) {
      if (std::optional<uint64_t> r = IntegerIn(v, 1, 2147483647, DiagKind::RdidOutOfRange, "rdid",
                                                "VM network `" + vmn.name + "`")) {
        if (*r >= 253 && *r <= 255)
          diags_.Report(DiagKind::RdidOutOfRange, v->range,
                        "rdid " + std::to_string(*r) + " of VM network `" + vmn.name +
                            "` is a reserved Linux routing table (253 default, 254 main, 255 local); pick another");
        else
          vmn.rdid = (uint32_t)*r, vmn.rdid_range = v->range;
      }
    }
  }
  for (uint32_t s = 0; s < f_.vm_subnets.size(); ++s) {
    model::VmSubnet& subnet = f_.vm_subnets[s];
    const Props& props = vm_subnet_props_[s];
    const std::string who = "VM subnet `" + subnet.name + "`";
    bool ok = true;
    if (const ast::Value* v = props.Get("subnet")) {
      if (std::optional<net::Prefix> p = CanonicalPrefix(*v, "subnet of " + who)) subnet.prefix = *p;
      else ok = false;
    } else {
      ok = false;
    }
    if (std::optional<uint64_t> v =
            IntegerIn(props.Get("vsid"), 4096, 16777214, DiagKind::VsidOutOfRange, "VSID", who))
      subnet.vsid = (uint32_t)*v, subnet.vsid_range = props.Get("vsid")->range;
    if (std::optional<uint64_t> v = IntegerIn(props.Get("vlan"), 0, 4094, DiagKind::VlanOutOfRange, "VLAN", who))
      subnet.vlan = (uint16_t)*v;
    vm_subnet_ok_[s] = ok;
  }
  for (uint32_t p = 0; p < f_.ip_pools.size(); ++p)
    if (f_.ip_pools[p].vm_network != kNone) ReadVmNetworkPool(p);
  // Gateways (hosts and logical-network pools are declared by now).
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n) {
    const Props& gp = gateway_props_[n];
    if (!gp.block) continue;
    model::Gateway gw;
    gw.range = gp.block->kind_range;
    gw.nat = Bool(gp.Get("nat"), false);
    if (const ast::Value* v = gp.Get("host")) gw.host = Resolve(*v, hosts_, "host");
    if (const ast::Value* v = gp.Get("external_pool")) {
      auto it = ln_pools_by_name_.find(v->text);
      if (it != ln_pools_by_name_.end() && it->second.size() == 1) {
        gw.external_pool = it->second.front();
      } else if (it != ln_pools_by_name_.end()) {
        auto d = diags_.Report(DiagKind::AmbiguousName, v->range,
                               "IP pool `" + v->text + "` is defined in several logical networks; rename one");
        for (uint32_t p : it->second)
          d.Note(f_.ip_pools[p].name_range,
                 "IP pool `" + v->text + "` of logical network `" + f_.logical_networks[f_.ip_pools[p].logical_network].name + "`");
      } else if (auto vit = vm_pools_by_name_.find(v->text); vit != vm_pools_by_name_.end()) {
        uint32_t p = vit->second.front();
        diags_.Report(DiagKind::ExternalPoolNotLogical, v->range,
                      "external pool `" + v->text + "` of the gateway of VM network `" + f_.vm_networks[n].name +
                          "` is a pool of VM network `" + f_.vm_networks[f_.ip_pools[p].vm_network].name +
                          "`; NAT addresses come from a logical network's IP pool")
            .Note(f_.ip_pools[p].name_range, "IP pool `" + v->text + "` defined here");
      } else {
        std::vector<std::string_view> names;
        for (const auto& [name, ids] : ln_pools_by_name_) names.push_back(name);
        std::sort(names.begin(), names.end());
        diags_.Report(DiagKind::UnresolvedName, v->range,
                      "unknown IP pool `" + v->text + "`" + DidYouMean(v->text, names));
      }
    } else if (gw.nat) {
      diags_.Report(DiagKind::MissingRequiredProperty, gw.range,
                    "gateway of VM network `" + f_.vm_networks[n].name +
                        "` does NAT but has no `external_pool`; add `external_pool = ...;`");
    }
    f_.vm_networks[n].gateway = gw;
  }
}

void Checker::CheckVmNetworkRules() {
  // Isolation against the logical network's virtualization.
  std::vector<uint32_t> first_plain(f_.logical_networks.size(), kNone);
  std::map<std::tuple<uint32_t, net::Prefix, uint16_t>, uint32_t> vlan_pairs;  // (ln, prefix, vlan) → VM subnet
  std::vector<std::vector<uint32_t>> flat_networks_by_ln(f_.logical_networks.size());  // isolation none
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n)
    if (f_.vm_networks[n].logical_network != kNone && isolation_ok_[n] &&
        f_.vm_networks[n].isolation == model::Isolation::None)
      flat_networks_by_ln[f_.vm_networks[n].logical_network].push_back(n);
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n) {
    const model::VmNetwork& vmn = f_.vm_networks[n];
    const Props& props = vm_network_props_[n];
    if (vmn.logical_network == kNone || !isolation_ok_[n]) continue;
    const model::LogicalNetwork& ln = f_.logical_networks[vmn.logical_network];
    llvm::SMRange iso_range = KeyRange(*props.block, "isolation");
    std::string iso = IsolationName(vmn.isolation);
    if ((vmn.isolation == model::Isolation::Vxlan || vmn.isolation == model::Isolation::Nvgre) &&
        !ln.network_virtualization)
      diags_.Report(DiagKind::IsolationNeedsVirtualization, iso_range,
                    "VM network `" + vmn.name + "` uses `" + iso + "` isolation, but logical network `" + ln.name +
                        "` has no network virtualization; set `network_virtualization = true;` there")
          .Note(ln.name_range, "logical network `" + ln.name + "` defined here");
    if (vmn.isolation == model::Isolation::Vlan && ln.network_virtualization)
      diags_.Report(DiagKind::VlanIsolationOnVirtualized, iso_range,
                    "VM network `" + vmn.name + "` uses `vlan` isolation on logical network `" + ln.name +
                        "`, which has network virtualization; VLAN-isolated VM networks need a logical network without it")
          .Note(ln.name_range, "logical network `" + ln.name + "` defined here");
    if (vmn.isolation == model::Isolation::None && !vmn.vm_subnets.empty()) {
      const model::VmSubnet& s = f_.vm_subnets[vmn.vm_subnets.front()];
      diags_.Report(DiagKind::VmSubnetsWithoutIsolation, s.name_range,
                    "VM network `" + vmn.name + "` has isolation `none`, so it uses the addresses of logical network `" +
                        ln.name + "` directly and cannot have VM subnets; set `isolation` or remove `vm_subnet " +
                        s.name + "`");
    }
    // Without network virtualization, the logical network itself is the one
    // VM network (VLAN-isolated VM networks excepted: each has its own VLAN).
    if (!ln.network_virtualization && vmn.isolation != model::Isolation::Vlan) {
      uint32_t& first = first_plain[vmn.logical_network];
      if (first == kNone) first = n;
      else
        diags_.Report(DiagKind::TooManyVmNetworks, vmn.name_range,
                      "logical network `" + ln.name + "` has no network virtualization and already carries VM network `" +
                          f_.vm_networks[first].name + "`; a second VM network `" + vmn.name +
                          "` needs `network_virtualization = true;` or `isolation = vlan;`")
            .Note(f_.vm_networks[first].name_range, "VM network `" + f_.vm_networks[first].name + "` defined here");
    }
    // Keys the isolation ignores.
    for (uint32_t s : vmn.vm_subnets) {
      const Props& sp = vm_subnet_props_[s];
      bool encap = vmn.isolation == model::Isolation::Vxlan || vmn.isolation == model::Isolation::Nvgre;
      if (sp.Get("vsid") && !encap && vmn.isolation != model::Isolation::None)
        diags_.Report(DiagKind::VmSubnetVlanUnused, sp.Get("vsid")->range,
                      "`vsid` of VM subnet `" + f_.vm_subnets[s].name + "` has no effect with `" + iso + "` isolation");
      if (sp.Get("vlan") && vmn.isolation != model::Isolation::Vlan && vmn.isolation != model::Isolation::None)
        diags_.Report(DiagKind::VmSubnetVlanUnused, sp.Get("vlan")->range,
                      "`vlan` of VM subnet `" + f_.vm_subnets[s].name + "` has no effect with `" + iso +
                          "` isolation; the VSID keys its traffic");
      // A VLAN-isolated VM subnet is one subnet/VLAN pair of a site of the logical network.
      if (vmn.isolation == model::Isolation::Vlan && vm_subnet_ok_[s] && !ln.network_virtualization) {
        const model::VmSubnet& vs = f_.vm_subnets[s];
        bool found = false;
        for (uint32_t site : ln.sites)
          for (const model::SiteSubnet& ss : f_.sites[site].subnets)
            if (ss.prefix == vs.prefix && ss.vlan == vs.vlan) found = true;
        if (found) {
          // One VLAN is one broadcast domain: one VM subnet on it (VMM's
          // VLAN-based independent networks), and no VM network that uses
          // the logical network directly places NICs there.
          auto [it, first] = vlan_pairs.emplace(std::make_tuple(vmn.logical_network, vs.prefix, vs.vlan), s);
          if (!first) {
            const model::VmSubnet& other = f_.vm_subnets[it->second];
            diags_.Report(DiagKind::VlanPairShared, vs.name_range,
                          "VM subnet `" + vs.name + "` of VM network `" + vmn.name + "` uses `" + vs.prefix.ToString() +
                              "` on VLAN " + std::to_string(vs.vlan) + ", which VM subnet `" + other.name +
                              "` of VM network `" + f_.vm_networks[other.vm_network].name +
                              "` already uses; one VLAN is one broadcast domain, give each VM subnet its own")
                .Note(other.name_range, "VM subnet `" + other.name + "` defined here");
          }
          for (uint32_t p : ln.ip_pools)
            if (f_.ip_pools[p].subnet == vs.prefix)
              for (uint32_t m : flat_networks_by_ln[vmn.logical_network])
                diags_.Report(DiagKind::VlanPairShared, vs.name_range,
                              "VM subnet `" + vs.name + "` of VM network `" + vmn.name + "` uses `" + vs.prefix.ToString() +
                                  "` on VLAN " + std::to_string(vs.vlan) + ", where VM network `" + f_.vm_networks[m].name +
                                  "` (no isolation) places NICs from ip_pool `" + f_.ip_pools[p].name +
                                  "`; the two would share one broadcast domain")
                    .Note(f_.vm_networks[m].name_range, "VM network `" + f_.vm_networks[m].name + "` defined here");
        }
        if (!found)
          diags_.Report(DiagKind::VlanNotInSite, vs.name_range,
                        "VM subnet `" + vs.name + "` (`" + vs.prefix.ToString() + "`, VLAN " + std::to_string(vs.vlan) +
                            ") matches no subnet/VLAN pair of a site of logical network `" + ln.name + "`")
              .Note(ln.name_range, "logical network `" + ln.name + "` defined here");
      }
    }
  }

  // Overlapping CA space within one VM network (its routing domain).
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n) {
    std::vector<Interval<net::IpAddress>> items;
    for (uint32_t s : f_.vm_networks[n].vm_subnets)
      if (vm_subnet_ok_[s]) items.push_back({f_.vm_subnets[s].prefix.First(), f_.vm_subnets[s].prefix.Last(), s});
    SweepOverlaps(
        items,
        [&](const auto& a, const auto& b) {
          uint32_t first = std::min(a.tag, b.tag), second = std::max(a.tag, b.tag);
          const model::VmSubnet& s1 = f_.vm_subnets[first];
          const model::VmSubnet& s2 = f_.vm_subnets[second];
          diags_.Report(DiagKind::OverlappingVmSubnets, KeyRange(*vm_subnet_props_[second].block, "subnet"),
                        "VM subnet `" + s2.name + "` (`" + s2.prefix.ToString() + "`) overlaps VM subnet `" + s1.name +
                            "` (`" + s1.prefix.ToString() + "`) in the routing domain of VM network `" +
                            f_.vm_networks[n].name + "`")
              .Note(KeyRange(*vm_subnet_props_[first].block, "subnet"), "VM subnet `" + s1.name + "` here");
        },
        [](const auto& a, const auto& b) { return a.lo.family == b.lo.family; });
  }

  // Explicit VSIDs and RDIDs are unique fabric-wide.
  std::vector<std::pair<uint32_t, uint32_t>> vsids, rdids;
  for (uint32_t s = 0; s < f_.vm_subnets.size(); ++s)
    if (f_.vm_subnets[s].vsid) vsids.push_back({*f_.vm_subnets[s].vsid, s});
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n)
    if (f_.vm_networks[n].rdid) rdids.push_back({*f_.vm_networks[n].rdid, n});
  std::sort(vsids.begin(), vsids.end());
  std::sort(rdids.begin(), rdids.end());
  for (size_t i = 1; i < vsids.size(); ++i) {
    if (vsids[i].first != vsids[i - 1].first) continue;
    size_t j = i;
    while (j > 0 && vsids[j - 1].first == vsids[i].first) --j;
    const model::VmSubnet& a = f_.vm_subnets[vsids[j].second];
    const model::VmSubnet& b = f_.vm_subnets[vsids[i].second];
    diags_.Report(DiagKind::DuplicateVsid, KeyRange(*vm_subnet_props_[vsids[i].second].block, "vsid"),
                  "VSID " + std::to_string(vsids[i].first) + " of VM subnet `" + b.name + "` (VM network `" +
                      f_.vm_networks[b.vm_network].name + "`) is already used by VM subnet `" + a.name +
                      "` (VM network `" + f_.vm_networks[a.vm_network].name + "`)")
        .Note(KeyRange(*vm_subnet_props_[vsids[j].second].block, "vsid"), "VSID first used here");
  }
  for (size_t i = 1; i < rdids.size(); ++i) {
    if (rdids[i].first != rdids[i - 1].first) continue;
    size_t j = i;
    while (j > 0 && rdids[j - 1].first == rdids[i].first) --j;
    diags_.Report(DiagKind::DuplicateRdid, KeyRange(*vm_network_props_[rdids[i].second].block, "rdid"),
                  "rdid " + std::to_string(rdids[i].first) + " of VM network `" + f_.vm_networks[rdids[i].second].name +
                      "` is already used by VM network `" + f_.vm_networks[rdids[j].second].name + "`")
        .Note(KeyRange(*vm_network_props_[rdids[j].second].block, "rdid"), "rdid first used here");
  }

  // Gateways.
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n) {
    const model::VmNetwork& vmn = f_.vm_networks[n];
    if (!vmn.gateway || !isolation_ok_[n]) continue;
    const model::Gateway& gw = *vmn.gateway;
    if (vmn.isolation != model::Isolation::Vxlan && vmn.isolation != model::Isolation::Nvgre) {
      diags_.Report(DiagKind::GatewayWithoutIsolation, gw.range,
                    "VM network `" + vmn.name + "` has a gateway but `" + IsolationName(vmn.isolation) +
                        "` isolation; gateways route virtualized (vxlan/nvgre) VM networks");
      continue;
    }
    if (gw.host == kNone || host_incomplete_[gw.host]) continue;
    const model::Host& host = f_.hosts[gw.host];
    llvm::SMRange host_range = KeyRange(*gateway_props_[n].block, "host");
    if (vmn.logical_network != kNone && !HostReaches(gw.host, vmn.logical_network)) {
      const model::LogicalNetwork& ln = f_.logical_networks[vmn.logical_network];
      diags_.Report(DiagKind::GatewayHostUnreachable, host_range,
                    "gateway host `" + host.name + "` of VM network `" + vmn.name + "` has no uplink carrying a site of logical network `" +
                        ln.name + "`")
          .Note(host.name_range, "host `" + host.name + "` defined here");
    }
    if (gw.external_pool != kNone) {
      const model::IpPool& pool = f_.ip_pools[gw.external_pool];
      const model::LogicalNetwork& ln = f_.logical_networks[pool.logical_network];
      if (!HostReaches(gw.host, pool.logical_network))
        diags_.Report(DiagKind::GatewayHostUnreachable, host_range,
                      "gateway host `" + host.name + "` of VM network `" + vmn.name +
                          "` has no uplink carrying a site of logical network `" + ln.name + "`, where external pool `" +
                          pool.name + "` lives")
            .Note(pool.name_range, "external pool `" + pool.name + "` defined here");
    }
  }
}

}  // namespace netdsl::sema
