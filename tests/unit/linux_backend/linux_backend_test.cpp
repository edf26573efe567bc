// Linux backend: each mapping rule and determinism, on hand-built per-host IR
// (fixtures.h). The yaml is parsed back with yaml-cpp; safety_test.cpp has the
// hostile names and refusals.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "backends/linux/linux_backend.h"
#include "tests/unit/linux_backend/fixtures.h"
#include "tests/unit/linux_backend/helpers.h"

using namespace netdsl;
using namespace netdsl::backends;
using namespace netdsl::backends::testing;

TEST_CASE("seed host02: bridge over an active-backup bond over the adopted nic, PA on the bridge") {
  LinuxArtifacts a = Emit(SeedHost02());
  YAML::Node y = YAML::Load(a.yaml);
  CHECK(y["format"].as<int>() == 1);
  CHECK(y["host"].as<std::string>() == "host02");
  CHECK(y["generation"].as<int>() == 3);
  CHECK(y["owner"]["prefix"].as<std::string>() == "nd");
  CHECK(y["owner"]["alias"].as<std::string>() == "netdsl");
  CHECK(Strings(y["requires"]) ==
        std::vector<std::string>{"bond", "bridge", "gretap", "htb", "nft-bridge", "tbf", "veth"});
  YAML::Node br = Link(y, "nd-sw-3f2a");
  REQUIRE(br);
  CHECK(br["kind"].as<std::string>() == "bridge");
  CHECK(br["mtu"].as<int>() == 1500);
  CHECK(br["master"].as<std::string>() == "");
  YAML::Node bond = Link(y, "nd-bo-3f2a");
  REQUIRE(bond);
  CHECK(bond["master"].as<std::string>() == "nd-sw-3f2a");
  CHECK(bond["bond"]["mode"].as<std::string>() == "active-backup");
  CHECK(bond["bond"]["miimon"].as<int>() == 100);
  REQUIRE(y["adopted"].size() == 1);
  CHECK(y["adopted"][0]["name"].as<std::string>() == "Ethernet");
  CHECK(y["adopted"][0]["master"].as<std::string>() == "nd-bo-3f2a");
  REQUIRE(y["addresses"].size() == 1);
  CHECK(y["addresses"][0]["dev"].as<std::string>() == "nd-sw-3f2a");
  CHECK(y["addresses"][0]["address"].as<std::string>() == "192.168.0.11/24");
  // The veth's guest end has the VM NIC's MAC and MTU; the host end joins the segment bridge.
  YAML::Node port = Link(y, "nd-p1");
  REQUIRE(port);
  CHECK(port["kind"].as<std::string>() == "veth");
  CHECK(port["master"].as<std::string>() == "nd-br5001");
  CHECK(port["veth"]["peer"].as<std::string>() == "nd-p1g");
  CHECK(port["veth"]["peer_mac"].as<std::string>() == "00:1d:d8:b7:1c:00");
  CHECK(port["veth"]["peer_mtu"].as<int>() == 1458);
  CHECK(Link(y, "nd-br5001")["mtu"].as<int>() == 1458);
  // Bonds take slaves only while they are down.
  auto lines = Lines(a.batch);
  auto down = std::find(lines.begin(), lines.end(), "ip link set dev Ethernet down");
  auto master = std::find(lines.begin(), lines.end(), "ip link set dev Ethernet master nd-bo-3f2a");
  CHECK(down < master);
  CHECK(master != lines.end());
  CHECK(HasLine(a.batch, "ip link add nd-bo-3f2a mtu 1500 type bond mode active-backup xmit_hash_policy layer2 miimon 100"));
  CHECK(HasLine(a.batch, "ip address add 192.168.0.11/24 dev nd-sw-3f2a"));
  CHECK(HasLine(a.batch, "ip link add nd-p1 mtu 1458 type veth peer name nd-p1g address 00:1d:d8:b7:1c:00 mtu 1458"));
}

TEST_CASE("teaming mode x load balancing → bond mode and hash policy") {
  using TM = ir::TeamingMode;
  using LB = ir::LoadBalancing;
  struct Case { TM mode; LB lb; const char* bond_mode; const char* hash; };
  const Case cases[] = {
      {TM::SwitchIndependent, LB::HostDefault, "active-backup", "layer2"},
      {TM::SwitchIndependent, LB::HyperVPort, "active-backup", "layer2"},
      {TM::SwitchIndependent, LB::AddressHash, "balance-alb", "layer3+4"},
      {TM::SwitchIndependent, LB::Dynamic, "balance-alb", "layer3+4"},
      {TM::Lacp, LB::HostDefault, "802.3ad", "layer2"},
      {TM::Lacp, LB::HyperVPort, "802.3ad", "layer2"},
      {TM::Lacp, LB::AddressHash, "802.3ad", "layer3+4"},
      {TM::Lacp, LB::Dynamic, "802.3ad", "layer3+4"},
      {TM::Static, LB::HostDefault, "balance-xor", "layer2"},
      {TM::Static, LB::HyperVPort, "balance-xor", "layer2"},
      {TM::Static, LB::AddressHash, "balance-xor", "layer3+4"},
      {TM::Static, LB::Dynamic, "balance-xor", "layer3+4"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.bond_mode);
    CAPTURE(static_cast<int>(c.lb));
    ir::HostIr h = SeedHost02();
    h.switches[0].teaming = ir::Teaming{c.mode, c.lb};
    YAML::Node bond = Link(YAML::Load(Emit(h).yaml), "nd-bo-3f2a");
    REQUIRE(bond);
    CHECK(bond["bond"]["mode"].as<std::string>() == c.bond_mode);
    CHECK(bond["bond"]["xmit_hash_policy"].as<std::string>() == c.hash);
  }
  // No teaming block: VMM's defaults (switch independent, host default).
  ir::HostIr h = SeedHost02();
  h.switches[0].teaming.reset();
  h.switches[0].uplink_mode = ir::UplinkMode::EmbeddedTeam;
  CHECK(Link(YAML::Load(Emit(h).yaml), "nd-bo-3f2a")["bond"]["mode"].as<std::string>() == "active-backup");
}

