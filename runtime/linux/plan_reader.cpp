// Strict linux.yaml reader: yaml-cpp nodes → HostState, with key-path errors.
// The bulk lists (fdb, neighbours, routes, addresses) take a fast path when
// their items are simple one-line flow mappings (flow_scanner.h); the same
// reader code reads them from either kind of node, so diagnostics agree.
#include "runtime/linux/plan_reader.h"

#include "runtime/linux/flow_scanner.h"
#include "runtime/linux/yaml_lite.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/io/regular_file.h"

namespace netdsl::runtime {
namespace {

struct Error {
  int line, col;
  std::string text;
};

/// A key path for messages: text such as `links[0].vxlan` (viewed, not
/// owned), or a bulk item's `fdb[12]`, which is only formatted when an error
/// names it; formatting it 100k times was a good part of reading a large plan.
class KeyPath {
 public:
  KeyPath(const char* text) : text_(text) {}
  KeyPath(const std::string& text) : text_(text) {}
  KeyPath(std::string_view list, size_t index) : text_(list), index_(index) {}

  /// `path.key`, or `key` at the top level.
  std::string Join(std::string_view key) const {
    if (index_) return fmt::format("{}[{}].{}", text_, *index_, key);
    return text_.empty() ? std::string(key) : fmt::format("{}.{}", text_, key);
  }
  std::string str() const { return index_ ? fmt::format("{}[{}]", text_, *index_) : std::string(text_); }

 private:
  std::string_view text_;
  std::optional<size_t> index_;  ///< set for a list item: text_ is the list's key
};

}  // namespace
}  // namespace netdsl::runtime

template <>
struct fmt::formatter<netdsl::runtime::KeyPath> : fmt::formatter<std::string_view> {
  auto format(const netdsl::runtime::KeyPath& kp, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(kp.str(), ctx);
  }
};

namespace netdsl::runtime {
namespace {

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  template <typename N>
  void Fail(const N& n, const std::string& msg) { FailAt(Loc(n), msg); }
  void FailAt(SourceLoc loc, const std::string& msg) {
    errors_.push_back({loc.line, loc.col,
                       loc.line ? fmt::format("{}:{}:{}: error: {}", path_, loc.line, loc.col, msg)
                                : fmt::format("{}: error: {}", path_, msg)});
  }
  SourceLoc Loc(const FlowNode& n) const { return n.Loc(); }
  SourceLoc Loc(const lite::Node& n) const { return n.IsDefined() ? SourceLoc{n.Line0() + 1, n.Col0() + 1} : SourceLoc{}; }
  SourceLoc Loc(const YAML::Node& n) const {
    auto m = n.Mark();
    if (m.is_null()) return {};
    int line0 = m.line;
    for (const Cut& c : cuts_)
      if (m.line >= c.rest_line0) line0 += c.lines;
    return {line0 + 1, m.column + 1};
  }

  /// yaml-cpp parses the plan without the bulk sections the fast path read:
  /// `lines` lines were cut before line `rest_line0` (0-based) of that text.
  /// Cuts are added in file order.
  void AddCut(int rest_line0, int lines) { cuts_.push_back({rest_line0, lines}); }

  /// `n` must be a map whose keys are all in `allowed` (no duplicates).
  template <typename N>
  bool Map(const N& n, const KeyPath& kp, std::initializer_list<std::string_view> allowed) {
    if (!n.IsMap()) {
      Fail(n, fmt::format("`{}` must be a mapping", kp));
      return false;
    }
    assert(allowed.size() <= 64);
    bool ok = true;
    uint64_t seen = 0;  // bit i: allowed[i] was given
    for (const auto& entry : n) {
      const auto& key = entry.first;
      if (!key.IsScalar()) {
        Fail(key, fmt::format("`{}` has a non-scalar key", kp));
        ok = false;
        continue;
      }
      std::string_view k = key.Scalar();
      auto it = std::find(allowed.begin(), allowed.end(), k);
      if (it == allowed.end()) {
        std::string list;
        for (std::string_view a : allowed) list += fmt::format("{}`{}`", list.empty() ? "" : ", ", a);
        Fail(key, fmt::format("unknown key `{}` (expected one of {})", kp.Join(k), list));
        ok = false;
      } else if (uint64_t bit = uint64_t{1} << (it - allowed.begin()); seen & bit) {
        Fail(key, fmt::format("duplicate key `{}`", kp.Join(k)));
        ok = false;
      } else {
        seen |= bit;
      }
    }
    return ok;
  }

  /// Returns the child or an undefined node; reports `required` misses.
  template <typename N>
  N Child(const N& n, const char* key, const KeyPath& kp, bool required) {
    N c = n[key];
    if (!c.IsDefined() && required) Fail(n, fmt::format("missing key `{}`", kp.Join(key)));
    return c;
  }

  /// Reads a string into a std::string, or into a std::string_view of the
  /// document (yaml-cpp's nodes or the plan text, both outlive the read).
  template <typename N, typename S>
  bool Str(const N& n, const char* key, const KeyPath& kp, S* out, bool required = false) {
    N c = Child(n, key, kp, required);
    if (!c.IsDefined()) return !required;
    if (c.IsNull()) {  // `key:` with no value reads as "" only when quoted; plain null is a type error
      Fail(c, fmt::format("`{}` must be a string", kp.Join(key)));
      return false;
    }
    if (!c.IsScalar()) {
      Fail(c, fmt::format("`{}` must be a string", kp.Join(key)));
      return false;
    }
    *out = c.Scalar();
    return true;
  }

  template <typename N, typename T>
  bool Uint(const N& n, const char* key, const KeyPath& kp, T* out, uint64_t max, bool required = false) {
    N c = Child(n, key, kp, required);
    if (!c.IsDefined()) return !required;
    uint64_t v = 0;
    if (!c.IsScalar() || c.Tag() == "!" || c.Scalar().empty()) {
      Fail(c, fmt::format("`{}` must be an unsigned integer", kp.Join(key)));
      return false;
    }
    std::string_view s = c.Scalar();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
      Fail(c, fmt::format("`{}` must be an unsigned integer, got `{}`", kp.Join(key), s));
      return false;
    }
    if (v > max) {
      Fail(c, fmt::format("`{}` is {}, above the maximum {}", kp.Join(key), v, max));
      return false;
    }
    *out = static_cast<T>(v);
    return true;
  }

  template <typename N>
  bool Bool(const N& n, const char* key, const KeyPath& kp, bool* out) {
    N c = Child(n, key, kp, false);
    if (!c.IsDefined()) return true;
    if (!c.IsScalar() || c.Tag() == "!" || (c.Scalar() != "true" && c.Scalar() != "false")) {
      Fail(c, fmt::format("`{}` must be `true` or `false`", kp.Join(key)));
      return false;
    }
    *out = c.Scalar() == "true";
    return true;
  }

  template <typename N>
  bool Ip(const N& n, const char* key, const KeyPath& kp, std::optional<net::IpAddress>* out, bool required) {
    std::string_view s;
    if (!Str(n, key, kp, &s, required)) return false;
    if (s.empty()) {
      if (required && n[key].IsDefined()) {
        Fail(n[key], fmt::format("`{}` must be an IP address", kp.Join(key)));
        return false;
      }
      return true;
    }
    auto ip = net::ParseIp(s);
    if (!ip) {
      Fail(n[key], fmt::format("`{}` is not an IP address: `{}`", kp.Join(key), s));
      return false;
    }
    *out = *ip;
    return true;
  }

