// IP pools (of logical networks and of VM networks) and MAC pools: ranges,
// gateways, DNS, reserved addresses and VIPs, overlaps, and capacity against
// everything that draws from them.
#include <algorithm>

#include "compiler/sema/checker.h"
#include "compiler/sema/overlap.h"

namespace netdsl::sema {
namespace {

std::string A(const net::IpAddress& a) { return "`" + a.ToString() + "`"; }

/// "1 free address", "2 free addresses".
std::string FreeAddresses(uint64_t n) { return std::to_string(n) + (n == 1 ? " free address" : " free addresses"); }

}  // namespace

void Checker::ReadLogicalNetworkPool(uint32_t p) {
  model::IpPool& pool = f_.ip_pools[p];
  const Props& props = pool_props_[p];
  const model::LogicalNetwork& ln = f_.logical_networks[pool.logical_network];
  if (const ast::Value* v = props.Get("site"))
    pool.site = Resolve(*v, sites_in_ln_[pool.logical_network], "site", "logical network", ln.name);
  const ast::Value* subnet = props.Get("subnet");
  if (!subnet) return;
  std::optional<net::Prefix> prefix = CanonicalPrefix(*subnet, "pool subnet");
  if (!prefix) return;
  pool.subnet = *prefix;
  if (pool.site != kNone) {
    const model::Site& site = f_.sites[pool.site];
    bool found = std::any_of(site.subnets.begin(), site.subnets.end(),
                             [&](const model::SiteSubnet& s) { return s.prefix == *prefix; });
    // A site whose own subnets were malformed has been reported already.
    bool site_complete = site_subnet_props_[pool.site].size() ==
                         (size_t)std::count_if(site_props_[pool.site].block->blocks.begin(),
                                               site_props_[pool.site].block->blocks.end(),
                                               [](const ast::Block& b) { return b.kind == "subnet"; });
    if (!found && site_complete) {
      diags_.Report(DiagKind::PoolSubnetNotInSite, subnet->range,
                    "IP pool `" + pool.name + "` uses subnet `" + prefix->ToString() + "`, which is not a subnet of site `" +
                        site.name + "`")
          .Note(site.name_range, "site `" + site.name + "` defined here");
      return;
    }
  }
  ReadPoolAddresses(p);
}

void Checker::ReadVmNetworkPool(uint32_t p) {
  model::IpPool& pool = f_.ip_pools[p];
  const Props& props = pool_props_[p];
  const model::VmNetwork& vmn = f_.vm_networks[pool.vm_network];
  if (const ast::Value* v = props.Get("vm_subnet"))
    pool.vm_subnet = Resolve(*v, vm_subnets_in_vmn_[pool.vm_network], "VM subnet", "VM network", vmn.name);
  if (pool.vm_subnet == kNone || !vm_subnet_ok_[pool.vm_subnet]) return;
  pool.subnet = f_.vm_subnets[pool.vm_subnet].prefix;
  f_.vm_subnets[pool.vm_subnet].ip_pools.push_back(p);
  ReadPoolAddresses(p);
}

void Checker::ReadPoolAddresses(uint32_t p) {
  model::IpPool& pool = f_.ip_pools[p];
  const Props& props = pool_props_[p];
  const std::string who = "IP pool `" + pool.name + "`";
  const std::string subnet_text = "`" + pool.subnet.ToString() + "`";
  auto family_ok = [&](const ast::Value& v) {
    if (v.address.family == pool.subnet.address.family) return true;
    diags_.Report(DiagKind::AddressFamilyMismatch, v.range,
                  "address " + A(v.address) + " of " + who + " is " + (v.address.IsV4() ? "IPv4" : "IPv6") +
                      " but its subnet " + subnet_text + " is " + (pool.subnet.address.IsV4() ? "IPv4" : "IPv6"));
    return false;
  };

  const ast::Value* range = props.Get("range");
  if (!range) return;
  const ast::Value& lo = range->items[0];
  const ast::Value& hi = range->items[1];
  if (!family_ok(lo) || !family_ok(hi)) return;
  if (hi.address < lo.address) {
    diags_.Report(DiagKind::RangeReversed, range->range,
                  "range of " + who + " is reversed: " + A(lo.address) + " is above " + A(hi.address) +
                      "; write the lower address first");
    return;
  }
  bool inside = true;
  for (const ast::Value* end : {&lo, &hi})
    if (!pool.subnet.Contains(end->address)) {
      diags_.Report(DiagKind::PoolRangeOutsideSubnet, end->range,
                    "range of " + who + " reaches " + A(end->address) + ", outside its subnet " + subnet_text);
      inside = false;
    }
  if (!inside) return;
  // IPv4 subnets of /30 and wider reserve the network and broadcast addresses.
  if (pool.subnet.address.IsV4() && pool.subnet.length <= 30) {
    if (lo.address == pool.subnet.First())
      diags_.Report(DiagKind::PoolRangeOutsideSubnet, lo.range,
                    "range of " + who + " starts at the network address " + A(lo.address) + " of " + subnet_text +
                        ", which cannot be assigned");
    if (hi.address == pool.subnet.Last())
      diags_.Report(DiagKind::PoolRangeOutsideSubnet, hi.range,
                    "range of " + who + " ends at the broadcast address " + A(hi.address) + " of " + subnet_text +
                        ", which cannot be assigned");
  }
  pool.range_first = lo.address;
  pool.range_last = hi.address;
  auto in_range = [&](const net::IpAddress& a) { return !(a < pool.range_first) && !(pool.range_last < a); };
  pool_ok_[p] = true;

  if (const ast::Value* gw = props.Get("gateway")) {
    if (family_ok(*gw)) {
      if (!pool.subnet.Contains(gw->address))
        diags_.Report(DiagKind::GatewayOutsideSubnet, gw->range,
                      "gateway " + A(gw->address) + " of " + who + " is outside its subnet " + subnet_text);
      else if (in_range(gw->address))
        diags_.Report(DiagKind::GatewayInsideRange, gw->range,
                      "gateway " + A(gw->address) + " of " + who + " is inside the range the pool hands out; " +
                          "move it out of `" + pool.range_first.ToString() + " - " + pool.range_last.ToString() + "`")
            .Note(range->range, "range defined here");
      else
        pool.gateway = gw->address;
    }
  }
  if (const ast::Value* dns = props.Get("dns"))
    for (const ast::Value& d : dns->items) {
      if (in_range(d.address))
        diags_.Report(DiagKind::DnsInsideRange, d.range,
                      "DNS server " + A(d.address) + " of " + who + " is inside the range the pool hands out")
            .Note(range->range, "range defined here");
      else
        pool.dns.push_back(d.address);
    }
  for (const char* key : {"reserved", "vips"}) {
    const ast::Value* list = props.Get(key);
    if (!list) continue;
    for (const ast::Value& r : list->items) {
      if (!family_ok(r)) continue;
      if (!in_range(r.address)) {
        diags_.Report(DiagKind::ReservedOutsideRange, r.range,
                      std::string(key == std::string("vips") ? "VIP " : "reserved address ") + A(r.address) + " of " +
                          who + " is outside the pool's range `" + pool.range_first.ToString() + " - " +
                          pool.range_last.ToString() + "`")
            .Note(range->range, "range defined here");
        continue;
      }
      (key == std::string("vips") ? pool.vips : pool.reserved).push_back(r.address);
    }
  }
}

void Checker::DeclareMacPool(const ast::Block& block) {
  Props props = Validate(block, *FindSpec("", "mac_pool"));
  uint32_t id = (uint32_t)f_.mac_pools.size();
  model::MacPool pool;
  if (block.label && block.label->IsName()) {
    pool.name = block.label->text;
    pool.name_range = block.label->range;
  }
  f_.mac_pools.push_back(pool);
  mac_pool_props_.push_back(props);
  mac_pool_ok_.push_back(false);
  if (!pool.name.empty())
    Declare(mac_pools_, pool.name, id, pool.name_range, "MAC pool", "",
            [&](uint32_t e) { return f_.mac_pools[e].name_range; });
}

void Checker::ResolveMacPools() {
  for (uint32_t p = 0; p < f_.mac_pools.size(); ++p) {
    model::MacPool& pool = f_.mac_pools[p];
    const ast::Value* range = mac_pool_props_[p].Get("range");
    if (!range) continue;
    const net::MacAddress& lo = range->items[0].mac;
    const net::MacAddress& hi = range->items[1].mac;
    if (hi < lo) {
      diags_.Report(DiagKind::RangeReversed, range->range,
                    "range of MAC pool `" + pool.name + "` is reversed: `" + lo.ToString() + "` is above `" +
                        hi.ToString() + "`; write the lower address first");
      continue;
    }
    // Any first octet with the low bit set is a group (multicast) address.
    if (lo.IsMulticast() || hi.IsMulticast() || hi.bytes[0] != lo.bytes[0]) {
      diags_.Report(DiagKind::MacPoolMulticast, range->range,
                    "range of MAC pool `" + pool.name + "` contains multicast addresses (first octet with the low bit set); " +
                        "keep the first octet fixed and even");
      continue;
    }
    pool.first = lo;
    pool.last = hi;
    mac_pool_ok_[p] = true;
  }
}

void Checker::CheckPoolRules() {
  auto same_family = [](const auto& a, const auto& b) { return a.lo.family == b.lo.family; };
  auto report_pool_overlap = [&](uint32_t a, uint32_t b, const std::string& where) {
    uint32_t first = std::min(a, b), second = std::max(a, b);
    const model::IpPool& p1 = f_.ip_pools[first];
    const model::IpPool& p2 = f_.ip_pools[second];
    diags_.Report(DiagKind::OverlappingPools, Checker::KeyRange(*pool_props_[second].block, "range"),
                  "range of IP pool `" + p2.name + "` overlaps IP pool `" + p1.name + "`" + where)
        .Note(Checker::KeyRange(*pool_props_[first].block, "range"), "range of IP pool `" + p1.name + "` here");
  };
  for (uint32_t ln = 0; ln < f_.logical_networks.size(); ++ln) {
    std::vector<Interval<net::IpAddress>> items;
    for (uint32_t p : f_.logical_networks[ln].ip_pools)
      if (pool_ok_[p]) items.push_back({f_.ip_pools[p].range_first, f_.ip_pools[p].range_last, p});
    SweepOverlaps(items, [&](const auto& a, const auto& b) {
      report_pool_overlap(a.tag, b.tag, " in logical network `" + f_.logical_networks[ln].name + "`");
    }, same_family);
  }
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n) {
    std::vector<Interval<net::IpAddress>> items;
    for (uint32_t p : f_.vm_networks[n].ip_pools)
      if (pool_ok_[p]) items.push_back({f_.ip_pools[p].range_first, f_.ip_pools[p].range_last, p});
    SweepOverlaps(items, [&](const auto& a, const auto& b) {
      report_pool_overlap(a.tag, b.tag, " in VM network `" + f_.vm_networks[n].name + "`");
    }, same_family);
  }
  {
    std::vector<Interval<uint64_t>> items;
    for (uint32_t p = 0; p < f_.mac_pools.size(); ++p)
      if (mac_pool_ok_[p]) items.push_back({f_.mac_pools[p].first.Value(), f_.mac_pools[p].last.Value(), p});
    SweepOverlaps(items, [&](const auto& a, const auto& b) {
      uint32_t first = std::min(a.tag, b.tag), second = std::max(a.tag, b.tag);
      diags_.Report(DiagKind::OverlappingMacPools, KeyRange(*mac_pool_props_[second].block, "range"),
                    "range of MAC pool `" + f_.mac_pools[second].name + "` overlaps MAC pool `" +
                        f_.mac_pools[first].name + "`")
          .Note(KeyRange(*mac_pool_props_[first].block, "range"), "range of MAC pool `" + f_.mac_pools[first].name + "` here");
    }, [](const auto&, const auto&) { return true; });
  }
  CheckCapacity();
}

