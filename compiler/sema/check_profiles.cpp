// Port classifications, port profiles (offload, security, bandwidth) and
// uplink port profiles (sites carried, teaming).
#include <algorithm>

#include "compiler/sema/checker.h"

namespace netdsl::sema {

void Checker::DeclareClassification(const ast::Block& block) {
  Props props = Validate(block, *FindSpec("", "port_classification"));
  if (!block.label || !block.label->IsName() || block.label->text.empty()) return;
  uint32_t id = (uint32_t)f_.port_classifications.size();
  model::PortClassification pc;
  pc.name = block.label->text;
  pc.name_range = block.label->range;
  pc.description = Text(props.Get("description"));
  if (!Declare(classifications_, pc.name, id, pc.name_range, "port classification", "",
               [&](uint32_t e) { return f_.port_classifications[e].name_range; }))
    return;
  f_.port_classifications.push_back(pc);
  pc_props_.push_back(props);
}

void Checker::DeclarePortProfile(const ast::Block& block) {
  Props props = Validate(block, *FindSpec("", "port_profile"));
  if (!block.label || !block.label->IsName() || block.label->text.empty()) return;
  uint32_t id = (uint32_t)f_.port_profiles.size();
  model::PortProfile pp;
  pp.name = block.label->text;
  pp.name_range = block.label->range;
  pp.description = Text(props.Get("description"));
  if (!Declare(port_profiles_, pp.name, id, pp.name_range, "port profile", "",
               [&](uint32_t e) { return f_.port_profiles[e].name_range; }))
    return;
  Props offload, bandwidth;
  bool security_seen = false;
  const std::string who = "port profile `" + pp.name + "`";
  for (const ast::Block& child : block.blocks) {
    const BlockSpec* spec = FindSpec("port_profile", child.kind);
    if (!spec) continue;
    Props cp = Validate(child, *spec);
    if (child.kind == "offload" && !offload.block) {
      offload = cp;
      pp.offload.vmq = Bool(cp.Get("vmq"), pp.offload.vmq);
      pp.offload.ipsec_offload = Bool(cp.Get("ipsec_offload"), pp.offload.ipsec_offload);
      pp.offload.sriov = Bool(cp.Get("sriov"), pp.offload.sriov);
      pp.offload.vrss = Bool(cp.Get("vrss"), pp.offload.vrss);
    } else if (child.kind == "security" && !security_seen) {
      security_seen = true;
      auto& s = pp.security;
      s.mac_spoofing = Bool(cp.Get("mac_spoofing"), s.mac_spoofing);
      s.dhcp_guard = Bool(cp.Get("dhcp_guard"), s.dhcp_guard);
      s.router_guard = Bool(cp.Get("router_guard"), s.router_guard);
      s.guest_specified_ip = Bool(cp.Get("guest_specified_ip"), s.guest_specified_ip);
      s.ieee_priority_tagging = Bool(cp.Get("ieee_priority_tagging"), s.ieee_priority_tagging);
      s.guest_teaming = Bool(cp.Get("guest_teaming"), s.guest_teaming);
    } else if (child.kind == "bandwidth" && !bandwidth.block) {
      bandwidth = cp;
      auto& b = pp.bandwidth;
      const ast::Value* weight = cp.Get("minimum_weight");
      const ast::Value* absolute = cp.Get("minimum_absolute");
      const ast::Value* maximum = cp.Get("maximum");
      if (std::optional<uint64_t> w = IntegerIn(weight, 0, 100, DiagKind::WeightOutOfRange, "minimum_weight", who))
        b.minimum_weight = (uint32_t)*w;
      if (absolute) b.minimum_absolute = absolute->integer;
      if (maximum) {
        if (maximum->integer == 0)
          diags_.Report(DiagKind::BandwidthInvalid, maximum->range,
                        "maximum bandwidth of " + who + " is zero; the port could not send at all");
        else
          b.maximum = maximum->integer;
      }
      if (weight && absolute)
        diags_.Report(DiagKind::ConflictingMinimumBandwidth, absolute->range,
                      who + " sets both `minimum_weight` and `minimum_absolute`; a switch reserves bandwidth one way, keep one")
            .Note(weight->range, "`minimum_weight` set here");
      if (b.minimum_absolute && b.maximum && *b.minimum_absolute > *b.maximum)
        diags_.Report(DiagKind::BandwidthInvalid, absolute->range,
                      "minimum bandwidth " + net::FormatBandwidth(*b.minimum_absolute) + " of " + who +
                          " is above its maximum " + net::FormatBandwidth(*b.maximum))
            .Note(maximum->range, "maximum set here");
    }
  }
  f_.port_profiles.push_back(pp);
  pp_props_.push_back(props);
  pp_offload_props_.push_back(offload);
  pp_bandwidth_props_.push_back(bandwidth);
}

void Checker::DeclareUplinkProfile(const ast::Block& block) {
  Props props = Validate(block, *FindSpec("", "uplink_port_profile"));
  if (!block.label || !block.label->IsName() || block.label->text.empty()) return;
  uint32_t id = (uint32_t)f_.uplink_port_profiles.size();
  model::UplinkPortProfile up;
  up.name = block.label->text;
  up.name_range = block.label->range;
  up.description = Text(props.Get("description"));
  if (const ast::Value* v = props.Get("network_virtualization")) up.network_virtualization = v->boolean;
  if (!Declare(uplink_profiles_, up.name, id, up.name_range, "uplink port profile", "",
               [&](uint32_t e) { return f_.uplink_port_profiles[e].name_range; }))
    return;
  Props teaming;
  for (const ast::Block& child : block.blocks) {
    const BlockSpec* spec = FindSpec("uplink_port_profile", child.kind);
    if (!spec) continue;
    Props cp = Validate(child, *spec);
    if (teaming.block) continue;
    teaming = cp;
    model::UplinkPortProfile::Teaming t;
    if (const ast::Value* v = cp.Get("mode")) {
      if (v->text == "lacp") t.mode = model::TeamingMode::Lacp;
      else if (v->text == "static") t.mode = model::TeamingMode::Static;
    }
    if (const ast::Value* v = cp.Get("load_balancing")) {
      if (v->text == "address_hash") t.load_balancing = model::LoadBalancing::AddressHash;
      else if (v->text == "hyperv_port") t.load_balancing = model::LoadBalancing::HyperVPort;
      else if (v->text == "dynamic") t.load_balancing = model::LoadBalancing::Dynamic;
    }
    up.teaming = t;
  }
  f_.uplink_port_profiles.push_back(up);
  upp_props_.push_back(props);
  upp_teaming_props_.push_back(teaming);
}

void Checker::ResolveProfiles() {
  std::vector<std::string_view> all_sites;
  for (const auto& [name, ids] : sites_by_name_) all_sites.push_back(name);
  std::sort(all_sites.begin(), all_sites.end());
  uplink_incomplete_.assign(f_.uplink_port_profiles.size(), false);
  for (uint32_t u = 0; u < f_.uplink_port_profiles.size(); ++u) {
    model::UplinkPortProfile& up = f_.uplink_port_profiles[u];
    const ast::Value* sites = upp_props_[u].Get("sites");
    if (upp_props_[u].Present("sites") && !sites) uplink_incomplete_[u] = true;
    if (!sites) continue;
    for (const ast::Value& s : sites->items) {
      auto it = sites_by_name_.find(s.text);
      if (it == sites_by_name_.end() || it->second.size() > 1) uplink_incomplete_[u] = true;
      if (it == sites_by_name_.end()) {
        diags_.Report(DiagKind::UnresolvedName, s.range, "unknown site `" + s.text + "`" + DidYouMean(s.text, all_sites));
        continue;
      }
      if (it->second.size() > 1) {
        auto d = diags_.Report(DiagKind::AmbiguousName, s.range,
                               "site `" + s.text + "` is defined in several logical networks; rename one so that uplink port profile `" +
                                   up.name + "` names exactly one");
        for (uint32_t id : it->second)
          d.Note(f_.sites[id].name_range,
                 "site `" + s.text + "` of logical network `" + f_.logical_networks[f_.sites[id].logical_network].name + "`");
        continue;
      }
      uint32_t id = it->second.front();
      if (std::find(up.sites.begin(), up.sites.end(), id) != up.sites.end()) {
        diags_.Report(DiagKind::DuplicateName, s.range,
                      "site `" + s.text + "` listed twice in uplink port profile `" + up.name + "`");
        continue;
      }
      up.sites.push_back(id);
    }
  }
}

}  // namespace netdsl::sema
