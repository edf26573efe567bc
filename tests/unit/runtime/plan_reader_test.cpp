// Unit tests of the strict linux.yaml reader.
#include <doctest/doctest.h>

#include "runtime/linux/plan_reader.h"

using namespace netdsl::runtime;

namespace {

bool Read(const std::string& text, HostState* s, std::vector<std::string>* errors) {
  return ReadPlan(text, "t.yaml", s, errors);
}

}  // namespace

TEST_CASE("a full plan reads into HostState with defaults") {
  HostState s;
  std::vector<std::string> errors;
  REQUIRE(Read(R"(format: 1
host: host01
generation: 7
owner: {prefix: "nd", alias: "netdsl"}
requires: [vxlan, bridge, bridge]
links:
  - {name: nd-br1, kind: bridge, mtu: 1450}
  - {name: nd-vx1, kind: vxlan, master: nd-br1, vxlan: {id: 6001, local: 192.168.0.10}}
  - {name: nd-p1, kind: veth, master: nd-br1, veth: {peer: nd-p1g, peer_mac: "00:1d:d8:b7:1c:00"}}
  - {name: nd-g1, kind: gretap, gretap: {key: 1536256, local: 192.168.0.10, remote: 192.168.0.11}}
addresses:
  - {dev: nd-br1, address: "2001:db8::1/64"}
routes:
  - {dst: 10.0.0.0/8, dev: nd-br1, via: 192.168.0.1}
fdb:
  - {dev: nd-vx1, mac: "00:00:00:00:00:00", dst: 192.168.0.11}
qdiscs:
  - {dev: nd-p1, kind: htb, default_class: 2, classes: [{minor: 1, rate_bps: 1000}, {minor: 2, parent: 1, rate_bps: 8, ceil_bps: 1000}]}
)",
               &s, &errors));
  CHECK(errors.empty());
  CHECK(s.host == "host01");
  CHECK(s.generation == 7);
  CHECK(s.requires_ == std::vector<std::string>{"bridge", "vxlan"});
  REQUIRE(s.links.size() == 4);
  CHECK(s.links[0].mtu == 1450);
  CHECK(s.links[1].vxlan_id == 6001);
  CHECK(s.links[1].vxlan_dstport == 4789);  // default
  CHECK(!s.links[1].vxlan_learning);
  CHECK(s.links[1].vxlan_local->ToString() == "192.168.0.10");
  CHECK(s.links[2].veth_peer == "nd-p1g");
  CHECK(s.links[2].veth_peer_mac->ToString() == "00:1d:d8:b7:1c:00");
  CHECK(s.links[3].gretap_remote->ToString() == "192.168.0.11");
  CHECK(s.addresses[0].prefix_length == 64);
  CHECK(s.routes[0].table == 254);  // default: main
  CHECK(s.routes[0].via->ToString() == "192.168.0.1");
  REQUIRE(s.qdiscs[0].classes.size() == 2);
  CHECK(s.qdiscs[0].classes[0].ceil_bps == 1000);  // ceil defaults to rate
  CHECK(s.qdiscs[0].classes[1].parent == 1);
  CHECK(!s.nft.present);
}

TEST_CASE("errors name the key path and position, in file order") {
  HostState s;
  std::vector<std::string> errors;
  CHECK_FALSE(Read("format: 1\nhost: h\nlinks:\n  - {name: nd-a, kind: bridge, mtu: -1}\n  - {name: nd-b, kind: tun}\n",
                   &s, &errors));
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] == "t.yaml:4:37: error: `links[0].mtu` must be an unsigned integer, got `-1`");
  CHECK(errors[1].find("t.yaml:5:24: error: `links[1].kind` is `tun`") == 0);
}

TEST_CASE("a key given twice is an error") {
  HostState s;
  std::vector<std::string> errors;
  CHECK_FALSE(Read("format: 1\nhost: h\nhost: g\n", &s, &errors));
  REQUIRE(!errors.empty());
  CHECK(errors[0].find("duplicate key `host`") != std::string::npos);
}