TEST_CASE("two uplinks in a team are both adopted by the bond; without a bond they join the bridge") {
  ir::HostIr h = SeedHost02();
  h.switches[0].uplinks.push_back({"Ethernet2", "uplink port profile", {0}});
  YAML::Node y = YAML::Load(Emit(h).yaml);
  REQUIRE(y["adopted"].size() == 2);
  CHECK(y["adopted"][1]["name"].as<std::string>() == "Ethernet2");
  CHECK(y["adopted"][1]["master"].as<std::string>() == "nd-bo-3f2a");
  h.switches[0].bond_ifname.clear();
  h.switches[0].uplink_mode = ir::UplinkMode::NoTeam;
  h.switches[0].teaming.reset();
  LinuxArtifacts a = Emit(h);
  y = YAML::Load(a.yaml);
  CHECK_FALSE(Link(y, "nd-bo-3f2a"));
  CHECK(y["adopted"][0]["master"].as<std::string>() == "nd-sw-3f2a");
  CHECK(y["adopted"][1]["master"].as<std::string>() == "nd-sw-3f2a");
  CHECK_FALSE(HasLine(a.batch, "ip link set dev Ethernet down"));
  // No bond: no htb (the uplink is not ours to shape) and no `bond` requirement.
  for (const std::string& f : Strings(y["requires"])) {
    CHECK(f != "bond");
    CHECK(f != "htb");
  }
}

TEST_CASE("vxlan segment: id = VSID, local = PA, dstport 4789, no learning; fdb, flood and neighbour sets") {
  LinuxArtifacts a = Emit(VxlanHost());
  YAML::Node y = YAML::Load(a.yaml);
  YAML::Node vx = Link(y, "nd-vx5001");
  REQUIRE(vx);
  CHECK(vx["kind"].as<std::string>() == "vxlan");
  CHECK(vx["master"].as<std::string>() == "nd-br5001");
  CHECK(vx["mtu"].as<int>() == 1450);
  CHECK(vx["vxlan"]["id"].as<int>() == 5001);
  CHECK(vx["vxlan"]["local"].as<std::string>() == "192.168.0.11");
  CHECK(vx["vxlan"]["dstport"].as<int>() == 4789);
  CHECK(vx["vxlan"]["learning"].as<bool>() == false);
  CHECK(Link(y, "nd-br5001")["mtu"].as<int>() == 1450);
  CHECK(Link(y, "nd-sw-3f2a")["mtu"].as<int>() == 1500);

  std::vector<std::string> fdb;
  for (const YAML::Node& e : y["fdb"])
    fdb.push_back(e["dev"].as<std::string>() + " " + e["mac"].as<std::string>() + " " + e["dst"].as<std::string>());
  // Sorted by (dev, mac, dst); one flood entry per remote PA, even one with no NIC records yet.
  CHECK(fdb == std::vector<std::string>{
                   "nd-vx5001 00:00:00:00:00:00 192.168.0.10",
                   "nd-vx5001 00:00:00:00:00:00 192.168.0.12",
                   "nd-vx5001 00:1d:d8:b7:1c:01 192.168.0.10",
                   "nd-vx5001 00:1d:d8:b7:1c:02 192.168.0.10",
               });
  std::vector<std::string> neigh;
  for (const YAML::Node& n : y["neighbours"])
    neigh.push_back(n["dev"].as<std::string>() + " " + n["address"].as<std::string>() + " " +
                    n["mac"].as<std::string>());
  // The local NIC (10.0.1.10) is not a neighbour.
  CHECK(neigh == std::vector<std::string>{"nd-vx5001 10.0.1.11 00:1d:d8:b7:1c:01",
                                          "nd-vx5001 10.0.1.12 00:1d:d8:b7:1c:02"});
  CHECK(HasLine(a.batch, "ip link add nd-vx5001 mtu 1450 type vxlan id 5001 local 192.168.0.11 dstport 4789 nolearning ttl 64"));
  CHECK(HasLine(a.batch, "bridge fdb append 00:00:00:00:00:00 dev nd-vx5001 dst 192.168.0.12 self permanent"));
  CHECK(HasLine(a.batch, "bridge fdb append 00:1d:d8:b7:1c:02 dev nd-vx5001 dst 192.168.0.10 self permanent"));
  CHECK(HasLine(a.batch, "ip neigh replace 10.0.1.12 lladdr 00:1d:d8:b7:1c:02 dev nd-vx5001 nud permanent"));
  auto req = Strings(y["requires"]);
  CHECK(std::count(req.begin(), req.end(), "vxlan") == 1);
  CHECK(std::count(req.begin(), req.end(), "gretap") == 0);
  // One vxlan device per segment never forwards between its remotes: no isolation.
  CHECK(a.yaml.find("isolated") == std::string::npos);
  CHECK(CountContaining(a.batch, "isolated") == 0);
}