  template <typename N>
  bool Mac(const N& n, const char* key, const KeyPath& kp, std::optional<net::MacAddress>* out, bool required) {
    std::string_view s;
    if (!Str(n, key, kp, &s, required)) return false;
    if (s.empty()) {
      if (required && n[key].IsDefined()) {
        Fail(n[key], fmt::format("`{}` must be a MAC address", kp.Join(key)));
        return false;
      }
      return true;
    }
    auto mac = net::ParseMac(s);
    if (!mac) {
      Fail(n[key], fmt::format("`{}` is not a MAC address: `{}`", kp.Join(key), s));
      return false;
    }
    *out = *mac;
    return true;
  }

  /// `n[key]` must be a sequence (or absent); calls fn(item, keypath) for each.
  template <typename N, typename Fn>
  void Seq(const N& n, const char* key, Fn fn) {
    N c = n[key];
    if (!c.IsDefined() || c.IsNull()) return;
    if (!c.IsSequence()) {
      Fail(c, fmt::format("`{}` must be a list", key));
      return;
    }
    size_t i = 0;
    for (const auto& entry : c) {
      const N& item = entry;
      fn(item, fmt::format("{}[{}]", key, i++));
    }
  }

  std::vector<Error>& errors() { return errors_; }
  const std::string& path() const { return path_; }

 private:
  struct Cut {
    int rest_line0;
    int lines;
  };
  std::string path_;
  std::vector<Error> errors_;
  std::vector<Cut> cuts_;
};

/// Whether `s` contains any byte of `set`, in one pass (std::string's
/// find_first_of calls memchr once per byte of `s`: slow on 2000 rules).
bool HasAnyOf(std::string_view s, std::string_view set) {
  bool table[256] = {};
  for (unsigned char c : set) table[c] = true;
  for (unsigned char c : s)
    if (table[c]) return true;
  return false;
}

/// A VM port's identity (`vm/nic`) is recorded with the ownership of its
/// link and printed: no control characters, bounded.
constexpr size_t kMaxIdentity = 256;
bool IsValidIdentity(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdentity) return false;
  for (unsigned char c : s)
    if (c < ' ' || c == 0x7f) return false;
  return true;
}

bool IsIfnameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& table, std::string_view value) {
  return linux_yaml::IndexIn(table, value) >= 0;
}

template <typename N>
void ReadLink(Reader& r, const N& n, const std::string& kp, HostState* out) {
  Link l;
  l.loc = r.Loc(n);
  if (!r.Map(n, kp, {"name", "kind", "mtu", "master", "mac", "isolated", "forwarding", "identity", "bond", "vlan",
                     "vxlan", "gretap", "vrf", "veth"}))
    return;
  r.Str(n, "name", kp, &l.name, true);
  r.Str(n, "kind", kp, &l.kind, true);
  r.Uint(n, "mtu", kp, &l.mtu, 65535);
  r.Str(n, "master", kp, &l.master);
  r.Mac(n, "mac", kp, &l.mac, false);
  r.Bool(n, "isolated", kp, &l.isolated);
  r.Bool(n, "forwarding", kp, &l.forwarding);
  if (r.Str(n, "identity", kp, &l.identity) && !l.identity.empty()) {
    if (l.kind != "veth")
      r.Fail(n["identity"], fmt::format("`{}.identity` is only allowed on a VM port (`kind: veth`)", kp));
    else if (!IsValidIdentity(l.identity))
      r.Fail(n["identity"],
             fmt::format("`{}.identity` must be 1..{} bytes without control characters", kp, kMaxIdentity));
  }
  if (!l.kind.empty() && !OneOf(linux_yaml::kLinkKinds, l.kind))
    r.Fail(n["kind"], fmt::format("`{}.kind` is `{}`; expected one of `bridge`, `bond`, `vlan`, `vxlan`, "
                                  "`gretap`, `vrf`, `veth`",
                                  kp, l.kind));
  for (const char* sub : {"bond", "vlan", "vxlan", "gretap", "vrf", "veth"}) {
    if (n[sub].IsDefined() && l.kind != sub)
      r.Fail(n[sub], fmt::format("`{}.{}` is only allowed when `kind` is `{}`", kp, sub, sub));
    else if (!n[sub].IsDefined() && l.kind == sub)
      r.Fail(n, fmt::format("missing key `{}.{}` for a link of kind `{}`", kp, sub, sub));
  }
  if (l.kind == "bond" && n["bond"].IsDefined()) {
    N b = n["bond"];
    std::string skp = kp + ".bond";
    if (r.Map(b, skp, {"mode", "xmit_hash_policy", "miimon"})) {
      r.Str(b, "mode", skp, &l.bond_mode, true);
      r.Str(b, "xmit_hash_policy", skp, &l.bond_xmit_hash_policy);
      r.Uint(b, "miimon", skp, &l.bond_miimon, 1000000);
      if (!l.bond_mode.empty() && !OneOf(linux_yaml::kBondModes, l.bond_mode))
        r.Fail(b["mode"], fmt::format("`{}.mode` is `{}`, not a bond mode", skp, l.bond_mode));
      if (!l.bond_xmit_hash_policy.empty() && !OneOf(linux_yaml::kXmitHashPolicies, l.bond_xmit_hash_policy))
        r.Fail(b["xmit_hash_policy"],
               fmt::format("`{}.xmit_hash_policy` is `{}`, not a hash policy", skp, l.bond_xmit_hash_policy));
    }
  }
  if (l.kind == "vlan" && n["vlan"].IsDefined()) {
    N v = n["vlan"];
    std::string skp = kp + ".vlan";
    if (r.Map(v, skp, {"link", "id"})) {
      r.Str(v, "link", skp, &l.vlan_link, true);
      if (r.Uint(v, "id", skp, &l.vlan_id, 4094, true) && v["id"].IsDefined() && l.vlan_id == 0)
        r.Fail(v["id"], fmt::format("`{}.id` must be 1..4094", skp));
    }
  }
  if (l.kind == "vxlan" && n["vxlan"].IsDefined()) {
    N v = n["vxlan"];
    std::string skp = kp + ".vxlan";
    if (r.Map(v, skp, {"id", "local", "dstport", "learning", "ttl"})) {
      r.Uint(v, "id", skp, &l.vxlan_id, 16777215, true);
      r.Ip(v, "local", skp, &l.vxlan_local, false);
      r.Uint(v, "dstport", skp, &l.vxlan_dstport, 65535);
      r.Bool(v, "learning", skp, &l.vxlan_learning);
      r.Uint(v, "ttl", skp, &l.vxlan_ttl, 255);
    }
  }
  if (l.kind == "gretap" && n["gretap"].IsDefined()) {
    N v = n["gretap"];
    std::string skp = kp + ".gretap";
    if (r.Map(v, skp, {"key", "local", "remote"})) {
      r.Uint(v, "key", skp, &l.gretap_key, 0xffffffffu, true);
      r.Ip(v, "local", skp, &l.gretap_local, false);
      r.Ip(v, "remote", skp, &l.gretap_remote, false);
    }
  }
  if (l.kind == "vrf" && n["vrf"].IsDefined()) {
    N v = n["vrf"];
    std::string skp = kp + ".vrf";
    if (r.Map(v, skp, {"table"})) {
      if (r.Uint(v, "table", skp, &l.vrf_table, 0xffffffffu, true) && v["table"].IsDefined() &&
          (l.vrf_table == 0 || (l.vrf_table >= 253 && l.vrf_table <= 255)))
        r.Fail(v["table"], fmt::format("`{}.table` is {}, a reserved routing table", skp, l.vrf_table));
    }
  }
  if (l.kind == "veth" && n["veth"].IsDefined()) {
    N v = n["veth"];
    std::string skp = kp + ".veth";
    if (r.Map(v, skp, {"peer", "peer_mac", "peer_mtu", "peer_master"})) {
      r.Str(v, "peer", skp, &l.veth_peer, true);
      r.Mac(v, "peer_mac", skp, &l.veth_peer_mac, false);
      r.Uint(v, "peer_mtu", skp, &l.veth_peer_mtu, 65535);
      r.Str(v, "peer_master", skp, &l.veth_peer_master);
    }
  }
  out->links.push_back(std::move(l));
}

