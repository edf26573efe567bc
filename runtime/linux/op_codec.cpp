// Journal encoding of operations: one line of `|`-separated, percent-escaped
// fields per operation (see EncodeOp/DecodeOp in change_set.h).
#include <charconv>
#include <string_view>
#include <cstdio>

#include <fmt/format.h>

#include "runtime/linux/address_text.h"
#include "runtime/linux/change_set.h"

namespace netdsl::runtime {

namespace {

std::string Esc(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '|' || c == '%' || c < 0x20 || c == 0x7f)
      out += fmt::format("%{:02X}", c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/// Undoes Esc; false on a malformed escape (a damaged journal, never an exception).
bool Unesc(const std::string& s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      *out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return false;
    int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

class Fields {
 public:
  explicit Fields(const std::string& line) {
    size_t start = 0;
    for (;;) {
      size_t bar = line.find('|', start);
      std::string field;
      if (!Unesc(line.substr(start, bar == std::string::npos ? std::string::npos : bar - start), &field)) ok_ = false;
      f_.push_back(std::move(field));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
  }
  const std::string& Str() {
    if (i_ < f_.size()) return f_[i_++];
    ok_ = false;  // fewer fields than the kind has
    return empty_;
  }
  /// Whether a field is left (a trailing field added later: lines written
  /// before it end earlier).
  bool More() const { return i_ < f_.size(); }
  /// Consumes the next field if it is `tag` (an optional part's marker);
  /// at the end of the line there is simply no optional part.
  bool Tag(const char* tag) {
    if (i_ >= f_.size() || f_[i_] != tag) return false;
    ++i_;
    return true;
  }
  uint64_t Num() {
    const std::string& s = Str();
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) ok_ = false;
    return v;
  }
  std::optional<net::IpAddress> Ip() {
    const std::string& s = Str();
    if (s.empty()) return std::nullopt;
    auto ip = net::ParseIp(s);
    if (!ip) ok_ = false;
    return ip;
  }
  std::optional<net::MacAddress> Mac() {
    const std::string& s = Str();
    if (s.empty()) return std::nullopt;
    auto mac = net::ParseMac(s);
    if (!mac) ok_ = false;
    return mac;
  }
  /// Every field was well formed and read, none left over.
  bool ok() const { return ok_ && i_ == f_.size(); }

 private:
  std::vector<std::string> f_;
  size_t i_ = 0;
  bool ok_ = true;
  std::string empty_;
};

const char* KindName(OpKind k) {
  switch (k) {
    case OpKind::CreateLink: return "create-link";
    case OpKind::DeleteLink: return "delete-link";
    case OpKind::SetLink: return "set-link";
    case OpKind::AddAddress: return "add-address";
    case OpKind::DelAddress: return "del-address";
    case OpKind::AddRoute: return "add-route";
    case OpKind::DelRoute: return "del-route";
    case OpKind::ReplaceRoute: return "replace-route";
    case OpKind::AddFdb: return "add-fdb";
    case OpKind::DelFdb: return "del-fdb";
    case OpKind::AddNeighbour: return "add-neighbour";
    case OpKind::DelNeighbour: return "del-neighbour";
    case OpKind::ReplaceQdisc: return "replace-qdisc";
    case OpKind::DelQdisc: return "del-qdisc";
    case OpKind::ReplaceNft: return "replace-nft";
    case OpKind::RestoreNft: return "restore-nft";
  }
  return "?";
}

}  // namespace

namespace {

/// The fields of the bulk kinds written straight into the line: the journal
/// encodes 100k of them per apply, and a vector of formatted strings per
/// operation cost more than the kernel's work for it. Same text as the
/// general path (`Esc` of each field, `|` between them).
void AppendEsc(std::string_view s, std::string* out) {
  for (unsigned char c : s) {
    if (c == '|' || c == '%' || c < 0x20 || c == 0x7f) {
      static const char* kHex = "0123456789ABCDEF";
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

void AppendNum(uint64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

/// The kernel attributes of a moved object (host_state.h `*Attrs`), after
/// its fields: `|@|` then the attributes, so that lines of netdsl's own
/// objects are unchanged and older readers stop at the marker.
void AppendAttrs(const AddressAttrs& a, std::string* out) {
  out->append("|@|");
  for (uint64_t v : {uint64_t{a.scope}, uint64_t{a.flags}}) AppendNum(v, out), out->push_back('|');
  AppendEsc(a.label, out), out->push_back('|');
  out->append(IpText(a.peer)), out->push_back('|');
  out->append(IpText(a.broadcast)), out->push_back('|');
  AppendNum(a.valid_lft, out), out->push_back('|');
  AppendNum(a.preferred_lft, out), out->push_back('|');
  AppendNum(a.proto, out);
}
void AppendAttrs(const RouteAttrs& a, std::string* out) {
  out->append("|@|");
  for (uint64_t v : {uint64_t{a.protocol}, uint64_t{a.scope}, uint64_t{a.tos}, uint64_t{a.priority}, uint64_t{a.flags}})
    AppendNum(v, out), out->push_back('|');
  out->append(IpText(a.prefsrc)), out->push_back('|');
  static const char* kHex = "0123456789abcdef";
  for (unsigned char c : a.metrics) out->push_back(kHex[c >> 4]), out->push_back(kHex[c & 15]);
  out->push_back('|');
  AppendNum(a.pref < 0 ? 0 : a.pref + 1, out), out->push_back('|');
  AppendNum(a.multipath, out);
}
void AppendAttrs(const NeighbourAttrs& a, std::string* out) {
  out->append("|@|");
  AppendNum(a.state, out), out->push_back('|');
  AppendNum(a.flags, out);
}

/// Appends the fields of a bulk operation; false for other kinds.
bool AppendBulkFields(const Op& op, std::string* out) {
  auto sep = [&] { out->push_back('|'); };
  switch (op.kind) {
    case OpKind::AddAddress:
    case OpKind::DelAddress: {
      const auto& x = std::get<Address>(op.object);
      AppendEsc(x.dev, out), sep();
      out->append(IpStr(x.address)), sep();
      AppendNum(x.prefix_length, out);
      if (x.attrs) AppendAttrs(*x.attrs, out);
      return true;
    }
    case OpKind::AddRoute:
    case OpKind::DelRoute:
    case OpKind::ReplaceRoute: {
      const auto& r = std::get<Route>(op.object);
      AppendNum(r.table, out), sep();
      out->append(IpStr(r.dst.address)), out->push_back('/'), AppendNum(r.dst.length, out), sep();
      AppendEsc(r.dev, out), sep();
      if (r.via) out->append(IpStr(*r.via));
      if (r.attrs) AppendAttrs(*r.attrs, out);
      return true;
    }
    case OpKind::AddFdb:
    case OpKind::DelFdb: {
      const auto& x = std::get<FdbEntry>(op.object);
      AppendEsc(x.dev, out), sep();
      out->append(MacStr(x.mac)), sep();
      out->append(IpStr(x.dst));
      return true;
    }
    case OpKind::AddNeighbour:
    case OpKind::DelNeighbour: {
      const auto& x = std::get<Neighbour>(op.object);
      AppendEsc(x.dev, out), sep();
      out->append(IpStr(x.address)), sep();
      out->append(MacStr(x.mac));
      if (x.attrs) AppendAttrs(*x.attrs, out);
      return true;
    }
    default: return false;
  }
}

}  // namespace

void AppendEncodedOp(const Op& op, std::string* out) {
  size_t start = out->size();
  out->append(KindName(op.kind));
  out->push_back('|');
  if (AppendBulkFields(op, out)) return;
  out->resize(start);
  out->append(EncodeOp(op));
}

std::string EncodeOp(const Op& op) {
  if (std::string line = std::string(KindName(op.kind)) + "|"; AppendBulkFields(op, &line)) return line;
  std::vector<std::string> f{KindName(op.kind)};
  auto add = [&](auto&&... v) { (f.push_back(fmt::format("{}", v)), ...); };
  switch (op.kind) {
    case OpKind::CreateLink:
    case OpKind::DeleteLink: {
      const Link& l = *std::get<Boxed<Link>>(op.object);
      add(l.name, l.kind, l.mtu, l.master, MacText(l.mac), l.bond_mode, l.bond_xmit_hash_policy, l.bond_miimon,
          l.vlan_link, l.vlan_id, l.vxlan_id, IpText(l.vxlan_local), l.vxlan_dstport, int(l.vxlan_learning),
          int(l.vxlan_ttl), l.gretap_key, IpText(l.gretap_local), IpText(l.gretap_remote), l.vrf_table, l.veth_peer, MacText(l.veth_peer_mac),
          l.veth_peer_mtu, l.alias, int(l.up), int(l.isolated));
      // Optional part, after a tag: the index a create asks for (and the
      // index a delete requires), its guest end's, and the device group.
      if (l.ifindex || l.veth_peer_ifindex || l.group) add("i", l.ifindex, l.veth_peer_ifindex, l.group);
      // Optional part, after a tag: the guest end's bridge and forwarding.
      if (!l.veth_peer_master.empty() || l.forwarding) add("n", l.veth_peer_master, int(l.forwarding));
      break;
    }
    case OpKind::SetLink: {
      const auto& c = std::get<LinkChange>(op.object);
      add(c.name, c.mtu ? fmt::format("{}", *c.mtu) : "-", c.master ? "=" + *c.master : "-",
          c.mac ? MacStr(*c.mac) : "-", c.up ? (*c.up ? "1" : "0") : "-", c.isolated ? (*c.isolated ? "1" : "0") : "-");
      if (c.alias) add("a", *c.alias);  // optional part, after a tag
      if (c.forwarding) add("f", *c.forwarding ? "1" : "0");
      break;
    }
    case OpKind::AddAddress:
    case OpKind::DelAddress:
    case OpKind::AddRoute:
    case OpKind::DelRoute:
    case OpKind::ReplaceRoute:
    case OpKind::AddFdb:
    case OpKind::DelFdb:
    case OpKind::AddNeighbour:
    case OpKind::DelNeighbour: break;  // AppendBulkFields above
    case OpKind::ReplaceQdisc:
    case OpKind::DelQdisc: {
      const auto& q = *std::get<Boxed<Qdisc>>(op.object);
      std::string classes;
      for (const HtbClass& c : q.classes)
        classes += fmt::format("{}{}:{}:{}:{}", classes.empty() ? "" : ",", c.minor, c.rate_bps, c.ceil_bps, c.parent);
      add(q.dev, q.kind, q.rate_bps, q.burst_bytes, q.latency_us, q.default_class, classes);
      break;
    }
    case OpKind::ReplaceNft: break;  // never journaled: its inverse is RestoreNft
    case OpKind::RestoreNft: add(std::get<std::string>(op.object)); break;
  }
  std::string line;
  for (size_t i = 0; i < f.size(); ++i) {
    if (i) line += '|';
    line += Esc(f[i]);
  }
  return line;
}

namespace {

std::optional<Op> DecodeFields(Fields& f) {
  const std::string kind = f.Str();
  auto kind_is = [&](OpKind k) { return kind == KindName(k); };
  for (OpKind k : {OpKind::CreateLink, OpKind::DeleteLink}) {
    if (!kind_is(k)) continue;
    Link l;
    l.name = f.Str();
    l.kind = f.Str();
    l.mtu = f.Num();
    l.master = f.Str();
    l.mac = f.Mac();
    l.bond_mode = f.Str();
    l.bond_xmit_hash_policy = f.Str();
    l.bond_miimon = f.Num();
    l.vlan_link = f.Str();
    l.vlan_id = f.Num();
    l.vxlan_id = f.Num();
    l.vxlan_local = f.Ip();
    l.vxlan_dstport = f.Num();
    l.vxlan_learning = f.Num();
    l.vxlan_ttl = f.Num();
    l.gretap_key = f.Num();
    l.gretap_local = f.Ip();
    l.gretap_remote = f.Ip();
    l.vrf_table = f.Num();
    l.veth_peer = f.Str();
    l.veth_peer_mac = f.Mac();
    l.veth_peer_mtu = f.Num();
    l.alias = f.Str();
    l.up = f.Num();
    l.isolated = f.More() && f.Num();  // absent in lines written before the field: not isolated
    if (f.Tag("i")) {
      l.ifindex = static_cast<int>(f.Num());
      l.veth_peer_ifindex = static_cast<int>(f.Num());
      l.group = static_cast<uint32_t>(f.Num());
    }
    if (f.Tag("n")) {  // absent before veth.peer_master and forwarding
      l.veth_peer_master = f.Str();
      l.forwarding = f.Num();
    }
    return Op{k, l};
  }
  if (kind_is(OpKind::SetLink)) {
    LinkChange c;
    c.name = f.Str();
    if (std::string s = f.Str(); s != "-") {
      uint32_t mtu = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), mtu);
      if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
      c.mtu = mtu;
    }
    if (std::string s = f.Str(); s != "-") {
      if (s.empty() || s[0] != '=') return std::nullopt;
      c.master = s.substr(1);
    }
    if (std::string s = f.Str(); s != "-") {
      c.mac = net::ParseMac(s);
      if (!c.mac) return std::nullopt;
    }
    if (std::string s = f.Str(); s != "-") {
      if (s != "0" && s != "1") return std::nullopt;
      c.up = s == "1";
    }
    if (std::string s = f.Str(); s != "-") {
      if (s != "0" && s != "1") return std::nullopt;
      c.isolated = s == "1";
    }
    if (f.Tag("a")) c.alias = f.Str();
    if (f.Tag("f")) {
      std::string s = f.Str();
      if (s != "0" && s != "1") return std::nullopt;
      c.forwarding = s == "1";
    }
    return Op{OpKind::SetLink, c};
  }
  for (OpKind k : {OpKind::AddAddress, OpKind::DelAddress}) {
    if (!kind_is(k)) continue;
    Address x;
    x.dev = f.Str();
    auto ip = f.Ip();
    if (!ip) return std::nullopt;
    x.address = *ip;
    x.prefix_length = f.Num();
    if (f.Tag("@")) {
      AddressAttrs a;
      a.scope = f.Num();
      a.flags = f.Num();
      a.label = f.Str();
      a.peer = f.Ip();
      a.broadcast = f.Ip();
      a.valid_lft = f.Num();
      a.preferred_lft = f.Num();
      a.proto = f.Num();
      x.attrs = std::make_shared<const AddressAttrs>(std::move(a));
    }
    return Op{k, x};
  }
  for (OpKind k : {OpKind::AddRoute, OpKind::DelRoute, OpKind::ReplaceRoute}) {
    if (!kind_is(k)) continue;
    Route r;
    r.table = f.Num();
    auto p = net::ParsePrefix(f.Str());
    if (!p) return std::nullopt;
    r.dst = *p;
    r.dev = f.Str();
    r.via = f.Ip();
    if (f.Tag("@")) {
      RouteAttrs a;
      a.protocol = f.Num();
      a.scope = f.Num();
      a.tos = f.Num();
      a.priority = f.Num();
      a.flags = f.Num();
      a.prefsrc = f.Ip();
      const std::string& hex = f.Str();
      auto nibble = [](char c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; };
      if (hex.size() % 2 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
      for (size_t i = 0; i < hex.size(); i += 2) a.metrics.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
      a.pref = static_cast<int>(f.Num()) - 1;
      a.multipath = f.Num();
      r.attrs = std::make_shared<const RouteAttrs>(std::move(a));
    }
    return Op{k, r};
  }
  for (OpKind k : {OpKind::AddFdb, OpKind::DelFdb}) {
    if (!kind_is(k)) continue;
    FdbEntry x;
    x.dev = f.Str();
    auto mac = f.Mac();
    auto ip = f.Ip();
    if (!mac || !ip) return std::nullopt;
    x.mac = *mac;
    x.dst = *ip;
    return Op{k, x};
  }
  for (OpKind k : {OpKind::AddNeighbour, OpKind::DelNeighbour}) {
    if (!kind_is(k)) continue;
    Neighbour x;
    x.dev = f.Str();
    auto ip = f.Ip();
    auto mac = f.Mac();
    if (!mac || !ip) return std::nullopt;
    x.address = *ip;
    x.mac = *mac;
    if (f.Tag("@")) {
      NeighbourAttrs a;
      a.state = f.Num();
      a.flags = f.Num();
      x.attrs = std::make_shared<const NeighbourAttrs>(a);
    }
    return Op{k, x};
  }
  for (OpKind k : {OpKind::ReplaceQdisc, OpKind::DelQdisc}) {
    if (!kind_is(k)) continue;
    Qdisc q;
    q.dev = f.Str();
    q.kind = f.Str();
    q.rate_bps = f.Num();
    q.burst_bytes = f.Num();
    q.latency_us = f.Num();
    q.default_class = f.Num();
    std::string classes = f.Str();
    size_t pos = 0;
    while (pos < classes.size()) {
      size_t end = classes.find(',', pos);
      std::string one = classes.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      HtbClass c;
      int used = 0;
      if (std::sscanf(one.c_str(), "%hu:%lu:%lu:%hu%n", &c.minor, &c.rate_bps, &c.ceil_bps, &c.parent, &used) != 4 ||
          static_cast<size_t>(used) != one.size())
        return std::nullopt;
      q.classes.push_back(c);
      if (end == std::string::npos) break;
      pos = end + 1;
    }
    return Op{k, q};
  }
  if (kind_is(OpKind::RestoreNft)) return Op{OpKind::RestoreNft, f.Str()};
  return std::nullopt;
}

}  // namespace

std::optional<Op> DecodeOp(const std::string& line) {
  Fields f(line);
  std::optional<Op> op = DecodeFields(f);
  if (!op || !f.ok()) return std::nullopt;  // a damaged line decodes to nothing, never to something else
  return op;
}

}  // namespace netdsl::runtime