void Checker::CheckCapacity() {
  // Who draws from which address space: VM subnets (CAs), logical networks
  // (PAs of hosts, NAT addresses of gateways, addresses of VM NICs on VM
  // networks without isolation).
  std::vector<uint64_t> subnet_demand(f_.vm_subnets.size(), 0), ln_demand(f_.logical_networks.size(), 0);
  std::vector<std::vector<net::IpAddress>> subnet_claims(f_.vm_subnets.size()), ln_claims(f_.logical_networks.size());
  std::vector<uint64_t> ln_pa_hosts(f_.logical_networks.size(), 0), ln_nat(f_.logical_networks.size(), 0);
  uint64_t mac_demand = 0;
  llvm::SMRange first_mac_less;
  std::string first_mac_less_name;
  std::vector<net::MacAddress> explicit_macs;
  for (uint32_t v = 0; v < f_.vms.size(); ++v)
    for (const model::VmNic& nic : f_.vms[v].nics) {
      if (nic.mac) explicit_macs.push_back(*nic.mac);
      else {
        if (mac_demand++ == 0) {
          first_mac_less = nic.range;
          first_mac_less_name = f_.vms[v].name + "/" + nic.name;
        }
      }
      if (nic.vm_network == kNone) continue;
      const model::VmNetwork& vmn = f_.vm_networks[nic.vm_network];
      if (nic.vm_subnet != kNone) {
        if (nic.ip) subnet_claims[nic.vm_subnet].push_back(*nic.ip);
        else ++subnet_demand[nic.vm_subnet];
      } else if (vmn.isolation == model::Isolation::None && vmn.logical_network != kNone) {
        if (nic.ip) ln_claims[vmn.logical_network].push_back(*nic.ip);
        else ++ln_demand[vmn.logical_network];
      }
    }
  for (uint32_t h = 0; h < f_.hosts.size(); ++h) {
    uint32_t last = kNone;
    for (const auto& [ln, sw] : host_reach_[h])
      if (ln != last && f_.logical_networks[ln].network_virtualization) {
        ++ln_pa_hosts[ln];
        last = ln;
      }
  }
  for (const model::VmNetwork& vmn : f_.vm_networks)
    if (vmn.gateway && vmn.gateway->external_pool != kNone) {
      uint32_t ln = f_.ip_pools[vmn.gateway->external_pool].logical_network;
      if (ln != kNone) ++ln_nat[ln];
    }

  // Free addresses of a set of pools, not counting addresses claimed otherwise.
  auto supply = [&](const std::vector<uint32_t>& pools, std::vector<net::IpAddress> claims, bool& any_ok) {
    for (uint32_t p : pools) {
      const model::IpPool& pool = f_.ip_pools[p];
      claims.insert(claims.end(), pool.reserved.begin(), pool.reserved.end());
      claims.insert(claims.end(), pool.vips.begin(), pool.vips.end());
      if (pool.gateway) claims.push_back(*pool.gateway);
    }
    std::sort(claims.begin(), claims.end());
    claims.erase(std::unique(claims.begin(), claims.end()), claims.end());
    uint64_t total = 0;
    any_ok = true;
    for (uint32_t p : pools) {
      if (!pool_ok_[p]) {
        any_ok = false;
        continue;
      }
      const model::IpPool& pool = f_.ip_pools[p];
      uint64_t size = net::RangeSize(pool.range_first, pool.range_last);
      auto lo = std::lower_bound(claims.begin(), claims.end(), pool.range_first);
      auto hi = std::upper_bound(claims.begin(), claims.end(), pool.range_last);
      size -= std::min<uint64_t>(size, (uint64_t)(hi - lo));
      total = total > UINT64_MAX - size ? UINT64_MAX : total + size;
    }
    return total;
  };

  for (uint32_t s = 0; s < f_.vm_subnets.size(); ++s) {
    if (subnet_demand[s] == 0 || !vm_subnet_ok_[s]) continue;
    const model::VmSubnet& subnet = f_.vm_subnets[s];
    bool any_ok = true;
    uint64_t free = supply(subnet.ip_pools, subnet_claims[s], any_ok);
    if (!any_ok || free >= subnet_demand[s]) continue;
    std::string need = std::to_string(subnet_demand[s]) + " VM NIC" + (subnet_demand[s] == 1 ? "" : "s") +
                       " without an explicit `ip`";
    if (subnet.ip_pools.empty()) {
      diags_.Report(DiagKind::PoolTooSmall, subnet.name_range,
                    "VM subnet `" + subnet.name + "` of VM network `" + f_.vm_networks[subnet.vm_network].name +
                        "` has no IP pool, but " + need + (subnet_demand[s] == 1 ? " draws" : " draw") +
                        " an address from it; add an `ip_pool`");
      continue;
    }
    auto d = diags_.Report(DiagKind::PoolTooSmall, subnet.name_range,
                           "IP pools of VM subnet `" + subnet.name + "` have " + FreeAddresses(free) +
                               ", but " + need + (subnet_demand[s] == 1 ? " draws" : " draw") +
                               " from them; widen a pool's range");
    for (uint32_t p : subnet.ip_pools)
      d.Note(KeyRange(*pool_props_[p].block, "range"), "IP pool `" + f_.ip_pools[p].name + "` range here");
  }
  for (uint32_t ln = 0; ln < f_.logical_networks.size(); ++ln) {
    uint64_t demand = ln_demand[ln] + ln_pa_hosts[ln] + ln_nat[ln];
    if (demand == 0) continue;
    const model::LogicalNetwork& net = f_.logical_networks[ln];
    bool any_ok = true;
    uint64_t free = supply(net.ip_pools, ln_claims[ln], any_ok);
    if (!any_ok || free >= demand) continue;
    std::string parts;
    auto add = [&](uint64_t n, const char* what) {
      if (!n) return;
      if (!parts.empty()) parts += ", ";
      parts += std::to_string(n) + " " + what + (n == 1 ? " address" : " addresses");
    };
    add(ln_pa_hosts[ln], "host provider");
    add(ln_nat[ln], "gateway NAT");
    add(ln_demand[ln], "VM NIC");
    if (net.ip_pools.empty()) {
      diags_.Report(DiagKind::PoolTooSmall, net.name_range,
                    "logical network `" + net.name + "` has no IP pool, but needs " + parts + "; add an `ip_pool`");
      continue;
    }
    auto d = diags_.Report(DiagKind::PoolTooSmall, net.name_range,
                           "IP pools of logical network `" + net.name + "` have " + FreeAddresses(free) +
                               ", but it needs " + parts + "; widen a pool's range");
    for (uint32_t p : net.ip_pools)
      d.Note(KeyRange(*pool_props_[p].block, "range"), "IP pool `" + f_.ip_pools[p].name + "` range here");
  }

  if (mac_demand == 0) return;
  bool any_ok = true;
  for (uint32_t p = 0; p < f_.mac_pools.size(); ++p) any_ok = any_ok && mac_pool_ok_[p];
  if (!any_ok) return;
  if (f_.mac_pools.empty()) {
    diags_.Report(DiagKind::MacPoolTooSmall, first_mac_less,
                  "VM NIC `" + first_mac_less_name + "` has no explicit `mac` and no `mac_pool` is defined; add a " +
                      "`mac_pool` or a `mac`");
    return;
  }
  std::sort(explicit_macs.begin(), explicit_macs.end());
  uint64_t free = 0;
  for (const model::MacPool& pool : f_.mac_pools) {
    uint64_t size = pool.last.Value() - pool.first.Value() + 1;
    auto lo = std::lower_bound(explicit_macs.begin(), explicit_macs.end(), pool.first);
    auto hi = std::upper_bound(explicit_macs.begin(), explicit_macs.end(), pool.last);
    free += size - std::min<uint64_t>(size, (uint64_t)(hi - lo));
  }
  if (free < mac_demand) {
    auto d = diags_.Report(DiagKind::MacPoolTooSmall, f_.mac_pools.front().name_range,
                           "MAC pools have " + FreeAddresses(free) + ", but " +
                               std::to_string(mac_demand) + " VM NICs without an explicit `mac` draw from them");
    for (uint32_t p = 1; p < f_.mac_pools.size(); ++p)
      d.Note(f_.mac_pools[p].name_range, "MAC pool `" + f_.mac_pools[p].name + "` here");
  }
}

}  // namespace netdsl::sema