/// `nftables` (bridge family, filter chains) or `nftables_nat` (ip family, nat chains).
/// One element of a port guard set, `PART . PART` in nft's notation: each
/// part checked against its type and kept in canonical text.
bool ParseNftElement(std::string_view text, std::string_view type, std::vector<std::string>* parts,
                     std::string* why) {
  std::vector<std::string_view> types, values;
  auto split = [](std::string_view s, std::vector<std::string_view>& out) {
    for (size_t at = 0;;) {
      size_t dot = s.find(" . ", at);
      out.push_back(s.substr(at, dot == std::string_view::npos ? std::string_view::npos : dot - at));
      if (dot == std::string_view::npos) return;
      at = dot + 3;
    }
  };
  split(type, types);
  split(text, values);
  if (values.size() != types.size()) {
    *why = fmt::format("has {} part{}, its set's type `{}` {}", values.size(), values.size() == 1 ? "" : "s", type,
                       types.size());
    return false;
  }
  for (size_t i = 0; i < types.size(); ++i) {
    std::string_view t = types[i], v = values[i];
    if (t == "ifname") {
      if (!IsValidIfname(std::string(v))) {
        *why = fmt::format("part `{}` is not an interface name of 1..15 characters of [A-Za-z0-9._-]", v);
        return false;
      }
      parts->emplace_back(v);
    } else if (t == "ether_addr") {
      auto mac = net::ParseMac(v);
      if (!mac) {
        *why = fmt::format("part `{}` is not a MAC address", v);
        return false;
      }
      parts->push_back(mac->ToString());
    } else {
      auto ip = net::ParseIp(v);
      if (!ip || ip->IsV4() != (t == "ipv4_addr")) {
        *why = fmt::format("part `{}` is not an {} address", v, t == "ipv4_addr" ? "IPv4" : "IPv6");
        return false;
      }
      parts->push_back(ip->ToString());
    }
  }
  return true;
}

/// `nftables*.sets`: a map from set name to `{type, elements}`.
template <typename N>
void ReadNftSets(Reader& r, const N& sets, const std::string& kp, NftTable* t) {
  if (!sets.IsMap()) {
    r.Fail(sets, fmt::format("`{}` must be a mapping from set name to `{{type, elements}}`", kp));
    return;
  }
  std::set<std::string> names;
  for (const auto& entry : sets) {
    const N& key = entry.first;
    const N& value = entry.second;
    if (!key.IsScalar()) {
      r.Fail(key, fmt::format("`{}` has a non-scalar key", kp));
      continue;
    }
    NftSet set;
    set.name = std::string(key.Scalar());
    std::string skp = kp + "." + set.name;
    if (!IsValidIfname(set.name)) {  // the same safe alphabet keeps names out of nft syntax
      r.Fail(key, fmt::format("`{}` set name `{}` must be 1..15 characters of [A-Za-z0-9._-]", kp, set.name));
      continue;
    }
    if (!names.insert(set.name).second) {
      r.Fail(key, fmt::format("`{}` set `{}` is declared twice", kp, set.name));
      continue;
    }
    if (!r.Map(value, skp, {"type", "elements"})) continue;
    r.Str(value, "type", skp, &set.type, true);
    if (!OneOf(linux_yaml::kNftSetTypes, set.type)) {
      std::string list;
      for (std::string_view a : linux_yaml::kNftSetTypes) list += fmt::format("{}`{}`", list.empty() ? "" : ", ", a);
      r.Fail(value["type"], fmt::format("`{}.type` is `{}`; expected one of {}", skp, set.type, list));
      continue;
    }
    N elements = value["elements"];
    if (elements.IsDefined() && !elements.IsNull() && !elements.IsSequence()) {
      r.Fail(elements, fmt::format("`{}.elements` must be a list", skp));
      continue;
    }
    if (elements.IsSequence()) {
      size_t i = 0;
      for (const auto& item : elements) {
        const N& e = item;
        std::string ekp = fmt::format("{}.elements[{}]", skp, i++);
        std::vector<std::string> parts;
        std::string why;
        if (!e.IsScalar()) {
          r.Fail(e, fmt::format("`{}` must be a scalar `PART . PART`", ekp));
          continue;
        }
        if (!ParseNftElement(e.Scalar(), set.type, &parts, &why)) {
          r.Fail(e, fmt::format("`{}` `{}` {}", ekp, e.Scalar(), why));
          continue;
        }
        set.elements.push_back(std::move(parts));
      }
    }
    std::sort(set.elements.begin(), set.elements.end());
    if (std::adjacent_find(set.elements.begin(), set.elements.end()) != set.elements.end())
      r.Fail(elements, fmt::format("`{}.elements` lists an element twice", skp));
    t->sets.push_back(std::move(set));
  }
}

