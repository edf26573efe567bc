// LinuxState → linux.batch: the same state as ip/bridge/tc/nft commands, one
// per line, in dependency order, runnable with `sh -e` on a host without
// netdsl state. For humans; `netdsl apply` reads linux.yaml.
#include <cstdio>

#include "backends/linux/linux_state.h"
#include "backends/linux/names.h"

namespace netdsl::backends::linux_backend {

namespace {

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x", v);
  return buf;
}

class Batch {
 public:
  void Section(const char* title) {
    if (!text_.empty()) text_ += "\n";
    text_ += "# ";
    text_ += title;
    text_ += "\n";
  }
  /// `comment` is sanitized text (CommentText) — never raw user text.
  void Comment(const std::string& comment) {
    if (!comment.empty()) text_ += "# " + comment + "\n";
  }
  void Line(const std::string& command) { text_ += command + "\n"; }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

std::string LinkAdd(const Link& link) {
  std::string line = "ip link add " + link.name + " mtu " + std::to_string(link.mtu);
  if (!link.mac.empty()) line += " address " + link.mac;
  switch (link.kind) {
    case LinkKind::Bridge: line += " type bridge"; break;
    case LinkKind::Bond:
      line += " type bond mode " + link.bond_mode + " xmit_hash_policy " + link.bond_xmit_hash_policy +
              " miimon " + std::to_string(link.bond_miimon);
      break;
    case LinkKind::Vlan:
      line = "ip link add link " + link.vlan_link + " name " + link.name + " mtu " + std::to_string(link.mtu) +
             " type vlan id " + std::to_string(link.vlan_id);
      break;
    case LinkKind::Vxlan:
      line += " type vxlan id " + std::to_string(link.tunnel_id) + " local " + link.local + " dstport " +
              std::to_string(kVxlanPort) + " nolearning ttl " + std::to_string(kVxlanTtl);
      break;
    case LinkKind::Gretap:
      line += " type gretap key " + std::to_string(link.tunnel_id) + " local " + link.local + " remote " + link.remote;
      break;
    case LinkKind::Vrf: line += " type vrf table " + std::to_string(link.vrf_table); break;
    case LinkKind::Veth:
      line += " type veth peer name " + link.peer + " address " + link.peer_mac + " mtu " +
              std::to_string(link.peer_mtu);
      break;
  }
  return line;
}

void NftTableCommands(Batch& batch, const NftTable& table) {
  const std::string ref = table.family + " " + table.table;
  batch.Line("nft add table " + ref);
  for (const NftChain& chain : table.chains)
    batch.Line("nft add chain " + ref + " " + chain.name + " '{ type " + chain.type + " hook " + chain.hook +
               " priority " + std::to_string(chain.priority) + "; policy " + chain.policy + "; }'");
  for (const NftRule& rule : table.rules) {
    std::string text = rule.rule;
    if (!rule.comment.empty()) text += " comment \"" + rule.comment + "\"";
    batch.Line("nft add rule " + ref + " " + rule.chain + " '" + text + "'");
  }
}

}  // namespace

std::string FormatLinuxBatch(const LinuxState& state) {
  Batch batch;
  batch.Comment("netdsl linux.batch for host " + CommentText(state.host) + ", generation " +
                std::to_string(state.generation));
  batch.Comment("the state of linux.yaml as commands, for humans to read or to run with `sh -e`");
  batch.Comment("on a host without netdsl state. netdsl apply reads linux.yaml, not this file.");

  batch.Section("links");
  for (const Link& link : state.links) {
    batch.Comment(link.comment);
    batch.Line(LinkAdd(link));
  }
  for (const Link& link : state.links) batch.Line("ip link set dev " + link.name + " alias " + kOwnerAlias);
  for (const Link& link : state.links)
    if (!link.master.empty()) batch.Line("ip link set dev " + link.name + " master " + link.master);
  for (const AdoptedNic& nic : state.adopted) {
    batch.Comment("adopted host nic " + nic.name);
    if (nic.master_is_bond) batch.Line("ip link set dev " + nic.name + " down");  // bonds enslave only down links
    batch.Line("ip link set dev " + nic.name + " master " + nic.master);
  }
  for (const Link& link : state.links) batch.Line("ip link set dev " + link.name + " up");
  for (const AdoptedNic& nic : state.adopted) batch.Line("ip link set dev " + nic.name + " up");

  if (!state.addresses.empty()) {
    batch.Section("addresses");
    for (const Address& a : state.addresses) batch.Line("ip address add " + a.address + " dev " + a.dev);
  }
  if (!state.routes.empty()) {
    batch.Section("routes");
    for (const Route& r : state.routes) {
      std::string line = "ip route add " + r.dst.ToString();
      if (!r.via.empty()) line += " via " + r.via;
      if (!r.dev.empty()) line += " dev " + r.dev;
      batch.Line(line + " table " + std::to_string(r.table));
    }
  }
  if (!state.fdb.empty()) {
    batch.Section("fdb");
    for (const FdbEntry& e : state.fdb)
      batch.Line("bridge fdb append " + e.mac.ToString() + " dev " + e.dev + " dst " + e.dst.ToString() +
                 " self permanent");
  }
  if (!state.neighbours.empty()) {
    batch.Section("neighbours");
    for (const Neighbour& n : state.neighbours)
      batch.Line("ip neigh replace " + n.address.ToString() + " lladdr " + n.mac.ToString() + " dev " + n.dev +
                 " nud permanent");
  }
  if (!state.qdiscs.empty()) {
    batch.Section("qdiscs");
    for (const Qdisc& q : state.qdiscs) {
      if (q.kind == Qdisc::Kind::Tbf) {
        batch.Line("tc qdisc replace dev " + q.dev + " root tbf rate " + std::to_string(q.rate_bps) + "bit burst " +
                   std::to_string(q.burst_bytes) + " latency " + std::to_string(q.latency_us) + "us");
        continue;
      }
      batch.Line("tc qdisc replace dev " + q.dev + " root handle 1: htb default " + Hex(q.default_class));
      for (const HtbClass& c : q.classes) {
        batch.Comment(c.comment);
        batch.Line("tc class replace dev " + q.dev + " parent 1:" + (c.parent ? Hex(c.parent) : "") +
                   " classid 1:" + Hex(c.minor) + " htb rate " + std::to_string(c.rate_bps) + "bit ceil " +
                   std::to_string(c.ceil_bps) + "bit");
      }
    }
  }
  if (!state.nft.Empty()) {
    batch.Section("nftables");
    NftTableCommands(batch, state.nft);
  }
  if (!state.nft_nat.Empty()) {
    batch.Section("nftables nat");
    NftTableCommands(batch, state.nft_nat);
  }
  return batch.Take();
}

}  // namespace netdsl::backends::linux_backend
