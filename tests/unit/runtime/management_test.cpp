// Unit tests of management continuity (what moves, in which steps, what is
// kept) and of its encodings, durations and probe arguments.
#include <doctest/doctest.h>

#include <algorithm>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "runtime/linux/change_set.h"
#include "runtime/linux/confirm.h"
#include "runtime/linux/duration.h"
#include "runtime/linux/management.h"
#include "runtime/linux/plan_reader.h"
#include "tests/unit/runtime/plan_of.h"
#include "runtime/linux/probe.h"

using namespace netdsl::runtime;
using netdsl::runtime::testing::PlanOf;
using netdsl::net::ParseIp;
using netdsl::net::ParsePrefix;

namespace {

const char* kAdopt = R"(links:
  - {name: nd-sw, kind: bridge, mtu: 1500}
adopted:
  - {name: eth0, master: nd-sw}
)";

/// The host before any apply: eth0 up with the operator's settings.
HostState Host() {
  HostState a;
  Link eth0;
  eth0.name = "eth0";
  eth0.up = true;
  eth0.mac = netdsl::net::ParseMac("02:00:00:00:00:05");
  a.links.push_back(eth0);
  auto attrs = std::make_shared<RouteAttrs>();
  attrs->protocol = 3;  // boot, as `ip route add` has it
  a.addresses.push_back({"eth0", *ParseIp("10.0.0.5"), 24, {}, std::make_shared<AddressAttrs>()});
  a.routes.push_back({254, *ParsePrefix("0.0.0.0/0"), "eth0", ParseIp("10.0.0.1"), {}, attrs});
  a.neighbours.push_back({"eth0", *ParseIp("10.0.0.77"), *netdsl::net::ParseMac("02:00:00:00:00:77"), {}, nullptr});
  Qdisc q;
  q.dev = "eth0";
  q.kind = "tbf";
  a.qdiscs.push_back(q);
  return a;
}

std::vector<std::string> Lines(const ChangeSet& cs) {
  std::vector<std::string> out;
  for (const PlanLine& l : cs.lines)
    out.push_back(std::string(1, l.action) + " " + l.object + " " + l.name + (l.detail.empty() ? "" : ": " + l.detail));
  return out;
}

std::vector<OpKind> Kinds(const std::vector<Op>& ops) {
  std::vector<OpKind> out;
  for (const Op& op : ops) out.push_back(op.kind);
  return out;
}

}  // namespace

TEST_CASE("adopting a NIC moves its settings onto the switch; nothing of it is deleted") {
  ChangeSet cs = Diff(PlanOf(kAdopt), Host());
  REQUIRE(cs.conflicts.empty());
  std::vector<std::string> lines = Lines(cs);
  CHECK(lines == std::vector<std::string>{
                     "+ link nd-sw: bridge, mtu 1500",
                     "~ adopted eth0: master none -> nd-sw",
                     "~ link nd-sw: mac -> 02:00:00:00:00:05 (of `eth0`, whose settings it takes over)",
                     "> address eth0 -> nd-sw: 10.0.0.5/24",
                     "> neighbour eth0 -> nd-sw: 10.0.0.77 lladdr 02:00:00:00:00:77",
                     "> route table 254 0.0.0.0/0: dev eth0 -> nd-sw via 10.0.0.1 metric 0 proto boot",
                 });
  REQUIRE(cs.steps.size() == 4);
  // Step 3 adds on the switch (the route by one replace, so it never
  // disappears); step 4 takes the NIC's copies away, neighbours first.
  CHECK(Kinds(cs.steps[2].ops) ==
        std::vector<OpKind>{OpKind::SetLink, OpKind::AddAddress, OpKind::AddNeighbour, OpKind::ReplaceRoute});
  CHECK(Kinds(cs.steps[3].ops) == std::vector<OpKind>{OpKind::DelNeighbour, OpKind::DelAddress});
  // Undone, the route goes back first, exactly as it was (proto boot).
  const Op& undo = cs.steps[2].inverse.front();
  REQUIRE(undo.kind == OpKind::ReplaceRoute);
  CHECK(std::get<Route>(undo.object).dev == "eth0");
  CHECK(std::get<Route>(undo.object).attrs->protocol == 3);
  REQUIRE(cs.hosted_after.size() == 3);
  CHECK(cs.hosted_after[0].nic == "eth0");
  CHECK(cs.hosted_after[0].dev == "nd-sw");
}