template <typename N>
void ReadNft(Reader& r, const N& n, const std::string& kp, NftTable* table, bool nat) {
  NftTable& t = *table;
  t.loc = r.Loc(n);
  if (!r.Map(n, kp, {"family", "table", "sets", "chains", "rules"})) return;
  t.present = true;
  r.Str(n, "family", kp, &t.family, true);
  r.Str(n, "table", kp, &t.table, true);
  const char* want_family = nat ? "ip" : "bridge";
  if (t.family != want_family)
    r.Fail(n["family"], fmt::format("`{}.family` must be `{}`, not `{}`", kp, want_family, t.family));
  if (N sets = n["sets"]; sets.IsDefined() && !sets.IsNull()) ReadNftSets(r, sets, kp + ".sets", &t);
  N chains = n["chains"], rules = n["rules"];
  if (chains.IsDefined() && !chains.IsNull() && !chains.IsSequence())
    r.Fail(chains, fmt::format("`{}.chains` must be a list", kp));
  if (rules.IsDefined() && !rules.IsNull() && !rules.IsSequence()) r.Fail(rules, fmt::format("`{}.rules` must be a list", kp));
  if (chains.IsSequence()) {
    size_t i = 0;
    for (const auto& chain : chains) {
      const N& c = chain;
      std::string ckp = fmt::format("{}.chains[{}]", kp, i++);
      NftChain ch;
      if (!r.Map(c, ckp, {"name", "type", "hook", "priority", "policy"})) continue;
      r.Str(c, "name", ckp, &ch.name, true);
      r.Str(c, "type", ckp, &ch.type);
      if (ch.type != "filter" && (!nat || ch.type != "nat"))
        r.Fail(c["type"], fmt::format("`{}.type` must be `filter`{}", ckp, nat ? " or `nat`" : ""));
      r.Str(c, "hook", ckp, &ch.hook, true);
      // Priorities are small signed numbers; accept a leading minus here.
      if (c["priority"].IsDefined()) {
        const N p = c["priority"];
        int v = 0;
        const std::string s = p.IsScalar() ? std::string(p.Scalar()) : std::string();
        auto [e, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (!p.IsScalar() || p.Tag() == "!" || s.empty() || ec != std::errc() || e != s.data() + s.size())
          r.Fail(p, fmt::format("`{}.priority` must be an integer", ckp));
        else
          ch.priority = v;
      }
      r.Str(c, "policy", ckp, &ch.policy);
      if (!ch.hook.empty() && !OneOf(linux_yaml::kNftHooks, ch.hook))
        r.Fail(c["hook"], fmt::format("`{}.hook` is `{}`; expected `forward`, `input`, `output`, `prerouting` "
                                      "or `postrouting`",
                                      ckp, ch.hook));
      if (ch.policy != "accept" && ch.policy != "drop")
        r.Fail(c["policy"], fmt::format("`{}.policy` must be `accept` or `drop`", ckp));
      if (!IsValidIfname(ch.name))  // same safe alphabet keeps names out of nft syntax
        r.Fail(c["name"], fmt::format("`{}.name` `{}` must be 1..15 characters of [A-Za-z0-9._-]", ckp, ch.name));
      t.chains.push_back(ch);
    }
  }
  if (rules.IsSequence()) {
    size_t i = 0;
    for (const auto& rule_node : rules) {
      const N& ru = rule_node;
      std::string rkp = fmt::format("{}.rules[{}]", kp, i++);
      NftRule rule;
      if (!r.Map(ru, rkp, {"chain", "rule", "comment"})) continue;
      r.Str(ru, "chain", rkp, &rule.chain, true);
      r.Str(ru, "rule", rkp, &rule.rule, true);
      r.Str(ru, "comment", rkp, &rule.comment);
      // A rule is one nft statement list: it must not be able to end the
      // statement, open a block or start a comment.
      if (rule.rule.empty() || HasAnyOf(rule.rule, ";{}#\n\r\\"))
        r.Fail(ru["rule"], fmt::format("`{}.rule` must be one nft rule without `;`, `{{`, `}}`, `#`, `\\` or "
                                       "line breaks",
                                       rkp));
      else if (std::count(rule.rule.begin(), rule.rule.end(), '"') % 2)
        r.Fail(ru["rule"], fmt::format("`{}.rule` has an unbalanced `\"`", rkp));
      if (HasAnyOf(rule.comment, "\"\\\n\r") || rule.comment.size() > 128)
        r.Fail(ru["comment"], fmt::format("`{}.comment` must be at most 128 characters without `\"`, `\\` or "
                                          "line breaks",
                                          rkp));
      t.rules.push_back(std::move(rule));
    }
  }
  // A rule's `@NAME` must name a set of this table: a missing one would only
  // fail the apply's transaction.
  for (const NftRule& rule : t.rules)
    for (size_t at = rule.rule.find('@'); at != std::string::npos; at = rule.rule.find('@', at + 1)) {
      size_t end = at + 1;
      while (end < rule.rule.size() && IsIfnameChar(rule.rule[end])) ++end;
      std::string_view name = std::string_view(rule.rule).substr(at + 1, end - at - 1);
      if (std::none_of(t.sets.begin(), t.sets.end(), [&](const NftSet& set) { return set.name == name; }))
        r.FailAt(t.loc, fmt::format("`{}` rule `{}` uses set `@{}`, which `{}.sets` does not declare", kp, rule.rule,
                                    name, kp));
    }
  std::set<std::string> names;
  for (const NftChain& c : t.chains)
    if (!names.insert(c.name).second) r.FailAt(t.loc, fmt::format("`{}` chain `{}` is declared twice", kp, c.name));
  for (const NftRule& rule : t.rules)
    if (!rule.chain.empty() && !names.count(rule.chain))
      r.FailAt(t.loc, fmt::format("`{}` rule refers to chain `{}`, which `{}.chains` does not declare", kp,
                                  rule.chain, kp));
  if (!IsValidIfname(t.table))
    r.Fail(n["table"], fmt::format("`{}.table` must be 1..15 characters of [A-Za-z0-9._-]", kp));
}

// The bulk lists' items, read from yaml-cpp nodes or from the fast scanner's FlowNodes.

template <typename N>
void ReadAddress(Reader& r, const N& n, const KeyPath& kp, HostState* s) {
  Address a;
  a.loc = r.Loc(n);
  if (!r.Map(n, kp, {"dev", "address"})) return;
  std::string_view text;
  r.Str(n, "dev", kp, &a.dev, true);
  if (!r.Str(n, "address", kp, &text, true) || text.empty()) return;
  auto slash = text.find('/');
  auto ip = net::ParseIp(text.substr(0, slash));
  auto pfx = slash == std::string_view::npos ? std::nullopt : net::ParsePrefix(text);
  if (!ip || !pfx) {
    r.Fail(n["address"], fmt::format("`{}.address` must be `ADDRESS/LENGTH`, got `{}`", kp, text));
    return;
  }
  a.address = *ip;
  a.prefix_length = pfx->length;
  s->addresses.push_back(std::move(a));
}

template <typename N>
void ReadRoute(Reader& r, const N& n, const KeyPath& kp, HostState* s) {
  Route rt;
  rt.loc = r.Loc(n);
  if (!r.Map(n, kp, {"table", "dst", "dev", "via"})) return;
  r.Uint(n, "table", kp, &rt.table, 0xffffffffu);
  r.Str(n, "dev", kp, &rt.dev, true);
  std::string_view dst;
  if (r.Str(n, "dst", kp, &dst, true) && !dst.empty()) {
    auto p = net::ParsePrefix(dst);
    if (!p || !p->IsCanonical())
      r.Fail(n["dst"], fmt::format("`{}.dst` must be a prefix with zero host bits, got `{}`", kp, dst));
    else
      rt.dst = *p;
  }
  r.Ip(n, "via", kp, &rt.via, false);
  if (rt.table == 0 || rt.table == 255) r.Fail(n["table"], fmt::format("`{}.table` {} is reserved", kp, rt.table));
  s->routes.push_back(std::move(rt));
}

template <typename N>
void ReadFdb(Reader& r, const N& n, const KeyPath& kp, HostState* s) {
  FdbEntry f;
  f.loc = r.Loc(n);
  if (!r.Map(n, kp, {"dev", "mac", "dst"})) return;
  std::optional<net::MacAddress> mac;
  std::optional<net::IpAddress> dst;
  r.Str(n, "dev", kp, &f.dev, true);
  if (!r.Mac(n, "mac", kp, &mac, true) || !r.Ip(n, "dst", kp, &dst, true) || !mac || !dst) return;
  f.mac = *mac;
  f.dst = *dst;
  s->fdb.push_back(std::move(f));
}

template <typename N>
void ReadNeighbour(Reader& r, const N& n, const KeyPath& kp, HostState* s) {
  Neighbour nb;
  nb.loc = r.Loc(n);
  if (!r.Map(n, kp, {"dev", "address", "mac"})) return;
  std::optional<net::MacAddress> mac;
  std::optional<net::IpAddress> ip;
  r.Str(n, "dev", kp, &nb.dev, true);
  if (!r.Ip(n, "address", kp, &ip, true) || !r.Mac(n, "mac", kp, &mac, true) || !mac || !ip) return;
  nb.address = *ip;
  nb.mac = *mac;
  s->neighbours.push_back(std::move(nb));
}

/// Reads a bulk section's items with the fast scanner into `s->*list`
/// (reserved up front from the section's line count). False, with nothing
/// read or reported, when a line needs yaml-cpp: then yaml-cpp reads the
/// whole list, so that one list never mixes the two paths.
template <typename T>
bool ReadFlowItems(Reader& r, const BulkSection& section, std::vector<T> linux_yaml::Plan::*list,
                   void (*read_item)(Reader&, const FlowNode&, const KeyPath&, HostState*), HostState* s) {
  std::vector<T>& items = s->*list;
  const size_t errors_before = r.errors().size(), items_before = items.size();
  items.reserve(items_before + section.lines + 1);
  size_t index = 0;
  if (ScanSection(section, [&](const FlowItem& item) {
        read_item(r, FlowNode::Map(item), KeyPath(section.key, index++), s);
      }))
    return true;
  r.errors().erase(r.errors().begin() + errors_before, r.errors().end());
  items.erase(items.begin() + items_before, items.end());
  return false;
}

bool ReadBulkSection(Reader& r, const BulkSection& section, HostState* s) {
  if (section.key == "addresses") return ReadFlowItems(r, section, &HostState::addresses, &ReadAddress<FlowNode>, s);
  if (section.key == "routes") return ReadFlowItems(r, section, &HostState::routes, &ReadRoute<FlowNode>, s);
  if (section.key == "fdb") return ReadFlowItems(r, section, &HostState::fdb, &ReadFdb<FlowNode>, s);
  assert(section.key == "neighbours");
  return ReadFlowItems(r, section, &HostState::neighbours, &ReadNeighbour<FlowNode>, s);
}

/// The plan text without the bodies of the sections the fast path read (their
/// headers stay, as keys with no value), for yaml-cpp; tells `r` where lines went.
std::string CutSections(std::string_view text, const std::vector<BulkSection>& sections, Reader* r) {
  std::string rest;
  size_t cut_bytes = 0;
  for (const BulkSection& section : sections) cut_bytes += section.body.size();
  rest.reserve(text.size() - cut_bytes);
  size_t pos = 0;
  int cut_lines = 0;
  for (const BulkSection& section : sections) {  // in file order
    size_t begin = static_cast<size_t>(section.body.data() - text.data());
    rest.append(text.substr(pos, begin - pos));
    pos = begin + section.body.size();
    r->AddCut(section.header_line0 + 1 - cut_lines, static_cast<int>(section.lines));
    cut_lines += static_cast<int>(section.lines);
  }
  rest.append(text.substr(pos));
  return rest;
}

/// yaml-cpp must see each cut section's header as the only top-level key of
/// its name, with no value. Otherwise the header was not what it looked like
/// (a line of a multi-line scalar, a second document...) or the key is given
/// twice (yaml-cpp then reads the last), and the cut changed the document.
bool HeadersIntact(const Reader& r, const YAML::Node& root, const std::vector<BulkSection>& sections) {
  for (const BulkSection& section : sections) {
    int same_name = 0;
    bool header = false;
    for (const auto& entry : root) {
      if (!entry.first.IsScalar() || entry.first.Scalar() != section.key) continue;
      ++same_name;
      header = header || (r.Loc(entry.first).line == section.header_line0 + 1 && entry.second.IsNull());
    }
    if (same_name != 1 || !header) return false;
  }
  return true;
}

/// Finds objects listed twice by a byte-string identity, with no allocation
/// per object: an open-addressing table of (hash, index) whose keys are
/// rebuilt by `key_of(index, &key)` when two hashes match.
template <typename KeyOf>
class RepeatFinder {
 public:
  RepeatFinder(size_t count, KeyOf key_of) : key_of_(key_of) {
    size_t capacity = 16;
    while (capacity < 2 * count) capacity *= 2;
    slots_.resize(capacity);
  }

  /// True when object `index` has the identity of one passed before.
  bool Repeated(uint32_t index) {
    key_of_(index, &key_);
    const size_t hash = std::hash<std::string_view>()(key_);
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.index == kEmpty) {
        slot = {static_cast<uint32_t>(hash), index};
        return false;
      }
      if (slot.hash == static_cast<uint32_t>(hash)) {
        key_of_(slot.index, &other_);
        if (other_ == key_) return true;
      }
    }
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    uint32_t hash = 0;
    uint32_t index = kEmpty;
  };
  KeyOf key_of_;
  std::vector<Slot> slots_;
  std::string key_, other_;  // reused: no allocation per object
};