TEST_CASE("nvgre segment: one point-to-point gretap per remote PA, isolated, key = VSID << 8, no fdb") {
  ir::HostIr h = VxlanHost();
  h.segments[0].isolation = ir::Isolation::Nvgre;
  LinuxArtifacts a = Emit(h);
  YAML::Node y = YAML::Load(a.yaml);
  std::vector<YAML::Node> gretaps;
  for (const YAML::Node& l : y["links"])
    if (l["kind"].as<std::string>() == "gretap") gretaps.push_back(l);
  REQUIRE(gretaps.size() == 2);
  std::set<std::string> remotes;
  for (const YAML::Node& g : gretaps) {
    CHECK(g["master"].as<std::string>() == "nd-br5001");
    CHECK(g["gretap"]["key"].as<uint32_t>() == (5001u << 8));
    CHECK(g["gretap"]["local"].as<std::string>() == "192.168.0.11");
    // Split horizon: no tunnel port forwards to another (issue 11, defect 1).
    CHECK(g["isolated"].as<bool>());
    CHECK(CountContaining(a.batch, "ip link set dev " + g["name"].as<std::string>() + " type bridge_slave isolated on") == 1);
    CHECK(g["name"].as<std::string>().size() == 15);
    CHECK(g["name"].as<std::string>().rfind("ndg003ux", 0) == 0);  // 5001 = 3ux in base 36
    remotes.insert(g["gretap"]["remote"].as<std::string>());
  }
  CHECK(remotes == std::set<std::string>{"192.168.0.10", "192.168.0.12"});
  CHECK(gretaps[0]["name"].as<std::string>() != gretaps[1]["name"].as<std::string>());
  CHECK(y["fdb"].size() == 0);
  // Neighbours sit on the tunnel to the NIC's host.
  std::string to_10;
  for (const YAML::Node& g : gretaps)
    if (g["gretap"]["remote"].as<std::string>() == "192.168.0.10") to_10 = g["name"].as<std::string>();
  REQUIRE(y["neighbours"].size() == 2);
  for (const YAML::Node& n : y["neighbours"]) CHECK(n["dev"].as<std::string>() == to_10);
  CHECK(CountContaining(a.batch, "type gretap key 1280256 local 192.168.0.11 remote 192.168.0.1") == 2);
  // 192.168.0.10 = 3232235530 = 1hge0wa in base 36.
  CHECK(to_10 == "ndg003ux1hge0wa");
  CHECK(CountContaining(a.batch, "bridge fdb") == 0);
  CHECK_FALSE(Link(y, "nd-vx5001"));
}

TEST_CASE("a routing domain becomes a VRF only when the host routes it") {
  SUBCASE("one subnet: no vrf, no gateway address, no routes") {
    YAML::Node y = YAML::Load(Emit(SeedHost02()).yaml);
    for (const YAML::Node& l : y["links"]) CHECK(l["kind"].as<std::string>() != "vrf");
    CHECK(Link(y, "nd-br5001")["master"].as<std::string>() == "");
    CHECK(Link(y, "nd-br5001")["mac"].as<std::string>() == "");
    CHECK(y["routes"].size() == 0);
    CHECK(y["addresses"].size() == 1);
  }
  SUBCASE("two subnets: vrf with table = rdid, bridges enslaved, gateway addresses") {
    ir::HostIr h = SeedHost02();
    AddDbSubnet(h);
    LinuxArtifacts a = Emit(h);
    YAML::Node y = YAML::Load(a.yaml);
    YAML::Node vrf = Link(y, "nd-vrf1001");
    REQUIRE(vrf);
    CHECK(vrf["kind"].as<std::string>() == "vrf");
    CHECK(vrf["vrf"]["table"].as<int>() == 1001);
    CHECK(Link(y, "nd-br5001")["master"].as<std::string>() == "nd-vrf1001");
    CHECK(Link(y, "nd-br6001")["master"].as<std::string>() == "nd-vrf1001");
    // Anycast gateway: the same MAC on every host, from the RDID (1001 = 0x3e9).
    CHECK(Link(y, "nd-br5001")["mac"].as<std::string>() == "02:6e:64:00:03:e9");
    CHECK(Link(y, "nd-br6001")["mac"].as<std::string>() == "02:6e:64:00:03:e9");
    CHECK(HasLine(a.batch, "ip link add nd-br5001 mtu 1458 address 02:6e:64:00:03:e9 type bridge"));
    std::vector<std::string> addrs;
    for (const YAML::Node& ad : y["addresses"])
      addrs.push_back(ad["dev"].as<std::string>() + " " + ad["address"].as<std::string>());
    CHECK(addrs == std::vector<std::string>{"nd-br5001 10.0.1.1/24", "nd-br6001 10.0.2.1/24",
                                            "nd-sw-3f2a 192.168.0.11/24"});
    // Connected routes come from the gateway addresses; no duplicate on-link routes.
    CHECK(y["routes"].size() == 0);
    CHECK(HasLine(a.batch, "ip link add nd-vrf1001 mtu 65535 type vrf table 1001"));
    CHECK(HasLine(a.batch, "ip link set dev nd-br5001 master nd-vrf1001"));
    auto req = Strings(y["requires"]);
    CHECK(std::count(req.begin(), req.end(), "vrf") == 1);
  }
  SUBCASE("a subnet without a gateway gets an explicit on-link route into the vrf table") {
    ir::HostIr h = SeedHost02();
    AddDbSubnet(h);
    h.segments[1].gateway.reset();
    LinuxArtifacts a = Emit(h);
    YAML::Node y = YAML::Load(a.yaml);
    REQUIRE(y["routes"].size() == 1);
    CHECK(y["routes"][0]["table"].as<int>() == 1001);
    CHECK(y["routes"][0]["dst"].as<std::string>() == "10.0.2.0/24");
    CHECK(y["routes"][0]["dev"].as<std::string>() == "nd-br6001");
    CHECK(y["routes"][0]["via"].as<std::string>() == "");
    CHECK(HasLine(a.batch, "ip route add 10.0.2.0/24 dev nd-br6001 table 1001"));
  }
  SUBCASE("default route via a gateway CA on a local subnet") {
    ir::HostIr h = SeedHost02();
    AddDbSubnet(h);
    h.customer_routes.push_back(
        {1001, Pfx("0.0.0.0/0"), ir::CustomerRoute::Kind::Gateway, 0, Ip("10.0.2.254"), "gateway"});
    LinuxArtifacts a = Emit(h);
    YAML::Node y = YAML::Load(a.yaml);
    REQUIRE(y["routes"].size() == 1);
    CHECK(y["routes"][0]["dst"].as<std::string>() == "0.0.0.0/0");
    CHECK(y["routes"][0]["via"].as<std::string>() == "10.0.2.254");
    CHECK(y["routes"][0]["dev"].as<std::string>() == "nd-br6001");
    CHECK(HasLine(a.batch, "ip route add 0.0.0.0/0 via 10.0.2.254 dev nd-br6001 table 1001"));
  }
}