TEST_CASE("hosted settings on the switch are left alone, and go back when the NIC is released") {
  HostState desired = PlanOf(kAdopt);
  HostState a = Host();
  ChangeSet first = Diff(desired, a);
  // The host after the apply: everything on the bridge, recorded.
  HostState after;
  after.links = a.links;
  Link br;
  br.name = "nd-sw";
  br.kind = "bridge";
  br.mtu = 1500;
  br.alias = "netdsl";
  br.up = true;
  br.mac = a.links[0].mac;
  after.links.push_back(br);
  after.links[0].master = "nd-sw";
  for (Address x : a.addresses) after.addresses.push_back((x.dev = "nd-sw", x));
  for (Route r : a.routes) after.routes.push_back((r.dev = "nd-sw", r));
  for (Neighbour n : a.neighbours) after.neighbours.push_back((n.dev = "nd-sw", n));
  after.qdiscs = a.qdiscs;
  after.hosted = first.hosted_after;
  ChangeSet again = Diff(desired, after);
  CHECK(Lines(again).empty());
  CHECK(again.steps.empty());
  // Without the record, the same objects look like netdsl's and would go.
  HostState forgotten = after;
  forgotten.hosted.clear();
  CHECK(Lines(Diff(desired, forgotten)).size() == 3);
  // A plan without the switch: back onto eth0 before anything is deleted.
  ChangeSet release = Diff(PlanOf(""), after);
  REQUIRE(release.conflicts.empty());
  std::vector<std::string> lines = Lines(release);
  REQUIRE(lines.size() >= 5);
  CHECK(lines[0] == "> neighbour nd-sw -> eth0: 10.0.0.77 lladdr 02:00:00:00:00:77");
  CHECK(lines[1] == "> address nd-sw -> eth0: 10.0.0.5/24");
  CHECK(lines[2] == "> route table 254 0.0.0.0/0: dev nd-sw -> eth0 via 10.0.0.1 metric 0 proto boot");
  for (const std::string& l : lines) CHECK(l.rfind("- address", 0) != 0);  // moved, not deleted
  CHECK(release.hosted_after.empty());
}

TEST_CASE("a declared management address and gateway replace the NIC's instead of moving them") {
  HostState desired = PlanOf(R"(links:
  - {name: nd-sw, kind: bridge, mtu: 1500}
adopted:
  - {name: eth0, master: nd-sw}
management: {nic: eth0, dev: nd-sw, address: 10.0.0.9/24, gateway: 10.0.0.254}
addresses:
  - {dev: nd-sw, address: 10.0.0.9/24}
routes:
  - {table: 254, dst: 0.0.0.0/0, dev: nd-sw, via: 10.0.0.254}
)");
  ChangeSet cs = Diff(desired, Host());
  REQUIRE(cs.conflicts.empty());
  std::vector<std::string> lines = Lines(cs);
  CHECK(std::find(lines.begin(), lines.end(), "+ address nd-sw: 10.0.0.9/24 (management)") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(),
                  "- address eth0: 10.0.0.5/24 (replaced by the management address 10.0.0.9/24)") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(),
                  "~ route table 254 0.0.0.0/0: dev eth0 via 10.0.0.1 metric 0 proto boot -> dev nd-sw via "
                  "10.0.0.254 (management gateway)") != lines.end());
  // Installed by the move step, once: not added again by the ordinary diff.
  int adds = 0;
  for (const Step& s : cs.steps)
    for (const Op& op : s.ops)
      if ((op.kind == OpKind::AddAddress && std::get<Address>(op.object).address == *ParseIp("10.0.0.9")) ||
          ((op.kind == OpKind::AddRoute || op.kind == OpKind::ReplaceRoute) &&
           std::get<Route>(op.object).via == ParseIp("10.0.0.254")))
        ++adds;
  CHECK(adds == 2);
  // The neighbour moved; the declared address and route are the plan's, and
  // recorded too: they go back to eth0 when a later plan releases it.
  REQUIRE(cs.hosted_after.size() == 3);
  CHECK(cs.hosted_after[0].kind == HostedObject::Kind::Neighbour);
  CHECK(cs.hosted_after[1].kind == HostedObject::Kind::Address);
  CHECK(cs.hosted_after[1].address.dev == "eth0");
  CHECK(cs.hosted_after[2].kind == HostedObject::Kind::Route);
  CHECK(cs.hosted_after[2].route.via == ParseIp("10.0.0.254"));
}

