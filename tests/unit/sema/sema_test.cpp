// Unit tests of sema on hand-built ASTs: schema, names, the rules' edge cases,
// and the shape of the checked model.
#include <doctest/doctest.h>

#include <algorithm>

#include "compiler/sema/overlap.h"
#include "compiler/sema/schema.h"
#include "compiler/sema/sema.h"

using namespace netdsl;

namespace {

ast::Value Name(std::string s) {
  ast::Value v;
  v.kind = ast::Value::Kind::Ident;
  v.text = std::move(s);
  return v;
}
ast::Value Int(uint64_t n) {
  ast::Value v;
  v.kind = ast::Value::Kind::Integer;
  v.integer = n;
  v.text = std::to_string(n);
  return v;
}
ast::Value Bool(bool b) {
  ast::Value v;
  v.kind = ast::Value::Kind::Bool;
  v.boolean = b;
  return v;
}
ast::Value Addr(const char* s) {
  ast::Value v;
  v.kind = ast::Value::Kind::Address;
  v.address = *net::ParseIp(s);
  v.text = s;
  return v;
}
ast::Value Pfx(const char* s) {
  ast::Value v;
  v.kind = ast::Value::Kind::Prefix;
  v.prefix = *net::ParsePrefix(s);
  v.text = s;
  return v;
}
ast::Value Mac(const char* s) {
  ast::Value v;
  v.kind = ast::Value::Kind::Mac;
  v.mac = *net::ParseMac(s);
  v.text = s;
  return v;
}
ast::Value Range(ast::Value a, ast::Value b) {
  ast::Value v;
  v.kind = ast::Value::Kind::Range;
  v.items = {std::move(a), std::move(b)};
  return v;
}
ast::Value List(std::vector<ast::Value> items) {
  ast::Value v;
  v.kind = ast::Value::Kind::List;
  v.items = std::move(items);
  return v;
}

struct B {
  ast::Block b;
  B(std::string kind, std::optional<ast::Value> label = std::nullopt) {
    b.kind = std::move(kind);
    b.label = std::move(label);
    b.has_body = true;
  }
  B& P(std::string key, ast::Value v) {
    ast::Property p;
    p.key = std::move(key);
    p.value = std::move(v);
    b.properties.push_back(std::move(p));
    return *this;
  }
  B& C(B child) {
    b.blocks.push_back(std::move(child.b));
    return *this;
  }
  operator ast::Block() const { return b; }
};

/// A small valid fabric: two hosts in a group, a virtualized logical network,
/// one VXLAN VM network with one subnet and pool, one VM.
std::vector<ast::Block> Valid() {
  std::vector<ast::Block> out;
  out.push_back(B("host_group", Name("g"))
                    .C(B("host", Name("h1")).C(B("nic", Name("eth0")).P("switch", Name("sw")).P("uplink", Name("up"))))
                    .C(B("host", Name("h2")).C(B("nic", Name("eth0")).P("switch", Name("sw")).P("uplink", Name("up")))));
  out.push_back(B("logical_network", Name("pa"))
                    .P("network_virtualization", Bool(true))
                    .C(B("site", Name("s")).P("host_groups", List({Name("g")})).C(B("subnet", Pfx("192.168.0.0/24"))))
                    .C(B("ip_pool", Name("papool"))
                           .P("site", Name("s"))
                           .P("subnet", Pfx("192.168.0.0/24"))
                           .P("range", Range(Addr("192.168.0.10"), Addr("192.168.0.20")))));
  out.push_back(B("mac_pool", Name("m")).P("range", Range(Mac("00:1d:d8:00:00:00"), Mac("00:1d:d8:00:00:ff"))));
  out.push_back(B("vm_network", Name("t"))
                    .P("logical_network", Name("pa"))
                    .P("isolation", Name("vxlan"))
                    .C(B("vm_subnet", Name("web")).P("subnet", Pfx("10.0.0.0/24")))
                    .C(B("ip_pool", Name("webpool")).P("vm_subnet", Name("web")).P("range", Range(Addr("10.0.0.10"), Addr("10.0.0.12")))));
  out.push_back(B("port_classification", Name("c")));
  out.push_back(B("port_profile", Name("pp")).C(B("bandwidth").P("minimum_weight", Int(10))));
  out.push_back(B("uplink_port_profile", Name("up")).P("sites", List({Name("s")})));
  out.push_back(B("logical_switch", Name("sw"))
                    .P("uplink_mode", Name("no_team"))
                    .P("uplinks", List({Name("up")}))
                    .C(B("virtual_port", Name("vp")).P("classification", Name("c")).P("profile", Name("pp"))));
  out.push_back(B("vm", Name("v1")).P("host", Name("h1")).C(B("nic").P("vm_network", Name("t")).P("classification", Name("c"))));
  return out;
}

struct Run {
  llvm::SourceMgr sm;
  DiagnosticEngine diags{sm};
  std::optional<model::Fabric> fabric;
  explicit Run(std::vector<ast::Block> blocks) {
    ast::Program p;
    p.files.emplace_back();
    p.files[0].path = "test.netdsl";
    p.files[0].blocks = std::move(blocks);
    fabric = Check(p, diags);
  }
  std::vector<DiagKind> Kinds() const {
    std::vector<DiagKind> out;
    for (const Diagnostic& d : diags.Sorted()) out.push_back(d.kind);
    return out;
  }
  bool Has(DiagKind k) const {
    auto ks = Kinds();
    return std::find(ks.begin(), ks.end(), k) != ks.end();
  }
  std::string Messages() const {
    std::string s;
    for (const Diagnostic& d : diags.Sorted()) s += d.message + "\n";
    return s;
  }
};

ast::Block& Find(std::vector<ast::Block>& blocks, const std::string& kind, const std::string& name) {
  for (ast::Block& b : blocks)
    if (b.kind == kind && b.label && b.label->text == name) return b;
  throw std::runtime_error("no block " + kind + " " + name);
}

}  // namespace

