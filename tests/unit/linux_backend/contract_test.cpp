// Contract test: every linux.yaml the backend writes is accepted by the
// runtime's strict reader (runtime/linux/plan_reader.h), reads back to the
// same objects (one schema, common/linux_yaml/schema.h: the written value and
// the read value compare equal), and lists exactly the kernel features its
// objects need.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "backends/linux/linux_backend.h"
#include "backends/linux/linux_state.h"
#include "runtime/linux/plan_reader.h"
#include "tests/unit/linux_backend/fixtures.h"

using namespace netdsl;
using namespace netdsl::backends::testing;

namespace {

struct Case {
  const char* name;
  ir::HostIr ir;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  cases.push_back({"seed host02 (nvgre, bond, htb, tbf, guards)", SeedHost02()});
  cases.push_back({"vxlan with fdb and neighbours", VxlanHost()});
  ir::HostIr routed = SeedHost02();
  AddDbSubnet(routed);
  routed.segments[1].gateway.reset();
  routed.customer_routes.push_back(
      {1001, Pfx("0.0.0.0/0"), ir::CustomerRoute::Kind::Gateway, 0, Ip("10.0.2.254"), "gateway"});
  cases.push_back({"vrf with routes", routed});
  ir::HostIr nat = NatGatewayHost();
  nat.nat_rules[0].external_vlan = 40;
  nat.nat_rules[0].external_gateway = Ip("192.168.10.1");
  cases.push_back({"nat gateway", nat});
  ir::HostIr vlans = SeedHost02();
  vlans.provider_addresses[0].vlan = 20;
  vlans.segments[0].isolation = ir::Isolation::Vlan;
  vlans.segments[0].vlan = 100;
  vlans.segments[0].tunnel_ifname.clear();
  ir::Port none = vlans.ports[0];
  none.id = 9;
  none.ifname = "nd-p9";
  none.vsid = 0;
  none.vlan = 30;
  none.mac = Mac("00:1d:d8:b7:1c:09");
  vlans.ports.push_back(none);
  cases.push_back({"site vlans and vlan isolation", vlans});
  ir::HostIr managed = SeedHost02();
  managed.management = ir::Management{.nic = "Ethernet", .switch_name = managed.switches[0].name, .inherit = false,
                                      .address = Ip("10.20.0.11"), .prefix_length = 24, .gateway = Ip("10.20.0.1")};
  cases.push_back({"declared management adapter", managed});
  ir::HostIr inherit = SeedHost02();
  inherit.management = ir::Management{.nic = "Ethernet", .switch_name = inherit.switches[0].name};
  cases.push_back({"inherited management adapter", inherit});
  ir::HostIr empty;
  empty.host = "bare";
  cases.push_back({"no switches at all", empty});
  return cases;
}

}  // namespace

TEST_CASE("the runtime reads every linux.yaml the backend writes, with the features it needs") {
  for (Case& c : Cases()) {
    CAPTURE(c.name);
    llvm::Expected<backends::LinuxArtifacts> a = backends::EmitLinux(c.ir);
    REQUIRE(static_cast<bool>(a));
    runtime::HostState state;
    std::vector<std::string> errors;
    bool ok = runtime::ReadPlan(a->yaml, "linux.yaml", &state, &errors);
    for (const std::string& e : errors) MESSAGE(e);
    REQUIRE(ok);
    CHECK(state.host == c.ir.host);
    // Links and adopted NICs survive the round trip in order.
    YAML::Node y = YAML::Load(a->yaml);
    REQUIRE(state.links.size() == y["links"].size());
    for (size_t i = 0; i < state.links.size(); ++i) {
      CHECK(state.links[i].name == y["links"][i]["name"].as<std::string>());
      CHECK(state.links[i].master == y["links"][i]["master"].as<std::string>());
    }
    CHECK(state.adopted.size() == y["adopted"].size());
    CHECK(state.routes.size() == y["routes"].size());
    CHECK(state.fdb.size() == y["fdb"].size());
    CHECK(state.neighbours.size() == y["neighbours"].size());
    CHECK(state.qdiscs.size() == y["qdiscs"].size());
    // `requires` lists exactly what the objects need: no more, no less.
    std::vector<std::string> needed;
    for (const auto& [feature, why] : runtime::NeededFeatures(state)) needed.push_back(feature);
    std::sort(needed.begin(), needed.end());
    needed.erase(std::unique(needed.begin(), needed.end()), needed.end());
    CHECK(state.requires_ == needed);
  }
}

namespace {

/// The written state without what only linux.batch carries.
linux_yaml::Plan WithoutBatchComments(linux_yaml::Plan p) {
  for (linux_yaml::Link& l : p.links) l.comment.clear();
  for (linux_yaml::Qdisc& q : p.qdiscs)
    for (linux_yaml::HtbClass& c : q.classes) c.comment.clear();
  return p;
}

}  // namespace

TEST_CASE("written and read back, every linux.yaml is the same value (one schema)") {
  for (Case& c : Cases()) {
    CAPTURE(c.name);
    llvm::Expected<linux_yaml::Plan> built = backends::linux_backend::BuildLinuxState(c.ir);
    REQUIRE(static_cast<bool>(built));
    std::string yaml = backends::linux_backend::FormatLinuxYaml(*built);
    runtime::HostState state;  // the reader's type: the document plus what only the actual state has
    std::vector<std::string> errors;
    bool ok = runtime::ReadPlan(yaml, "linux.yaml", &state, &errors);
    linux_yaml::Plan& read = state;
    for (const std::string& e : errors) MESSAGE(e);
    REQUIRE(ok);
    read.nft.fingerprint = read.nft_nat.fingerprint = "";  // derived by the reader, not in the document
    linux_yaml::Plan written = WithoutBatchComments(*built);
    CHECK(read.links == written.links);
    CHECK(read.adopted == written.adopted);
    CHECK(read.addresses == written.addresses);
    CHECK(read.routes == written.routes);
    CHECK(read.fdb == written.fdb);
    CHECK(read.neighbours == written.neighbours);
    CHECK(read.qdiscs == written.qdiscs);
    CHECK(read.nft == written.nft);
    CHECK(read.nft_nat == written.nft_nat);
    CHECK(read.management == written.management);
    CHECK(read == written);  // and the header fields
  }
}

TEST_CASE("a VM port's identity round-trips; a different identity is a different value") {
  ir::HostIr host = SeedHost02();
  llvm::Expected<linux_yaml::Plan> built = backends::linux_backend::BuildLinuxState(host);
  REQUIRE(static_cast<bool>(built));
  linux_yaml::Plan plan = WithoutBatchComments(*built);
  linux_yaml::Link* port = nullptr;
  for (linux_yaml::Link& l : plan.links)
    if (l.kind == "veth") port = &l;
  REQUIRE(port != nullptr);
  port->identity = "web 01/nic0";
  runtime::HostState state;
  std::vector<std::string> errors;
  REQUIRE(runtime::ReadPlan(backends::linux_backend::FormatLinuxYaml(plan), "linux.yaml", &state, &errors));
  linux_yaml::Plan& read = state;
  read.nft.fingerprint = read.nft_nat.fingerprint = "";
  CHECK(read == plan);
  port->identity = "web02/nic0";
  CHECK_FALSE(read == plan);
}
