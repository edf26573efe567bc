// verify's linux.yaml reader (read_linux.h): one pass of the runtime's subset
// parser (runtime/linux/yaml_lite.h), then each map's entries once, keeping
// only what the checks use. A 10k-host fabric has 1.4 GB of plans: the strict
// reader's full validation and its copy of every field (qdiscs, port guard
// set elements, ...) were more than half of verify's time (docs/benchmarks.md).
#include "compiler/verify/read_linux.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "common/io/regular_file.h"
#include "runtime/linux/plan_reader.h"
#include "runtime/linux/yaml_lite.h"

namespace netdsl::verify {
namespace {

using runtime::lite::Node;

/// Reads one map's values into the plan; every method returns false when
/// the value is not what the strict reader accepts (the caller falls back).
struct Fields {
  static bool Str(const Node& v, std::string* out) {
    if (!v.IsScalar()) return false;  // null or a collection: the strict reader's type error
    out->assign(v.Scalar());
    return true;
  }
  template <typename T>
  static bool Uint(const Node& v, T* out, uint64_t max) {
    if (!v.IsScalar() || v.Tag() == "!") return false;
    std::string_view s = v.Scalar();
    uint64_t x = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || x > max) return false;
    *out = static_cast<T>(x);
    return true;
  }
  static bool Bool(const Node& v, bool* out) {
    if (!v.IsScalar() || v.Tag() == "!" || (v.Scalar() != "true" && v.Scalar() != "false")) return false;
    *out = v.Scalar() == "true";
    return true;
  }
  /// "" = none (as the strict reader reads an optional address).
  static bool Ip(const Node& v, std::optional<net::IpAddress>* out) {
    if (!v.IsScalar()) return false;
    if (v.Scalar().empty()) return true;
    *out = net::ParseIp(v.Scalar());
    return out->has_value();
  }
  static bool Mac(const Node& v, std::optional<net::MacAddress>* out) {
    if (!v.IsScalar()) return false;
    if (v.Scalar().empty()) return true;
    *out = net::ParseMac(v.Scalar());
    return out->has_value();
  }
};

runtime::SourceLoc Loc(const Node& n) { return {n.Line0() + 1, n.Col0() + 1}; }

/// Calls `field(key, value)` for each entry of map `n`; false when `n` is no
/// map, a key repeats or `field` refuses one (an unknown key included).
template <typename Fn>
bool EachField(const Node& n, Fn field) {
  if (!n.IsMap()) return false;
  uint64_t seen = 0;
  for (const auto& entry : n) {
    if (!entry.first.IsScalar()) return false;
    int bit = field(entry.first.Scalar(), entry.second);
    if (bit < 0 || (seen & (uint64_t{1} << bit))) return false;
    seen |= uint64_t{1} << bit;
  }
  return true;
}

/// Each item of list `n` (absent or null = empty).
template <typename Fn>
bool EachItem(const Node& n, Fn item) {
  if (!n.IsDefined() || n.IsNull()) return true;
  if (!n.IsSequence()) return false;
  for (const auto& entry : n)
    if (!item(static_cast<const Node&>(entry))) return false;
  return true;
}

bool ReadLink(const Node& n, runtime::Link* l) {
  l->loc = Loc(n);
  Node sub;
  std::string_view sub_key;
  bool ok = true, named = false, kinded = false;
  bool fields = EachField(n, [&](std::string_view k, const Node& v) -> int {
    if (k == "name") return named = true, ok &= Fields::Str(v, &l->name), 0;
    if (k == "kind") return kinded = true, ok &= Fields::Str(v, &l->kind), 1;
    if (k == "master") return ok &= Fields::Str(v, &l->master), 2;
    if (k == "isolated") return ok &= Fields::Bool(v, &l->isolated), 3;
    if (k == "mtu") return ok &= Fields::Uint(v, &l->mtu, 65535), 4;
    if (k == "mac") return ok &= Fields::Mac(v, &l->mac), 5;  // a gateway veth's MAC (GatewayDevice)
    if (k == "forwarding") return 6;
    if (k == "identity") return 7;
    for (std::string_view s : {"bond", "vlan", "vxlan", "gretap", "vrf", "veth"})
      if (k == s) {
        if (sub.IsDefined()) return -1;  // two kinds' blocks
        sub = v, sub_key = s;
        return 8;
      }
    return -1;
  });
  if (!fields || !ok || !named || !kinded || !runtime::IsValidIfname(l->name) ||
      linux_yaml::IndexIn(linux_yaml::kLinkKinds, l->kind) < 0)
    return false;
  // The kind's block: present exactly for its kind.
  if (l->kind == "bridge" ? sub.IsDefined() : sub_key != l->kind) return false;
  if (l->kind == "bond") return true;  // nothing of its block is used
  if (l->kind == "vlan") {
    bool link = false, id = false;
    return EachField(sub, [&](std::string_view k, const Node& v) -> int {
             if (k == "link") return link = true, ok &= Fields::Str(v, &l->vlan_link), 0;
             if (k == "id") return id = true, ok &= Fields::Uint(v, &l->vlan_id, 4094) && l->vlan_id != 0, 1;
             return -1;
           }) &&
           ok && link && id;
  }
  if (l->kind == "vxlan") {
    bool id = false;
    return EachField(sub, [&](std::string_view k, const Node& v) -> int {
             if (k == "id") return id = true, ok &= Fields::Uint(v, &l->vxlan_id, 16777215), 0;
             if (k == "local") return ok &= Fields::Ip(v, &l->vxlan_local), 1;
             if (k == "dstport") return ok &= Fields::Uint(v, &l->vxlan_dstport, 65535), 2;
             if (k == "learning") return ok &= Fields::Bool(v, &l->vxlan_learning), 3;
             if (k == "ttl") return ok &= Fields::Uint(v, &l->vxlan_ttl, 255), 4;
             return -1;
           }) &&
           ok && id;
  }
  if (l->kind == "gretap") {
    bool key = false;
    return EachField(sub, [&](std::string_view k, const Node& v) -> int {
             if (k == "key") return key = true, ok &= Fields::Uint(v, &l->gretap_key, 0xffffffffu), 0;
             if (k == "local") return ok &= Fields::Ip(v, &l->gretap_local), 1;
             if (k == "remote") return ok &= Fields::Ip(v, &l->gretap_remote), 2;
             return -1;
           }) &&
           ok && key;
  }
  if (l->kind == "vrf") {
    bool table = false;
    return EachField(sub, [&](std::string_view k, const Node& v) -> int {
             if (k == "table") return table = true, ok &= Fields::Uint(v, &l->vrf_table, 0xffffffffu), 0;
             return -1;
           }) &&
           ok && table && l->vrf_table != 0 && (l->vrf_table < 253 || l->vrf_table > 255);
  }
  if (l->kind == "veth") {
    bool peer = false;
    return EachField(sub, [&](std::string_view k, const Node& v) -> int {
             if (k == "peer") return peer = true, ok &= Fields::Str(v, &l->veth_peer), 0;
             if (k == "peer_mac") return ok &= Fields::Mac(v, &l->veth_peer_mac), 1;
             if (k == "peer_mtu") return ok &= Fields::Uint(v, &l->veth_peer_mtu, 65535), 2;
             if (k == "peer_master") return ok &= Fields::Str(v, &l->veth_peer_master), 3;
             return -1;
           }) &&
           ok && peer;
  }
  return true;  // bridge
}

bool ReadNft(const Node& n, runtime::NftTable* t, bool nat) {
  t->loc = Loc(n);
  t->present = true;
  bool ok = true, family = false, table = false;
  Node chains, rules;
  bool fields = EachField(n, [&](std::string_view k, const Node& v) -> int {
    if (k == "family") return family = true, ok &= Fields::Str(v, &t->family), 0;
    if (k == "table") return table = true, ok &= Fields::Str(v, &t->table), 1;
    if (k == "sets") return 2;  // port guard sets: not used by verify
    if (k == "chains") return chains = v, 3;
    if (k == "rules") return rules = v, 4;
    return -1;
  });
  if (!fields || !ok || !family || !table || t->family != (nat ? "ip" : "bridge")) return false;
  return EachItem(chains,
                  [&](const Node& c) {
                    runtime::NftChain ch;
                    bool name = false, hook = false;
                    bool f = EachField(c, [&](std::string_view k, const Node& v) -> int {
                      if (k == "name") return name = true, ok &= Fields::Str(v, &ch.name), 0;
                      if (k == "type") return ok &= Fields::Str(v, &ch.type), 1;
                      if (k == "hook") return hook = true, ok &= Fields::Str(v, &ch.hook), 2;
                      if (k == "priority") {
                        std::string_view s = v.Scalar();
                        auto [e, ec] = std::from_chars(s.data(), s.data() + s.size(), ch.priority);
                        ok &= v.IsScalar() && v.Tag() != "!" && !s.empty() && ec == std::errc() &&
                              e == s.data() + s.size();
                        return 3;
                      }
                      if (k == "policy") return ok &= Fields::Str(v, &ch.policy), 4;
                      return -1;
                    });
                    if (!f || !ok || !name || !hook || linux_yaml::IndexIn(linux_yaml::kNftHooks, ch.hook) < 0)
                      return false;
                    t->chains.push_back(std::move(ch));
                    return true;
                  }) &&
         EachItem(rules, [&](const Node& r) {
           runtime::NftRule rule;
           bool chain = false, text = false;
           bool f = EachField(r, [&](std::string_view k, const Node& v) -> int {
             if (k == "chain") return chain = true, ok &= Fields::Str(v, &rule.chain), 0;
             if (k == "rule") return text = true, ok &= Fields::Str(v, &rule.rule), 1;
             if (k == "comment") return 2;
             return -1;
           });
           if (!f || !ok || !chain || !text || rule.rule.empty()) return false;
           t->rules.push_back(std::move(rule));
           return true;
         });
}

/// The strict reader's rules across the objects verify reads (its Validate):
/// each link once, a master declared before its member and of a kind that
/// can be one, an adopted NIC's master an owned bridge or bond, every entry
/// on an owned link (an FDB entry on a vxlan one), no entry listed twice.
bool Consistent(const runtime::HostState& s) {
  std::unordered_map<std::string_view, const runtime::Link*> links;
  links.reserve(s.links.size());
  for (const runtime::Link& l : s.links) {
    if (!l.master.empty()) {
      auto m = links.find(l.master);
      if (m == links.end() || (m->second->kind != "bridge" && m->second->kind != "bond" && m->second->kind != "vrf"))
        return false;
      if (l.isolated && m->second->kind != "bridge") return false;
    } else if (l.isolated) {
      return false;
    }
    if (!l.veth_peer_master.empty()) {
      auto m = links.find(l.veth_peer_master);
      if (m == links.end() || m->second->kind != "bridge") return false;
    }
    if (!links.emplace(l.name, &l).second) return false;
  }
  for (const runtime::AdoptedNic& a : s.adopted) {
    auto m = links.find(a.master);
    if (links.count(a.name) || m == links.end() || (m->second->kind != "bridge" && m->second->kind != "bond"))
      return false;
  }
  auto owned = [&](const std::string& dev) { return links.count(dev) > 0; };
  // (dev, address) and (table, prefix) keys, once each, by a 64-bit hash: a
  // collision only sends the plan to the strict reader, which decides.
  std::unordered_set<uint64_t> seen;
  seen.reserve(std::max({s.addresses.size(), s.routes.size(), s.fdb.size(), s.neighbours.size()}));
  auto once = [&](std::string_view dev, const net::IpAddress& a, uint64_t extra) {
    uint64_t h = 0xcbf29ce484222325ull ^ extra;
    for (char c : dev) h = (h ^ uint8_t(c)) * 0x100000001b3ull;
    for (uint8_t b : a.bytes) h = (h ^ b) * 0x100000001b3ull;
    return seen.insert(h ^ (h >> 31)).second;
  };
  for (const runtime::Address& a : s.addresses)
    if (!owned(a.dev) || !once(a.dev, a.address, 0)) return false;
  seen.clear();
  for (const runtime::Route& r : s.routes)
    if (!owned(r.dev) || !once("", r.dst.address, uint64_t(r.table) << 8 | r.dst.length)) return false;
  seen.clear();
  for (const runtime::FdbEntry& f : s.fdb) {
    auto l = links.find(f.dev);
    if (l == links.end() || l->second->kind != "vxlan" ||
        !once(f.dev, f.dst, f.mac.Value()))
      return false;
  }
  seen.clear();
  for (const runtime::Neighbour& n : s.neighbours)
    if (!owned(n.dev) || !once(n.dev, n.address, 1)) return false;
  return true;
}

}  // namespace