TEST_CASE("a valid fabric checks clean and builds the model") {
  Run r(Valid());
  INFO(r.Messages());
  REQUIRE(r.fabric);
  const model::Fabric& f = *r.fabric;
  CHECK(f.hosts.size() == 2);
  CHECK(f.host_groups[0].hosts == std::vector<uint32_t>{0, 1});
  CHECK(f.hosts[0].nics[0].logical_switch == 0);
  CHECK(f.vm_networks[0].isolation == model::Isolation::Vxlan);
  CHECK(f.vm_subnets[0].ip_pools == std::vector<uint32_t>{1});
  CHECK(f.ip_pools[1].subnet.ToString() == "10.0.0.0/24");
  REQUIRE(f.vms.size() == 1);
  CHECK(f.vms[0].nics[0].name == "nic0");
  CHECK(f.vms[0].nics[0].vm_subnet == 0);  // the only subnet is the default
  CHECK(f.port_profiles[0].bandwidth.minimum_weight == 10u);
  CHECK(f.input_files == std::vector<std::string>{"test.netdsl"});
}

TEST_CASE("host name ranges expand with the first bound's zero padding") {
  auto blocks = Valid();
  ast::Block& g = Find(blocks, "host_group", "g");
  ast::Block h = g.blocks[0];
  h.label = Name("rack1-h");
  h.name_range = ast::Block::NameRange{8, 11, 2, {}};
  g.blocks.push_back(h);
  Run r(blocks);
  INFO(r.Messages());
  REQUIRE(r.fabric);
  std::vector<std::string> names;
  for (const auto& host : r.fabric->hosts) names.push_back(host.name);
  CHECK(names == std::vector<std::string>{"h1", "h2", "rack1-h08", "rack1-h09", "rack1-h10", "rack1-h11"});
}

TEST_CASE("reversed and huge host ranges are diagnostics") {
  auto blocks = Valid();
  ast::Block& g = Find(blocks, "host_group", "g");
  ast::Block h = g.blocks[0];
  h.label = Name("r");
  h.name_range = ast::Block::NameRange{9, 3, 1, {}};
  g.blocks.push_back(h);
  h.label = Name("q");
  h.name_range = ast::Block::NameRange{0, 1000000, 1, {}};
  g.blocks.push_back(h);
  Run r(blocks);
  CHECK(!r.fabric);
  CHECK(r.Kinds() == std::vector<DiagKind>{DiagKind::InvalidNameRange, DiagKind::InvalidNameRange});
}

