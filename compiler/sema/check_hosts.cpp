// Host groups, hosts (with name-range expansion) and host NICs; which logical
// networks each host reaches through its switches.
#include <algorithm>
#include <string_view>

#include "compiler/sema/checker.h"

namespace netdsl::sema {
namespace {

/// Hosts in one name range at most; more is almost certainly a typo in a bound.
constexpr uint64_t kMaxHostRange = 65536;

bool IsHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/// Why `name` cannot be a host name (it becomes a directory under hosts/ and a
/// Windows computer name), or "".
std::string HostNameProblem(const std::string& name) {
  if (name.size() > 253) return "is longer than 253 characters";
  if (name.front() == '.' || name.front() == '-') return "starts with `" + std::string(1, name.front()) + "`";
  for (char c : name)
    if (!IsHostNameChar(c)) {
      std::string shown = (unsigned char)c < 0x20 || c == 0x7f ? "a control character" : "`" + std::string(1, c) + "`";
      return "contains " + shown + "; use letters, digits, `-`, `.` and `_`";
    }
  return "";
}

/// Why a host NIC name cannot be a Linux interface name (IFNAMSIZ - 1 = 15
/// bytes; no `/`, `:` or whitespace; we also keep to [A-Za-z0-9._-] because
/// the name reaches iproute2 batch files and nftables rules), or "".
std::string InterfaceNameProblem(const std::string& name) {
  if (name.size() > 15) return "is " + std::to_string(name.size()) + " bytes long; Linux allows at most 15";
  if (name == "." || name == "..") return "is reserved by Linux";
  // Every interface netdsl creates is named `nd-...` (docs/linux-yaml.md); an
  // adopted NIC in that namespace could collide with one.
  if (name.rfind("nd-", 0) == 0) return "starts with `nd-`, the prefix of the interfaces netdsl creates";
  for (char c : name) {
    if (c == '/' || c == ':') return "contains `" + std::string(1, c) + "`, which Linux does not allow";
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return "contains whitespace, which Linux does not allow";
    if (!IsHostNameChar(c))
      return "contains " + ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f ? std::string("a non-ASCII or control character") : "`" + std::string(1, c) + "`") +
             "; use letters, digits, `-`, `.` and `_`";
  }
  return "";
}

/// Why a host NIC name cannot be a Windows network adapter (connection) name,
/// or "": what `Rename-NetAdapter` and the Network Connections folder accept —
/// 1 to 255 UTF-16 code units, no control characters or tabs, none of
/// `\ / : * ? < > |`, no leading or trailing space. Quotes of every kind, `$`,
/// backticks and spaces inside are fine (`"Ethernet 2"`): the PowerShell
/// backend quotes every name.
std::string WindowsAdapterNameProblem(const std::string& name) {
  size_t utf16 = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if ((c & 0xC0) != 0x80) utf16 += c >= 0xF0 ? 2 : 1;  // a lead byte; 4-byte sequences are surrogate pairs
    if (c < 0x20 || c == 0x7F) return c == '\t' ? "contains a tab" : "contains a control character";
    if (c == 0xC2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) < 0xA0)
      return "contains a control character";
    if (c == 0xE2 && i + 2 < name.size() && static_cast<unsigned char>(name[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(name[i + 2]) == 0xA8 || static_cast<unsigned char>(name[i + 2]) == 0xA9))
      return "contains a line separator";
    if (std::string_view("\\/:*?<>|").find(char(c)) != std::string_view::npos)
      return "contains `" + std::string(1, char(c)) + "`; Windows does not allow \\ / : * ? < > | in an adapter name";
  }
  if (utf16 > 255) return "is " + std::to_string(utf16) + " characters long; Windows allows at most 255";
  if (name.front() == ' ' || name.back() == ' ') return "starts or ends with a space, which Windows does not keep";
  return "";
}

}  // namespace

void Checker::DeclareHostGroup(const ast::Block& block, uint32_t parent) {
  Props props = Validate(block, *FindSpec(parent == kNone ? "" : "host_group", "host_group"));
  uint32_t id = (uint32_t)f_.host_groups.size();
  model::HostGroup g;
  if (block.label && block.label->IsName()) {
    g.name = block.label->text;
    g.name_range = block.label->range;
  }
  g.parent = parent;
  g.management_inherit = props.Get("management") != nullptr;
  // `platform` here, else the enclosing group's.
  if (const ast::Value* v = props.Get("platform"))
    g.platform = v->text == "hyperv" ? model::Platform::HyperV : model::Platform::Linux;
  else if (parent != kNone)
    g.platform = f_.host_groups[parent].platform;
  f_.host_groups.push_back(g);
  host_group_props_.push_back(props);
  host_group_children_.emplace_back();
  if (parent != kNone) host_group_children_[parent].push_back(id);
  if (!g.name.empty())
    Declare(host_groups_, g.name, id, g.name_range, "host group", "",
            [&](uint32_t e) { return f_.host_groups[e].name_range; });
  for (const ast::Block& child : block.blocks) {
    if (!FindSpec("host_group", child.kind)) continue;  // reported by Validate
    if (child.kind == "host_group") DeclareHostGroup(child, id);
    else if (child.kind == "host") DeclareHost(child, id);
  }
}