TEST_CASE("a NIC address the plan also wants on the switch moves once and becomes the plan's") {
  HostState desired = PlanOf(std::string(kAdopt) + "addresses:\n  - {dev: nd-sw, address: 10.0.0.5/24}\n");
  ChangeSet cs = Diff(desired, Host());
  REQUIRE(cs.conflicts.empty());
  int adds = 0;
  for (const Step& s : cs.steps)
    for (const Op& op : s.ops)
      if (op.kind == OpKind::AddAddress && std::get<Address>(op.object).address == *ParseIp("10.0.0.5")) ++adds;
  CHECK(adds == 1);  // in the move step; not again with the plan's other addresses
  for (const HostedObject& h : cs.hosted_after) CHECK(h.kind != HostedObject::Kind::Address);
  std::vector<std::string> lines = Lines(cs);
  CHECK(std::find(lines.begin(), lines.end(), "> address eth0 -> nd-sw: 10.0.0.5/24 (in the plan)") != lines.end());
}

TEST_CASE("a multipath route through the NIC blocks its adoption") {
  HostState a = Host();
  auto attrs = std::make_shared<RouteAttrs>();
  attrs->multipath = true;
  a.routes.push_back({254, *ParsePrefix("10.9.0.0/16"), "eth0", std::nullopt, {}, attrs});
  ChangeSet cs = Diff(PlanOf(kAdopt), a);
  REQUIRE(cs.conflicts.size() == 1);
  CHECK(cs.conflicts[0].find("route table 254 10.9.0.0/16 has several next hops, one through adopted NIC `eth0`") !=
        std::string::npos);
}

TEST_CASE("a changed route is replaced in place, not deleted and added") {
  const char* want = R"(links:
  - {name: nd-br1, kind: bridge, mtu: 1500}
routes:
  - {table: 1001, dst: 10.0.0.0/8, dev: nd-br1, via: 192.168.1.2}
)";
  HostState have = PlanOf(want);
  for (Link& l : have.links) l.alias = "netdsl", l.up = true;
  have.routes[0].via = ParseIp("192.168.1.1");
  ChangeSet cs = Diff(PlanOf(want), have);
  REQUIRE(cs.steps.size() == 1);
  CHECK(Kinds(cs.steps[0].ops) == std::vector<OpKind>{OpKind::ReplaceRoute});
  CHECK(Kinds(cs.steps[0].inverse) == std::vector<OpKind>{OpKind::ReplaceRoute});
  CHECK(Lines(cs) == std::vector<std::string>{
                         "~ route table 1001 10.0.0.0/8: dev nd-br1 via 192.168.1.1 -> dev nd-br1 via 192.168.1.2"});
}