TEST_CASE("unknown keys and enum values suggest the closest spelling") {
  auto blocks = Valid();
  Find(blocks, "vm_network", "t").properties[1].value = Name("vxaln");
  B typo("logical_network", Name("x"));
  typo.P("network_virtualisation", Bool(true));
  blocks.push_back(typo);
  Run r(blocks);
  CHECK(r.Has(DiagKind::InvalidEnumValue));
  CHECK(r.Has(DiagKind::UnknownProperty));
  CHECK(r.Messages().find("did you mean `vxlan`?") != std::string::npos);
  CHECK(r.Messages().find("did you mean `network_virtualization`?") != std::string::npos);
}

TEST_CASE("an unresolved name does not cascade") {
  auto blocks = Valid();
  Find(blocks, "vm", "v1").blocks[0].properties[0].value = Name("tt");
  Run r(blocks);
  CHECK(r.Kinds() == std::vector<DiagKind>{DiagKind::UnresolvedName});
  CHECK(r.Messages().find("did you mean `t`?") != std::string::npos);
}

TEST_CASE("different VM networks may reuse CA space; one VM network may not") {
  auto blocks = Valid();
  ast::Block second = Find(blocks, "vm_network", "t");
  second.label = Name("t2");
  blocks.push_back(second);
  {
    Run r(blocks);
    INFO(r.Messages());
    CHECK(r.fabric);
  }
  Find(blocks, "vm_network", "t2").blocks.push_back(B("vm_subnet", Name("web2")).P("subnet", Pfx("10.0.0.128/25")));
  Run r(blocks);
  CHECK(r.Kinds() == std::vector<DiagKind>{DiagKind::OverlappingVmSubnets});
}

TEST_CASE("pool capacity counts reserved addresses and explicit claims") {
  auto blocks = Valid();
  // webpool hands out 10.0.0.10-12 (3 addresses); 4 NICs without ip need 4.
  for (int i = 2; i <= 4; ++i) {
    ast::Block vm = Find(blocks, "vm", "v1");
    vm.label = Name("v" + std::to_string(i));
    blocks.push_back(vm);
  }
  {
    Run r(blocks);
    CHECK(r.Kinds() == std::vector<DiagKind>{DiagKind::PoolTooSmall});
  }
  // An explicit address outside the pool frees one allocation.
  Find(blocks, "vm", "v4").blocks[0].properties.push_back([] {
    ast::Property p;
    p.key = "ip";
    p.value = Addr("10.0.0.99");
    return p;
  }());
  Run r(blocks);
  INFO(r.Messages());
  CHECK(r.fabric);
}

TEST_CASE("the overlap sweep finds nested and adjacent-but-disjoint cases correctly") {
  auto blocks = Valid();
  ast::Block& ln = Find(blocks, "logical_network", "pa");
  ln.blocks[0].blocks.push_back(B("subnet", Pfx("192.168.1.0/24")));  // adjacent: fine
  {
    Run r(blocks);
    INFO(r.Messages());
    CHECK(!r.Has(DiagKind::OverlappingSiteSubnets));
  }
  ln.blocks[0].blocks.push_back(B("subnet", Pfx("192.168.0.128/25")));  // nested: overlap
  Run r(blocks);
  CHECK(r.Has(DiagKind::OverlappingSiteSubnets));
}

TEST_CASE("schema helpers") {
  using namespace netdsl::sema;
  CHECK(ClosestName("vxaln", {"vxlan", "nvgre", "vlan", "none"}) == "vxlan");
  CHECK(ClosestName("completely-different", {"vxlan"}).empty());
  CHECK(FindSpec("", "host") != nullptr);
  CHECK(FindSpec("host", "nic") != nullptr);
  CHECK(FindSpec("", "nic") == nullptr);
  const BlockSpec* pool = FindSpec("logical_network", "ip_pool");
  REQUIRE(pool);
  CHECK(DescribeExpected(*FindKey(*pool, "subnet")) == "a CIDR prefix");
  CHECK(DescribeFound(Int(5)) == "integer `5`");
}