/// `*key` = name + NUL + the raw bytes of `parts`: an object's identity.
template <typename... Bytes>
void SetKey(std::string* key, std::string_view name, const Bytes&... parts) {
  key->assign(name);
  *key += '\0';
  (key->append(reinterpret_cast<const char*>(parts.data()), parts.size()), ...);
}

/// Cross-object checks once every list is read.
void Validate(Reader& r, HostState* s) {
  std::map<std::string, const Link*> links;
  const std::string& prefix = s->owner_prefix;
  std::set<std::string> veth_peers;
  for (const Link& l : s->links) {
    if (!IsValidIfname(l.name)) {
      r.FailAt(l.loc, fmt::format("link name `{}` must be 1..15 bytes of [A-Za-z0-9._-]", l.name));
    } else if (l.name.rfind(prefix, 0) != 0) {
      r.FailAt(l.loc, fmt::format("owned link `{}` does not start with the owner prefix `{}`", l.name, prefix));
    }
    if (l.master.empty()) {
      // nothing
    } else if (!links.count(l.master)) {
      r.FailAt(l.loc, fmt::format("link `{}` has master `{}`, which is not an owned link declared before it",
                                  l.name, l.master));
    } else if (const std::string& mk = links[l.master]->kind; mk != "bridge" && mk != "bond" && mk != "vrf") {
      r.FailAt(l.loc, fmt::format("link `{}` has master `{}` of kind `{}`; a master must be a bridge, bond or vrf",
                                  l.name, l.master, mk));
    }
    if (l.isolated && (l.master.empty() || !links.count(l.master) || links[l.master]->kind != "bridge"))
      r.FailAt(l.loc, fmt::format("link `{}` is `isolated`, a bridge port flag, but its master is not a bridge", l.name));
    if (l.kind == "veth") {
      if (!IsValidIfname(l.veth_peer) || l.veth_peer.rfind(prefix, 0) != 0)
        r.FailAt(l.loc, fmt::format("veth peer `{}` of `{}` must be a valid interface name starting with `{}`",
                                    l.veth_peer, l.name, prefix));
      if (!veth_peers.insert(l.veth_peer).second)
        r.FailAt(l.loc, fmt::format("veth peer `{}` is used twice", l.veth_peer));
      if (!l.veth_peer_master.empty() &&
          (!links.count(l.veth_peer_master) || links[l.veth_peer_master]->kind != "bridge"))
        r.FailAt(l.loc, fmt::format("veth `{}` has `peer_master` `{}`, which is not an owned bridge declared before it",
                                    l.name, l.veth_peer_master));
    }
    if (l.kind == "vlan" && l.vlan_link == l.name)
      r.FailAt(l.loc, fmt::format("vlan `{}` cannot be its own lower link", l.name));
    if (!links.emplace(l.name, &l).second) r.FailAt(l.loc, fmt::format("link `{}` is declared twice", l.name));
  }
  for (const Link& l : s->links)
    if (links.count(l.veth_peer) || (l.kind == "veth" && l.veth_peer == l.name))
      r.FailAt(l.loc, fmt::format("veth peer `{}` clashes with a link of the same name", l.veth_peer));
  std::set<std::string> adopted;
  for (const AdoptedNic& a : s->adopted) {
    if (!IsValidIfname(a.name))
      r.FailAt(a.loc, fmt::format("adopted NIC name `{}` must be 1..15 bytes of [A-Za-z0-9._-]", a.name));
    if (links.count(a.name) || veth_peers.count(a.name))
      r.FailAt(a.loc, fmt::format("`{}` is both an owned link and an adopted NIC", a.name));
    auto m = links.find(a.master);
    if (m == links.end())
      r.FailAt(a.loc, fmt::format("adopted NIC `{}` has master `{}`, which is not an owned link", a.name, a.master));
    else if (m->second->kind != "bridge" && m->second->kind != "bond")
      r.FailAt(a.loc, fmt::format("adopted NIC `{}` has master `{}` of kind `{}`; expected a bridge or bond", a.name,
                                  a.master, m->second->kind));
    if (!adopted.insert(a.name).second) r.FailAt(a.loc, fmt::format("adopted NIC `{}` is listed twice", a.name));
  }
  if (const auto& m = s->management) {
    if (!adopted.count(m->nic))
      r.FailAt(m->loc, fmt::format("`management.nic` is `{}`, which is not an adopted NIC", m->nic));
    if (!links.count(m->dev))
      r.FailAt(m->loc, fmt::format("`management.dev` is `{}`, which is not an owned link", m->dev));
    if (m->gateway && !m->address) r.FailAt(m->loc, "`management.gateway` needs `management.address`");
    if (m->gateway && m->address && m->gateway->family != m->address->address.family)
      r.FailAt(m->loc, "`management.gateway` and `management.address` are of different address families");
    if (m->address &&
        std::none_of(s->addresses.begin(), s->addresses.end(), [&](const Address& a) {
          return a.dev == m->dev && a.address == m->address->address && a.prefix_length == m->address->length;
        }))
      r.FailAt(m->loc, fmt::format("`management.address` {} is not in `addresses` on `{}`", m->address->ToString(),
                                   m->dev));
    if (m->gateway && std::none_of(s->routes.begin(), s->routes.end(), [&](const Route& rt) {
          return rt.table == 254 && rt.dst.length == 0 && rt.dev == m->dev && rt.via == m->gateway;
        }))
      r.FailAt(m->loc, fmt::format("`management.gateway` {} has no default route in table 254 via it on `{}` in "
                                   "`routes`",
                                   m->gateway->ToString(), m->dev));
  }
  // The bulk lists look a device up per entry: hashed, not by string compares
  // down the ordered map.
  std::unordered_map<std::string_view, const Link*> owned_links(links.begin(), links.end());
  auto owned_link = [&](const std::string& dev) -> const Link* {
    auto it = owned_links.find(dev);
    return it == owned_links.end() ? nullptr : it->second;
  };
  auto owned_dev = [&](const std::string& dev, SourceLoc loc, const char* what) {
    if (!owned_link(dev)) r.FailAt(loc, fmt::format("{} on `{}`, which is not an owned link", what, dev));
  };
  {
    RepeatFinder seen(s->addresses.size(), [&](uint32_t i, std::string* key) {
      // The family too: 10.0.0.1 and ::a00:1 have the same 16 bytes.
      SetKey(key, s->addresses[i].dev, s->addresses[i].address.bytes);
      *key += static_cast<char>(s->addresses[i].address.family);
    });
    for (uint32_t i = 0; i < s->addresses.size(); ++i) {
      const Address& a = s->addresses[i];
      owned_dev(a.dev, a.loc, "address");
      if (seen.Repeated(i))
        r.FailAt(a.loc, fmt::format("address `{}` on `{}` is listed twice", a.address.ToString(), a.dev));
    }
  }
  {
    RepeatFinder seen(s->routes.size(), [&](uint32_t i, std::string* key) {
      const Route& rt = s->routes[i];  // (table, length, address)
      key->assign(reinterpret_cast<const char*>(&rt.table), sizeof rt.table);
      *key += static_cast<char>(rt.dst.length);
      *key += static_cast<char>(rt.dst.address.family);  // 0.0.0.0/0 and ::/0 share their bytes
      key->append(reinterpret_cast<const char*>(rt.dst.address.bytes.data()), rt.dst.address.bytes.size());
    });
    for (uint32_t i = 0; i < s->routes.size(); ++i) {
      const Route& rt = s->routes[i];
      owned_dev(rt.dev, rt.loc, "route");
      if (seen.Repeated(i))
        r.FailAt(rt.loc, fmt::format("route to `{}` in table {} is listed twice", rt.dst.ToString(), rt.table));
      if (rt.via && rt.via->family != rt.dst.address.family)
        r.FailAt(rt.loc, fmt::format("route to `{}` has a gateway of another address family", rt.dst.ToString()));
    }
  }
  {
    RepeatFinder seen(s->fdb.size(), [&](uint32_t i, std::string* key) {
      SetKey(key, s->fdb[i].dev, s->fdb[i].dst.bytes, s->fdb[i].mac.bytes);
    });
    for (uint32_t i = 0; i < s->fdb.size(); ++i) {
      const FdbEntry& f = s->fdb[i];
      const Link* l = owned_link(f.dev);
      if (!l || l->kind != "vxlan")
        r.FailAt(f.loc, fmt::format("fdb entry on `{}`, which is not an owned vxlan link", f.dev));
      if (seen.Repeated(i))
        r.FailAt(f.loc, fmt::format("fdb entry `{}` dst `{}` on `{}` is listed twice", f.mac.ToString(),
                                    f.dst.ToString(), f.dev));
    }
  }
  {
    RepeatFinder seen(s->neighbours.size(), [&](uint32_t i, std::string* key) {
      SetKey(key, s->neighbours[i].dev, s->neighbours[i].address.bytes);
    });
    for (uint32_t i = 0; i < s->neighbours.size(); ++i) {
      const Neighbour& nb = s->neighbours[i];
      owned_dev(nb.dev, nb.loc, "neighbour");
      if (seen.Repeated(i))
        r.FailAt(nb.loc, fmt::format("neighbour `{}` on `{}` is listed twice", nb.address.ToString(), nb.dev));
    }
  }
  {
    std::set<std::string> seen;
    for (const Qdisc& q : s->qdiscs) {
      if (!links.count(q.dev) && !adopted.count(q.dev))
        r.FailAt(q.loc, fmt::format("qdisc on `{}`, which is neither an owned link nor an adopted NIC", q.dev));
      if (!seen.insert(q.dev).second) r.FailAt(q.loc, fmt::format("two root qdiscs on `{}`", q.dev));
    }
  }
  const auto& known = KnownFeatures();
  for (const std::string& f : s->requires_)
    if (!std::binary_search(known.begin(), known.end(), f))
    {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : " ") + k;
      r.FailAt({}, fmt::format("`requires` names unknown feature `{}` (known: {})", f, list));
    }
}

}  // namespace