TEST_CASE("nat duty: inside the routing domain's vrf, through a veth onto the external switch") {
  ir::HostIr h = SeedHost02();
  ir::NatRule rule = Nat("tenant A", 1001, "192.168.10.41", {Pfx("10.0.1.0/24"), Pfx("10.0.2.0/24")});
  // Without the external side in the IR there is nowhere to put the address: no nat.
  h.nat_rules.push_back(rule);
  CHECK_FALSE(YAML::Load(Emit(h).yaml)["nftables_nat"]);
  rule.external_switch = h.switches[0].name;
  rule.external_prefix_length = 24;
  rule.external_gateway = Ip("192.168.10.1");
  h.nat_rules = {rule};
  LinuxArtifacts a = Emit(h);
  YAML::Node y = YAML::Load(a.yaml);
  YAML::Node vrf = Link(y, "nd-vrf1001");
  REQUIRE(vrf);
  CHECK(vrf["forwarding"].as<bool>());
  YAML::Node veth = Link(y, "nd-n1001");
  REQUIRE(veth);
  CHECK(veth["kind"].as<std::string>() == "veth");
  CHECK(veth["master"].as<std::string>() == "nd-vrf1001");
  CHECK(veth["forwarding"].as<bool>());
  CHECK(veth["veth"]["peer"].as<std::string>() == "nd-n1001x");
  CHECK(veth["veth"]["peer_master"].as<std::string>() == "nd-sw-3f2a");
  CHECK_FALSE(Link(y, "nd-p1")["veth"]["peer_master"]);  // VM ports: no peer master
  CHECK_FALSE(Link(y, "nd-sw-3f2a")["forwarding"]);      // the switch does not route
  // The external address on the veth, in the VRF; the VRF's default route out through it.
  std::vector<std::string> addrs, routes;
  for (const YAML::Node& ad : y["addresses"])
    addrs.push_back(ad["dev"].as<std::string>() + " " + ad["address"].as<std::string>());
  CHECK(addrs == std::vector<std::string>{"nd-br5001 10.0.1.1/24", "nd-n1001 192.168.10.41/24",
                                          "nd-sw-3f2a 192.168.0.11/24"});
  for (const YAML::Node& r : y["routes"])
    routes.push_back(r["table"].as<std::string>() + " " + r["dst"].as<std::string>() + " " +
                     r["dev"].as<std::string>() + " " + r["via"].as<std::string>());
  // Nothing in the main table: replies come back into the VRF on the veth.
  CHECK(routes == std::vector<std::string>{"1001 0.0.0.0/0 nd-n1001 192.168.10.1"});
  YAML::Node nat = y["nftables_nat"];
  REQUIRE(nat);
  CHECK(nat["family"].as<std::string>() == "ip");
  CHECK(nat["table"].as<std::string>() == "netdsl_nat");
  REQUIRE(nat["chains"].size() == 2);
  CHECK(nat["chains"][0]["name"].as<std::string>() == "zones");
  CHECK_FALSE(nat["chains"][0]["type"]);  // filter, the default
  CHECK(nat["chains"][0]["hook"].as<std::string>() == "prerouting");
  CHECK(nat["chains"][0]["priority"].as<int>() == -300);
  CHECK(nat["chains"][1]["type"].as<std::string>() == "nat");
  CHECK(nat["chains"][1]["hook"].as<std::string>() == "postrouting");
  std::vector<std::string> rules;
  for (const YAML::Node& r : nat["rules"]) rules.push_back(r["chain"].as<std::string>() + ": " + r["rule"].as<std::string>());
  CHECK(rules == std::vector<std::string>{
                     "zones: iifname \"nd-br5001\" ct zone set 1001",
                     "zones: iifname \"nd-n1001\" ct zone set 1001",
                     "postrouting: oifname \"nd-n1001\" ip saddr 10.0.1.0/24 snat to 192.168.10.41",
                     "postrouting: oifname \"nd-n1001\" ip saddr 10.0.2.0/24 snat to 192.168.10.41",
                 });
  CHECK(nat["rules"][0]["comment"].as<std::string>() == "nat vm network tenant%20A");
  CHECK(HasLine(a.batch, "nft add table ip netdsl_nat"));
  CHECK(HasLine(a.batch, "nft add chain ip netdsl_nat zones '{ type filter hook prerouting priority -300; policy accept; }'"));
  CHECK(HasLine(a.batch, "nft add chain ip netdsl_nat postrouting '{ type nat hook postrouting priority 100; policy accept; }'"));
  CHECK(HasLine(a.batch, "ip link set dev nd-n1001x master nd-sw-3f2a"));
  CHECK(HasLine(a.batch, "ip link set dev nd-n1001x up"));
  CHECK(HasLine(a.batch, "sysctl -qw net/ipv4/conf/nd-n1001/forwarding=1"));
  CHECK(HasLine(a.batch, "ip route add 0.0.0.0/0 via 192.168.10.1 dev nd-n1001 table 1001"));
  auto req = Strings(y["requires"]);
  CHECK(std::count(req.begin(), req.end(), "nft-nat") == 1);
  // No nat duty, no nat table.
  CHECK_FALSE(YAML::Load(Emit(SeedHost02()).yaml)["nftables_nat"]);
}

