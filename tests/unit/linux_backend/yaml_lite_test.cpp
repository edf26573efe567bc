// The linux.yaml fast parser (runtime/linux/yaml_lite.h) against yaml-cpp:
// every document the writer produces parses (the fast path is taken), into
// the same tree yaml-cpp builds — kinds, scalars, quoted-ness and marks —, and
// what is outside the subset is refused rather than read differently.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "backends/linux/linux_backend.h"
#include "runtime/linux/host_state.h"
#include "runtime/linux/plan_reader.h"
#include "runtime/linux/yaml_lite.h"
#include "tests/unit/linux_backend/fixtures.h"

using namespace netdsl;
using namespace netdsl::backends::testing;
namespace lite = netdsl::runtime::lite;

namespace {

/// Empty when the trees agree, else where they first differ.
std::string Differ(const lite::Node& a, const YAML::Node& b, const std::string& at) {
  auto where = [&](const std::string& what) { return at + ": " + what; };
  if (a.IsNull() != b.IsNull()) return where("null differs");
  if (a.IsScalar() != b.IsScalar() || a.IsMap() != b.IsMap() || a.IsSequence() != b.IsSequence())
    return where("kind differs");
  // A null's mark is where yaml-cpp met the next token; the reader only names
  // nulls in errors, and a plan with errors is read again with yaml-cpp.
  if (!a.IsNull() && (a.Line0() != b.Mark().line || a.Col0() != b.Mark().column))
    return where("mark " + std::to_string(a.Line0()) + ":" + std::to_string(a.Col0()) + " vs " +
                 std::to_string(b.Mark().line) + ":" + std::to_string(b.Mark().column));
  if (a.IsScalar()) {
    if (a.Scalar() != b.Scalar()) return where("scalar `" + std::string(a.Scalar()) + "` vs `" + b.Scalar() + "`");
    if (a.Tag() != b.Tag()) return where("tag differs for `" + b.Scalar() + "`");
    return "";
  }
  if (a.size() != b.size()) return where("size differs");
  if (a.IsMap()) {
    auto bi = b.begin();
    for (const auto& entry : a) {
      if (std::string d = Differ(entry.first, bi->first, at + ".key"); !d.empty()) return d;
      if (std::string d = Differ(entry.second, bi->second, at + "." + bi->first.Scalar()); !d.empty()) return d;
      ++bi;
    }
  } else if (a.IsSequence()) {
    size_t i = 0;
    auto bi = b.begin();
    for (const auto& item : a) {
      if (std::string d = Differ(item, *bi, at + "[" + std::to_string(i++) + "]"); !d.empty()) return d;
      ++bi;
    }
  }
  return "";
}

/// Every field the plan reader fills, as text (locations included).
std::string Text(const runtime::HostState& s) {
  std::string out = s.host + " " + std::to_string(s.generation) + " " + s.source_hash + " " + s.owner_prefix + " " +
                    s.owner_alias + "\n";
  auto ip = [](const std::optional<net::IpAddress>& a) { return a ? a->ToString() : std::string("-"); };
  auto mac = [](const std::optional<net::MacAddress>& m) { return m ? m->ToString() : std::string("-"); };
  auto loc = [](const runtime::SourceLoc& l) { return "@" + std::to_string(l.line) + ":" + std::to_string(l.col); };
  for (const std::string& f : s.requires_) out += "requires " + f + "\n";
  for (const runtime::Link& l : s.links)
    out += "link " + l.name + " " + l.kind + " " + std::to_string(l.mtu) + " " + l.master + " " + mac(l.mac) + " " +
           l.bond_mode + " " + l.bond_xmit_hash_policy + " " + std::to_string(l.bond_miimon) + " " + l.vlan_link +
           " " + std::to_string(l.vlan_id) + " " + std::to_string(l.vxlan_id) + " " + ip(l.vxlan_local) + " " +
           std::to_string(l.vxlan_dstport) + " " + std::to_string(l.vxlan_learning) + " " +
           std::to_string(l.vxlan_ttl) + " " + std::to_string(l.gretap_key) + " " + ip(l.gretap_local) + " " +
           ip(l.gretap_remote) + " " + std::to_string(l.vrf_table) + " " + l.veth_peer + " " + mac(l.veth_peer_mac) +
           " " + std::to_string(l.veth_peer_mtu) + loc(l.loc) + "\n";
  for (const runtime::AdoptedNic& a : s.adopted) out += "adopted " + a.name + " " + a.master + loc(a.loc) + "\n";
  if (const auto& m = s.management)
    out += "management " + m->nic + " " + m->dev + " " + (m->address ? m->address->ToString() : std::string("-")) +
           " " + ip(m->gateway) + loc(m->loc) + "\n";
  for (const runtime::Address& a : s.addresses)
    out += "address " + a.dev + " " + a.address.ToString() + "/" + std::to_string(a.prefix_length) + loc(a.loc) + "\n";
  for (const runtime::Route& r : s.routes)
    out += "route " + std::to_string(r.table) + " " + r.dst.ToString() + " " + r.dev + " " + ip(r.via) + loc(r.loc) + "\n";
  for (const runtime::FdbEntry& e : s.fdb)
    out += "fdb " + e.dev + " " + e.mac.ToString() + " " + e.dst.ToString() + loc(e.loc) + "\n";
  for (const runtime::Neighbour& n : s.neighbours)
    out += "neigh " + n.dev + " " + n.address.ToString() + " " + n.mac.ToString() + loc(n.loc) + "\n";
  for (const runtime::Qdisc& q : s.qdiscs) {
    out += "qdisc " + q.dev + " " + q.kind + " " + std::to_string(q.rate_bps) + " " + std::to_string(q.burst_bytes) +
           " " + std::to_string(q.latency_us) + " " + std::to_string(q.default_class) + loc(q.loc) + "\n";
    for (const runtime::HtbClass& c : q.classes)
      out += "  class " + std::to_string(c.minor) + " " + std::to_string(c.parent) + " " + std::to_string(c.rate_bps) +
             " " + std::to_string(c.ceil_bps) + "\n";
  }
  for (const runtime::NftTable* t : {&s.nft, &s.nft_nat}) {
    out += "nft " + std::to_string(t->present) + " " + t->family + " " + t->table + " " + t->fingerprint + loc(t->loc) + "\n";
    for (const runtime::NftSet& set : t->sets) {
      out += "  set " + set.name + " " + set.type + "\n";
      for (const auto& e : set.elements) {
        out += "   ";
        for (const std::string& part : e) out += " " + part;
        out += "\n";
      }
    }
    for (const runtime::NftChain& c : t->chains)
      out += "  chain " + c.name + " " + c.type + " " + c.hook + " " + std::to_string(c.priority) + " " + c.policy + "\n";
    for (const runtime::NftRule& r : t->rules) out += "  rule " + r.chain + " " + r.rule + " " + r.comment + "\n";
  }
  return out;
}

/// A host with a declared management adapter (`management:` in linux.yaml).
ir::HostIr Managed() {
  ir::HostIr h = SeedHost02();
  ir::Management m;
  m.nic = h.switches[0].uplinks[0].nic;
  m.switch_name = h.switches[0].name;
  m.inherit = false;
  m.address = net::ParseIp("192.168.0.50");
  m.prefix_length = 24;
  m.gateway = net::ParseIp("192.168.0.1");
  h.management = m;
  return h;
}

void CheckSame(const std::string& text) {
  std::optional<lite::Document> doc = lite::Document::Parse(text);
  REQUIRE_MESSAGE(doc.has_value(), text);
  YAML::Node y = YAML::Load(text);
  std::string d = Differ(doc->Root(), y, "root");
  CHECK_MESSAGE(d.empty(), d << "\n" << text);
}

}  // namespace

