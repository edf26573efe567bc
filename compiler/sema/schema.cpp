// The schema table (SPEC §1–§2): block kinds per parent, labels, keys, value types.
#include "compiler/sema/schema.h"

#include <algorithm>

#include "llvm/ADT/StringRef.h"

namespace netdsl::sema {
namespace {

using VT = ValueType;

/// `platform = hyperv | linux;` on a host or a host group (inherited; default linux).
KeySpec PlatformKey() { return {"platform", VT::Enum, false, {"hyperv", "linux"}}; }

const std::vector<BlockSpec>& Table() {
  static const std::vector<BlockSpec> table = {
      // Top level.
      {"host_group", "", LabelRule::Name,
       {{"description", VT::Text}, {"management", VT::Enum, false, {"inherit"}}, PlatformKey()}, false, false, "host group"},
      {"host", "", LabelRule::Name,
       {{"description", VT::Text}, {"mtu", VT::Integer}, {"management", VT::Enum, false, {"inherit"}}, PlatformKey()}, false, true,
       "host"},
      {"logical_network", "", LabelRule::Name,
       {{"description", VT::Text}, {"network_virtualization", VT::Bool}}, false, false, "logical network"},
      {"mac_pool", "", LabelRule::Name, {{"description", VT::Text}, {"range", VT::MacRange, true}}, false, false,
       "MAC pool"},
      {"vm_network", "", LabelRule::Name,
       {{"description", VT::Text},
        {"logical_network", VT::Name, true},
        {"isolation", VT::Enum, false, {"vxlan", "nvgre", "vlan", "none"}},
        {"rdid", VT::Integer}},
       false, false, "VM network"},
      {"port_classification", "", LabelRule::Name, {{"description", VT::Text}}, false, false, "port classification"},
      {"port_profile", "", LabelRule::Name, {{"description", VT::Text}}, false, false, "port profile"},
      {"uplink_port_profile", "", LabelRule::Name,
       {{"description", VT::Text}, {"sites", VT::NameList}, {"network_virtualization", VT::Bool}}, false, false,
       "uplink port profile"},
      {"logical_switch", "", LabelRule::Name,
       {{"description", VT::Text},
        {"sriov", VT::Bool},
        {"uplink_mode", VT::Enum, false, {"no_team", "team", "embedded_team"}},
        {"minimum_bandwidth_mode", VT::Enum, false, {"weight", "absolute", "none"}},
        {"uplinks", VT::NameList},
        {"extensions", VT::NameList}},
       false, false, "logical switch"},
      {"vm", "", LabelRule::Name, {{"description", VT::Text}, {"host", VT::Name, true}}, false, false, "VM"},

      // Host groups and hosts.
      {"host_group", "host_group", LabelRule::Name,
       {{"description", VT::Text}, {"management", VT::Enum, false, {"inherit"}}, PlatformKey()}, false, false, "host group"},
      {"host", "host_group", LabelRule::Name,
       {{"description", VT::Text}, {"mtu", VT::Integer}, {"management", VT::Enum, false, {"inherit"}}, PlatformKey()}, false, true,
       "host"},
      {"nic", "host", LabelRule::Name,
       {{"description", VT::Text}, {"switch", VT::Name}, {"uplink", VT::Name}}, false, false, "host NIC"},
      // The host's management adapter (docs/language.md "Management"); `management = inherit;` is the short form.
      {"management", "host", LabelRule::None,
       {{"nic", VT::Name, true}, {"address", VT::Prefix}, {"gateway", VT::Address}, {"vlan", VT::Integer}}, true,
       false, "management adapter"},

      // Logical networks.
      {"site", "logical_network", LabelRule::Name, {{"description", VT::Text}, {"host_groups", VT::NameList}},
       false, false, "site"},
      {"subnet", "site", LabelRule::Prefix, {{"vlan", VT::Integer}}, false, false, "site subnet"},
      {"ip_pool", "logical_network", LabelRule::Name,
       {{"description", VT::Text},
        {"site", VT::Name, true},
        {"subnet", VT::Prefix, true},
        {"range", VT::AddressRange, true},
        {"gateway", VT::Address},
        {"dns", VT::AddressList},
        {"reserved", VT::AddressList},
        {"vips", VT::AddressList}},
       false, false, "IP pool"},

      // VM networks.
      {"vm_subnet", "vm_network", LabelRule::Name,
       {{"description", VT::Text}, {"subnet", VT::Prefix, true}, {"vsid", VT::Integer}, {"vlan", VT::Integer}},
       false, false, "VM subnet"},
      {"ip_pool", "vm_network", LabelRule::Name,
       {{"description", VT::Text},
        {"vm_subnet", VT::Name, true},
        {"range", VT::AddressRange, true},
        {"gateway", VT::Address},
        {"dns", VT::AddressList},
        {"reserved", VT::AddressList},
        {"vips", VT::AddressList}},
       false, false, "IP pool"},
      {"gateway", "vm_network", LabelRule::None,
       {{"host", VT::Name, true}, {"external_pool", VT::Name}, {"nat", VT::Bool}}, true, false, "gateway"},

      // Port profiles.
      {"offload", "port_profile", LabelRule::None,
       {{"vmq", VT::Bool}, {"ipsec_offload", VT::Bool}, {"sriov", VT::Bool}, {"vrss", VT::Bool}}, true, false,
       "offload settings"},
      {"security", "port_profile", LabelRule::None,
       {{"mac_spoofing", VT::Bool},
        {"dhcp_guard", VT::Bool},
        {"router_guard", VT::Bool},
        {"guest_specified_ip", VT::Bool},
        {"ieee_priority_tagging", VT::Bool},
        {"guest_teaming", VT::Bool}},
       true, false, "security settings"},
      {"bandwidth", "port_profile", LabelRule::None,
       {{"minimum_weight", VT::Integer}, {"minimum_absolute", VT::Bandwidth}, {"maximum", VT::Bandwidth}}, true,
       false, "bandwidth settings"},
      {"teaming", "uplink_port_profile", LabelRule::None,
       {{"mode", VT::Enum, false, {"switch_independent", "lacp", "static"}},
        {"load_balancing", VT::Enum, false, {"host_default", "address_hash", "hyperv_port", "dynamic"}}},
       true, false, "teaming settings"},

      // Switches and VMs.
      {"virtual_port", "logical_switch", LabelRule::Name,
       {{"description", VT::Text}, {"classification", VT::Name, true}, {"profile", VT::Name}}, false, false,
       "virtual port"},
      {"nic", "vm", LabelRule::OptionalName,
       {{"description", VT::Text},
        {"vm_network", VT::Name, true},
        {"vm_subnet", VT::Name},
        {"classification", VT::Name},
        {"ip", VT::Address},
        {"mac", VT::Mac},
        {"mtu", VT::Integer}},
       false, false, "VM NIC"},
  };
  return table;
}

}  // namespace

std::vector<const BlockSpec*> ChildSpecs(std::string_view parent) {
  std::vector<const BlockSpec*> out;
  for (const BlockSpec& s : Table())
    if (parent == s.parent) out.push_back(&s);
  return out;
}

const BlockSpec* FindSpec(std::string_view parent, std::string_view kind) {
  for (const BlockSpec& s : Table())
    if (parent == s.parent && kind == s.kind) return &s;
  return nullptr;
}

const KeySpec* FindKey(const BlockSpec& spec, std::string_view key) {
  for (const KeySpec& k : spec.keys)
    if (key == k.key) return &k;
  return nullptr;
}

std::string DescribeExpected(const KeySpec& key) {
  switch (key.type) {
    case VT::Name: return "a name";
    case VT::NameList: return "a list of names `[a, b]`";
    case VT::Text: return "a string";
    case VT::Bool: return "`true` or `false`";
    case VT::Integer: return "an integer";
    case VT::Prefix: return "a CIDR prefix";
    case VT::Address: return "an IP address";
    case VT::AddressList: return "a list of IP addresses `[a, b]`";
    case VT::AddressRange: return "an address range `A - B`";
    case VT::MacRange: return "a MAC address range `A - B`";
    case VT::Mac: return "a MAC address";
    case VT::Bandwidth: return "a bandwidth such as `1Gbps`";
    case VT::Enum: {
      std::string s = "one of ";
      for (size_t i = 0; i < key.enum_values.size(); ++i) {
        if (i) s += i + 1 == key.enum_values.size() ? " or " : ", ";
        s += "`" + std::string(key.enum_values[i]) + "`";
      }
      return s;
    }
  }
  return "a value";
}

std::string DescribeFound(const ast::Value& v) {
  auto quoted = [&](const char* what) {
    return v.text.empty() ? std::string(what) : std::string(what) + " `" + v.text + "`";
  };
  switch (v.kind) {
    case ast::Value::Kind::Ident: return quoted("name");
    case ast::Value::Kind::String: return "string `\"" + v.text + "\"`";
    case ast::Value::Kind::Integer: return "integer `" + std::to_string(v.integer) + "`";
    case ast::Value::Kind::Bool: return v.boolean ? "boolean `true`" : "boolean `false`";
    case ast::Value::Kind::Address: return "address `" + v.address.ToString() + "`";
    case ast::Value::Kind::Prefix: return "prefix `" + v.prefix.ToString() + "`";
    case ast::Value::Kind::Mac: return "MAC address `" + v.mac.ToString() + "`";
    case ast::Value::Kind::Bandwidth: return quoted("bandwidth");
    case ast::Value::Kind::Range: return quoted("range");
    case ast::Value::Kind::List: return quoted("list");
  }
  return "a value";
}

bool HasType(const ast::Value& v, ValueType type) {
  using K = ast::Value::Kind;
  auto all = [&](K k) {
    return std::all_of(v.items.begin(), v.items.end(), [&](const ast::Value& i) { return i.kind == k; });
  };
  switch (type) {
    case VT::Name:
    case VT::Text:
    case VT::Enum: return v.IsName();
    case VT::NameList:
      return v.kind == K::List &&
             std::all_of(v.items.begin(), v.items.end(), [](const ast::Value& i) { return i.IsName(); });
    case VT::Bool: return v.kind == K::Bool;
    case VT::Integer: return v.kind == K::Integer;
    case VT::Prefix: return v.kind == K::Prefix;
    case VT::Address: return v.kind == K::Address;
    case VT::AddressList: return v.kind == K::List && all(K::Address);
    case VT::AddressRange: return v.kind == K::Range && v.items.size() == 2 && all(K::Address);
    case VT::MacRange: return v.kind == K::Range && v.items.size() == 2 && all(K::Mac);
    case VT::Mac: return v.kind == K::Mac;
    case VT::Bandwidth: return v.kind == K::Bandwidth;
  }
  return false;
}

namespace {

/// Optimal string alignment distance: insertions, deletions, substitutions and
/// transpositions of adjacent characters (the commonest typo) cost 1.
unsigned TypoDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<unsigned>> d(a.size() + 1, std::vector<unsigned>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = (unsigned)i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = (unsigned)j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

std::string ClosestName(std::string_view word, const std::vector<std::string_view>& candidates) {
  // Allow roughly one edit per three characters, at least one, like clang's typo correction.
  unsigned limit = std::max<unsigned>(1, (unsigned)(word.size() + 2) / 3);
  std::string best;
  unsigned best_distance = limit + 1;
  llvm::StringRef w(word.data(), word.size());
  for (std::string_view c : candidates) {
    if (c == word) continue;
    // Cheap filter before the quadratic distance: lengths must be close.
    size_t diff = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (diff > limit && c.find(word) == std::string_view::npos) continue;
    unsigned d = TypoDistance(word, c);
    // `profile` for `port_profile`: a word contained in a longer keyword is a likely slip.
    if (word.size() >= 4 && c.find(word) != std::string_view::npos) d = std::min(d, limit);
    // Case-only differences are the most likely typo of all.
    if (w.equals_insensitive(llvm::StringRef(c.data(), c.size()))) d = 0;
    if (d < best_distance || (d == best_distance && c < best)) {
      best_distance = d;
      best = std::string(c);
    }
  }
  return best_distance <= limit ? best : std::string();
}

std::string DidYouMean(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best = ClosestName(word, candidates);
  return best.empty() ? std::string() : "; did you mean `" + best + "`?";
}

}  // namespace netdsl::sema
