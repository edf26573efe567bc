// LinuxState → linux.batch: the same state as ip/bridge/tc/nft commands, one
// per line, in dependency order, runnable with `sh -e` on a host without
// netdsl state. For humans; `netdsl apply` reads linux.yaml.
#include <initializer_list>
#include <optional>
#include <string_view>

#include "backends/linux/linux_state.h"
#include "backends/linux/names.h"
#include "backends/linux/short_text.h"

namespace netdsl::backends::linux_backend {

namespace {

/// The batch text; each line is appended from its parts, without temporaries.
class Batch {
 public:
  explicit Batch(size_t reserve) { text_.reserve(reserve); }
  void Section(std::string_view title) {
    if (!text_.empty()) text_ += '\n';
    Line({"# ", title});
  }
  /// `comment` is sanitized text (CommentText) — never raw user text.
  void Comment(std::string_view comment) {
    if (!comment.empty()) Line({"# ", comment});
  }
  void Line(std::initializer_list<std::string_view> parts) {
    for (std::string_view part : parts) text_ += part;
    text_ += '\n';
  }
  /// A line appended in pieces: Start, Add..., then End.
  std::string& Start() { return text_; }
  void End() { text_ += '\n'; }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

void LinkAdd(Batch& batch, const Link& link) {
  std::string& line = batch.Start();
  if (link.kind == "vlan") {
    line += "ip link add link ";
    line += link.vlan_link;
    line += " name ";
    line += link.name;
    line += " mtu ";
    line += Dec(link.mtu);
    line += " type vlan id ";
    line += Dec(link.vlan_id);
    batch.End();
    return;
  }
  line += "ip link add ";
  line += link.name;
  line += " mtu ";
  line += Dec(link.mtu);
  if (link.mac) {
    line += " address ";
    line += MacText(*link.mac);
  }
  auto ip = [&](const std::optional<net::IpAddress>& a) {
    if (a) line += IpText(*a);
  };
  if (link.kind == "bridge") {
    line += " type bridge";
  } else if (link.kind == "bond") {
    line += " type bond mode ";
    line += link.bond_mode;
    line += " xmit_hash_policy ";
    line += link.bond_xmit_hash_policy;
    line += " miimon ";
    line += Dec(link.bond_miimon);
  } else if (link.kind == "vxlan") {
    line += " type vxlan id ";
    line += Dec(link.vxlan_id);
    line += " local ";
    ip(link.vxlan_local);
    line += " dstport ";
    line += Dec(link.vxlan_dstport);
    line += link.vxlan_learning ? " learning ttl " : " nolearning ttl ";
    line += Dec(static_cast<unsigned>(link.vxlan_ttl));
  } else if (link.kind == "gretap") {
    line += " type gretap key ";
    line += Dec(link.gretap_key);
    line += " local ";
    ip(link.gretap_local);
    line += " remote ";
    ip(link.gretap_remote);
  } else if (link.kind == "vrf") {
    line += " type vrf table ";
    line += Dec(link.vrf_table);
  } else if (link.kind == "veth") {
    line += " type veth peer name ";
    line += link.veth_peer;
    if (link.veth_peer_mac) {
      line += " address ";
      line += MacText(*link.veth_peer_mac);
    }
    line += " mtu ";
    line += Dec(link.veth_peer_mtu);
  }
  batch.End();
}

void NftTableCommands(Batch& batch, const NftTable& table) {
  const std::string_view family = table.family, name = table.table;
  batch.Line({"nft add table ", family, " ", name});
  for (const NftSet& set : table.sets) {
    batch.Line({"nft add set ", family, " ", name, " ", set.name, " '{ type ", set.type, "; }'"});
    // Elements in bounded lines (the shell's and nft's limits are far away).
    constexpr size_t kPerLine = 256;
    for (size_t at = 0; at < set.elements.size(); at += kPerLine) {
      std::string& line = batch.Start();
      line += "nft add element ";
      line += family;
      line += ' ';
      line += name;
      line += ' ';
      line += set.name;
      line += " '{ ";
      for (size_t i = at; i < set.elements.size() && i < at + kPerLine; ++i) {
        if (i != at) line += ", ";
        const std::vector<std::string>& element = set.elements[i];
        for (size_t k = 0; k < element.size(); ++k) {
          if (k) line += " . ";
          // The first part is an ifname: quoted as nft wants it (safe alphabet).
          if (k == 0) line += '"';
          line += element[k];
          if (k == 0) line += '"';
        }
      }
      line += " }'";
      batch.End();
    }
  }
  for (const NftChain& chain : table.chains)
    batch.Line({"nft add chain ", family, " ", name, " ", chain.name, " '{ type ", chain.type, " hook ", chain.hook,
                " priority ", Dec(chain.priority), "; policy ", chain.policy, "; }'"});
  for (const NftRule& rule : table.rules) {
    if (rule.comment.empty())
      batch.Line({"nft add rule ", family, " ", name, " ", rule.chain, " '", rule.rule, "'"});
    else
      batch.Line({"nft add rule ", family, " ", name, " ", rule.chain, " '", rule.rule, " comment \"", rule.comment,
                  "\"'"});
  }
}

/// A generous guess at the text size, so the string grows once or not at all.
size_t EstimateSize(const LinuxState& state) {
  size_t rules = state.nft.rules.size() + state.nft_nat.rules.size();
  size_t classes = 0, elements = 0;
  for (const Qdisc& q : state.qdiscs) classes += q.classes.size();
  for (const NftSet& set : state.nft.sets) elements += set.elements.size();
  return 1024 + 40 * elements + 240 * state.links.size() + 128 * state.adopted.size() + 64 * state.addresses.size() +
         80 * state.routes.size() + 96 * state.fdb.size() + 96 * state.neighbours.size() +
         96 * state.qdiscs.size() + 160 * classes + 200 * rules;
}

}  // namespace

std::string FormatLinuxBatch(const LinuxState& state) {
  Batch batch(EstimateSize(state));
  batch.Line({"# netdsl linux.batch for host ", CommentText(state.host), ", generation ", Dec(state.generation)});
  batch.Comment("the state of linux.yaml as commands, for humans to read or to run with `sh -e`");
  batch.Comment("on a host without netdsl state. netdsl apply reads linux.yaml, not this file.");

  batch.Section("links");
  for (const Link& link : state.links) {
    batch.Comment(link.comment);
    LinkAdd(batch, link);
  }
  for (const Link& link : state.links) batch.Line({"ip link set dev ", link.name, " alias ", state.owner_alias});
  for (const Link& link : state.links)
    if (!link.master.empty()) batch.Line({"ip link set dev ", link.name, " master ", link.master});
  for (const Link& link : state.links)
    if (!link.veth_peer_master.empty()) batch.Line({"ip link set dev ", link.veth_peer, " master ", link.veth_peer_master});
  for (const Link& link : state.links)
    if (link.isolated) batch.Line({"ip link set dev ", link.name, " type bridge_slave isolated on"});
  for (const Link& link : state.links)
    if (link.forwarding) batch.Line({"sysctl -qw net/ipv4/conf/", link.name, "/forwarding=1"});
  auto is_bond = [&](const std::string& name) {
    for (const Link& link : state.links)
      if (link.name == name) return link.kind == "bond";
    return false;
  };
  for (const AdoptedNic& nic : state.adopted) {
    batch.Line({"# adopted host nic ", nic.name});
    if (is_bond(nic.master)) batch.Line({"ip link set dev ", nic.name, " down"});  // bonds enslave only down links
    batch.Line({"ip link set dev ", nic.name, " master ", nic.master});
  }
  if (const auto& m = state.management) {
    batch.Line({"# management adapter on host nic ", m->nic, ": netdsl apply moves the addresses, routes and"});
    batch.Comment("permanent neighbours of the nic onto the switch right after adopting it (by hand: add them");
    batch.Comment(!m->address ? "on the switch bridge, then ip route replace each route there)"
                                     : "on the switch bridge, the declared address and gateway below replace those of their family)");
  }
  for (const Link& link : state.links) batch.Line({"ip link set dev ", link.name, " up"});
  for (const Link& link : state.links)
    if (!link.veth_peer_master.empty()) batch.Line({"ip link set dev ", link.veth_peer, " up"});
  for (const AdoptedNic& nic : state.adopted) batch.Line({"ip link set dev ", nic.name, " up"});

  if (!state.addresses.empty()) {
    batch.Section("addresses");
    for (const Address& a : state.addresses)
      batch.Line({"ip address add ", PrefixText(net::Prefix{a.address, a.prefix_length}), " dev ", a.dev});
  }
  if (!state.routes.empty()) {
    batch.Section("routes");
    for (const Route& r : state.routes) {
      // The declared management gateway replaces the nic's default route in place.
      bool management = state.management && state.management->gateway && r.table == kMainTable &&
                        r.dst.length == 0 && r.dev == state.management->dev;
      std::string& line = batch.Start();
      line += management ? "ip route replace " : "ip route add ";
      line += PrefixText(r.dst);
      if (r.via) {
        line += " via ";
        line += IpText(*r.via);
      }
      if (!r.dev.empty()) {
        line += " dev ";
        line += r.dev;
      }
      line += " table ";
      line += Dec(r.table);
      batch.End();
    }
  }
  if (!state.fdb.empty()) {
    batch.Section("fdb");
    for (const FdbEntry& e : state.fdb)
      batch.Line({"bridge fdb append ", MacText(e.mac), " dev ", e.dev, " dst ", IpText(e.dst), " self permanent"});
  }
  if (!state.neighbours.empty()) {
    batch.Section("neighbours");
    for (const Neighbour& n : state.neighbours)
      batch.Line({"ip neigh replace ", IpText(n.address), " lladdr ", MacText(n.mac), " dev ", n.dev,
                  " nud permanent"});
  }
  if (!state.qdiscs.empty()) {
    batch.Section("qdiscs");
    for (const Qdisc& q : state.qdiscs) {
      if (q.kind == "tbf") {
        batch.Line({"tc qdisc replace dev ", q.dev, " root tbf rate ", Dec(q.rate_bps), "bit burst ",
                    Dec(q.burst_bytes), " latency ", Dec(q.latency_us), "us"});
        continue;
      }
      batch.Line({"tc qdisc replace dev ", q.dev, " root handle 1: htb default ", Hex(q.default_class)});
      for (const HtbClass& c : q.classes) {
        batch.Comment(c.comment);
        batch.Line({"tc class replace dev ", q.dev, " parent 1:", c.parent ? Hex(c.parent).View() : "",
                    " classid 1:", Hex(c.minor), " htb rate ", Dec(c.rate_bps), "bit ceil ", Dec(c.ceil_bps),
                    "bit"});
      }
    }
  }
  if (state.nft.present) {
    batch.Section("nftables");
    NftTableCommands(batch, state.nft);
  }
  if (state.nft_nat.present) {
    batch.Section("nftables nat");
    NftTableCommands(batch, state.nft_nat);
  }
  return batch.Take();
}

}  // namespace netdsl::backends::linux_backend