TEST_CASE("nat duty: two domains with the same prefix on one host, each in its own zone") {
  ir::HostIr h = SeedHost02();
  AddDbSubnet(h);
  ir::RoutingDomain other = h.routing_domains[0];
  other.rdid = 1002;
  other.vm_network = "tenant B";
  other.vrf_ifname = "";
  other.table = 0;
  h.routing_domains.push_back(other);
  for (auto [name, rdid, ext] : {std::tuple{"tenant A", 1001u, "192.168.10.41"}, std::tuple{"tenant B", 1002u, "192.168.10.42"}}) {
    ir::NatRule rule = Nat(name, rdid, ext, {Pfx("10.0.1.0/24")});
    rule.external_switch = h.switches[0].name;
    rule.external_prefix_length = 24;
    h.nat_rules.push_back(rule);
  }
  YAML::Node y = YAML::Load(Emit(h).yaml);
  REQUIRE(Link(y, "nd-n1001"));
  REQUIRE(Link(y, "nd-n1002"));
  std::vector<std::string> rules;
  for (const YAML::Node& r : y["nftables_nat"]["rules"]) rules.push_back(r["rule"].as<std::string>());
  CHECK(std::count(rules.begin(), rules.end(), "iifname \"nd-n1001\" ct zone set 1001") == 1);
  CHECK(std::count(rules.begin(), rules.end(), "iifname \"nd-n1002\" ct zone set 1002") == 1);
  CHECK(std::count(rules.begin(), rules.end(), "oifname \"nd-n1002\" ip saddr 10.0.1.0/24 snat to 192.168.10.42") == 1);
  for (const YAML::Node& r : y["routes"]) CHECK(r["table"].as<int>() != 254);
  // rdids that give one conntrack zone are refused (validate says so first: ND3103).
  h.routing_domains[1].rdid = 1001 + 65536;
  h.nat_rules[1].rdid = 1001 + 65536;
  CHECK(Refusal(h).find("conntrack zone 1001") != std::string::npos);
}

TEST_CASE("nat duty: on a tagged external site the peer joins the site VLAN's bridge") {
  ir::HostIr h = SeedHost02();
  ir::NatRule nat = Nat("tenant A", 1001, "192.168.10.41", {Pfx("10.0.1.0/24")});
  nat.external_switch = h.switches[0].name;
  nat.external_prefix_length = 24;
  nat.external_vlan = 30;
  h.nat_rules.push_back(nat);
  YAML::Node y = YAML::Load(Emit(h).yaml);
  YAML::Node veth = Link(y, "nd-n1001");
  REQUIRE(veth);
  std::string bridge = veth["veth"]["peer_master"].as<std::string>();
  YAML::Node b = Link(y, bridge);
  REQUIRE(b);
  CHECK(b["kind"].as<std::string>() == "bridge");
  bool vlan_in_bridge = false;
  for (const YAML::Node& l : y["links"])
    vlan_in_bridge |= l["kind"].as<std::string>() == "vlan" && l["master"].as<std::string>() == bridge &&
                      l["vlan"]["id"].as<int>() == 30 && l["vlan"]["link"].as<std::string>() == "nd-sw-3f2a";
  CHECK(vlan_in_bridge);
  // A switch the host lacks is refused.
  h.nat_rules[0].external_switch = "elsewhere";
  CHECK(Refusal(h).find("switch `elsewhere`") != std::string::npos);
}