TEST_CASE("the sweep reports each interval overlapping an earlier one, and nothing for adjacent ones") {
  using netdsl::sema::Interval;
  std::vector<Interval<uint64_t>> items = {{10, 19, 0}, {20, 29, 1}, {0, 100, 2}, {50, 50, 3}, {200, 300, 4}};
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  netdsl::sema::SweepOverlaps(items, [&](const auto& a, const auto& b) { pairs.push_back({a.tag, b.tag}); },
                              [](const auto&, const auto&) { return true; });
  // Sorted by start: [0,100]#2 covers #0, #1 and #3; #4 is disjoint.
  CHECK(pairs == std::vector<std::pair<uint32_t, uint32_t>>{{2, 0}, {2, 1}, {2, 3}});
  pairs.clear();
  netdsl::sema::SweepOverlaps(std::vector<Interval<uint64_t>>{{0, 9, 0}, {10, 19, 1}},
                              [&](const auto& a, const auto& b) { pairs.push_back({a.tag, b.tag}); },
                              [](const auto&, const auto&) { return true; });
  CHECK(pairs.empty());
}

TEST_CASE("pool details and teaming reach the model") {
  auto blocks = Valid();
  ast::Block& ln = Find(blocks, "logical_network", "pa");
  B pool("ip_pool", Name("p2"));
  pool.P("site", Name("s"))
      .P("subnet", Pfx("192.168.0.0/24"))
      .P("range", Range(Addr("192.168.0.201"), Addr("192.168.0.250")))
      .P("gateway", Addr("192.168.0.1"))
      .P("dns", List({Addr("192.168.0.2"), Addr("192.168.0.3")}))
      .P("reserved", List({Addr("192.168.0.201")}))
      .P("vips", List({Addr("192.168.0.250")}));
  ln.blocks.push_back(pool);
  B up("uplink_port_profile", Name("up2"));
  up.P("sites", List({Name("s")})).C(B("teaming").P("mode", Name("lacp")).P("load_balancing", Name("address_hash")));
  blocks.push_back(up);
  Run r(blocks);
  INFO(r.Messages());
  REQUIRE(r.fabric);
  const model::IpPool& p = r.fabric->ip_pools[1];
  CHECK(p.name == "p2");
  CHECK(p.site == 0);
  CHECK(p.gateway->ToString() == "192.168.0.1");
  CHECK(p.dns.size() == 2);
  CHECK(p.reserved.size() == 1);
  CHECK(p.vips.size() == 1);
  CHECK(p.range_first.ToString() == "192.168.0.201");
  const model::UplinkPortProfile& u = r.fabric->uplink_port_profiles[1];
  REQUIRE(u.teaming);
  CHECK(u.teaming->mode == model::TeamingMode::Lacp);
  CHECK(u.teaming->load_balancing == model::LoadBalancing::AddressHash);
}

TEST_CASE("a site scoped to a parent group applies to hosts of child groups") {
  auto blocks = Valid();
  ast::Block& g = Find(blocks, "host_group", "g");
  B parent("host_group", Name("dc"));
  ast::Block child = g;
  child.label = Name("rack");
  parent.C(B("host_group", Name("unused")));
  parent.b.blocks.push_back(child);
  // Replace group g by dc { unused { } rack { h1 h2 } } and scope the site to dc.
  g = parent;
  Find(blocks, "logical_network", "pa").blocks[0].properties[0].value = List({Name("dc")});
  Run r(blocks);
  INFO(r.Messages());
  REQUIRE(r.fabric);
  CHECK(r.fabric->host_groups.size() == 3);
  CHECK(r.fabric->host_groups[2].parent == 0);
  CHECK(r.fabric->hosts[0].host_group == 2);
}

TEST_CASE("checking is deterministic") {
  auto blocks = Valid();
  Find(blocks, "vm", "v1").properties[0].value = Name("nowhere");
  blocks.push_back(B("mac_pool", Name("m2")).P("range", Range(Mac("01:00:00:00:00:00"), Mac("01:00:00:00:00:10"))));
  Run a(blocks), b(blocks);
  CHECK(a.Messages() == b.Messages());
  CHECK(!a.Messages().empty());
}
