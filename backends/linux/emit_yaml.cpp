// LinuxState → linux.yaml (docs/linux-yaml.md, format 1) through the yaml-cpp
// emitter: keys in contract order, every string from user text double-quoted.
#include <yaml-cpp/yaml.h>

#include "backends/linux/linux_state.h"

namespace netdsl::backends::linux_backend {

namespace {

/// Double-quoted: user text, MACs (YAML 1.1 would read `00:00:...` as a number), hashes.
void Quoted(YAML::Emitter& out, const std::string& text) { out << YAML::DoubleQuoted << text; }

/// Empty lists as `[]` on the key's line, others as block sequences.
void BeginList(YAML::Emitter& out, bool empty) {
  if (empty) out << YAML::Flow;
  out << YAML::BeginSeq;
}

void EmitLink(YAML::Emitter& out, const Link& link) {
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << link.name;
  out << YAML::Key << "kind" << YAML::Value << LinkKindName(link.kind);
  out << YAML::Key << "mtu" << YAML::Value << link.mtu;
  out << YAML::Key << "master" << YAML::Value;
  Quoted(out, link.master);
  out << YAML::Key << "mac" << YAML::Value;
  Quoted(out, link.mac);
  switch (link.kind) {
    case LinkKind::Bridge: break;
    case LinkKind::Bond:
      out << YAML::Key << "bond" << YAML::Value << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "mode" << YAML::Value << link.bond_mode;
      out << YAML::Key << "xmit_hash_policy" << YAML::Value << link.bond_xmit_hash_policy;
      out << YAML::Key << "miimon" << YAML::Value << link.bond_miimon;
      out << YAML::EndMap;
      break;
    case LinkKind::Vlan:
      out << YAML::Key << "vlan" << YAML::Value << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "link" << YAML::Value << link.vlan_link;
      out << YAML::Key << "id" << YAML::Value << link.vlan_id;
      out << YAML::EndMap;
      break;
    case LinkKind::Vxlan:
      out << YAML::Key << "vxlan" << YAML::Value << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "id" << YAML::Value << link.tunnel_id;
      out << YAML::Key << "local" << YAML::Value << link.local;
      out << YAML::Key << "dstport" << YAML::Value << kVxlanPort;
      out << YAML::Key << "learning" << YAML::Value << false;
      out << YAML::Key << "ttl" << YAML::Value << static_cast<unsigned>(kVxlanTtl);
      out << YAML::EndMap;
      break;
    case LinkKind::Gretap:
      out << YAML::Key << "gretap" << YAML::Value << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "key" << YAML::Value << link.tunnel_id;
      out << YAML::Key << "local" << YAML::Value << link.local;
      out << YAML::Key << "remote" << YAML::Value << link.remote;
      out << YAML::EndMap;
      break;
    case LinkKind::Vrf:
      out << YAML::Key << "vrf" << YAML::Value << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "table" << YAML::Value << link.vrf_table;
      out << YAML::EndMap;
      break;
    case LinkKind::Veth:
      out << YAML::Key << "veth" << YAML::Value << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "peer" << YAML::Value << link.peer;
      out << YAML::Key << "peer_mac" << YAML::Value;
      Quoted(out, link.peer_mac);
      out << YAML::Key << "peer_mtu" << YAML::Value << link.peer_mtu;
      out << YAML::EndMap;
      break;
  }
  out << YAML::EndMap;
}

void EmitNftTable(YAML::Emitter& out, const NftTable& table) {
  out << YAML::BeginMap;
  out << YAML::Key << "family" << YAML::Value << table.family;
  out << YAML::Key << "table" << YAML::Value << table.table;
  out << YAML::Key << "chains" << YAML::Value;
  BeginList(out, table.chains.empty());
  for (const NftChain& chain : table.chains) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << chain.name;
    if (chain.type != "filter") out << YAML::Key << "type" << YAML::Value << chain.type;
    out << YAML::Key << "hook" << YAML::Value << chain.hook;
    out << YAML::Key << "priority" << YAML::Value << chain.priority;
    out << YAML::Key << "policy" << YAML::Value << chain.policy;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "rules" << YAML::Value;
  BeginList(out, table.rules.empty());
  for (const NftRule& rule : table.rules) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "chain" << YAML::Value << rule.chain;
    out << YAML::Key << "rule" << YAML::Value;
    Quoted(out, rule.rule);
    out << YAML::Key << "comment" << YAML::Value;
    Quoted(out, rule.comment);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
}

}  // namespace

std::string FormatLinuxYaml(const LinuxState& state) {
  YAML::Emitter out;
  out.SetIndent(2);
  out << YAML::BeginMap;
  out << YAML::Key << "format" << YAML::Value << 1;
  out << YAML::Key << "host" << YAML::Value;
  Quoted(out, state.host);
  out << YAML::Key << "generation" << YAML::Value << state.generation;
  out << YAML::Key << "source_hash" << YAML::Value;
  Quoted(out, state.source_hash);
  out << YAML::Key << "owner" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "prefix" << YAML::Value;
  Quoted(out, kOwnerPrefix);
  out << YAML::Key << "alias" << YAML::Value;
  Quoted(out, kOwnerAlias);
  out << YAML::EndMap;

  out << YAML::Key << "requires" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& feature : state.requires_features) out << feature;
  out << YAML::EndSeq;