TEST_CASE("bandwidth maximum → tbf on the port; none without a maximum") {
  ir::HostIr h = SeedHost02();
  LinuxArtifacts a = Emit(h);
  YAML::Node y = YAML::Load(a.yaml);
  YAML::Node tbf;
  for (const YAML::Node& q : y["qdiscs"])
    if (q["dev"].as<std::string>() == "nd-p1") tbf = q;
  REQUIRE(tbf);
  CHECK(tbf["kind"].as<std::string>() == "tbf");
  CHECK(tbf["rate_bps"].as<uint64_t>() == 1'000'000'000u);
  CHECK(tbf["burst_bytes"].as<uint64_t>() == 125'000u);
  CHECK(tbf["latency_us"].as<uint64_t>() == 50'000u);
  CHECK(HasLine(a.batch, "tc qdisc replace dev nd-p1 root tbf rate 1000000000bit burst 125000 latency 50000us"));
  // Slow ports still get a burst of at least one frame.
  h.policies[0].maximum = 1'000'000;
  YAML::Node slow = YAML::Load(Emit(h).yaml);
  for (const YAML::Node& q : slow["qdiscs"])
    if (q["dev"].as<std::string>() == "nd-p1") CHECK(q["burst_bytes"].as<uint64_t>() == 1458u + 14u);
  h.policies[0].maximum.reset();
  for (const YAML::Node& q : YAML::Load(Emit(h).yaml)["qdiscs"]) CHECK(q["kind"].as<std::string>() != "tbf");
}

TEST_CASE("minimum bandwidth → htb on the bond: classes in proportion to weights, selected by nft priority") {
  ir::HostIr h = SeedHost02();
  AddDbSubnet(h);
  ir::PortPolicy heavy = h.policies[0];
  heavy.profile = "Heavy";
  heavy.minimum_weight = 3;
  heavy.maximum.reset();
  h.policies.push_back(heavy);
  h.ports[1].policy = 1;
  LinuxArtifacts a = Emit(h);
  YAML::Node y = YAML::Load(a.yaml);
  YAML::Node htb;
  for (const YAML::Node& q : y["qdiscs"])
    if (q["dev"].as<std::string>() == "nd-bo-3f2a") htb = q;
  REQUIRE(htb);
  CHECK(htb["kind"].as<std::string>() == "htb");
  CHECK(htb["default_class"].as<int>() == 2);
  REQUIRE(htb["classes"].size() == 4);
  YAML::Node root = htb["classes"][0];
  CHECK(root["minor"].as<int>() == 1);
  CHECK_FALSE(root["parent"]);
  const uint64_t link = root["rate_bps"].as<uint64_t>();
  CHECK(root["ceil_bps"].as<uint64_t>() == link);
  YAML::Node p1 = htb["classes"][2], p2 = htb["classes"][3];
  CHECK(p1["minor"].as<int>() == 0x11);
  CHECK(p2["minor"].as<int>() == 0x12);
  CHECK(p1["parent"].as<int>() == 1);
  // Weights 1 and 3 of 100: 1 % and 3 % of the link.
  CHECK(p1["rate_bps"].as<uint64_t>() == link / 100);
  CHECK(p2["rate_bps"].as<uint64_t>() == link / 100 * 3);
  CHECK(p1["ceil_bps"].as<uint64_t>() == 1'000'000'000u);  // its maximum
  CHECK(p2["ceil_bps"].as<uint64_t>() == link);
  CHECK(htb["classes"][1]["rate_bps"].as<uint64_t>() == link - link / 100 * 4);
  CHECK(HasLine(a.batch, "tc qdisc replace dev nd-bo-3f2a root handle 1: htb default 2"));
  CHECK(HasLine(a.batch, "tc class replace dev nd-bo-3f2a parent 1:1 classid 1:12 htb rate 300000000bit ceil 10000000000bit"));
  CHECK(HasLine(a.batch, "nft add rule bridge netdsl forward 'iifname \"nd-p2\" meta priority set 1:12 comment \"minimum bandwidth db01/nic0\"'"));

  SUBCASE("absolute minimums are taken as they are") {
    h.switches[0].minimum_bandwidth_mode = ir::MinimumBandwidthMode::Absolute;
    for (ir::PortPolicy& p : h.policies) {
      p.minimum_weight.reset();
      p.minimum_absolute = 250'000'000;
    }
    YAML::Node y2 = YAML::Load(Emit(h).yaml);
    for (const YAML::Node& q : y2["qdiscs"])
      if (q["kind"].as<std::string>() == "htb") {
        CHECK(q["classes"][2]["rate_bps"].as<uint64_t>() == 250'000'000u);
        CHECK(q["classes"][3]["rate_bps"].as<uint64_t>() == 250'000'000u);
      }
  }
  SUBCASE("minimum bandwidth mode none: no htb") {
    h.switches[0].minimum_bandwidth_mode = ir::MinimumBandwidthMode::None;
    LinuxArtifacts b = Emit(h);
    for (const YAML::Node& q : YAML::Load(b.yaml)["qdiscs"]) CHECK(q["kind"].as<std::string>() != "htb");
    CHECK(CountContaining(b.batch, "meta priority") == 0);
  }
}

TEST_CASE("each nft guard appears exactly when the port policy asks for it: one rule per kind, the port in its sets") {
  struct Guard { const char* name; std::string rule; };
  const std::vector<Guard> guards = {
      {"mac", "iifname @mac_guarded iifname . ether saddr != @mac_allowed drop"},
      {"mac-arp", "iifname @mac_guarded iifname . arp saddr ether != @mac_allowed drop"},
      {"dhcp", "iifname @dhcp_guarded udp sport 67 drop"},
      {"dhcp6", "iifname @dhcp_guarded udp sport 547 drop"},
      {"ra", "iifname @router_guarded icmpv6 type nd-router-advert drop"},
      {"redirect6", "iifname @router_guarded icmpv6 type nd-redirect drop"},
      {"redirect4", "iifname @router_guarded icmp type redirect drop"},
      {"ip", "iifname @ip4_guarded ip saddr != 0.0.0.0 iifname . ip saddr != @ip4_allowed drop"},
      {"ip-arp", "iifname @ip4_guarded arp saddr ip != 0.0.0.0 iifname . arp saddr ip != @ip4_allowed drop"},
  };
  for (int bits = 0; bits < 16; ++bits) {
    ir::HostIr h = SeedHost02();
    ir::PortPolicy& p = h.policies[0];
    p.mac_spoofing = bits & 1;
    p.dhcp_guard = bits & 2;
    p.router_guard = bits & 4;
    p.guest_specified_ip = bits & 8;
    std::set<std::string> expected;
    std::map<std::string, std::vector<std::string>> expected_sets;
    if (!p.mac_spoofing) {
      expected.insert({"mac", "mac-arp"});
      expected_sets["mac_guarded"] = {"nd-p1"};
      expected_sets["mac_allowed"] = {"nd-p1 . 00:1d:d8:b7:1c:00"};
    }
    if (p.dhcp_guard) expected.insert({"dhcp", "dhcp6"}), expected_sets["dhcp_guarded"] = {"nd-p1"};
    if (p.router_guard) expected.insert({"ra", "redirect6", "redirect4"}), expected_sets["router_guarded"] = {"nd-p1"};
    if (!p.guest_specified_ip) {
      expected.insert({"ip", "ip-arp"});
      expected_sets["ip4_guarded"] = {"nd-p1"};
      expected_sets["ip4_allowed"] = {"nd-p1 . 10.0.1.10"};
    }
    YAML::Node y = YAML::Load(Emit(h).yaml);
    std::multiset<std::string> forward, input;
    for (const YAML::Node& r : y["nftables"]["rules"]) {
      std::string rule = r["rule"].as<std::string>();
      if (r["comment"].as<std::string>().find("guard") == std::string::npos) continue;  // e.g. minimum bandwidth
      CHECK(rule.find("nd-p1") == std::string::npos);  // ports are in the sets, never in a guard rule
      bool known = false;
      for (const Guard& g : guards)
        if (rule == g.rule) {
          known = true;
          (r["chain"].as<std::string>() == "forward" ? forward : input).insert(g.name);
        }
      CHECK_MESSAGE(known, rule);
    }
    std::map<std::string, std::vector<std::string>> sets;
    if (y["nftables"]["sets"])
      for (const auto& entry : y["nftables"]["sets"])
        sets[entry.first.as<std::string>()] = Strings(entry.second["elements"]);
    CAPTURE(bits);
    CHECK(std::set<std::string>(forward.begin(), forward.end()) == expected);
    CHECK(std::set<std::string>(input.begin(), input.end()) == expected);
    CHECK(forward.size() == expected.size());
    CHECK(input.size() == expected.size());
    CHECK(sets == expected_sets);
  }
}

TEST_CASE("many ports: the guard rules do not grow with them, the sets do") {
  auto guard_rules = [](const YAML::Node& y) {
    size_t n = 0;
    for (const YAML::Node& r : y["nftables"]["rules"]) n += r["comment"].as<std::string>().find(" guard") != std::string::npos;
    return n;
  };
  ir::HostIr h = SeedHost02();
  const size_t before = guard_rules(YAML::Load(Emit(h).yaml));
  CHECK(before > 0);
  for (uint32_t i = 2; i <= 200; ++i) {
    ir::Port port = h.ports[0];
    port.id = i;
    port.ifname = "nd-p" + std::to_string(i);
    port.vm = "vm" + std::to_string(i);
    port.mac.bytes[5] = static_cast<uint8_t>(i);
    port.ca.bytes[15] = static_cast<uint8_t>(i);
    h.ports.push_back(port);
  }
  YAML::Node y = YAML::Load(Emit(h).yaml);
  CHECK(guard_rules(y) == before);
  CHECK(y["nftables"]["sets"]["mac_allowed"]["elements"].size() == 200);
}

TEST_CASE("gretap names stay distinct for many remote PAs, IPv4 and IPv6") {
  ir::HostIr h = SeedHost02();
  h.segments[0].remote_pas.clear();
  for (uint32_t i = 0; i < 600; ++i) h.segments[0].remote_pas.push_back(net::IpAddress::V4(0xC0A80000u + 20 + i));
  for (uint32_t i = 0; i < 100; ++i) {
    net::IpAddress v6 = Ip("2001:db8::");
    v6.bytes[15] = static_cast<uint8_t>(i);
    v6.bytes[14] = static_cast<uint8_t>(i * 7);
    h.segments[0].remote_pas.push_back(v6);
  }
  h.segments[0].vsid = 16777214;  // the largest VSID
  h.ports[0].vsid = 16777214;
  h.lookup_records.clear();
  YAML::Node y = YAML::Load(Emit(h).yaml);
  std::set<std::string> names;
  for (const YAML::Node& l : y["links"])
    if (l["kind"].as<std::string>() == "gretap") {
      CHECK(l["name"].as<std::string>().size() == 15);
      names.insert(l["name"].as<std::string>());
    }
  CHECK(names.size() == 700);
}

TEST_CASE("on a routing host, packets a VM sends to the host are for the domain's local subnets") {
  auto guard_rules = [](const YAML::Node& y) {
    std::vector<std::string> out;
    for (const YAML::Node& r : y["nftables"]["rules"])
      if (r["comment"].as<std::string>().rfind("routing domain guard", 0) == 0)
        out.push_back(r["chain"].as<std::string>() + ": " + r["rule"].as<std::string>());
    return out;
  };
  ir::HostIr h = SeedHost02();
  CHECK(guard_rules(YAML::Load(Emit(h).yaml)).empty());  // no VRF: nothing is routed here
  AddDbSubnet(h);
  CHECK(guard_rules(YAML::Load(Emit(h).yaml)) ==
        std::vector<std::string>{
            "input: iifname \"nd-p1\" ip daddr != 10.0.1.0/24 ip daddr != 10.0.2.0/24 drop",
            "input: iifname \"nd-p2\" ip daddr != 10.0.1.0/24 ip daddr != 10.0.2.0/24 drop",
        });
  // A NAT gateway routes the domain out through its NAT veth on purpose.
  h.nat_rules.push_back(Nat("tenant A", 1001, "192.168.10.41", {Pfx("10.0.1.0/24"), Pfx("10.0.2.0/24")}));
  CHECK(guard_rules(YAML::Load(Emit(h).yaml)).empty());
}

TEST_CASE("ip guard for an IPv6 CA admits only the unspecified, link-local and its own source") {
  ir::HostIr h = SeedHost02();
  h.ports[0].ca = Ip("2001:db8::10");
  h.policies[0].guest_specified_ip = false;
  YAML::Node y = YAML::Load(Emit(h).yaml);
  bool found = false;
  for (const YAML::Node& r : y["nftables"]["rules"])
    found |= r["rule"].as<std::string>() ==
             "iifname @ip6_guarded ip6 saddr != :: ip6 saddr != fe80::/10 iifname . ip6 saddr != @ip6_allowed drop";
  CHECK(found);
  CHECK(Strings(y["nftables"]["sets"]["ip6_allowed"]["elements"]) == std::vector<std::string>{"nd-p1 . 2001:db8::10"});
  CHECK(Strings(y["nftables"]["sets"]["ip6_guarded"]["elements"]) == std::vector<std::string>{"nd-p1"});
}

TEST_CASE("no ports, no nft table; nft rules never carry braces, semicolons or hashes") {
  ir::HostIr h = SeedHost02();
  h.ports.clear();
  YAML::Node y = YAML::Load(Emit(h).yaml);
  CHECK_FALSE(y["nftables"]);
  auto req = Strings(y["requires"]);
  CHECK(std::count(req.begin(), req.end(), "nft-bridge") == 0);
  ir::HostIr g = SeedHost02();
  AddDbSubnet(g);
  g.nat_rules.push_back(Nat("tenant A", 1001, "192.168.10.41", {Pfx("10.0.1.0/24")}));
  YAML::Node y2 = YAML::Load(Emit(g).yaml);
  for (const char* table : {"nftables", "nftables_nat"})
    for (const YAML::Node& r : y2[table]["rules"]) {
      std::string rule = r["rule"].as<std::string>();
      CHECK(rule.find_first_of(";{}#\n\\") == std::string::npos);
    }
}

TEST_CASE("site vlans: PA on a vlan device, isolation-none ports on a per-vlan bridge") {
  ir::HostIr h = SeedHost02();
  h.provider_addresses[0].vlan = 20;
  ir::Port none = h.ports[0];
  none.id = 7;
  none.vm = "legacy";
  none.ifname = "nd-p7";
  none.vsid = 0;
  none.rdid = 0;
  none.vm_network = "Virtual Switch";
  none.vm_subnet = "";
  none.vlan = 30;
  none.mtu = 1500;
  none.mac = Mac("00:1d:d8:b7:1c:07");
  h.ports.push_back(none);
  ir::Port untagged = none;
  untagged.id = 8;
  untagged.ifname = "nd-p8";
  untagged.vlan = 0;
  untagged.mac = Mac("00:1d:d8:b7:1c:08");
  h.ports.push_back(untagged);
  LinuxArtifacts a = Emit(h);
  YAML::Node y = YAML::Load(a.yaml);
  std::string pa_dev = y["addresses"][0]["dev"].as<std::string>();
  YAML::Node v20 = Link(y, pa_dev);
  REQUIRE(v20);
  CHECK(v20["kind"].as<std::string>() == "vlan");
  CHECK(v20["vlan"]["link"].as<std::string>() == "nd-sw-3f2a");
  CHECK(v20["vlan"]["id"].as<int>() == 20);
  CHECK(v20["master"].as<std::string>() == "");
  YAML::Node p7 = Link(y, "nd-p7");
  YAML::Node bridge30 = Link(y, p7["master"].as<std::string>());
  REQUIRE(bridge30);
  CHECK(bridge30["kind"].as<std::string>() == "bridge");
  bool vlan30 = false;
  for (const YAML::Node& l : y["links"])
    if (l["kind"].as<std::string>() == "vlan" && l["vlan"]["id"].as<int>() == 30) {
      vlan30 = true;
      CHECK(l["master"].as<std::string>() == p7["master"].as<std::string>());
      CHECK(l["vlan"]["link"].as<std::string>() == "nd-sw-3f2a");
    }
  CHECK(vlan30);
  CHECK(Link(y, "nd-p8")["master"].as<std::string>() == "nd-sw-3f2a");
  auto req = Strings(y["requires"]);
  CHECK(std::count(req.begin(), req.end(), "vlan") == 1);
  CHECK(CountContaining(a.batch, "type vlan id 20") == 1);
}

TEST_CASE("vlan isolation: a vlan device over the switch bridge inside the segment bridge") {
  ir::HostIr h = SeedHost02();
  h.segments[0].isolation = ir::Isolation::Vlan;
  h.segments[0].vlan = 100;
  h.segments[0].tunnel_ifname.clear();
  h.segments[0].mtu = 1500;
  h.ports[0].mtu = 1500;
  YAML::Node y = YAML::Load(Emit(h).yaml);
  bool found = false;
  for (const YAML::Node& l : y["links"]) {
    CHECK(l["kind"].as<std::string>() != "gretap");
    if (l["kind"].as<std::string>() == "vlan") {
      found = true;
      CHECK(l["vlan"]["id"].as<int>() == 100);
      CHECK(l["vlan"]["link"].as<std::string>() == "nd-sw-3f2a");
      CHECK(l["master"].as<std::string>() == "nd-br5001");
    }
  }
  CHECK(found);
  CHECK(y["fdb"].size() == 0);
  CHECK(y["neighbours"].size() == 0);
  // The same vlan for the PA on that switch is a conflict, refused.
  h.provider_addresses[0].vlan = 100;
  CHECK(Refusal(h).find("vlan 100") != std::string::npos);
}

TEST_CASE("links come in creation order: masters and lower links first") {
  ir::HostIr h = VxlanHost();
  AddDbSubnet(h);
  h.segments[1].isolation = ir::Isolation::Vxlan;
  h.segments[1].tunnel_ifname = "nd-vx6001";
  h.provider_addresses[0].vlan = 20;
  YAML::Node y = YAML::Load(Emit(h).yaml);
  std::set<std::string> seen;
  for (const YAML::Node& l : y["links"]) {
    std::string master = l["master"].as<std::string>();
    CAPTURE(l["name"].as<std::string>());
    CHECK((master.empty() || seen.count(master)));
    if (l["vlan"]) CHECK(seen.count(l["vlan"]["link"].as<std::string>()));
    seen.insert(l["name"].as<std::string>());
  }
  for (const YAML::Node& ad : y["adopted"]) CHECK(seen.count(ad["master"].as<std::string>()));
  // Every batch `master` line names a link added above it.
  LinuxArtifacts a = Emit(h);
  std::set<std::string> added;
  for (const std::string& line : Lines(a.batch)) {
    if (line.rfind("ip link add ", 0) == 0) {
      std::istringstream in(line.substr(12));
      std::string name;
      in >> name;
      if (name == "link") in >> name >> name >> name;  // ip link add link LOWER name NAME
      added.insert(name);
    }
    auto m = line.find(" master ");
    if (m != std::string::npos) CHECK(added.count(line.substr(m + 8)));
  }
}

TEST_CASE("lists are sorted as the contract says") {
  ir::HostIr h = VxlanHost();
  AddDbSubnet(h);
  YAML::Node y = YAML::Load(Emit(h).yaml);
  auto sorted_by = [&](const char* list, std::vector<const char*> keys) {
    std::vector<std::vector<std::string>> rows;
    for (const YAML::Node& n : y[list]) {
      std::vector<std::string> row;
      for (const char* k : keys) row.push_back(n[k].as<std::string>());
      rows.push_back(row);
    }
    return std::is_sorted(rows.begin(), rows.end());
  };
  CHECK(sorted_by("adopted", {"name"}));
  CHECK(sorted_by("addresses", {"dev"}));
  CHECK(sorted_by("fdb", {"dev", "mac"}));
  CHECK(sorted_by("neighbours", {"dev"}));
  CHECK(sorted_by("qdiscs", {"dev"}));
  auto req = Strings(y["requires"]);
  CHECK(std::is_sorted(req.begin(), req.end()));
  CHECK(std::adjacent_find(req.begin(), req.end()) == req.end());
}

TEST_CASE("determinism: emitting twice gives the same bytes, with no timestamp") {
  ir::HostIr h = VxlanHost();
  AddDbSubnet(h);
  h.nat_rules.push_back(Nat("tenant A", 1001, "192.168.10.41", {Pfx("10.0.1.0/24")}));
  LinuxArtifacts a = Emit(h), b = Emit(h);
  CHECK(a.yaml == b.yaml);
  CHECK(a.batch == b.batch);
  CHECK(EmitLinuxYaml(h) == a.yaml);
  CHECK(EmitLinuxBatch(h) == a.batch);
  CHECK(a.yaml.find("2026") == std::string::npos);
  CHECK(a.batch.find("2026") == std::string::npos);
}