TEST_CASE("journal and record encodings keep every attribute of a moved object") {
  auto ra = std::make_shared<RouteAttrs>();
  ra->protocol = 16;
  ra->scope = 0;
  ra->tos = 4;
  ra->priority = 100;
  ra->flags = 4;
  ra->prefsrc = ParseIp("10.0.0.5");
  ra->metrics = std::string("\x08\x00\x02\x00\xdc\x05\x00\x00", 8);
  ra->pref = 1;
  Route r{254, *ParsePrefix("10.50.0.0/16"), "eth0", ParseIp("10.0.0.1"), {}, ra};
  std::optional<Op> back = DecodeOp(EncodeOp({OpKind::ReplaceRoute, r}));
  REQUIRE(back);
  CHECK(back->kind == OpKind::ReplaceRoute);
  const Route& r2 = std::get<Route>(back->object);
  REQUIRE(r2.attrs);
  CHECK(*r2.attrs == *ra);
  CHECK(r2.via == r.via);
  // netdsl's own objects encode as before: no attribute marker.
  CHECK(EncodeOp({OpKind::AddRoute, Route{254, r.dst, "nd-br1", std::nullopt, {}, nullptr}}) ==
        "add-route|254|10.50.0.0/16|nd-br1|");

  auto aa = std::make_shared<AddressAttrs>();
  aa->scope = 253;
  aa->flags = 0x200;
  aa->label = "eth0:a|b%";
  aa->broadcast = ParseIp("10.0.0.255");
  aa->peer = ParseIp("10.0.0.6");
  aa->valid_lft = 300;
  aa->preferred_lft = 200;
  aa->proto = 5;
  HostedObject h{"eth0", "nd-sw", HostedObject::Kind::Address, Address{"eth0", *ParseIp("10.0.0.5"), 24, {}, aa}, {}, {}};
  std::optional<HostedObject> h2 = DecodeHosted(EncodeHosted(h));
  REQUIRE(h2);
  CHECK(h2->nic == "eth0");
  CHECK(h2->dev == "nd-sw");
  REQUIRE(h2->address.attrs);
  CHECK(*h2->address.attrs == *aa);
  CHECK_FALSE(DecodeHosted("eth0|nd-sw|add-fdb|nd-vx1|00:00:00:00:00:00|10.0.0.1"));
  CHECK_FALSE(DecodeHosted("garbage"));
  CHECK_FALSE(DecodeOp("replace-route|254|10.0.0.0/8|eth0||@|3|0|0|0|0||zz|0|0"));  // bad metrics hex
}

TEST_CASE("SettingsTarget follows owned masters up to the switch bridge") {
  HostState d = PlanOf(R"(links:
  - {name: nd-sw, kind: bridge, mtu: 1500}
  - {name: nd-bo, kind: bond, mtu: 1500, master: nd-sw, bond: {mode: active-backup}}
adopted:
  - {name: eth0, master: nd-bo}
)");
  CHECK(SettingsTarget(d, "eth0") == "nd-sw");
  CHECK(SettingsTarget(d, "eth1") == "");
}

TEST_CASE("durations: units, combinations, and what is refused") {
  std::string err;
  CHECK(ParseDuration("90", &err) == std::chrono::seconds(90));
  CHECK(ParseDuration("90s", &err) == std::chrono::seconds(90));
  CHECK(ParseDuration("5m", &err) == std::chrono::minutes(5));
  CHECK(ParseDuration("1h30m", &err) == std::chrono::minutes(90));
  CHECK(ParseDuration("1m30s500ms", &err) == std::chrono::milliseconds(90500));
  CHECK(ParseDuration("2d", &err) == std::chrono::hours(48));
  for (const char* bad : {"", "m", "5x", "5 m", "-5s", "1.5m", "30s1m", "1m1m", "5s3", "8d", "99999999999s"}) {
    err.clear();
    CHECK_MESSAGE(!ParseDuration(bad, &err), bad);
    CHECK_MESSAGE(!err.empty(), bad);
  }
  CHECK(FormatDuration(std::chrono::milliseconds(90500)) == "1m30s500ms");
  CHECK(FormatDuration(std::chrono::hours(2)) == "2h");
  CHECK(FormatDuration(std::chrono::milliseconds(0)) == "0s");
  for (int ms : {1, 999, 1000, 61000, 3600000, 86400000 + 1})
    CHECK(ParseDuration(FormatDuration(std::chrono::milliseconds(ms)), &err) == std::chrono::milliseconds(ms));
}