TEST_CASE("kind-specific maps only with their kind") {
  HostState s;
  std::vector<std::string> errors;
  CHECK_FALSE(Read("format: 1\nhost: h\nlinks:\n  - {name: nd-a, kind: bridge, vxlan: {id: 1}}\n", &s, &errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("`links[0].vxlan` is only allowed when `kind` is `vxlan`") != std::string::npos);
}

TEST_CASE("interface names") {
  CHECK(IsValidIfname("nd-sw-testlog-3"));
  CHECK_FALSE(IsValidIfname("nd-sw-testlog-3f"));  // 16 bytes
  CHECK_FALSE(IsValidIfname(""));
  CHECK_FALSE(IsValidIfname("nd/x"));
  CHECK_FALSE(IsValidIfname("nd x"));
  CHECK_FALSE(IsValidIfname(".."));
}

TEST_CASE("nft rules and comments cannot break out of their statement") {
  for (const char* rule : {"drop; flush ruleset", "drop } table x {", "drop # x", "iifname \"x drop"}) {
    HostState s;
    std::vector<std::string> errors;
    std::string text = std::string("format: 1\nhost: h\nnftables:\n  family: bridge\n  table: netdsl\n  chains: [{name: f, "
                                   "hook: forward, priority: 0}]\n  rules: [{chain: f, rule: '") +
                       rule + "'}]\n";
    CHECK_FALSE(Read(text, &s, &errors));
  }
  HostState s;
  std::vector<std::string> errors;
  CHECK_FALSE(Read("format: 1\nhost: h\nnftables:\n  family: bridge\n  table: netdsl\n  chains: [{name: f, hook: "
                   "forward, priority: 0}]\n  rules: [{chain: f, rule: drop, comment: 'a\" drop'}]\n",
                   &s, &errors));
}

TEST_CASE("the fast bulk-list scanner agrees with yaml-cpp, errors and positions included") {
  const std::string head =
      "format: 1\nhost: h\nlinks:\n  - {name: nd-br1, kind: bridge}\n  - {name: nd-vx1, kind: vxlan, vxlan: {id: 1}}\n";
  const std::vector<std::string> bodies = {
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n"
      "  - {dev: nd-vx1, mac: '00:1d:d8:b7:1c:06', dst: \"2001:db8::1\"}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"zz\", dst: 192.168.0.11}\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\"}\n",
      "routes:\n  - {table: \"7\", dst: 10.0.0.0/8, dev: nd-br1}\n  - {table: 7, dst: 10.0.0.1/8, dev: nd-br1, gw: x}\n",
      "neighbours:\n  - {dev: nd-br1, address: 10.0.0.1, mac: \"00:1d:d8:b7:1c:05\", dev: nd-br1}\n",
      "addresses:\n  - {dev: nd-br1, address: 10.0.0.1/24}\n  - {dev: nd-br1, address: 10.0.0.1}\n",
  };
  for (const std::string& body : bodies) {
    HostState fast, slow;
    std::vector<std::string> fast_errors, slow_errors;
    // A comment line inside the list makes the fast scanner hand it to yaml-cpp.
    std::string slow_body = body;
    slow_body.insert(slow_body.find('\n') + 1, "  # force yaml-cpp\n");
    bool fast_ok = ReadPlan(head + body, "t.yaml", &fast, &fast_errors);
    bool slow_ok = ReadPlan(head + slow_body, "t.yaml", &slow, &slow_errors);
    CHECK(fast_ok == slow_ok);
    // Positions shift by the inserted comment line after the list header.
    for (std::string& e : slow_errors) {
      size_t a = e.find(':') + 1, b = e.find(':', a);
      int line = std::stoi(e.substr(a, b - a));
      if (line > 6) e = e.substr(0, a) + std::to_string(line - 1) + e.substr(b);
    }
    CHECK(fast_errors == slow_errors);
    CHECK(fast.fdb.size() == slow.fdb.size());
    CHECK(fast.routes.size() == slow.routes.size());
    CHECK(fast.neighbours.size() == slow.neighbours.size());
    CHECK(fast.addresses.size() == slow.addresses.size());
    for (size_t i = 0; i < fast.fdb.size() && i < slow.fdb.size(); ++i) {
      CHECK(fast.fdb[i].mac == slow.fdb[i].mac);
      CHECK(fast.fdb[i].dst == slow.fdb[i].dst);
      CHECK(fast.fdb[i].loc.line == slow.fdb[i].loc.line - 1);
      CHECK(fast.fdb[i].loc.col == slow.fdb[i].loc.col);
    }
  }
}
