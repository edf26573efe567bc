// Contract test: every linux.yaml the backend writes is accepted by the
// runtime's strict reader (runtime/linux/plan_reader.h), reads back to the
// same objects, and lists exactly the kernel features its objects need.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "backends/linux/linux_backend.h"
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
  ir::HostIr nat = SeedHost02();
  AddDbSubnet(nat);
  ir::NatRule rule = Nat("tenant A", 1001, "192.168.10.41", {Pfx("10.0.1.0/24"), Pfx("10.0.2.0/24")});
  rule.external_switch = nat.switches[0].name;
  rule.external_prefix_length = 24;
  rule.external_vlan = 40;
  nat.nat_rules.push_back(rule);
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
