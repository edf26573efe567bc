// LinuxState → linux.yaml (docs/linux-yaml.md, format 1), written by hand into
// one string: keys in contract order, block lists of one-line flow mappings,
// the quoting decided by yaml_text.h (every string from user text double-quoted).
#include <optional>
#include <string_view>

#include "backends/linux/linux_state.h"
#include "backends/linux/short_text.h"
#include "backends/linux/yaml_text.h"

namespace netdsl::backends::linux_backend {

namespace {

/// One flow mapping `{key: value, ...}`, fields appended in contract order.
class FlowMap {
 public:
  explicit FlowMap(std::string& out) : out_(out) { out_ += '{'; }
  /// Plain when the text is safe as a plain scalar, else double-quoted.
  FlowMap& Str(std::string_view key, std::string_view value) {
    Key(key);
    AppendYamlScalar(out_, value);
    return *this;
  }
  /// Always double-quoted: user text, MACs (YAML 1.1 would read `00:00:...` as a number), hashes.
  FlowMap& Quoted(std::string_view key, std::string_view value) {
    Key(key);
    AppendDoubleQuoted(out_, value);
    return *this;
  }
  template <typename Int>
  FlowMap& Num(std::string_view key, Int value) {
    Key(key);
    out_ += Dec(value);
    return *this;
  }
  FlowMap& Bool(std::string_view key, bool value) {
    Key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  FlowMap& Ip(std::string_view key, const net::IpAddress& ip) { return Str(key, IpText(ip)); }
  /// An optional address: "" when absent.
  FlowMap& Ip(std::string_view key, const std::optional<net::IpAddress>& ip) {
    return ip ? Ip(key, *ip) : Quoted(key, "");
  }
  /// An address text that may be read as a string: always double-quoted ("" when absent).
  FlowMap& QuotedIp(std::string_view key, const std::optional<net::IpAddress>& ip) {
    return ip ? Quoted(key, IpText(*ip)) : Quoted(key, "");
  }
  FlowMap& Prefix(std::string_view key, const net::Prefix& prefix) { return Str(key, PrefixText(prefix)); }
  FlowMap& Mac(std::string_view key, const net::MacAddress& mac) {
    Key(key);
    out_ += '"';  // hex digits and colons need no escaping
    out_ += MacText(mac);
    out_ += '"';
    return *this;
  }
  /// An optional MAC: "" when absent.
  FlowMap& Mac(std::string_view key, const std::optional<net::MacAddress>& mac) {
    return mac ? Mac(key, *mac) : Quoted(key, "");
  }
  /// Starts a flow list value; the caller appends `{...}` items with Item and closes with EndList.
  FlowMap& List(std::string_view key) {
    Key(key);
    out_ += '[';
    first_item_ = true;
    return *this;
  }
  FlowMap Item() {
    if (!first_item_) out_ += ", ";
    first_item_ = false;
    return FlowMap(out_);
  }
  FlowMap& EndList() {
    out_ += ']';
    return *this;
  }
  void End() { out_ += '}'; }

 private:
  void Key(std::string_view key) {
    if (!first_) out_ += ", ";
    first_ = false;
    out_ += key;
    out_ += ": ";
  }

  std::string& out_;
  bool first_ = true;
  bool first_item_ = true;
};

void Indent(std::string& out, int spaces) { out.append(static_cast<size_t>(spaces), ' '); }

/// `key: ` at `indent`; the caller writes the value and the newline.
void Key(std::string& out, int indent, std::string_view key) {
  Indent(out, indent);
  out += key;
  out += ": ";
}

/// `key: []` for an empty list, else `key:` and the caller's `- ` items at indent + 2.
void ListKey(std::string& out, int indent, std::string_view key, bool empty) {
  Indent(out, indent);
  out += key;
  out += empty ? ": []\n" : ":\n";
}

/// `- ` of a block list item at `indent`, ready for a flow mapping.
FlowMap FlowItem(std::string& out, int indent) {
  Indent(out, indent);
  out += "- ";
  return FlowMap(out);
}

void EmitLink(std::string& out, const Link& link) {
  out += "  - name: ";
  AppendYamlScalar(out, link.name);
  out += "\n    kind: ";
  AppendYamlScalar(out, link.kind);
  out += "\n    mtu: ";
  out += Dec(link.mtu);
  out += "\n    master: ";
  AppendDoubleQuoted(out, link.master);
  out += "\n    mac: ";
  if (link.mac) AppendDoubleQuoted(out, MacText(*link.mac));
  else AppendDoubleQuoted(out, "");
  if (link.isolated) out += "\n    isolated: true";
  if (link.forwarding) out += "\n    forwarding: true";
  out += '\n';
  if (!link.identity.empty()) {
    out += "    identity: ";
    AppendDoubleQuoted(out, link.identity);
    out += '\n';
  }
  if (link.kind == "bridge") return;
  Indent(out, 4);
  AppendYamlScalar(out, link.kind);
  out += ": ";
  FlowMap map(out);
  if (link.kind == "bond") {
    map.Str("mode", link.bond_mode).Str("xmit_hash_policy", link.bond_xmit_hash_policy).Num("miimon", link.bond_miimon);
  } else if (link.kind == "vlan") {
    map.Str("link", link.vlan_link).Num("id", link.vlan_id);
  } else if (link.kind == "vxlan") {
    map.Num("id", link.vxlan_id)
        .Ip("local", link.vxlan_local)
        .Num("dstport", link.vxlan_dstport)
        .Bool("learning", link.vxlan_learning)
        .Num("ttl", static_cast<unsigned>(link.vxlan_ttl));
  } else if (link.kind == "gretap") {
    map.Num("key", link.gretap_key).Ip("local", link.gretap_local).Ip("remote", link.gretap_remote);
  } else if (link.kind == "vrf") {
    map.Num("table", link.vrf_table);
  } else if (link.kind == "veth") {
    map.Str("peer", link.veth_peer).Mac("peer_mac", link.veth_peer_mac).Num("peer_mtu", link.veth_peer_mtu);
    if (!link.veth_peer_master.empty()) map.Str("peer_master", link.veth_peer_master);
  }
  map.End();
  out += '\n';
}

void EmitNftTable(std::string& out, std::string_view key, const NftTable& table) {
  out += key;
  out += ":\n";
  Key(out, 2, "family");
  AppendYamlScalar(out, table.family);
  out += '\n';
  Key(out, 2, "table");
  AppendYamlScalar(out, table.table);
  out += '\n';
  // `sets:` only when there are some (a NAT table has none): a block map by
  // name, each element one scalar in nft's own notation, `PART . PART`.
  if (!table.sets.empty()) {
    Indent(out, 2);
    out += "sets:\n";
    for (const NftSet& set : table.sets) {
      Indent(out, 4);
      out += set.name;  // a safe name (checked like an ifname by the reader)
      out += ":\n";
      Key(out, 6, "type");
      AppendYamlScalar(out, set.type);
      out += '\n';
      ListKey(out, 6, "elements", set.elements.empty());
      for (const std::vector<std::string>& element : set.elements) {
        Indent(out, 8);
        out += "- ";
        std::string text;
        for (size_t i = 0; i < element.size(); ++i) (text += i ? " . " : "") += element[i];
        AppendYamlScalar(out, text);
        out += '\n';
      }
    }
  }
  ListKey(out, 2, "chains", table.chains.empty());
  for (const NftChain& chain : table.chains) {
    FlowMap map = FlowItem(out, 4);
    map.Str("name", chain.name);
    if (chain.type != "filter") map.Str("type", chain.type);
    map.Str("hook", chain.hook).Num("priority", chain.priority).Str("policy", chain.policy).End();
    out += '\n';
  }
  ListKey(out, 2, "rules", table.rules.empty());
  for (const NftRule& rule : table.rules) {
    FlowItem(out, 4).Str("chain", rule.chain).Quoted("rule", rule.rule).Quoted("comment", rule.comment).End();
    out += '\n';
  }
}

/// A generous guess at the text size, so the string grows once or not at all.
size_t EstimateSize(const LinuxState& state) {
  size_t rules = state.nft.rules.size() + state.nft_nat.rules.size();
  size_t classes = 0, elements = 0;
  for (const Qdisc& q : state.qdiscs) classes += q.classes.size();
  for (const NftSet& set : state.nft.sets) elements += set.elements.size();
  return 512 + 40 * elements + 160 * state.links.size() + 64 * state.adopted.size() + 64 * state.addresses.size() +
         80 * state.routes.size() + 80 * state.fdb.size() + 80 * state.neighbours.size() +
         96 * state.qdiscs.size() + 64 * classes + 160 * rules;
}

}  // namespace

std::string FormatLinuxYaml(const LinuxState& state) {
  std::string out;
  out.reserve(EstimateSize(state));
  out += "format: 1\nhost: ";
  AppendDoubleQuoted(out, state.host);
  out += "\ngeneration: ";
  out += Dec(state.generation);
  out += "\nsource_hash: ";
  AppendDoubleQuoted(out, state.source_hash);
  out += "\nowner:\n  prefix: ";
  AppendDoubleQuoted(out, state.owner_prefix);
  out += "\n  alias: ";
  AppendDoubleQuoted(out, state.owner_alias);
  out += "\nrequires: [";
  for (size_t i = 0; i < state.requires_.size(); ++i) {
    if (i > 0) out += ", ";
    AppendYamlScalar(out, state.requires_[i]);
  }
  out += "]\n";

  ListKey(out, 0, "links", state.links.empty());
  for (const Link& link : state.links) EmitLink(out, link);

  ListKey(out, 0, "adopted", state.adopted.empty());
  for (const AdoptedNic& nic : state.adopted) {
    // Host NIC names are user text: `null`, `true` or `1` must stay strings.
    out += "  - name: ";
    AppendDoubleQuoted(out, nic.name);
    out += "\n    master: ";
    AppendYamlScalar(out, nic.master);
    out += '\n';
  }

  if (const auto& m = state.management) {
    out += "management: ";
    FlowMap map(out);
    map.Quoted("nic", m->nic).Str("dev", m->dev);
    if (m->address) map.Prefix("address", *m->address);
    else map.Str("address", "");
    if (m->gateway) map.Ip("gateway", *m->gateway);
    else map.Str("gateway", "");
    map.End();
    out += '\n';
  }

  ListKey(out, 0, "addresses", state.addresses.empty());
  for (const Address& a : state.addresses) {
    FlowItem(out, 2).Str("dev", a.dev).Prefix("address", net::Prefix{a.address, a.prefix_length}).End();
    out += '\n';
  }

  ListKey(out, 0, "routes", state.routes.empty());
  for (const Route& r : state.routes) {
    FlowItem(out, 2).Num("table", r.table).Prefix("dst", r.dst).Quoted("dev", r.dev).QuotedIp("via", r.via).End();
    out += '\n';
  }

  ListKey(out, 0, "fdb", state.fdb.empty());
  for (const FdbEntry& e : state.fdb) {
    FlowItem(out, 2).Str("dev", e.dev).Mac("mac", e.mac).Ip("dst", e.dst).End();
    out += '\n';
  }

  ListKey(out, 0, "neighbours", state.neighbours.empty());
  for (const Neighbour& n : state.neighbours) {
    FlowItem(out, 2).Str("dev", n.dev).Ip("address", n.address).Mac("mac", n.mac).End();
    out += '\n';
  }

  ListKey(out, 0, "qdiscs", state.qdiscs.empty());
  for (const Qdisc& q : state.qdiscs) {
    FlowMap map = FlowItem(out, 2);
    map.Str("dev", q.dev);
    if (q.kind == "tbf") {
      map.Str("kind", "tbf").Num("rate_bps", q.rate_bps).Num("burst_bytes", q.burst_bytes).Num("latency_us",
                                                                                                 q.latency_us);
    } else {
      map.Str("kind", "htb").Num("default_class", q.default_class).List("classes");
      for (const HtbClass& c : q.classes) {
        FlowMap item = map.Item();
        item.Num("minor", c.minor).Num("rate_bps", c.rate_bps).Num("ceil_bps", c.ceil_bps);
        if (c.parent != 0) item.Num("parent", c.parent);
        item.End();
      }
      map.EndList();
    }
    map.End();
    out += '\n';
  }

  if (state.nft.present) EmitNftTable(out, "nftables", state.nft);
  if (state.nft_nat.present) EmitNftTable(out, "nftables_nat", state.nft_nat);
  return out;
}

}  // namespace netdsl::backends::linux_backend