TEST_CASE("every plan the writer produces parses the same with the fast parser and yaml-cpp") {
  std::vector<ir::HostIr> hosts = {SeedHost02(), VxlanHost()};
  ir::HostIr routed = SeedHost02();
  AddDbSubnet(routed);
  hosts.push_back(routed);
  hosts.push_back(NatGatewayHost());
  // Hostile user text: quotes, backslashes, colons, hashes, unicode, control bytes.
  ir::HostIr hostile = SeedHost02();
  hostile.ports[0].vm = "a\"b\\c: d #e\u2028f\x01g";
  hostile.ports[0].nic = "[x], {y}";
  hostile.ports[0].classification = "cls 'q' \"w\"";
  hostile.ports[0].vm_network = "net: {x}";
  hosts.push_back(hostile);
  hosts.push_back(Managed());
  for (const ir::HostIr& h : hosts) {
    auto artifacts = backends::EmitLinux(h);
    REQUIRE_MESSAGE(bool(artifacts), (artifacts ? std::string() : llvm::toString(artifacts.takeError())));
    CheckSame(artifacts->yaml);
  }
}

TEST_CASE("the plan reader reads the same objects through the fast parser and through yaml-cpp") {
  std::vector<ir::HostIr> hosts = {SeedHost02(), VxlanHost()};
  ir::HostIr nat = SeedHost02();
  AddDbSubnet(nat);
  nat.nat_rules.push_back(Nat("tenant A", 1001, "192.168.10.41", {Pfx("10.0.1.0/24"), Pfx("10.0.2.0/24")}));
  hosts.push_back(nat);
  hosts.push_back(Managed());
  for (const ir::HostIr& h : hosts) {
    auto artifacts = backends::EmitLinux(h);
    REQUIRE(bool(artifacts));
    REQUIRE(lite::Document::Parse(artifacts->yaml).has_value());
    runtime::HostState fast, slow;
    std::vector<std::string> errors;
    REQUIRE(runtime::ReadPlan(artifacts->yaml, "fast.yaml", &fast, &errors));
    // A comment is outside the subset: the same text read by yaml-cpp.
    REQUIRE(runtime::ReadPlan(artifacts->yaml + "# read by yaml-cpp\n", "slow.yaml", &slow, &errors));
    CHECK(Text(fast) == Text(slow));
    REQUIRE(fast.links.size() == slow.links.size());
    for (size_t i = 0; i < fast.links.size(); ++i) {
      CHECK(fast.links[i].loc.line == slow.links[i].loc.line);
      CHECK(fast.links[i].loc.col == slow.links[i].loc.col);
    }
    for (size_t i = 0; i < fast.fdb.size(); ++i) CHECK(fast.fdb[i].loc.line == slow.fdb[i].loc.line);
    for (size_t i = 0; i < fast.routes.size(); ++i) CHECK(fast.routes[i].loc.line == slow.routes[i].loc.line);
  }
}

