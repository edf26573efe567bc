// Logical networks and their sites: declaration, site subnets and VLANs,
// overlapping site subnets within a logical network and within a host group's scope.
#include <algorithm>
#include <set>

#include "compiler/sema/checker.h"
#include "compiler/sema/overlap.h"

namespace netdsl::sema {

void Checker::DeclareLogicalNetwork(const ast::Block& block) {
  Props props = Validate(block, *FindSpec("", "logical_network"));
  uint32_t id = (uint32_t)f_.logical_networks.size();
  model::LogicalNetwork ln;
  if (block.label && block.label->IsName()) {
    ln.name = block.label->text;
    ln.name_range = block.label->range;
  }
  ln.network_virtualization = Bool(props.Get("network_virtualization"), false);
  f_.logical_networks.push_back(ln);
  ln_props_.push_back(props);
  sites_in_ln_.emplace_back();
  pools_in_ln_.emplace_back();
  if (!ln.name.empty())
    Declare(logical_networks_, ln.name, id, ln.name_range, "logical network", "",
            [&](uint32_t e) { return f_.logical_networks[e].name_range; });
  std::string scope = " in logical network `" + ln.name + "`";

  for (const ast::Block& child : block.blocks) {
    const BlockSpec* spec = FindSpec("logical_network", child.kind);
    if (!spec) continue;
    Props cp = Validate(child, *spec);
    if (!child.label || !child.label->IsName() || child.label->text.empty()) continue;
    if (child.kind == "site") {
      uint32_t sid = (uint32_t)f_.sites.size();
      if (!Declare(sites_in_ln_[id], child.label->text, sid, child.label->range, "site", scope,
                   [&](uint32_t e) { return f_.sites[e].name_range; }))
        continue;
      model::Site site;
      site.name = child.label->text;
      site.name_range = child.label->range;
      site.logical_network = id;
      f_.sites.push_back(site);
      site_props_.push_back(cp);
      site_subnet_props_.emplace_back();
      f_.logical_networks[id].sites.push_back(sid);
      sites_by_name_[site.name].push_back(sid);
    } else if (child.kind == "ip_pool") {
      uint32_t pid = (uint32_t)f_.ip_pools.size();
      if (!Declare(pools_in_ln_[id], child.label->text, pid, child.label->range, "IP pool", scope,
                   [&](uint32_t e) { return f_.ip_pools[e].name_range; }))
        continue;
      model::IpPool pool;
      pool.name = child.label->text;
      pool.name_range = child.label->range;
      pool.logical_network = id;
      f_.ip_pools.push_back(pool);
      pool_props_.push_back(cp);
      pool_ok_.push_back(false);
      f_.logical_networks[id].ip_pools.push_back(pid);
      ln_pools_by_name_[pool.name].push_back(pid);
    }
  }
}

void Checker::ResolveNetworks() {
  site_incomplete_.assign(f_.sites.size(), false);
  for (size_t s = 0; s < f_.sites.size(); ++s) {
    model::Site& site = f_.sites[s];
    const Props& props = site_props_[s];
    if (props.Present("host_groups") && !props.Get("host_groups")) site_incomplete_[s] = true;
    if (const ast::Value* groups = props.Get("host_groups")) {
      for (const ast::Value& g : groups->items) {
        uint32_t id = Resolve(g, host_groups_, "host group");
        if (id == kNone) {
          site_incomplete_[s] = true;
          continue;
        }
        if (std::find(site.host_groups.begin(), site.host_groups.end(), id) != site.host_groups.end()) {
          diags_.Report(DiagKind::DuplicateName, g.range, "host group `" + g.text + "` listed twice in site `" + site.name + "`");
          continue;
        }
        site.host_groups.push_back(id);
      }
    }
    for (const ast::Block& child : props.block->blocks) {
      const BlockSpec* spec = FindSpec("site", child.kind);
      if (!spec) continue;
      Props sp = Validate(child, *spec);
      if (!child.label || child.label->kind != ast::Value::Kind::Prefix) continue;
      std::optional<net::Prefix> prefix = CanonicalPrefix(*child.label, "site subnet");
      std::optional<uint64_t> vlan = IntegerIn(sp.Get("vlan"), 0, 4094, DiagKind::VlanOutOfRange, "VLAN",
                                               "subnet `" + child.label->prefix.ToString() + "` of site `" + site.name + "`");
      if (!prefix || (sp.Get("vlan") && !vlan)) continue;
      site.subnets.push_back({*prefix, (uint16_t)vlan.value_or(0), child.label->range});
      site_subnet_props_[s].push_back(sp);
    }
  }
  for (uint32_t p = 0; p < f_.ip_pools.size(); ++p)
    if (f_.ip_pools[p].logical_network != kNone) ReadLogicalNetworkPool(p);
}

void Checker::CheckNetworkRules() {
  // Overlapping site subnets within one logical network.
  struct SubnetRef {
    uint32_t site, index;
  };
  std::vector<SubnetRef> refs;
  std::vector<uint32_t> first_tag(f_.sites.size());
  for (uint32_t s = 0; s < f_.sites.size(); ++s) {
    first_tag[s] = (uint32_t)refs.size();
    for (uint32_t i = 0; i < f_.sites[s].subnets.size(); ++i) refs.push_back({s, i});
  }
  auto subnet = [&](uint32_t tag) -> const model::SiteSubnet& { return f_.sites[refs[tag].site].subnets[refs[tag].index]; };
  auto describe = [&](uint32_t tag) {
    const model::Site& site = f_.sites[refs[tag].site];
    return "`" + subnet(tag).prefix.ToString() + "` of site `" + site.name + "`";
  };
  auto same_family = [&](const auto& a, const auto& b) { return a.lo.family == b.lo.family; };
  for (uint32_t ln = 0; ln < f_.logical_networks.size(); ++ln) {
    std::vector<Interval<net::IpAddress>> items;
    for (uint32_t s : f_.logical_networks[ln].sites)
      for (uint32_t i = 0; i < f_.sites[s].subnets.size(); ++i) {
        uint32_t tag = first_tag[s] + i;
        const net::Prefix& p = f_.sites[s].subnets[i].prefix;
        items.push_back({p.First(), p.Last(), tag});
      }
    SweepOverlaps(
        items,
        [&](const auto& a, const auto& b) {
          uint32_t first = std::min(a.tag, b.tag), second = std::max(a.tag, b.tag);
          diags_.Report(DiagKind::OverlappingSiteSubnets, subnet(second).range,
                        "site subnet " + describe(second) + " overlaps " + describe(first) +
                            " in logical network `" + f_.logical_networks[ln].name + "`")
              .Note(subnet(first).range, "overlapping subnet " + describe(first) + " here");
        },
        same_family);
  }

  // Site subnets of different logical networks that overlap within one host
  // group's scope (a site scoped to a group also applies to its children).
  std::vector<std::vector<uint32_t>> direct(f_.host_groups.size());
  for (uint32_t s = 0; s < f_.sites.size(); ++s)
    for (uint32_t g : f_.sites[s].host_groups) direct[g].push_back(s);
  std::set<std::pair<uint32_t, uint32_t>> reported;
  // Depth-first from every root, carrying the sites inherited from ancestors.
  struct Frame {
    uint32_t group;
    std::vector<uint32_t> sites;
  };
  std::vector<Frame> stack;
  for (uint32_t g = f_.host_groups.size(); g-- > 0;)
    if (f_.host_groups[g].parent == kNone) stack.push_back({g, {}});
  while (!stack.empty()) {
    Frame fr = std::move(stack.back());
    stack.pop_back();
    bool changed = false;
    for (uint32_t s : direct[fr.group])
      if (std::find(fr.sites.begin(), fr.sites.end(), s) == fr.sites.end()) {
        fr.sites.push_back(s);
        changed = true;
      }
    if (changed) {
      std::vector<Interval<net::IpAddress>> items;
      for (uint32_t s : fr.sites)
        for (uint32_t i = 0; i < f_.sites[s].subnets.size(); ++i) {
          uint32_t tag = first_tag[s] + i;
          items.push_back({subnet(tag).prefix.First(), subnet(tag).prefix.Last(), tag});
        }
      SweepOverlaps(
          items,
          [&](const auto& a, const auto& b) {
            uint32_t first = std::min(a.tag, b.tag), second = std::max(a.tag, b.tag);
            if (!reported.insert({first, second}).second) return;
            const model::Site& s1 = f_.sites[refs[first].site];
            const model::Site& s2 = f_.sites[refs[second].site];
            diags_.Report(DiagKind::HostGroupSubnetOverlap, subnet(second).range,
                          "site subnet " + describe(second) + " (logical network `" +
                              f_.logical_networks[s2.logical_network].name + "`) overlaps " + describe(first) +
                              " (logical network `" + f_.logical_networks[s1.logical_network].name +
                              "`) within the scope of host group `" + f_.host_groups[fr.group].name + "`")
                .Note(subnet(first).range, "overlapping subnet " + describe(first) + " here");
          },
          [&](const auto& a, const auto& b) {
            return a.lo.family == b.lo.family &&
                   f_.sites[refs[a.tag].site].logical_network != f_.sites[refs[b.tag].site].logical_network;
          });
    }
    const auto& children = host_group_children_[fr.group];
    for (size_t i = children.size(); i-- > 0;) stack.push_back({children[i], fr.sites});
  }
}

}  // namespace netdsl::sema