TEST_CASE("--probe arguments") {
  std::string err;
  auto p = ParseProbe("10.1.0.2:22", &err);
  REQUIRE(p);
  CHECK(p->address == *ParseIp("10.1.0.2"));
  CHECK(p->port == 22);
  CHECK(p->Name() == "--probe 10.1.0.2:22");
  p = ParseProbe("2001:db8::1", &err);
  REQUIRE(p);
  CHECK(p->port == 0);
  p = ParseProbe("[2001:db8::1]:443", &err);
  REQUIRE(p);
  CHECK(p->port == 443);
  CHECK(p->Name() == "--probe [2001:db8::1]:443");
  for (const char* bad : {"", "host.example:22", "10.1.0.2:", "10.1.0.2:0", "10.1.0.2:65536", "10.1.0.2:ssh",
                          "[2001:db8::1]22", "[2001:db8::1]:", "300.1.1.1"}) {
    err.clear();
    CHECK_MESSAGE(!ParseProbe(bad, &err), bad);
    CHECK_MESSAGE(!err.empty(), bad);
  }
}

TEST_CASE("confirm state: round trip, escaping, damage, another boot") {
  char dir[] = "/tmp/netdsl-confirm-test-XXXXXX";
  REQUIRE(mkdtemp(dir));
  setenv("NETDSL_STATE_DIR", dir, 1);
  ConfirmState s;
  s.phase = ConfirmState::Phase::Reverted;
  s.id = "0123456789abcdef";
  s.host = "hv1";
  s.netns = "ns with space";
  s.window_ms = 90000;
  s.deadline_boot_ms = 123456;
  s.deadline_unix = 1796533753;
  s.started_unix = 1796533750;
  s.apply_pid = 42;
  s.apply_start = 4242;
  s.reason = "line one\nline two \\ backslash";
  std::string err;
  REQUIRE(SaveConfirm("netns-x", s, &err));
  ConfirmState back;
  REQUIRE(LoadConfirm("netns-x", &back, &err));
  CHECK(back.phase == s.phase);
  CHECK(back.id == s.id);
  CHECK(back.netns == s.netns);
  CHECK(back.reason == s.reason);
  CHECK(back.deadline_boot_ms == s.deadline_boot_ms);
  CHECK(back.apply_start == s.apply_start);
  // None at all: false without an error.
  CHECK_FALSE(LoadConfirm("netns-none", &back, &err));
  CHECK(err.empty());
  // Damaged: false with an error naming the file.
  { std::FILE* f = std::fopen((std::string(dir) + "/netns-bad.confirm").c_str(), "w"); std::fputs("garbage\n", f); std::fclose(f); }
  CHECK_FALSE(LoadConfirm("netns-bad", &back, &err));
  CHECK(err.find("netns-bad.confirm") != std::string::npos);
  // From another boot: void (the kernel state it speaks of is gone).
  { std::FILE* f = std::fopen((std::string(dir) + "/netns-old.confirm").c_str(), "w");
    std::fputs("netdsl confirm 1\nphase pending\nid 00\nboot not-this-boot\n", f); std::fclose(f); }
  err.clear();
  CHECK_FALSE(LoadConfirm("netns-old", &back, &err));
  CHECK(err.empty());
  CHECK(ProcessAlive(getpid(), ProcessStart(getpid())));
  CHECK_FALSE(ProcessAlive(getpid(), ProcessStart(getpid()) + 1));  // same pid, another process
  CHECK_FALSE(ProcessAlive(0, 0));
  std::string cmd = std::string("rm -rf ") + dir;
  CHECK(std::system(cmd.c_str()) == 0);
  unsetenv("NETDSL_STATE_DIR");
}
