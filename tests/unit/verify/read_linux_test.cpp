// verify's linux.yaml reader (compiler/verify/read_linux.h) reads what the
// runtime's strict reader reads, for every field verify uses, and refuses
// (so that verify falls back to the strict reader and its error) whatever
// the strict reader refuses in those fields.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "backends/linux/linux_backend.h"
#include "compiler/verify/read_linux.h"
#include "runtime/linux/plan_reader.h"
#include "tests/unit/linux_backend/fixtures.h"

namespace netdsl::verify {
namespace {

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The fields verify uses, as text (loc lines included).
std::string VerifyView(const runtime::HostState& s) {
  std::ostringstream o;
  o << "host " << s.host << "\n";
  for (const runtime::Link& l : s.links)
    o << "link " << l.name << " " << l.kind << " m=" << l.master << " iso=" << l.isolated << " mtu=" << l.mtu
      << " mac=" << (l.mac ? l.mac->ToString() : "-")
      << " vx=" << l.vxlan_id << "/" << (l.vxlan_local ? l.vxlan_local->ToString() : "-") << " gre=" << l.gretap_key
      << "/" << (l.gretap_local ? l.gretap_local->ToString() : "-") << "/"
      << (l.gretap_remote ? l.gretap_remote->ToString() : "-") << " vlan=" << l.vlan_link << "/" << l.vlan_id
      << " vrf=" << l.vrf_table << " veth=" << l.veth_peer << "/"
      << (l.veth_peer_mac ? l.veth_peer_mac->ToString() : "-") << "/" << l.veth_peer_mtu << "/"
      << l.veth_peer_master << " @" << l.loc.line << ":" << l.loc.col << "\n";
  for (const runtime::AdoptedNic& a : s.adopted) o << "adopted " << a.name << " " << a.master << " @" << a.loc.line << "\n";
  for (const runtime::Address& a : s.addresses)
    o << "address " << a.dev << " " << a.address.ToString() << "/" << int(a.prefix_length) << " @" << a.loc.line << "\n";
  for (const runtime::Route& r : s.routes)
    o << "route " << r.table << " " << r.dst.ToString() << " " << r.dev << " "
      << (r.via ? r.via->ToString() : "-") << " @" << r.loc.line << "\n";
  for (const runtime::FdbEntry& f : s.fdb)
    o << "fdb " << f.dev << " " << f.mac.ToString() << " " << f.dst.ToString() << " @" << f.loc.line << "\n";
  for (const runtime::Neighbour& n : s.neighbours)
    o << "neighbour " << n.dev << " " << n.address.ToString() << " " << n.mac.ToString() << " @" << n.loc.line << "\n";
  for (const runtime::NftTable* t : {&s.nft, &s.nft_nat}) {
    o << "nft " << t->present << " " << t->family << " " << t->table << "\n";
    for (const runtime::NftChain& c : t->chains)
      o << "chain " << c.name << " " << c.type << " " << c.hook << " " << c.priority << " " << c.policy << "\n";
    for (const runtime::NftRule& r : t->rules) o << "rule " << r.chain << " " << r.rule << "\n";
  }
  return o.str();
}

TEST_CASE("verify's reader reads the kept builds' plans as the strict reader does") {
  size_t plans = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::string(NETDSL_SOURCE_DIR) + "/tests/lit/verify/Inputs")) {
    if (entry.path().filename() != "linux.yaml") continue;
    CAPTURE(entry.path().string());
    std::string text = Slurp(entry.path());
    runtime::HostState strict, fast;
    std::vector<std::string> errors;
    REQUIRE(runtime::ReadPlan(text, entry.path().string(), &strict, &errors));
    REQUIRE(ReadLinuxForVerify(text, &fast));
    CHECK(VerifyView(fast) == VerifyView(strict));
    ++plans;
  }
  CHECK(plans >= 10);
}

TEST_CASE("verify's reader reads every plan the writer produces (it never falls back on them)") {
  using namespace backends::testing;
  std::vector<ir::HostIr> hosts = {SeedHost02(), VxlanHost()};
  hosts.push_back(NatGatewayHost());
  ir::HostIr hostile = SeedHost02();
  hostile.ports[0].vm = "a\"b\\c: d #e\u2028f\x01g";
  hostile.ports[0].nic = "[x], {y}";
  hosts.push_back(hostile);
  for (const ir::HostIr& h : hosts) {
    auto artifacts = backends::EmitLinux(h);
    REQUIRE(bool(artifacts));
    runtime::HostState strict, fast;
    std::vector<std::string> errors;
    REQUIRE(runtime::ReadPlan(artifacts->yaml, "linux.yaml", &strict, &errors));
    REQUIRE(ReadLinuxForVerify(artifacts->yaml, &fast));
    CHECK(VerifyView(fast) == VerifyView(strict));
  }
}

TEST_CASE("what the strict reader refuses in a field verify uses, verify's reader refuses too") {
  const std::string plan = Slurp(std::string(NETDSL_SOURCE_DIR) +
                                 "/tests/lit/verify/Inputs/defects/nat-two-tenants/hosts/gw/linux.yaml");
  runtime::HostState s;
  REQUIRE(ReadLinuxForVerify(plan, &s));
  auto edited = [&](const std::string& from, const std::string& to) {
    size_t at = plan.find(from);
    REQUIRE(at != std::string::npos);
    return plan.substr(0, at) + to + plan.substr(at + from.size());
  };
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"format: 1", "format: 2"},
           {"host: \"gw\"", "host: \"-gw\""},
           {"host: \"gw\"", "hostname: \"gw\""},
           {"    kind: bridge", "    kind: bridg"},
           {"    kind: bridge", "    kind: bridge\n    colour: red"},
           {"    kind: vrf", "    kind: bridge"},
           {"vrf: {table: ", "vrf: {table: 255, x: "},
           {"mtu: 1500", "mtu: 70000"},
           {"master: \"", "master: [\""},
           {"{dev: ", "{dev: nd-x, dev: "},
           {"address: 10.", "address: 300."},
           {"    - {name: ", "    - {nam: "},
           {"rule: \"", "rule: \"\", r: \""},
           {"family: ip", "family: bridge"},
           // Rules across objects (the strict reader's Validate).
           {"  - name: nd-edge-a1cb\n", "  - name: nd-edge-a1cb\n    kind: bridge\n  - name: nd-edge-a1cb\n"},
           {"    master: \"nd-vrf1001\"", "    master: \"nd-later\""},
           {"neighbours:\n", "neighbours:\n  - {dev: nd-nope, address: 10.9.9.9, mac: \"02:00:00:00:00:01\"}\n"},
           {"neighbours:\n", "neighbours:\n  - {dev: nd-vx5001, address: 10.0.1.10, mac: \"02:00:00:00:00:01\"}\n"},
           {"fdb:\n", "fdb:\n  - {dev: nd-br5001, mac: \"02:00:00:00:00:01\", dst: 172.16.0.12}\n"},
           {"addresses:\n", "addresses:\n  - {dev: nd-br5001, address: 10.0.1.1/24}\n"},
       }) {
    CAPTURE(to);
    std::string text = edited(from, to);
    runtime::HostState strict, fast;
    std::vector<std::string> errors;
    CHECK_FALSE(runtime::ReadPlan(text, "gw/linux.yaml", &strict, &errors));
    CHECK_FALSE(ReadLinuxForVerify(text, &fast));
  }
}

}  // namespace
}  // namespace netdsl::verify