  out << YAML::Key << "links" << YAML::Value;
  BeginList(out, state.links.empty());
  for (const Link& link : state.links) EmitLink(out, link);
  out << YAML::EndSeq;

  out << YAML::Key << "adopted" << YAML::Value;
  BeginList(out, state.adopted.empty());
  for (const AdoptedNic& nic : state.adopted) {
    out << YAML::BeginMap;
    // Host NIC names are user text: `null`, `true` or `1` must stay strings.
    out << YAML::Key << "name" << YAML::Value;
    Quoted(out, nic.name);
    out << YAML::Key << "master" << YAML::Value << nic.master;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "addresses" << YAML::Value;
  BeginList(out, state.addresses.empty());
  for (const Address& a : state.addresses) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "dev" << YAML::Value << a.dev;
    out << YAML::Key << "address" << YAML::Value << a.address;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "routes" << YAML::Value;
  BeginList(out, state.routes.empty());
  for (const Route& r : state.routes) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "table" << YAML::Value << r.table;
    out << YAML::Key << "dst" << YAML::Value << r.dst.ToString();
    out << YAML::Key << "dev" << YAML::Value;
    Quoted(out, r.dev);
    out << YAML::Key << "via" << YAML::Value;
    Quoted(out, r.via);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "fdb" << YAML::Value;
  BeginList(out, state.fdb.empty());
  for (const FdbEntry& e : state.fdb) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "dev" << YAML::Value << e.dev;
    out << YAML::Key << "mac" << YAML::Value;
    Quoted(out, e.mac.ToString());
    out << YAML::Key << "dst" << YAML::Value << e.dst.ToString();
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "neighbours" << YAML::Value;
  BeginList(out, state.neighbours.empty());
  for (const Neighbour& n : state.neighbours) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "dev" << YAML::Value << n.dev;
    out << YAML::Key << "address" << YAML::Value << n.address.ToString();
    out << YAML::Key << "mac" << YAML::Value;
    Quoted(out, n.mac.ToString());
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "qdiscs" << YAML::Value;
  BeginList(out, state.qdiscs.empty());
  for (const Qdisc& q : state.qdiscs) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "dev" << YAML::Value << q.dev;
    if (q.kind == Qdisc::Kind::Tbf) {
      out << YAML::Key << "kind" << YAML::Value << "tbf";
      out << YAML::Key << "rate_bps" << YAML::Value << q.rate_bps;
      out << YAML::Key << "burst_bytes" << YAML::Value << q.burst_bytes;
      out << YAML::Key << "latency_us" << YAML::Value << q.latency_us;
    } else {
      out << YAML::Key << "kind" << YAML::Value << "htb";
      out << YAML::Key << "default_class" << YAML::Value << q.default_class;
      out << YAML::Key << "classes" << YAML::Value << YAML::BeginSeq;
      for (const HtbClass& c : q.classes) {
        out << YAML::BeginMap;
        out << YAML::Key << "minor" << YAML::Value << c.minor;
        out << YAML::Key << "rate_bps" << YAML::Value << c.rate_bps;
        out << YAML::Key << "ceil_bps" << YAML::Value << c.ceil_bps;
        if (c.parent != 0) out << YAML::Key << "parent" << YAML::Value << c.parent;
        out << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  if (!state.nft.Empty()) {
    out << YAML::Key << "nftables" << YAML::Value;
    EmitNftTable(out, state.nft);
  }
  if (!state.nft_nat.Empty()) {
    out << YAML::Key << "nftables_nat" << YAML::Value;
    EmitNftTable(out, state.nft_nat);
  }
  out << YAML::EndMap;
  std::string text = out.c_str();
  text += "\n";
  return text;
}

}  // namespace netdsl::backends::linux_backend