TEST_CASE("the subset the writer uses") {
  CheckSame("format: 1\nhost: \"h\"\nlinks: []\nadopted:\n  - name: \"eth0\"\n    master: nd-x\n");
  CheckSame("a:\n  b: 1\n  c:\n    - {x: 1, y: \"2\", z: [a, b]}\n    - {x: -1, y: \"\", z: []}\nd: ~\ne: null\nf:\n");
  CheckSame("q: \"\\\"\\\\\\n\\t\\x01\\u2028\\u00e9\"\n");
  CheckSame("l:\n  - name: n\n    kind: veth\n    veth: {peer: p, peer_mac: \"00:11:22:33:44:55\", peer_mtu: 1500}\n");
  CheckSame("r: [{minor: 1, parent: 0}, {minor: 2, parent: 1}]\nip: fe80::1/64\n");
}

TEST_CASE("outside the subset the fast parser refuses") {
  for (const char* text : {
           "a: 1 # comment\n",   // comments
           "# comment\na: 1\n",  //
           "a: 'single'\n",      // single quotes
           "a: &x 1\nb: *x\n",   // anchors
           "a: !!str 1\n",       // tags
           "a:\n- 1\n",          // a compact list at the key's indent
           "a: \"multi\n  line\"\n",
           "a: {b: 1,\n  c: 2}\n",  // multi-line flow
           "a:\tb\n",
           "---\na: 1\n",
           "a: 1\r\n",
           "a: b c\n",  // plain scalars with spaces are not the writer's
           "a: \"\\q\"\n",
       })
    CHECK_MESSAGE(!lite::Document::Parse(text).has_value(), text);
}