void Checker::DeclareHost(const ast::Block& block, uint32_t group) {
  Props props = Validate(block, *FindSpec(group == kNone ? "" : "host_group", "host"));
  if (!block.label || !block.label->IsName() || block.label->text.empty()) return;

  // Expand `stem[first..last]`; the width of the first bound sets the zero padding.
  std::vector<std::string> names;
  if (block.name_range) {
    const ast::Block::NameRange& r = *block.name_range;
    if (r.first > r.last) {
      diags_.Report(DiagKind::InvalidNameRange, r.range,
                    "host name range `[" + std::to_string(r.first) + ".." + std::to_string(r.last) +
                        "]` is reversed; write the smaller bound first");
      return;
    }
    if (r.last - r.first + 1 > kMaxHostRange) {
      diags_.Report(DiagKind::InvalidNameRange, r.range,
                    "host name range expands to " + std::to_string(r.last - r.first + 1) + " hosts; at most " +
                        std::to_string(kMaxHostRange) + " hosts per range");
      return;
    }
    for (uint64_t n = r.first; n <= r.last; ++n) {
      std::string digits = std::to_string(n);
      if (digits.size() < r.width) digits.insert(0, r.width - digits.size(), '0');
      names.push_back(block.label->text + digits);
    }
  } else {
    names.push_back(block.label->text);
  }
  // Still declared, so that VMs placed on it do not add "unknown host" errors.
  if (std::string problem = HostNameProblem(names.front()); !problem.empty())
    diags_.Report(DiagKind::InvalidHostName, NameRangeOf(block), "host name `" + names.front() + "` " + problem);

  std::optional<uint64_t> mtu = IntegerIn(props.Get("mtu"), 576, 9216, DiagKind::MtuOutOfRange, "MTU",
                                          Describe(props));
  // NICs are the same for every host of a range: read them once.
  model::Host proto;
  proto.host_group = group;
  if (mtu) proto.mtu = (uint32_t)*mtu;
  // The host's platform: its own, else its group's (inherited), else Linux.
  const bool platform_said = props.Get("platform") || (group != kNone && f_.host_groups[group].platform);
  if (const ast::Value* v = props.Get("platform"))
    proto.platform = v->text == "hyperv" ? model::Platform::HyperV : model::Platform::Linux;
  else if (group != kNone && f_.host_groups[group].platform)
    proto.platform = *f_.host_groups[group].platform;
  std::vector<Props> nic_props;
  NameTable nic_names;
  Props management;  // the `management { }` block, if any (block nullptr = none)
  for (const ast::Block& child : block.blocks) {
    const BlockSpec* spec = FindSpec("host", child.kind);
    if (!spec) continue;
    if (child.kind == "management") {
      Props mp = Validate(child, *spec);
      if (!management.block) management = mp;  // a second block is reported by Validate
      continue;
    }
    Props np = Validate(child, *spec);
    if (!child.label || !child.label->IsName() || child.label->text.empty()) continue;
    const std::string& nic_name = child.label->text;
    uint32_t nic_id = (uint32_t)proto.nics.size();
    if (!Declare(nic_names, nic_name, nic_id, child.label->range, "NIC", " in " + Describe(props),
                 [&](uint32_t e) { return proto.nics[e].name_range; }))
      continue;
    // NIC names follow the host's platform: Linux interface names, or Windows adapter names.
    if (proto.platform == model::Platform::Linux) {
      if (std::string problem = InterfaceNameProblem(nic_name); !problem.empty())
        diags_.Report(DiagKind::InvalidInterfaceName, child.label->range,
                      "host NIC name `" + nic_name + "` becomes a Linux interface name but " + problem +
                          (platform_said ? std::string()
                                         : "; the host is a Linux host because neither it nor its host groups say "
                                           "`platform`: write `platform = hyperv;` for a Hyper-V host"));
    } else if (std::string problem = WindowsAdapterNameProblem(nic_name); !problem.empty()) {
      diags_.Report(DiagKind::InvalidInterfaceName, child.label->range,
                    "host NIC name `" + nic_name + "` of a Hyper-V host is a Windows network adapter name but " +
                        problem);
    }
    if (np.Present("uplink") && !np.Present("switch"))
      diags_.Report(DiagKind::MissingRequiredProperty, child.label->range,
                    "host NIC `" + nic_name + "` has an `uplink` but no `switch`; add `switch = ...;`");
    if (np.Present("switch") && !np.Present("uplink"))
      diags_.Report(DiagKind::MissingRequiredProperty, child.label->range,
                    "host NIC `" + nic_name + "` is bound to a switch but has no `uplink`; add `uplink = ...;`");
    model::HostNic nic;
    nic.name = nic_name;
    nic.name_range = child.label->range;
    proto.nics.push_back(nic);
    nic_props.push_back(np);
  }

  for (std::string& name : names) {
    uint32_t id = (uint32_t)f_.hosts.size();
    model::Host h = proto;
    h.name = std::move(name);
    h.name_range = NameRangeOf(block);
    if (!Declare(hosts_, h.name, id, h.name_range, "host", "", [&](uint32_t e) { return f_.hosts[e].name_range; }))
      continue;
    f_.hosts.push_back(std::move(h));
    host_props_.push_back(props);
    host_nic_props_.push_back(nic_props);
    host_management_props_.push_back(management);
    if (group != kNone) f_.host_groups[group].hosts.push_back(id);
  }
}