bool IsValidIfname(const std::string& name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

namespace {

/// Validation and the derived fields once the document is read; the errors
/// sorted by position into `errors`. False when there were any.
bool Finish(Reader& r, HostState& s, std::vector<std::string>* errors) {
  if (r.errors().empty()) Validate(r, &s);
  auto& errs = r.errors();
  std::stable_sort(errs.begin(), errs.end(),
                   [](const Error& a, const Error& b) { return std::tie(a.line, a.col) < std::tie(b.line, b.col); });
  for (auto& e : errs) errors->push_back(e.text);
  if (!errs.empty()) return false;
  std::sort(s.requires_.begin(), s.requires_.end());
  s.requires_.erase(std::unique(s.requires_.begin(), s.requires_.end()), s.requires_.end());
  if (s.nft.present) s.nft.fingerprint = NftFingerprint(s.nft);
  if (s.nft_nat.present) s.nft_nat.fingerprint = NftFingerprint(s.nft_nat);
  return true;
}

/// The document's keys into `s`, from yaml-cpp's nodes or the fast parser's
/// (`fast_sections`: the bulk lists already read by the flow scanner).
template <typename N>
void ReadRoot(Reader& r, const N& root, HostState& s, const std::vector<BulkSection>& fast_sections) {
  r.Map(root, "",
        {"format", "host", "generation", "source_hash", "owner", "requires", "links", "adopted", "management",
         "addresses", "routes", "fdb", "neighbours", "qdiscs", "nftables", "nftables_nat"});
  uint32_t format = 0;
  if (r.Uint(root, "format", "", &format, 1000, true) && root["format"].IsDefined() && format != 1)
    r.Fail(root["format"], fmt::format("unsupported `format` {}; this netdsl reads format 1", format));
  if (r.Str(root, "host", "", &s.host, true) && root["host"].IsDefined() && !linux_yaml::IsValidHostName(s.host)) {
    // Not echoed: it may be megabytes of anything.
    r.Fail(root["host"], fmt::format("`host` must be a host name: 1..{} letters, digits, `-`, `.` and `_`, not "
                                     "starting with `-` or `.`",
                                     linux_yaml::kMaxHostName));
    s.host.clear();
  }
  r.Uint(root, "generation", "", &s.generation, UINT64_MAX);
  if (r.Str(root, "source_hash", "", &s.source_hash) &&
      (s.source_hash.size() > 128 || s.source_hash.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)) {
    r.Fail(root["source_hash"], "`source_hash` must be at most 128 hex digits");
    s.source_hash.clear();
  }
  if (N o = root["owner"]; o.IsDefined()) {
    if (r.Map(o, "owner", {"prefix", "alias"})) {
      r.Str(o, "prefix", "owner", &s.owner_prefix, true);
      r.Str(o, "alias", "owner", &s.owner_alias, true);
      if (s.owner_prefix.empty() || !IsValidIfname(s.owner_prefix) || s.owner_prefix.size() > 8)
        r.Fail(o, "`owner.prefix` must be 1..8 characters of [A-Za-z0-9._-]");
      // The alias is the ownership marker netdsl compares: no spaces or controls.
      if (s.owner_alias.empty() || s.owner_alias.size() > 64 ||
          s.owner_alias.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
              std::string::npos)
        r.Fail(o, "`owner.alias` must be 1..64 characters of [A-Za-z0-9._-]");
    }
  }
  if (N q = root["requires"]; q.IsDefined() && !q.IsNull()) {
    if (!q.IsSequence()) {
      r.Fail(q, "`requires` must be a list");
    } else {
      size_t i = 0;
      for (const auto& entry : q) {
        const N& f = entry;
        if (!f.IsScalar())
          r.Fail(f, fmt::format("`requires[{}]` must be a string", i));
        else
          s.requires_.push_back(std::string(f.Scalar()));
        ++i;
      }
    }
  }
  // Bulk lists the fast path did not read come from yaml-cpp.
  auto bulk = [&](const char* key, auto read_item) {
    if (std::none_of(fast_sections.begin(), fast_sections.end(),
                     [&](const BulkSection& section) { return section.key == key; }))
      r.Seq(root, key, [&](const N& n, const std::string& kp) { read_item(n, kp); });
  };
  r.Seq(root, "links", [&](const N& n, const std::string& kp) { ReadLink(r, n, kp, &s); });
  r.Seq(root, "adopted", [&](const N& n, const std::string& kp) {
    AdoptedNic a;
    a.loc = r.Loc(n);
    if (!r.Map(n, kp, {"name", "master"})) return;
    r.Str(n, "name", kp, &a.name, true);
    r.Str(n, "master", kp, &a.master, true);
    s.adopted.push_back(a);
  });
  if (N m = root["management"]; m.IsDefined() && !m.IsNull() &&
                                 r.Map(m, "management", {"nic", "dev", "address", "gateway"})) {
    ManagementSpec spec;
    spec.loc = r.Loc(m);
    r.Str(m, "nic", "management", &spec.nic, true);
    r.Str(m, "dev", "management", &spec.dev, true);
    std::string address;
    if (r.Str(m, "address", "management", &address) && !address.empty()) {
      spec.address = net::ParsePrefix(address);
      if (!spec.address) r.Fail(m["address"], fmt::format("`management.address` must be `ip/len`, got `{}`", address));
    }
    r.Ip(m, "gateway", "management", &spec.gateway, false);
    s.management = spec;
  }
  bulk("addresses", [&](const N& n, const KeyPath& kp) { ReadAddress(r, n, kp, &s); });
  bulk("routes", [&](const N& n, const KeyPath& kp) { ReadRoute(r, n, kp, &s); });
  bulk("fdb", [&](const N& n, const KeyPath& kp) { ReadFdb(r, n, kp, &s); });
  bulk("neighbours", [&](const N& n, const KeyPath& kp) { ReadNeighbour(r, n, kp, &s); });
  r.Seq(root, "qdiscs", [&](const N& n, const std::string& kp) {
    Qdisc q;
    q.loc = r.Loc(n);
    if (!r.Map(n, kp, {"dev", "kind", "rate_bps", "burst_bytes", "latency_us", "default_class", "classes"}))
      return;
    r.Str(n, "dev", kp, &q.dev, true);
    r.Str(n, "kind", kp, &q.kind, true);
    if (q.kind == "tbf") {
      r.Uint(n, "rate_bps", kp, &q.rate_bps, UINT64_MAX, true);
      r.Uint(n, "burst_bytes", kp, &q.burst_bytes, 0xffffffffu, true);
      r.Uint(n, "latency_us", kp, &q.latency_us, 0xffffffffu, true);
      if (q.rate_bps < 8) r.Fail(n, fmt::format("`{}.rate_bps` must be at least 8", kp));
      for (const char* k : {"default_class", "classes"})
        if (n[k].IsDefined()) r.Fail(n[k], fmt::format("`{}.{}` is only allowed for `htb`", kp, k));
    } else if (q.kind == "htb") {
      r.Uint(n, "default_class", kp, &q.default_class, 0xffff);
      for (const char* k : {"rate_bps", "burst_bytes", "latency_us"})
        if (n[k].IsDefined()) r.Fail(n[k], fmt::format("`{}.{}` is only allowed for `tbf`", kp, k));
      r.Seq(n, "classes", [&](const N& c, const std::string& ckp0) {
        std::string ckp = kp + "." + ckp0;
        HtbClass hc;
        if (!r.Map(c, ckp, {"minor", "parent", "rate_bps", "ceil_bps"})) return;
        r.Uint(c, "minor", ckp, &hc.minor, 0xffff, true);
        r.Uint(c, "parent", ckp, &hc.parent, 0xffff);
        if (hc.parent && std::none_of(q.classes.begin(), q.classes.end(),
                                      [&](const HtbClass& p) { return p.minor == hc.parent; }))
          r.Fail(c, fmt::format("`{}.parent` is {}, which is not a class listed before it", ckp, hc.parent));
        r.Uint(c, "rate_bps", ckp, &hc.rate_bps, UINT64_MAX, true);
        r.Uint(c, "ceil_bps", ckp, &hc.ceil_bps, UINT64_MAX);
        if (hc.ceil_bps == 0) hc.ceil_bps = hc.rate_bps;
        if (hc.minor == 0) r.Fail(c, fmt::format("`{}.minor` must be 1..65535", ckp));
        if (hc.rate_bps < 8 || hc.ceil_bps < hc.rate_bps)
          r.Fail(c, fmt::format("`{}` needs 8 <= rate_bps <= ceil_bps", ckp));
        q.classes.push_back(hc);
      });
      std::set<uint16_t> minors;
      for (const HtbClass& c : q.classes)
        if (!minors.insert(c.minor).second) r.Fail(n, fmt::format("`{}.classes` has minor {} twice", kp, c.minor));
    } else if (!q.kind.empty()) {
      r.Fail(n["kind"], fmt::format("`{}.kind` is `{}`; expected `tbf` or `htb`", kp, q.kind));
    }
    s.qdiscs.push_back(q);
  });
  if (N nft = root["nftables"]; nft.IsDefined() && !nft.IsNull()) ReadNft(r, nft, "nftables", &s.nft, false);
  if (N nat = root["nftables_nat"]; nat.IsDefined() && !nat.IsNull())
    ReadNft(r, nat, "nftables_nat", &s.nft_nat, true);
  if (s.nft.present && s.nft_nat.present && s.nft.family == s.nft_nat.family && s.nft.table == s.nft_nat.table)
    r.Fail(root["nftables_nat"], "`nftables_nat.table` must differ from `nftables.table`");
}

/// One read of the plan. With `fast`, the bulk sections whose items all scan
/// are read straight from the text and cut out of what yaml-cpp parses.
/// Returns nullopt when yaml-cpp's view of the rest shows that cutting was not
/// safe, or finds a syntax error (reported as in the whole text): then the
/// caller reads again without the fast path.
std::optional<bool> ReadPlanOnce(std::string_view text, const std::string& path, bool fast, HostState* out,
                                 std::vector<std::string>* errors) {
  Reader r(path);
  HostState& s = *out;
  std::vector<BulkSection> fast_sections;
  if (fast)
    for (const BulkSection& section : FindBulkSections(text))
      if (ReadBulkSection(r, section, &s)) fast_sections.push_back(section);
  YAML::Node root;
  try {
    root = fast_sections.empty() ? YAML::Load(std::string(text)) : YAML::Load(CutSections(text, fast_sections, &r));
  } catch (const YAML::ParserException& e) {
    if (!fast_sections.empty()) return std::nullopt;
    errors->push_back(fmt::format("{}:{}:{}: error: malformed yaml: {}", path, e.mark.line + 1, e.mark.column + 1,
                                  e.msg));
    return false;
  }
  if (!fast_sections.empty() && (!root.IsMap() || !HeadersIntact(r, root, fast_sections))) return std::nullopt;
  if (!root.IsMap()) {
    errors->push_back(fmt::format("{}: error: linux.yaml must be a mapping with `format: 1` at the top", path));
    return false;
  }
  try {
    ReadRoot(r, root, s, fast_sections);
  } catch (const YAML::Exception& e) {
    r.Fail(root, fmt::format("unreadable yaml: {}", e.msg));
  }
  return Finish(r, s, errors);
}

/// The whole plan through the fast parser (yaml_lite.h), when the text is in
/// its subset and the plan is valid; nullopt otherwise, and the caller reads
/// it with yaml-cpp (whose marks the error messages use).
std::optional<bool> ReadPlanLite(std::string_view text, const std::string& path, HostState* out,
                                 std::vector<std::string>* errors) {
  std::optional<lite::Document> doc = lite::Document::Parse(text);
  if (!doc) return std::nullopt;
  lite::Node root = doc->Root();
  if (!root.IsMap()) return std::nullopt;
  Reader r(path);
  HostState s = *out;
  s.nft_nat.family = "ip";
  s.nft_nat.table = "netdsl_nat";
  ReadRoot(r, root, s, {});
  std::vector<std::string> lite_errors;
  if (!Finish(r, s, &lite_errors)) return std::nullopt;
  *out = std::move(s);
  return true;
}

/// ReadPlan on a view, for the mapped file.
bool ReadPlanText(std::string_view text, const std::string& path, HostState* out, std::vector<std::string>* errors) {
  if (std::optional<bool> ok = ReadPlanLite(text, path, out, errors)) return *ok;
  const HostState given = *out;
  if (std::optional<bool> ok = ReadPlanOnce(text, path, /*fast=*/true, out, errors)) return *ok;
  *out = given;
  return *ReadPlanOnce(text, path, /*fast=*/false, out, errors);
}

}  // namespace

bool ReadPlan(const std::string& text, const std::string& path, HostState* out, std::vector<std::string>* errors) {
  return ReadPlanText(text, path, out, errors);
}

bool ReadPlanFile(const std::string& path, HostState* out, std::vector<std::string>* errors) {
  // A regular file within the limit: a FIFO or a device would block or never
  // end. Read into one buffer of the file's size, not mapped: a plan truncated
  // while mapped would kill the process with SIGBUS instead of a diagnostic.
  std::string text, err;
  io::OpenOptions options;
  options.max_size = kMaxPlanBytes;
  options.what = "plan";
  if (!io::ReadRegularFile(path, options, &text, &err)) {
    errors->push_back(fmt::format("{}: error: cannot read the plan: {}", path, err));
    return false;
  }
  return ReadPlanText(text, path, out, errors);
}

}  // namespace netdsl::runtime