bool ReadLinuxForVerify(std::string_view text, runtime::HostState* out) {
  thread_local runtime::lite::Document doc;  // its storage is reused for every plan this thread reads
  if (!doc.Assign(text)) return false;
  Node root = doc.Root();
  runtime::HostState& s = *out;
  bool ok = true, format = false, host = false;
  Node links, adopted, addresses, routes, fdb, neighbours, nft, nat;
  bool fields = EachField(root, [&](std::string_view k, const Node& v) -> int {
    if (k == "format") return format = true, ok &= v.IsScalar() && v.Tag() != "!" && v.Scalar() == "1", 0;
    if (k == "host") return host = true, ok &= Fields::Str(v, &s.host) && linux_yaml::IsValidHostName(s.host), 1;
    if (k == "links") return links = v, 2;
    if (k == "adopted") return adopted = v, 3;
    if (k == "addresses") return addresses = v, 4;
    if (k == "routes") return routes = v, 5;
    if (k == "fdb") return fdb = v, 6;
    if (k == "neighbours") return neighbours = v, 7;
    if (k == "nftables") return nft = v, 8;
    if (k == "nftables_nat") return nat = v, 9;
    // Not used by verify.
    static constexpr std::string_view kOther[] = {"generation", "source_hash", "owner", "requires", "management",
                                                  "qdiscs"};
    for (size_t i = 0; i < std::size(kOther); ++i)
      if (k == kOther[i]) return int(10 + i);
    return -1;
  });
  if (!fields || !ok || !format || !host) return false;
  if (links.IsSequence()) s.links.reserve(links.size());
  ok = EachItem(links,
                [&](const Node& n) {
                  s.links.emplace_back();
                  return ReadLink(n, &s.links.back());
                }) &&
       EachItem(adopted,
                [&](const Node& n) {
                  runtime::AdoptedNic& a = s.adopted.emplace_back();
                  a.loc = Loc(n);
                  bool name = false, master = false;
                  return EachField(n,
                                   [&](std::string_view k, const Node& v) -> int {
                                     if (k == "name") return name = Fields::Str(v, &a.name), 0;
                                     if (k == "master") return master = Fields::Str(v, &a.master), 1;
                                     return -1;
                                   }) &&
                         name && master;
                }) &&
       EachItem(addresses,
                [&](const Node& n) {
                  runtime::Address& a = s.addresses.emplace_back();
                  a.loc = Loc(n);
                  bool dev = false;
                  std::optional<net::Prefix> p;
                  return EachField(n,
                                   [&](std::string_view k, const Node& v) -> int {
                                     if (k == "dev") return dev = Fields::Str(v, &a.dev), 0;
                                     if (k == "address") {
                                       std::string_view t = v.Scalar();
                                       if (t.find('/') != std::string_view::npos) p = net::ParsePrefix(t);
                                       return 1;
                                     }
                                     return -1;
                                   }) &&
                         dev && p && (a.address = p->address, a.prefix_length = p->length, true);
                }) &&
       EachItem(routes,
                [&](const Node& n) {
                  runtime::Route& r = s.routes.emplace_back();
                  r.loc = Loc(n);
                  bool dev = false, good = true;
                  std::optional<net::Prefix> dst;
                  return EachField(n,
                                   [&](std::string_view k, const Node& v) -> int {
                                     if (k == "table") return good &= Fields::Uint(v, &r.table, 0xffffffffu), 0;
                                     if (k == "dst") return dst = net::ParsePrefix(v.Scalar()), 1;
                                     if (k == "dev") return dev = Fields::Str(v, &r.dev), 2;
                                     if (k == "via") return good &= Fields::Ip(v, &r.via), 3;
                                     return -1;
                                   }) &&
                         good && dev && dst && dst->IsCanonical() && r.table != 0 && r.table != 255 &&
                         (r.dst = *dst, true);
                }) &&
       EachItem(fdb,
                [&](const Node& n) {
                  runtime::FdbEntry& f = s.fdb.emplace_back();
                  f.loc = Loc(n);
                  bool dev = false;
                  std::optional<net::MacAddress> mac;
                  std::optional<net::IpAddress> dst;
                  return EachField(n,
                                   [&](std::string_view k, const Node& v) -> int {
                                     if (k == "dev") return dev = Fields::Str(v, &f.dev), 0;
                                     if (k == "mac") return Fields::Mac(v, &mac), 1;
                                     if (k == "dst") return Fields::Ip(v, &dst), 2;
                                     return -1;
                                   }) &&
                         dev && mac && dst && (f.mac = *mac, f.dst = *dst, true);
                }) &&
       EachItem(neighbours, [&](const Node& n) {
         runtime::Neighbour& nb = s.neighbours.emplace_back();
         nb.loc = Loc(n);
         bool dev = false;
         std::optional<net::MacAddress> mac;
         std::optional<net::IpAddress> address;
         return EachField(n,
                          [&](std::string_view k, const Node& v) -> int {
                            if (k == "dev") return dev = Fields::Str(v, &nb.dev), 0;
                            if (k == "address") return Fields::Ip(v, &address), 1;
                            if (k == "mac") return Fields::Mac(v, &mac), 2;
                            return -1;
                          }) &&
                dev && mac && address && (nb.address = *address, nb.mac = *mac, true);
       });
  if (!ok || !Consistent(s)) return false;
  if (nft.IsDefined() && !nft.IsNull() && !ReadNft(nft, &s.nft, false)) return false;
  if (nat.IsDefined() && !nat.IsNull() && !ReadNft(nat, &s.nft_nat, true)) return false;
  return true;
}

bool ReadLinuxFile(const std::string& path, std::string& buffer, runtime::HostState* out,
                   std::vector<std::string>* errors) {
  io::OpenOptions options;
  options.max_size = runtime::kMaxPlanBytes;
  options.what = "plan";
  std::string error;
  if (io::ReadRegularFile(path, options, &buffer, &error)) {
    runtime::HostState fast;
    if (ReadLinuxForVerify(buffer, &fast)) {
      *out = std::move(fast);
      return true;
    }
  }
  return runtime::ReadPlanFile(path, out, errors);
}

}  // namespace netdsl::verify