void Checker::ResolveHosts() {
  // Every host of a range shares its NIC blocks: resolve each block once.
  const ast::Block* last_block = nullptr;
  std::vector<model::HostNic> last_nics;
  for (size_t h = 0; h < f_.hosts.size(); ++h) {
    model::Host& host = f_.hosts[h];
    if (host_props_[h].block == last_block) {
      for (size_t i = 0; i < host.nics.size(); ++i) {
        host.nics[i].logical_switch = last_nics[i].logical_switch;
        host.nics[i].uplink_profile = last_nics[i].uplink_profile;
      }
      continue;
    }
    for (size_t i = 0; i < host.nics.size(); ++i) {
      const Props& np = host_nic_props_[h][i];
      if (const ast::Value* v = np.Get("switch")) host.nics[i].logical_switch = Resolve(*v, switches_, "logical switch");
      if (const ast::Value* v = np.Get("uplink"))
        host.nics[i].uplink_profile = Resolve(*v, uplink_profiles_, "uplink port profile");
    }
    last_block = host_props_[h].block;
    last_nics = host.nics;
  }
}

void Checker::ComputeReach() {
  host_reach_.assign(f_.hosts.size(), {});
  host_incomplete_.assign(f_.hosts.size(), false);
  for (size_t h = 0; h < f_.hosts.size(); ++h) {
    auto& reach = host_reach_[h];
    for (size_t i = 0; i < f_.hosts[h].nics.size(); ++i) {
      const model::HostNic& nic = f_.hosts[h].nics[i];
      const Props& np = host_nic_props_[h][i];
      if ((np.Present("switch") && nic.logical_switch == kNone) || (np.Present("uplink") && nic.uplink_profile == kNone) ||
          (nic.uplink_profile != kNone && uplink_incomplete_[nic.uplink_profile]))
        host_incomplete_[h] = true;
    }
    for (const model::HostNic& nic : f_.hosts[h].nics) {
      if (nic.logical_switch == kNone || nic.uplink_profile == kNone) continue;
      for (uint32_t site : f_.uplink_port_profiles[nic.uplink_profile].sites) {
        uint32_t ln = f_.sites[site].logical_network;
        if (ln != kNone) reach.push_back({ln, nic.logical_switch});
      }
    }
    std::sort(reach.begin(), reach.end());
    reach.erase(std::unique(reach.begin(), reach.end()), reach.end());
  }
  // Site scopes: the listed host groups and all their descendants.
  site_scope_.assign(f_.sites.size(), {});
  for (size_t s = 0; s < f_.sites.size(); ++s) {
    std::vector<bool>& scope = site_scope_[s];
    scope.assign(f_.host_groups.size(), false);
    std::vector<uint32_t> stack(f_.sites[s].host_groups.begin(), f_.sites[s].host_groups.end());
    while (!stack.empty()) {
      uint32_t g = stack.back();
      stack.pop_back();
      if (scope[g]) continue;
      scope[g] = true;
      for (uint32_t c : host_group_children_[g]) stack.push_back(c);
    }
  }
}

bool Checker::HostReaches(uint32_t host, uint32_t ln) const {
  const auto& reach = host_reach_[host];
  auto it = std::lower_bound(reach.begin(), reach.end(), std::pair<uint32_t, uint32_t>{ln, 0});
  return it != reach.end() && it->first == ln;
}

bool Checker::HostInSiteScope(uint32_t host, uint32_t site) const {
  uint32_t g = f_.hosts[host].host_group;
  return g != kNone && site_scope_[site][g];
}

}  // namespace netdsl::sema
