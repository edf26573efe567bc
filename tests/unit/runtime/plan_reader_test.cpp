// Unit tests of the strict linux.yaml reader.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

#include "runtime/linux/flow_scanner.h"
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

TEST_CASE("`isolated` is a bridge port flag: only on a link whose master is a bridge") {
  HostState s;
  std::vector<std::string> errors;
  CHECK(Read("format: 1\nhost: h\nlinks:\n  - {name: nd-br, kind: bridge}\n"
             "  - {name: nd-g, kind: gretap, master: nd-br, isolated: true, gretap: {key: 256}}\n",
             &s, &errors));
  REQUIRE(s.links.size() == 2);
  CHECK(s.links[1].isolated);
  CHECK_FALSE(s.links[0].isolated);
  for (const char* bad : {"  - {name: nd-g, kind: gretap, isolated: true, gretap: {key: 256}}\n",
                          "  - {name: nd-vrf, kind: vrf, vrf: {table: 10}}\n"
                          "  - {name: nd-g, kind: gretap, master: nd-vrf, isolated: true, gretap: {key: 256}}\n"}) {
    errors.clear();
    HostState fresh;
    CHECK_FALSE(Read(std::string("format: 1\nhost: h\nlinks:\n") + bad, &fresh, &errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("link `nd-g` is `isolated`, a bridge port flag, but its master is not a bridge") !=
          std::string::npos);
  }
  errors.clear();
  HostState fresh;
  CHECK_FALSE(Read("format: 1\nhost: h\nlinks:\n  - {name: nd-br, kind: bridge, isolated: yes please}\n", &fresh, &errors));
}

TEST_CASE("`veth.peer_master` names an owned bridge declared before the veth; `forwarding` is a flag") {
  HostState s;
  std::vector<std::string> errors;
  CHECK(Read("format: 1\nhost: h\nlinks:\n  - {name: nd-ext, kind: bridge}\n"
             "  - {name: nd-n7, kind: veth, forwarding: true, veth: {peer: nd-n7x, peer_master: nd-ext}}\n",
             &s, &errors));
  REQUIRE(s.links.size() == 2);
  CHECK(s.links[1].veth_peer_master == "nd-ext");
  CHECK(s.links[1].forwarding);
  CHECK_FALSE(s.links[0].forwarding);
  for (const char* bad : {"  - {name: nd-n7, kind: veth, veth: {peer: nd-n7x, peer_master: nd-ext}}\n"
                          "  - {name: nd-ext, kind: bridge}\n",
                          "  - {name: nd-vrf, kind: vrf, vrf: {table: 10}}\n"
                          "  - {name: nd-n7, kind: veth, veth: {peer: nd-n7x, peer_master: nd-vrf}}\n",
                          "  - {name: nd-n7, kind: veth, veth: {peer: nd-n7x, peer_master: br0}}\n"}) {
    errors.clear();
    HostState fresh;
    CHECK_FALSE(Read(std::string("format: 1\nhost: h\nlinks:\n") + bad, &fresh, &errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("has `peer_master`") != std::string::npos);
  }
  errors.clear();
  HostState fresh;
  CHECK_FALSE(Read("format: 1\nhost: h\nlinks:\n  - {name: nd-br, kind: bridge, forwarding: 1x}\n", &fresh, &errors));
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

namespace {

std::string SetsPlan(const std::string& sets, const std::string& rule = "iifname @g iifname . ether saddr != @a drop") {
  return "format: 1\nhost: h\nnftables:\n  family: bridge\n  table: netdsl\n  sets:\n" + sets +
         "  chains: [{name: f, hook: forward, priority: 0}]\n  rules: [{chain: f, rule: \"" + rule + "\"}]\n";
}

}  // namespace

TEST_CASE("nft sets: typed parts in canonical text, sorted") {
  HostState s;
  std::vector<std::string> errors;
  REQUIRE(Read(SetsPlan("    g:\n      type: ifname\n      elements:\n        - nd-p2\n        - nd-p1\n"
                        "    a:\n      type: ifname . ether_addr\n      elements:\n        - nd-p1 . 02:4E:44:00:00:0A\n"
                        "    v6:\n      type: ifname . ipv6_addr\n      elements:\n        - \"nd-p1 . fd00:0::10\"\n"),
               &s, &errors));
  CHECK(errors.empty());
  REQUIRE(s.nft.sets.size() == 3);
  CHECK(s.nft.sets[0].name == "g");
  CHECK(s.nft.sets[0].elements == std::vector<std::vector<std::string>>{{"nd-p1"}, {"nd-p2"}});
  CHECK(s.nft.sets[1].elements == std::vector<std::vector<std::string>>{{"nd-p1", "02:4e:44:00:00:0a"}});
  CHECK(s.nft.sets[2].elements == std::vector<std::vector<std::string>>{{"nd-p1", "fd00::10"}});
}

TEST_CASE("nft set elements cannot carry nft syntax or the wrong type") {
  const std::string g = "    g:\n      type: ifname\n      elements: [nd-p1]\n";
  for (const char* element : {"nd-p1 . 02:00:00:00:00:zz", "\"nd-p1\\\" } ; flush ruleset ; { \\\"x . 02:00:00:00:00:01\"",
                              "nd-p1", "nd-p1 . 02:00:00:00:00:01 . 02:00:00:00:00:02", "nd-p1 . 10.0.0.1",
                              "waytoolongforanifname . 02:00:00:00:00:01"}) {
    HostState s;
    std::vector<std::string> errors;
    CHECK_FALSE(Read(SetsPlan(g + "    a:\n      type: ifname . ether_addr\n      elements:\n        - " + element + "\n"),
                     &s, &errors));
    CHECK(!errors.empty());
  }
  std::vector<std::string> errors;
  HostState s;
  CHECK_FALSE(Read(SetsPlan(g + "    a:\n      type: ifname . ether_addr\n      elements: [\"nd-p1 . 02:00:00:00:00:01\", "
                                "\"nd-p1 . 02:00:00:00:00:01\"]\n"),
                   &s, &errors));
  auto has = [&](const char* what) {
    return std::any_of(errors.begin(), errors.end(), [&](const std::string& e) { return e.find(what) != std::string::npos; });
  };
  CHECK(has("lists an element twice"));
  errors.clear();
  CHECK_FALSE(Read(SetsPlan(g + "    a:\n      type: ifname . inet_service\n"), &s, &errors));
  CHECK(has("`nftables.sets.a.type` is `ifname . inet_service`"));
  // A rule's @set must be declared: otherwise only the apply's transaction would fail.
  errors.clear();
  CHECK_FALSE(Read(SetsPlan(g, "iifname @g iifname . ether saddr != @missing drop"), &s, &errors));
  CHECK(has("uses set `@missing`"));
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

// The fast bulk-list path against yaml-cpp, on the same text. Commenting a
// list's header (`fdb: # yaml-cpp`) hands that list to yaml-cpp without moving
// any line or column, so both reads must agree byte for byte.
namespace {

struct Outcome {
  bool ok = false;
  HostState state;
  std::vector<std::string> errors;
};

Outcome ReadText(const std::string& text) {
  Outcome o;
  o.ok = ReadPlan(text, "t.yaml", &o.state, &o.errors);
  return o;
}

std::string ViaYamlCpp(std::string text) {
  for (const char* key : {"fdb:\n", "neighbours:\n", "routes:\n", "addresses:\n"}) {
    size_t at = text.find(std::string("\n") + key);
    if (at != std::string::npos) text.insert(at + std::strlen(key), " # yaml-cpp");
  }
  return text;
}

/// Every field of the bulk lists, one line per entry.
std::string Describe(const HostState& s) {
  std::string out;
  auto loc = [](const SourceLoc& l) { return " @" + std::to_string(l.line) + ":" + std::to_string(l.col) + "\n"; };
  for (const Address& a : s.addresses)
    out += "address " + a.dev + " " + a.address.ToString() + "/" + std::to_string(a.prefix_length) + loc(a.loc);
  for (const Route& r : s.routes)
    out += "route " + std::to_string(r.table) + " " + r.dst.ToString() + " " + r.dev + " " +
           (r.via ? r.via->ToString() : "-") + loc(r.loc);
  for (const FdbEntry& f : s.fdb) out += "fdb " + f.dev + " " + f.mac.ToString() + " " + f.dst.ToString() + loc(f.loc);
  for (const Neighbour& n : s.neighbours)
    out += "neighbour " + n.dev + " " + n.address.ToString() + " " + n.mac.ToString() + loc(n.loc);
  return out;
}

/// True when the fast path takes every bulk list of `text`: each list is a
/// section and each of its lines scans.
bool FastPathTakesAll(const std::string& text) {
  auto sections = FindBulkSections(text);
  size_t headers = 0;
  for (const char* key : {"\nfdb:\n", "\nneighbours:\n", "\nroutes:\n", "\naddresses:\n"})
    headers += text.find(key) != std::string::npos;
  if (sections.size() != headers) return false;
  for (const BulkSection& section : sections)
    if (!ScanSection(section, [](const FlowItem&) {})) return false;
  return true;
}

const std::string kHead =
    "format: 1\nhost: h\nlinks:\n  - {name: nd-br1, kind: bridge}\n  - {name: nd-vx1, kind: vxlan, vxlan: {id: 1}}\n";

/// Reads `text` both ways and checks they agree; returns the fast read.
Outcome CheckBothWays(const std::string& text, bool fast_path_expected = true) {
  INFO(text);
  CHECK(FastPathTakesAll(text) == fast_path_expected);
  Outcome fast = ReadText(text), slow = ReadText(ViaYamlCpp(text));
  CHECK(fast.ok == slow.ok);
  CHECK(fast.errors == slow.errors);
  CHECK(Describe(fast.state) == Describe(slow.state));
  return fast;
}

}  // namespace

TEST_CASE("fast path: valid items read as yaml-cpp reads them") {
  Outcome o = CheckBothWays(kHead +
                            "fdb:\n"
                            "  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n"
                            "  - {dev: nd-vx1, mac: '00:1d:d8:b7:1c:06', dst: \"2001:db8::1\"}\n"
                            "  - {dev: nd-vx1, mac: 00:1D:D8:B7:1C:07, dst: 2001:db8::2}\n"
                            "  - { dev: nd-vx1 ,  mac: \"00-1d-d8-b7-1c-08\" , dst: 10.0.0.1 }   \n"
                            "\n"
                            "  - {dst: 10.0.0.2, mac: \"00:1d:d8:b7:1c:09\", dev: \"nd-vx1\"}\n"
                            "neighbours:\n"
                            "  - {dev: nd-br1, address: 10.0.0.1, mac: \"00:1d:d8:b7:1c:05\"}\n"
                            "  - {dev: nd-br1, address: \"fe80::1\", mac: \"00:1d:d8:b7:1c:05\"}\n"
                            "routes:\n"
                            "  - {table: 1001, dst: 10.0.0.0/24, dev: nd-br1}\n"
                            "  - {dst: 10.1.0.0/16, dev: nd-br1, via: \"\"}\n"
                            "  - {table: 7, dst: \"2001:db8::/32\", dev: nd-br1, via: \"2001:db8::1\"}\n"
                            "  - {table: 7, dst: 0.0.0.0/0, dev: nd-br1, via: 10.0.0.1}\n"
                            "addresses:\n"
                            "  - {dev: nd-br1, address: 10.0.0.1/24}\n"
                            "  - {dev: nd-br1, address: \"2001:db8::1/64\"}\n"
                            "qdiscs:\n"
                            "  - {dev: nd-br1, kind: tbf, rate_bps: 8, burst_bytes: 1, latency_us: 1}\n");
  CHECK(o.ok);
  CHECK(o.state.fdb.size() == 5);
  CHECK(o.state.neighbours.size() == 2);
  CHECK(o.state.routes.size() == 4);
  CHECK(o.state.addresses.size() == 2);
  REQUIRE(o.state.qdiscs.size() == 1);
  CHECK(o.state.qdiscs[0].loc.line == 25);  // yaml-cpp's lines after the cut-out lists map back
}

TEST_CASE("fast path: invalid items give yaml-cpp's diagnostics, positions and order") {
  const std::vector<std::string> bodies = {
      // unknown, duplicate and missing keys
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11, port: 1}\n"
      "  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dev: nd-vx1, dst: 1.2.3.4, dst: 1.2.3.5}\n"
      "  - {mac: \"00:1d:d8:b7:1c:05\"}\n  - {dev: nd-vx1, dst: 1.2.3.4}\n  - {dev: nd-vx1, mac: \"\", dst: \"\"}\n",
      // bad MAC and IP values
      "fdb:\n  - {dev: nd-vx1, mac: zz, dst: 192.168.0.11}\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c\", dst: 1.2.3}\n"
      "  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 300.1.1.1}\n  - {dev: nd-vx1, mac: 001dd8b71c05, dst: x}\n",
      "neighbours:\n  - {dev: nd-br1, address: 10.0.0.1, mac: \"00:1d:d8:b7:1c:05\", dev: nd-br1}\n"
      "  - {dev: nd-br1, address: 10.0.0.256, mac: \"00:1d:d8:b7:1c:05\"}\n  - {dev: nd-br1, mac: nope}\n"
      "  - {address: 10.0.0.1/24, mac: \"00:1d:d8:b7:1c:05\"}\n  - {dev: nd-br1, address: \"\", mac: x, colour: red}\n",
      // numbers: quoted, out of range, overflowing, not a number, reserved
      "routes:\n  - {table: \"7\", dst: 10.0.0.0/8, dev: nd-br1}\n  - {table: 4294967296, dst: 10.0.0.0/8, dev: nd-br1}\n"
      "  - {table: 18446744073709551616, dst: 10.0.0.0/8, dev: nd-br1}\n  - {table: 1e3, dst: 10.0.0.0/8, dev: nd-br1}\n"
      "  - {table: 0, dst: 10.0.0.0/8, dev: nd-br1}\n  - {table: 255, dst: 10.0.0.1/8, dev: nd-br1}\n"
      "  - {table: 0x10, dst: 10.0.0.0/8, dev: nd-br1}\n  - {table: \"\", dst: 10.0.0.0/8, dev: nd-br1}\n",
      // prefixes and gateways
      "routes:\n  - {table: 7, dst: 10.0.0.1/8, dev: nd-br1, gw: x}\n  - {dst: 10.0.0.0, dev: nd-br1}\n"
      "  - {dst: 10.0.0.0/33, dev: nd-br1, via: 10.0.0.300}\n  - {dst: \"\", dev: nd-br1, via: \"\"}\n  - {dev: nd-br1}\n",
      "addresses:\n  - {dev: nd-br1, address: 10.0.0.1/24}\n  - {dev: nd-br1, address: 10.0.0.1}\n"
      "  - {dev: nd-br1, address: 10.0.0.1/33}\n  - {dev: nd-br1, address: \"\"}\n  - {address: x/1, dev: nd-br1, dev: y}\n",
      // several lists with errors, then an error yaml-cpp reports after them
      "addresses:\n  - {dev: nd-br1, address: 10.0.0.1}\nroutes:\n  - {table: 255, dst: 10.0.0.1/24, dev: nd-br1}\n"
      "fdb:\n  - {dev: nd-vx1, mac: zz, dst: 192.168.0.1}\nqdiscs:\n  - {dev: nd-br1, kind: fq}\n",
  };
  for (const std::string& body : bodies) {
    Outcome o = CheckBothWays(kHead + body);
    CHECK_FALSE(o.ok);
  }
}

TEST_CASE("fast path: cross-object errors (duplicates, devices, families) agree with yaml-cpp") {
  const std::vector<std::string> bodies = {
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n"
      "  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:06\", dst: 192.168.0.11}\n"
      "  - {dev: nd-vx1, mac: \"00:1D:D8:B7:1C:05\", dst: 192.168.0.11}\n"
      "  - {dev: nd-br1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n"
      "  - {dev: nd-vx9, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "neighbours:\n  - {dev: nd-br1, address: 10.0.0.1, mac: \"00:1d:d8:b7:1c:05\"}\n"
      "  - {dev: nd-vx1, address: 10.0.0.1, mac: \"00:1d:d8:b7:1c:05\"}\n"
      "  - {dev: nd-br1, address: 10.0.0.1, mac: \"00:1d:d8:b7:1c:06\"}\n"
      "  - {dev: eth0, address: 10.0.0.1, mac: \"00:1d:d8:b7:1c:06\"}\n",
      "routes:\n  - {table: 7, dst: 10.0.0.0/8, dev: nd-br1}\n  - {table: 8, dst: 10.0.0.0/8, dev: nd-br1}\n"
      "  - {table: 7, dst: 10.0.0.0/16, dev: nd-br1}\n  - {table: 7, dst: 10.0.0.0/8, dev: nd-vx1}\n"
      "  - {dst: \"2001:db8::/32\", dev: nd-br1, via: 10.0.0.1}\n  - {dst: 10.0.0.0/8, dev: nd-xx}\n",
      "addresses:\n  - {dev: nd-br1, address: 10.0.0.1/24}\n  - {dev: nd-br1, address: 10.0.0.1/16}\n"
      "  - {dev: nd-vx1, address: 10.0.0.1/24}\n  - {dev: eth0, address: 10.0.0.2/24}\n",
  };
  for (const std::string& body : bodies) {
    Outcome o = CheckBothWays(kHead + body);
    CHECK_FALSE(o.ok);
    CHECK(o.errors.size() >= 2);
  }
}

TEST_CASE("an IPv4 and an IPv6 object with the same 16 bytes are two objects, not one listed twice") {
  // 0.0.0.0/0 and ::/0 in one table (a VRF with both default routes), and
  // 10.0.0.1 next to ::a00:1 on one device: IpAddress keeps an IPv4 address
  // in its last 4 bytes, so only the family tells them apart. Before the fix
  // both plans were refused ("route to `::/0` in table 5 is listed twice").
  Outcome o = CheckBothWays(kHead +
                            "addresses:\n  - {dev: nd-br1, address: 10.0.0.1/24}\n"
                            "  - {dev: nd-br1, address: \"::a00:1/64\"}\n"
                            "routes:\n  - {table: 5, dst: 0.0.0.0/0, dev: nd-br1, via: 10.0.0.9}\n"
                            "  - {table: 5, dst: \"::/0\", dev: nd-br1, via: \"::a00:9\"}\n");
  for (const std::string& e : o.errors) MESSAGE(e);
  CHECK(o.ok);
  CHECK(o.state.routes.size() == 2);
  CHECK(o.state.addresses.size() == 2);
  // The same object twice is still refused.
  Outcome twice = CheckBothWays(kHead + "routes:\n  - {table: 5, dst: \"::/0\", dev: nd-br1}\n"
                                        "  - {table: 5, dst: \"::/0\", dev: nd-br1}\n");
  CHECK_FALSE(twice.ok);
}

TEST_CASE("fast path: lines it cannot decide go to yaml-cpp with the whole list") {
  const std::vector<std::string> bodies = {
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}  # comment\n",
      "fdb:\n  # comment\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n  - {dev: \"nd-\\x76x1\", mac: x, dst: y}\n",
      "fdb:\n  - {dev: 'nd-''vx1', mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n  - {dev: nd-vx1,\n     mac: x, dst: y}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n  -  {dev: nd-vx1, mac: x, dst: y}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n  - dev: nd-vx1\n",
      "fdb:\n  - {dev: ~, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {dev: null, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {null: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {dev: &d nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n  - {dev: *d, mac: x, dst: y}\n",
      "fdb:\n  - {dev: !!str nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {dev: [nd-vx1], mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11, }\n",
      "fdb:\n  - {}\n",
      "fdb:\n  - {dev: nd vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {dev: nd-vx1:, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {dev: nd-vx1?, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {dev: -nd, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: ::1}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n    - {dev: nd-vx1, mac: x, dst: y}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n - {dev: nd-vx1, mac: x, dst: y}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n- {dev: nd-vx1, mac: x, dst: y}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n# comment\n"
      "  - {dev: nd-vx1, mac: x, dst: y}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst:\t192.168.0.11}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\r\n",
      "fdb:\n  - {dev: \"nd-vx\xc3\xa9\", mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11, a: 1, b: 2, c: 3, d: 4, e: 5, f: 6}\n",
      "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 192.168.0.11}\n---\nhost: x\n",
  };
  for (const std::string& body : bodies) CheckBothWays(kHead + body, /*fast_path_expected=*/false);
}

TEST_CASE("fast path: a list header that is not a top-level key is read by yaml-cpp alone") {
  // The `fdb:` line is inside a multi-line scalar: cutting the list out would
  // change the document, which yaml-cpp's view of the cut text reveals.
  // (The scalar is the host name, which then fails its own check: no fdb
  // entry is read, and the only error is about the host.)
  Outcome o = ReadText("format: 1\nhost: 'h\nfdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 1.2.3.4}\nx'\n");
  CHECK_FALSE(o.ok);
  CHECK(o.state.fdb.empty());
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].find("t.yaml:2:7: error: `host` must be a host name") == 0);
  // A key given twice is an error, and yaml-cpp reads the first list: a
  // later list of that key, although it scans, must not be read either.
  const std::string twice = kHead + "fdb:\n  - {dev: nd-vx1, mac: \"00:1d:d8:b7:1c:05\", dst: 1.2.3.4}\n"
                                    "fdb:\n  - {dev: nd-vx1, mac: zz, dst: 1.2.3.4}\n";
  for (const std::string& text : {twice, ViaYamlCpp(twice)}) {
    o = ReadText(text);
    CHECK(o.errors == std::vector<std::string>{"t.yaml:8:1: error: duplicate key `fdb`"});
    CHECK(Describe(o.state) == "fdb nd-vx1 00:1d:d8:b7:1c:05 1.2.3.4 @7:5\n");
  }
  // A list at the end of the text without a final line break.
  CheckBothWays(kHead + "fdb:\n  - {dev: nd-vx1, mac: zz, dst: 1.2.3.4}");
}

TEST_CASE("flow items scan into views with yaml-cpp's columns") {
  FlowItem item;
  REQUIRE(ScanFlowItem("  - {dev: nd-vx1,  mac: \"00:1d:d8:b7:1c:05\" , dst: 10.0.0.1/8}  ", 41, &item));
  CHECK(item.line0 == 41);
  CHECK(item.col0 == 4);
  REQUIRE(item.size == 3);
  CHECK(item.entries[0].key == "dev");
  CHECK(item.entries[0].key_col == 5);
  CHECK(item.entries[0].value == "nd-vx1");
  CHECK(item.entries[0].value_col == 10);
  CHECK(item.entries[1].key_col == 19);
  CHECK(item.entries[1].value == "00:1d:d8:b7:1c:05");
  CHECK(item.entries[1].value_col == 24);
  CHECK(item.entries[1].quoted);
  CHECK(item.entries[2].value == "10.0.0.1/8");
  CHECK_FALSE(item.entries[2].quoted);
  CHECK_FALSE(ScanFlowItem("  - {dev: nd-vx1} # c", 0, &item));
  CHECK_FALSE(ScanFlowItem("  - {dev: \"a\\\"b\"}", 0, &item));
  CHECK_FALSE(ScanFlowItem("  - {dev: {a: b}}", 0, &item));
}
