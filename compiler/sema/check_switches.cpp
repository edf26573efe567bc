// Logical switches and their virtual ports, and the rules that tie hosts,
// uplink port profiles, sites and port profiles together through a switch.
#include <algorithm>
#include <map>
#include <set>

#include "compiler/sema/checker.h"

namespace netdsl::sema {

void Checker::DeclareSwitch(const ast::Block& block) {
  Props props = Validate(block, *FindSpec("", "logical_switch"));
  if (!block.label || !block.label->IsName() || block.label->text.empty()) return;
  uint32_t id = (uint32_t)f_.logical_switches.size();
  model::LogicalSwitch ls;
  ls.name = block.label->text;
  ls.name_range = block.label->range;
  ls.description = Text(props.Get("description"));
  ls.sriov = Bool(props.Get("sriov"), false);
  if (const ast::Value* list = props.Get("extensions"))
    for (const ast::Value& e : list->items) ls.extensions.push_back(e.text);
  if (const ast::Value* v = props.Get("uplink_mode")) {
    if (v->text == "team") ls.uplink_mode = model::UplinkMode::Team;
    else if (v->text == "embedded_team") ls.uplink_mode = model::UplinkMode::EmbeddedTeam;
  }
  if (const ast::Value* v = props.Get("minimum_bandwidth_mode")) {
    if (v->text == "absolute") ls.minimum_bandwidth_mode = model::MinimumBandwidthMode::Absolute;
    else if (v->text == "none") ls.minimum_bandwidth_mode = model::MinimumBandwidthMode::None;
  }
  if (!Declare(switches_, ls.name, id, ls.name_range, "logical switch", "",
               [&](uint32_t e) { return f_.logical_switches[e].name_range; }))
    return;
  std::vector<Props> ports;
  NameTable port_names;
  for (const ast::Block& child : block.blocks) {
    const BlockSpec* spec = FindSpec("logical_switch", child.kind);
    if (!spec) continue;
    Props cp = Validate(child, *spec);
    if (!child.label || !child.label->IsName() || child.label->text.empty()) continue;
    uint32_t pid = (uint32_t)ls.virtual_ports.size();
    if (!Declare(port_names, child.label->text, pid, child.label->range, "virtual port",
                 " in logical switch `" + ls.name + "`", [&](uint32_t e) { return ls.virtual_ports[e].name_range; }))
      continue;
    model::VirtualPort vp;
    vp.name = child.label->text;
    vp.name_range = child.label->range;
    ls.virtual_ports.push_back(vp);
    ports.push_back(cp);
  }
  f_.logical_switches.push_back(ls);
  ls_props_.push_back(props);
  virtual_port_props_.push_back(ports);
}

void Checker::ResolveSwitches() {
  switch_incomplete_.assign(f_.logical_switches.size(), false);
  for (uint32_t s = 0; s < f_.logical_switches.size(); ++s) {
    model::LogicalSwitch& ls = f_.logical_switches[s];
    if (ls_props_[s].Present("uplinks") && !ls_props_[s].Get("uplinks")) switch_incomplete_[s] = true;
    if (const ast::Value* list = ls_props_[s].Get("uplinks"))
      for (const ast::Value& u : list->items) {
        uint32_t id = Resolve(u, uplink_profiles_, "uplink port profile");
        if (id == kNone) {
          switch_incomplete_[s] = true;
          continue;
        }
        if (std::find(ls.uplinks.begin(), ls.uplinks.end(), id) != ls.uplinks.end()) {
          diags_.Report(DiagKind::DuplicateName, u.range,
                        "uplink port profile `" + u.text + "` listed twice in logical switch `" + ls.name + "`");
          continue;
        }
        ls.uplinks.push_back(id);
      }
    std::vector<uint32_t> seen_classification(f_.port_classifications.size(), kNone);
    for (uint32_t p = 0; p < ls.virtual_ports.size(); ++p) {
      model::VirtualPort& vp = ls.virtual_ports[p];
      const Props& props = virtual_port_props_[s][p];
      if (props.Present("classification") && !props.Get("classification")) switch_incomplete_[s] = true;
      if (const ast::Value* v = props.Get("classification")) {
        vp.classification = Resolve(*v, classifications_, "port classification");
        if (vp.classification == kNone) switch_incomplete_[s] = true;
        if (vp.classification != kNone) {
          uint32_t& first = seen_classification[vp.classification];
          if (first != kNone)
            diags_.Report(DiagKind::DuplicateClassification, v->range,
                          "classification `" + v->text + "` is already mapped by virtual port `" +
                              ls.virtual_ports[first].name + "` of logical switch `" + ls.name +
                              "`; a VM NIC asking for it would match two port profiles")
                .Note(KeyRange(*virtual_port_props_[s][first].block, "classification"), "first mapped here");
          else
            first = p;
        }
      }
      if (const ast::Value* v = props.Get("profile")) vp.profile = Resolve(*v, port_profiles_, "port profile");
    }
  }
}

void Checker::CheckSwitchRules() {
  // Switch-local rules: teaming on no_team, SET's teaming, minimum bandwidth mode, SR-IOV.
  for (uint32_t s = 0; s < f_.logical_switches.size(); ++s) {
    const model::LogicalSwitch& ls = f_.logical_switches[s];
    // Switch Embedded Teaming (Hyper-V, Windows Server 2016 and later) is
    // switch independent only and balances by Hyper-V port or dynamically;
    // VMM offers nothing else for it. hyperv.ps1 would throw on the host
    // while Linux built an 802.3ad bond, so say it here.
    if (ls.uplink_mode == model::UplinkMode::EmbeddedTeam)
      for (uint32_t u : ls.uplinks) {
        const model::UplinkPortProfile& up = f_.uplink_port_profiles[u];
        const Props& teaming = upp_teaming_props_[u];
        if (!up.teaming || !teaming.block) continue;
        if (up.teaming->mode != model::TeamingMode::SwitchIndependent)
          diags_.Report(DiagKind::EmbeddedTeamMode, KeyRange(*teaming.block, "mode"),
                        "uplink port profile `" + up.name + "` teams with `mode = " +
                            (up.teaming->mode == model::TeamingMode::Lacp ? "lacp" : "static") +
                            "`, but logical switch `" + ls.name +
                            "` uses switch embedded teaming, which is switch independent only; set `mode = "
                            "switch_independent` or `uplink_mode = team`")
              .Note(KeyRange(*ls_props_[s].block, "uplink_mode"), "logical switch `" + ls.name + "` uplink mode set here");
        if (up.teaming->load_balancing == model::LoadBalancing::AddressHash)
          diags_.Report(DiagKind::EmbeddedTeamLoadBalancing, KeyRange(*teaming.block, "load_balancing"),
                        "uplink port profile `" + up.name + "` balances by `address_hash`, but logical switch `" + ls.name +
                            "` uses switch embedded teaming, which balances by `hyperv_port` or `dynamic` only; use "
                            "`dynamic` (it also hashes transport ports) or `uplink_mode = team`")
              .Note(KeyRange(*ls_props_[s].block, "uplink_mode"), "logical switch `" + ls.name + "` uplink mode set here");
      }
    if (ls.uplink_mode == model::UplinkMode::NoTeam)
      for (uint32_t u : ls.uplinks)
        if (const ast::Block* teaming = upp_teaming_props_[u].block)
          diags_.Report(DiagKind::TeamingOnNoTeam, teaming->kind_range,
                        "uplink port profile `" + f_.uplink_port_profiles[u].name + "` has teaming settings, but logical switch `" +
                            ls.name + "` uses it with `uplink_mode = no_team`; remove `teaming` or set `uplink_mode = team`")
              .Note(KeyRange(*ls_props_[s].block, "uplink_mode"), "logical switch `" + ls.name + "` uplink mode set here");
    for (uint32_t p = 0; p < ls.virtual_ports.size(); ++p) {
      const model::VirtualPort& vp = ls.virtual_ports[p];
      if (vp.profile == kNone) continue;
      const model::PortProfile& pp = f_.port_profiles[vp.profile];
      llvm::SMRange at = KeyRange(*virtual_port_props_[s][p].block, "profile");
      const char* kind = pp.bandwidth.minimum_weight ? "minimum_weight" : pp.bandwidth.minimum_absolute ? "minimum_absolute" : nullptr;
      const char* mode = ls.minimum_bandwidth_mode == model::MinimumBandwidthMode::Weight     ? "weight"
                         : ls.minimum_bandwidth_mode == model::MinimumBandwidthMode::Absolute ? "absolute"
                                                                                              : "none";
      bool ok = !kind || (pp.bandwidth.minimum_weight && ls.minimum_bandwidth_mode == model::MinimumBandwidthMode::Weight) ||
                (pp.bandwidth.minimum_absolute && ls.minimum_bandwidth_mode == model::MinimumBandwidthMode::Absolute);
      if (!ok) {
        const Props& bw = pp_bandwidth_props_[vp.profile];
        diags_.Report(DiagKind::MinimumBandwidthModeMismatch, at,
                      "port profile `" + pp.name + "` reserves bandwidth with `" + kind + "`, but logical switch `" + ls.name +
                          "` has `minimum_bandwidth_mode = " + mode + "`" +
                          (ls_props_[s].Present("minimum_bandwidth_mode") ? "" : " (the default)") +
                          "; the mode is fixed when the switch is created, so use a profile that matches it")
            .Note(bw.block ? KeyRange(*bw.block, kind) : pp.name_range, std::string("`") + kind + "` set here");
      }
      if (pp.offload.sriov && !ls.sriov) {
        const Props& off = pp_offload_props_[vp.profile];
        diags_.Report(DiagKind::SriovNotEnabled, at,
                      "port profile `" + pp.name + "` requests SR-IOV, but logical switch `" + ls.name +
                          "` was not created with `sriov = true;` (SR-IOV can only be set when a switch is created)")
            .Note(off.block ? KeyRange(*off.block, "sriov") : pp.name_range, "SR-IOV requested here");
      }
    }
  }

  // Per host NIC binding. Hosts expanded from one range share their NIC
  // blocks; report each problem once per block, naming the first host.
  std::set<std::pair<const ast::Block*, uint32_t>> reported;
  for (uint32_t h = 0; h < f_.hosts.size(); ++h) {
    const model::Host& host = f_.hosts[h];
    for (uint32_t i = 0; i < host.nics.size(); ++i) {
      const model::HostNic& nic = host.nics[i];
      if (nic.logical_switch == kNone || nic.uplink_profile == kNone) continue;
      const ast::Block* nb = host_nic_props_[h][i].block;
      const model::LogicalSwitch& ls = f_.logical_switches[nic.logical_switch];
      const model::UplinkPortProfile& up = f_.uplink_port_profiles[nic.uplink_profile];
      if (std::find(ls.uplinks.begin(), ls.uplinks.end(), nic.uplink_profile) == ls.uplinks.end()) {
        if (!switch_incomplete_[nic.logical_switch] && reported.insert({nb, kNone}).second)
          diags_.Report(DiagKind::UplinkNotInSwitch, KeyRange(*nb, "uplink"),
                        "NIC `" + nic.name + "` of host `" + host.name + "` uses uplink port profile `" + up.name +
                            "`, which logical switch `" + ls.name + "` does not list in `uplinks`")
              .Note(ls.name_range, "logical switch `" + ls.name + "` defined here");
        continue;
      }
      for (uint32_t site : up.sites) {
        if (HostInSiteScope(h, site) || site_incomplete_[site] || !reported.insert({nb, site}).second) continue;
        const model::Site& st = f_.sites[site];
        diags_.Report(DiagKind::UplinkSiteOutOfScope, KeyRange(*nb, "uplink"),
                      "uplink port profile `" + up.name + "` of NIC `" + nic.name + "` on host `" + host.name +
                          "` carries site `" + st.name + "` of logical network `" +
                          f_.logical_networks[st.logical_network].name + "`, but the host is in none of the site's host groups")
            .Note(st.name_range, "site `" + st.name + "` scoped here");
      }
      // Without a team a host binds a logical switch to one network adapter:
      // an external Hyper-V switch has one adapter unless it teams (VMM's
      // "No Uplink Team"). Linux would bridge the NICs together.
      if (ls.uplink_mode == model::UplinkMode::NoTeam)
        for (uint32_t j = 0; j < i; ++j) {
          const model::HostNic& other = host.nics[j];
          if (other.logical_switch != nic.logical_switch) continue;
          if (reported.insert({nb, kNone - 2}).second)
            diags_.Report(DiagKind::NoTeamSeveralNics, KeyRange(*nb, "switch"),
                          "NICs `" + other.name + "` and `" + nic.name + "` of host `" + host.name +
                              "` are both bound to logical switch `" + ls.name +
                              "`, which has no uplink team (`uplink_mode = no_team`), so a host binds it to one network "
                              "adapter; bind one NIC, use one switch per NIC, or team them (`uplink_mode = team` or "
                              "`embedded_team`)")
                .Note(KeyRange(*host_nic_props_[h][j].block, "switch"), "NIC `" + other.name + "` bound here");
          break;
        }
      // Team members of one switch share one uplink port profile (it defines the team).
      if (ls.uplink_mode != model::UplinkMode::NoTeam)
        for (uint32_t j = 0; j < i; ++j) {
          const model::HostNic& other = host.nics[j];
          if (other.logical_switch != nic.logical_switch || other.uplink_profile == kNone ||
              other.uplink_profile == nic.uplink_profile)
            continue;
          if (reported.insert({nb, kNone - 1}).second)
            diags_.Report(DiagKind::TeamUplinkMismatch, KeyRange(*nb, "uplink"),
                          "NICs `" + other.name + "` and `" + nic.name + "` of host `" + host.name + "` team on logical switch `" +
                              ls.name + "` but use different uplink port profiles (`" +
                              f_.uplink_port_profiles[other.uplink_profile].name + "`, `" + up.name + "`)")
                .Note(KeyRange(*host_nic_props_[h][j].block, "uplink"), "NIC `" + other.name + "` uplink here");
          break;
        }
    }
  }

  // One tagged VLAN on a host's switch is one broadcast domain: it belongs to
  // one logical network (the Linux backend would put a provider address and
  // a VLAN-isolated VM subnet into one VLAN device; a tenant on the underlay).
  for (uint32_t h = 0; h < f_.hosts.size(); ++h) {
    const model::Host& host = f_.hosts[h];
    struct Use {
      uint32_t ln, site;
      llvm::SMRange subnet;
    };
    std::map<std::pair<uint32_t, uint16_t>, Use> used;  // (switch, vlan) → first use
    for (uint32_t i = 0; i < host.nics.size(); ++i) {
      const model::HostNic& nic = host.nics[i];
      if (nic.logical_switch == kNone || nic.uplink_profile == kNone) continue;
      const ast::Block* nb = host_nic_props_[h][i].block;
      for (uint32_t site : f_.uplink_port_profiles[nic.uplink_profile].sites) {
        const model::Site& st = f_.sites[site];
        if (st.logical_network == kNone) continue;
        for (const model::SiteSubnet& ss : st.subnets) {
          if (ss.vlan == 0) continue;
          auto [it, first] = used.emplace(std::make_pair(nic.logical_switch, ss.vlan), Use{st.logical_network, site, ss.range});
          if (first || it->second.ln == st.logical_network) continue;
          if (!reported.insert({nb, kNone - 3 - ss.vlan}).second) continue;
          const model::Site& other = f_.sites[it->second.site];
          diags_.Report(DiagKind::VlanOfTwoLogicalNetworks, KeyRange(*nb, "uplink"),
                        "logical switch `" + f_.logical_switches[nic.logical_switch].name + "` on host `" + host.name +
                            "` carries VLAN " + std::to_string(ss.vlan) + " for site `" + st.name + "` of logical network `" +
                            f_.logical_networks[st.logical_network].name + "` and for site `" + other.name +
                            "` of logical network `" + f_.logical_networks[other.logical_network].name +
                            "`; one VLAN is one broadcast domain, give the sites different VLANs")
              .Note(it->second.subnet, "VLAN " + std::to_string(ss.vlan) + " of site `" + other.name + "` here");
        }
      }
    }
  }

  // A site scoped to a host group whose hosts (including child groups) no uplink carries.
  std::vector<std::vector<uint32_t>> host_sites(f_.hosts.size());
  for (uint32_t h = 0; h < f_.hosts.size(); ++h) {
    for (const model::HostNic& nic : f_.hosts[h].nics)
      if (nic.logical_switch != kNone && nic.uplink_profile != kNone)
        for (uint32_t s : f_.uplink_port_profiles[nic.uplink_profile].sites) host_sites[h].push_back(s);
    std::sort(host_sites[h].begin(), host_sites[h].end());
  }
  for (uint32_t s = 0; s < f_.sites.size(); ++s) {
    const model::Site& site = f_.sites[s];
    const ast::Value* groups = site_props_[s].Get("host_groups");
    for (uint32_t g : site.host_groups) {
      uint64_t hosts = 0;
      bool carried = false, incomplete = false;
      std::vector<uint32_t> stack{g};
      while (!stack.empty() && !carried) {
        uint32_t x = stack.back();
        stack.pop_back();
        for (uint32_t h : f_.host_groups[x].hosts) {
          ++hosts;
          incomplete = incomplete || host_incomplete_[h];
          if (std::binary_search(host_sites[h].begin(), host_sites[h].end(), s)) {
            carried = true;
            break;
          }
        }
        for (uint32_t c : host_group_children_[x]) stack.push_back(c);
      }
      if (carried || hosts == 0 || incomplete) continue;
      llvm::SMRange at = site.name_range;
      if (groups)
        for (const ast::Value& v : groups->items)
          if (v.text == f_.host_groups[g].name) at = v.range;
      diags_.Report(DiagKind::SiteNotCarried, at,
                    "site `" + site.name + "` is scoped to host group `" + f_.host_groups[g].name +
                        "`, but no host in it has an uplink port profile carrying the site; add `" + site.name +
                        "` to an uplink port profile's `sites` used there")
          .Note(f_.host_groups[g].name_range, "host group `" + f_.host_groups[g].name + "` defined here");
    }
  }
}

}  // namespace netdsl::sema
