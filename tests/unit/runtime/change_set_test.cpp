// Unit tests of the diff (nmstate-style: current + desired → expected plan
// lines) and of the journal encoding of operations.
#include <doctest/doctest.h>

#include <set>

#include "runtime/linux/change_set.h"
#include "runtime/linux/object_key.h"
#include "runtime/linux/plan_reader.h"
#include "tests/unit/runtime/plan_of.h"

using namespace netdsl::runtime;
using netdsl::runtime::testing::PlanOf;

namespace {

/// The kernel's view, written as a plan: every link is up and carries the
/// ownership marker unless listed in `foreign`.
HostState Current(const std::string& body, const std::set<std::string>& foreign = {}) {
  HostState s = PlanOf(body);
  for (Link& l : s.links) {
    l.up = true;
    if (!foreign.count(l.name)) l.alias = "netdsl";
  }
  return s;
}

std::vector<std::string> Lines(const ChangeSet& cs) {
  std::vector<std::string> out;
  for (const PlanLine& l : cs.lines)
    out.push_back(std::string(1, l.action) + " " + l.object + " " + l.name + (l.detail.empty() ? "" : ": " + l.detail));
  return out;
}

const char* kBase = R"(links:
  - {name: nd-br1, kind: bridge, mtu: 1450}
  - {name: nd-vx1, kind: vxlan, mtu: 1450, master: nd-br1, vxlan: {id: 1, local: 192.168.0.10}}
fdb:
  - {dev: nd-vx1, mac: "00:00:00:00:00:00", dst: 192.168.0.11}
  - {dev: nd-vx1, mac: "00:1d:d8:b7:1c:05", dst: 192.168.0.11}
)";

}  // namespace

TEST_CASE("in sync: no changes, no steps") {
  ChangeSet cs = Diff(PlanOf(kBase), Current(kBase));
  CHECK(cs.lines.empty());
  CHECK(cs.steps.empty());
  CHECK(cs.conflicts.empty());
}

TEST_CASE("drift: a changed mtu and a missing fdb entry") {
  std::string current = kBase;
  current.replace(current.find("mtu: 1450"), 9, "mtu: 1400");
  current.erase(current.rfind("  - {dev: nd-vx1, mac: \"00:1d"));
  ChangeSet cs = Diff(PlanOf(kBase), Current(current));
  CHECK(Lines(cs) == std::vector<std::string>{"~ link nd-br1: mtu 1400 -> 1450",
                                              "+ fdb nd-vx1: 00:1d:d8:b7:1c:05 dst 192.168.0.11"});
  REQUIRE(cs.steps.size() == 2);
  REQUIRE(cs.steps[0].inverse.size() == 1);
  CHECK(Describe(cs.steps[0].inverse[0]) == "change link `nd-br1` (mtu 1400)");
  CHECK(Describe(cs.steps[1].inverse[0]) == "delete fdb 00:1d:d8:b7:1c:05 dst 192.168.0.11 on `nd-vx1`");
}

TEST_CASE("an immutable attribute recreates the link and what lives on it") {
  std::string desired = kBase;
  desired.replace(desired.find("id: 1,"), 6, "id: 2,");
  ChangeSet cs = Diff(PlanOf(desired), Current(kBase));
  CHECK(Lines(cs) == std::vector<std::string>{
                         "- fdb nd-vx1: 00:00:00:00:00:00 dst 192.168.0.11",
                         "- fdb nd-vx1: 00:1d:d8:b7:1c:05 dst 192.168.0.11",
                         "- link nd-vx1: recreated: vxlan id 1 -> 2",
                         "+ link nd-vx1: vxlan, mtu 1450, master nd-br1, id 2",
                         "+ fdb nd-vx1: 00:00:00:00:00:00 dst 192.168.0.11",
                         "+ fdb nd-vx1: 00:1d:d8:b7:1c:05 dst 192.168.0.11",
                     });
  // Disruptive: both lines of the recreation are marked, nothing else.
  std::vector<std::string> marked;
  for (const PlanLine& l : cs.lines)
    if (l.disruptive) marked.push_back(std::string(1, l.action) + " " + l.name);
  CHECK(marked == std::vector<std::string>{"- nd-vx1", "+ nd-vx1"});
  REQUIRE(cs.disruptive.size() == 1);
  CHECK(cs.disruptive[0].link == "nd-vx1");
  CHECK(cs.disruptive[0].reason == "vxlan id 1 -> 2");
  // Also when only the count of lines is built (apply).
  CHECK(Diff(PlanOf(desired), Current(kBase), 4096, PlanText::kCount).disruptive.size() == 1);
  // An in-place change is not disruptive.
  std::string mtu = kBase;
  mtu.replace(mtu.find("mtu: 1450"), 9, "mtu: 1400");
  CHECK(Diff(PlanOf(mtu), Current(kBase)).disruptive.empty());
}

TEST_CASE("deletions run children first; their inverses recreate masters first") {
  ChangeSet cs = Diff(PlanOf(""), Current(kBase));
  std::vector<std::string> labels;
  for (const Step& s : cs.steps) labels.push_back(s.label);
  CHECK(labels ==
        std::vector<std::string>{"delete fdb (2 entries)", "delete link `nd-vx1`", "delete link `nd-br1`"});
  // Rolling back runs steps in reverse: nd-br1 comes back before nd-vx1, its slave.
  CHECK(Describe(cs.steps[2].inverse[0]) == "create link `nd-br1`");
  REQUIRE(cs.steps[1].inverse[0].kind == OpKind::CreateLink);
  CHECK(std::get<Boxed<Link>>(cs.steps[1].inverse[0].object)->master == "nd-br1");
}

TEST_CASE("links with the prefix but without the marker are not owned") {
  const char* foreign = "links:\n  - {name: nd-br1, kind: bridge, mtu: 1450}\n";
  ChangeSet untouched = Diff(PlanOf(""), Current(foreign, {"nd-br1"}));
  CHECK(untouched.lines.empty());
  REQUIRE(untouched.warnings.size() == 1);
  CHECK(untouched.warnings[0] == "link `nd-br1` has the `nd` prefix but not the `netdsl` alias; not owned, left alone");
  ChangeSet conflict = Diff(PlanOf(foreign), Current(foreign, {"nd-br1"}));
  REQUIRE(conflict.conflicts.size() == 1);
  CHECK(conflict.conflicts[0].find("link `nd-br1` exists but is not owned by netdsl") == 0);
  CHECK(conflict.steps.empty());
}

TEST_CASE("a veth guest end is part of its pair, in the host or moved away") {
  const char* pair = "links:\n  - {name: nd-br1, kind: bridge}\n  - {name: nd-p1, kind: veth, master: nd-br1, veth: "
                     "{peer: nd-p1g}}\n";
  HostState here = Current(pair);
  Link peer = here.links[1];
  peer.name = "nd-p1g";
  peer.veth_peer = "nd-p1";
  peer.master = "";
  here.links.push_back(peer);
  CHECK(Diff(PlanOf(pair), here).lines.empty());
  HostState moved = Current(pair);
  moved.links[1].veth_peer = "";
  moved.links[1].veth_peer_elsewhere = true;
  CHECK(Diff(PlanOf(pair), moved).lines.empty());
}

TEST_CASE("adopted NICs: enslaved and set up; a foreign master is a conflict") {
  const char* want = "links:\n  - {name: nd-sw, kind: bridge}\nadopted:\n  - {name: eth0, master: nd-sw}\n";
  HostState cur = Current("links:\n  - {name: nd-sw, kind: bridge}\n");
  Link eth0;
  eth0.name = "eth0";
  cur.links.push_back(eth0);
  CHECK(Lines(Diff(PlanOf(want), cur)) == std::vector<std::string>{"~ adopted eth0: master none -> nd-sw, up"});
  Link br0;
  br0.name = "br0";
  br0.kind = "bridge";
  cur.links.push_back(br0);
  cur.links[1].master = "br0";
  ChangeSet cs = Diff(PlanOf(want), cur);
  REQUIRE(cs.conflicts.size() == 1);
  CHECK(cs.conflicts[0] == "adopted NIC `eth0` is enslaved to `br0`, which netdsl does not own; release it first");
}

TEST_CASE("adopted NIC into a bond: down, enslave, up; undone as release, then the admin state as it was") {
  // The bonding driver refuses a slave that is up, and the kernel applies a
  // request's flags before its master, so one request "master bond, up" fails.
  const char* want = "links:\n  - {name: nd-sw, kind: bridge}\n  - {name: ndb-sw, kind: bond, master: nd-sw, bond: {mode: active-backup}}\n"
                     "adopted:\n  - {name: eth0, master: ndb-sw}\n";
  auto ops_of = [](const std::vector<Op>& ops) {
    std::vector<std::string> out;
    for (const Op& op : ops) out.push_back(Describe(op));
    return out;
  };
  for (bool was_up : {true, false}) {
    CAPTURE(was_up);
    HostState cur = Current("links:\n  - {name: nd-sw, kind: bridge}\n  - {name: ndb-sw, kind: bond, master: nd-sw, bond: {mode: active-backup}}\n");
    Link eth0;
    eth0.name = "eth0";
    eth0.up = was_up;
    cur.links.push_back(eth0);
    ChangeSet cs = Diff(PlanOf(want), cur);
    REQUIRE(cs.steps.size() == 1);
    const Step& s = cs.steps[0];
    CHECK(s.label == "attach adopted NIC `eth0`");
    std::vector<std::string> ops = ops_of(s.ops);
    std::vector<std::string> expected = {"change link `eth0` (master none -> ndb-sw)", "change link `eth0` (up)"};
    if (was_up) expected.insert(expected.begin(), "change link `eth0` (down)");
    CHECK(ops == expected);
    CHECK(ops_of(s.inverse) == std::vector<std::string>{"change link `eth0` (down)", "change link `eth0` (master none -> none)",
                                                         was_up ? "change link `eth0` (up)" : "change link `eth0` (down)"});
  }
  // Into a bridge: one request, as before.
  HostState cur = Current("links:\n  - {name: nd-sw, kind: bridge}\n");
  Link eth0;
  eth0.name = "eth0";
  eth0.up = true;
  cur.links.push_back(eth0);
  ChangeSet cs = Diff(PlanOf("links:\n  - {name: nd-sw, kind: bridge}\nadopted:\n  - {name: eth0, master: nd-sw}\n"), cur);
  REQUIRE(cs.steps.size() == 1);
  CHECK(cs.steps[0].ops.size() == 1);
}

TEST_CASE("bridge port isolation: repaired in place, set again after a change of master, undone") {
  const char* want = "links:\n  - {name: nd-br1, kind: bridge}\n  - {name: nd-br2, kind: bridge}\n"
                     "  - {name: nd-g, kind: gretap, master: nd-br1, isolated: true, gretap: {key: 256}}\n";
  HostState cur = Current(want);
  CHECK(Diff(PlanOf(want), cur).steps.empty());
  cur.links[2].isolated = false;  // drift: someone turned isolation off
  ChangeSet cs = Diff(PlanOf(want), cur);
  CHECK(Lines(cs) == std::vector<std::string>{"~ link nd-g: isolated"});
  REQUIRE(cs.steps.size() == 1);
  CHECK(Describe(cs.steps[0].ops[0]) == "change link `nd-g` (isolated)");
  CHECK(Describe(cs.steps[0].inverse[0]) == "change link `nd-g` (not isolated)");
  // In another bridge: the new port starts not isolated, so isolation is set
  // again with the master; the undo restores master and isolation.
  cur.links[2].isolated = true;
  cur.links[2].master = "nd-br2";
  cs = Diff(PlanOf(want), cur);
  REQUIRE(cs.steps.size() == 1);
  CHECK(Describe(cs.steps[0].ops[0]) == "change link `nd-g` (master none -> nd-br1, isolated)");
  CHECK(Describe(cs.steps[0].inverse[0]) == "change link `nd-g` (master none -> nd-br2, isolated)");
  // Journal round trips, and a journal line from before the field reads as not isolated.
  for (const Op& op : {cs.steps[0].ops[0], Op{OpKind::CreateLink, PlanOf(want).links[2]}}) {
    std::string line = EncodeOp(op);
    auto back = DecodeOp(line);
    REQUIRE(back.has_value());
    CHECK(EncodeOp(*back) == line);
  }
  // (the line of an isolated port without its last field; a hand-written line
  // lacked a field, which the journal's strict decoder rightly refuses)
  std::string before_field = EncodeOp(Op{OpKind::CreateLink, PlanOf(want).links[2]});
  before_field.erase(before_field.rfind('|'));
  auto old = DecodeOp(before_field);
  REQUIRE(old.has_value());
  CHECK_FALSE(std::get<Boxed<Link>>(old->object)->isolated);
  auto created = DecodeOp(EncodeOp(Op{OpKind::CreateLink, PlanOf(want).links[2]}));
  CHECK(std::get<Boxed<Link>>(created->object)->isolated);
}

TEST_CASE("bulk objects are split into steps, each with reversed inverses") {
  std::string body = "links:\n  - {name: nd-vx1, kind: vxlan, vxlan: {id: 1}}\nfdb:\n";
  for (int i = 0; i < 10; ++i) body += "  - {dev: nd-vx1, mac: \"00:00:00:00:00:0" + std::to_string(i) + "\", dst: 10.0.0.1}\n";
  ChangeSet cs = Diff(PlanOf(body), Current("links:\n  - {name: nd-vx1, kind: vxlan, vxlan: {id: 1}}\n"), 4);
  REQUIRE(cs.steps.size() == 3);
  CHECK(cs.steps[0].ops.size() == 4);
  CHECK(cs.steps[2].ops.size() == 2);
  CHECK(Describe(cs.steps[0].inverse.front()) == "delete fdb 00:00:00:00:00:03 dst 10.0.0.1 on `nd-vx1`");
  CHECK(cs.operation_count() == 10);
}

TEST_CASE("journal encoding round-trips every operation kind") {
  HostState s = PlanOf(R"(links:
  - {name: nd-br1, kind: bridge, mtu: 1450, mac: "02:00:00:00:00:01"}
  - {name: nd-vx1, kind: vxlan, master: nd-br1, vxlan: {id: 7, local: "2001:db8::1", ttl: 9}}
addresses:
  - {dev: nd-br1, address: 10.0.0.1/24}
routes:
  - {table: 1001, dst: 10.1.0.0/16, dev: nd-br1, via: 10.0.0.254}
fdb:
  - {dev: nd-vx1, mac: "00:1d:d8:b7:1c:05", dst: "2001:db8::2"}
neighbours:
  - {dev: nd-br1, address: 10.0.0.9, mac: "00:1d:d8:b7:1c:09"}
qdiscs:
  - {dev: nd-br1, kind: htb, default_class: 2, classes: [{minor: 1, rate_bps: 1000}, {minor: 2, parent: 1, rate_bps: 800}]}
)");
  LinkChange change{"nd-br1", 1500u, std::string(""), std::nullopt, true, false, std::nullopt};
  LinkChange guest_end{"nd-p1g", std::nullopt, std::nullopt, netdsl::net::ParseMac("00:1d:d8:b7:1c:00"), std::nullopt,
                       std::nullopt, std::string("netdsl|x%")};
  std::vector<Op> ops = {
      {OpKind::CreateLink, s.links[0]},   {OpKind::DeleteLink, s.links[1]}, {OpKind::SetLink, change},
      {OpKind::SetLink, guest_end},
      {OpKind::AddAddress, s.addresses[0]}, {OpKind::DelRoute, s.routes[0]}, {OpKind::AddFdb, s.fdb[0]},
      {OpKind::DelNeighbour, s.neighbours[0]}, {OpKind::ReplaceQdisc, s.qdiscs[0]},
      {OpKind::RestoreNft, std::string("bridge netdsl\ntable bridge netdsl {\n\tcomment \"a|b%c\"\n}\n")},
  };
  for (const Op& op : ops) {
    std::string line = EncodeOp(op);
    CHECK(line.find('\n') == std::string::npos);
    auto back = DecodeOp(line);
    REQUIRE(back.has_value());
    CHECK(back->kind == op.kind);
    CHECK(EncodeOp(*back) == line);
    CHECK(Describe(*back) == Describe(op));
  }
  CHECK(!DecodeOp("frobnicate|x").has_value());
  // The guest end's marker survives the journal (a tagged optional part).
  auto back = DecodeOp(EncodeOp({OpKind::SetLink, guest_end}));
  REQUIRE(back.has_value());
  CHECK(std::get<LinkChange>(back->object).alias == std::optional<std::string>("netdsl|x%"));
  CHECK(!std::get<LinkChange>(DecodeOp(EncodeOp({OpKind::SetLink, change}))->object).alias);
}

TEST_CASE("journal lines of the bulk kinds: exact text, escaped names, same as the general encoding") {
  HostState s = PlanOf(R"(links:
  - {name: nd-br1, kind: bridge}
  - {name: nd-vx1, kind: vxlan, master: nd-br1, vxlan: {id: 7}}
routes:
  - {table: 1001, dst: 10.1.0.0/16, dev: nd-br1, via: 10.0.0.254}
fdb:
  - {dev: nd-vx1, mac: "00:1d:d8:b7:1c:05", dst: "2001:db8::2"}
)");
  CHECK(EncodeOp({OpKind::AddFdb, s.fdb[0]}) == "add-fdb|nd-vx1|00:1d:d8:b7:1c:05|2001:db8::2");
  Route r = s.routes[0];
  r.dev = "a|b%";  // a name read from the kernel may hold anything
  CHECK(EncodeOp({OpKind::DelRoute, r}) == "del-route|1001|10.1.0.0/16|a%7Cb%25|10.0.0.254");
  std::string appended = "undo ";
  AppendEncodedOp({OpKind::DelRoute, r}, &appended);
  CHECK(appended == "undo del-route|1001|10.1.0.0/16|a%7Cb%25|10.0.0.254");
  auto back = DecodeOp(appended.substr(5));
  REQUIRE(back.has_value());
  CHECK(std::get<Route>(back->object).dev == "a|b%");
  // Kinds without a fast path go through the general encoder.
  std::string link_line;
  AppendEncodedOp({OpKind::CreateLink, s.links[0]}, &link_line);
  CHECK(link_line == EncodeOp({OpKind::CreateLink, s.links[0]}));
}

TEST_CASE("link creations: one bulk step per dependency depth, changes keep their place") {
  const char* want = R"(links:
  - {name: nd-br1, kind: bridge}
  - {name: nd-vx1, kind: vxlan, master: nd-br1, vxlan: {id: 1}}
  - {name: nd-br2, kind: bridge}
  - {name: nd-vx2, kind: vxlan, master: nd-br2, vxlan: {id: 2}}
  - {name: nd-old, kind: bridge, mtu: 1400}
  - {name: nd-br3, kind: bridge}
)";
  ChangeSet cs = Diff(PlanOf(want), Current("links:\n  - {name: nd-old, kind: bridge, mtu: 1500}\n"));
  std::vector<std::string> labels;
  for (const Step& s : cs.steps) labels.push_back(s.label);
  REQUIRE(cs.steps.size() == 4);
  // Masters first in one step, their ports in the next; the change of
  // nd-old after the creations before it; nd-br3 after the change.
  CHECK(labels[0] == "create links `nd-br1`, ... (2 links)");
  CHECK(Describe(cs.steps[0].ops[1]) == "create link `nd-br2`");
  CHECK(labels[1] == "create links `nd-vx1`, ... (2 links)");
  CHECK(labels[2] == "change link `nd-old`");
  CHECK(labels[3] == "create link `nd-br3`");
  // Undo deletes the step's links, last created first.
  CHECK(Describe(cs.steps[1].inverse[0]) == "delete link `nd-vx2`");
  CHECK(cs.changes == 6);
  CHECK(cs.lines.size() == 6);
}

TEST_CASE("PlanText::kCount counts the changes without building the lines") {
  std::string body = "links:\n  - {name: nd-vx1, kind: vxlan, vxlan: {id: 1}}\nneighbours:\n";
  for (int i = 1; i <= 50; ++i)
    body += "  - {dev: nd-vx1, address: 10.0.0." + std::to_string(i) + ", mac: \"02:00:00:00:00:01\"}\n";
  HostState d = PlanOf(body);
  HostState a = Current("links:\n  - {name: nd-vx1, kind: vxlan, vxlan: {id: 1}}\n");
  ChangeSet lines = Diff(d, a);
  ChangeSet counted = Diff(d, a, 4096, PlanText::kCount);
  CHECK(lines.lines.size() == 50);
  CHECK(lines.changes == 50);
  CHECK(counted.lines.empty());
  CHECK(counted.changes == 50);
  CHECK(counted.operation_count() == lines.operation_count());
}

TEST_CASE("object keys: every field counts, the first position of a key wins, the index grows") {
  FdbEntry f{"nd-vx1", *netdsl::net::ParseMac("02:00:00:00:00:01"), *netdsl::net::ParseIp("10.0.0.1"), {}};
  FdbEntry g = f;
  g.dst = *netdsl::net::ParseIp("10.0.0.2");
  FdbEntry h = f;
  h.dev = "nd-vx2";
  CHECK(KeyOf(f) == KeyOf(f));
  CHECK(!(KeyOf(f) == KeyOf(g)));
  CHECK(!(KeyOf(f) == KeyOf(h)));
  Neighbour n{"nd-vx1", f.dst, f.mac, {}, nullptr};
  Neighbour m = n;
  m.mac = *netdsl::net::ParseMac("02:00:00:00:00:02");
  CHECK(KeyOf(n) == KeyOf(m));  // a neighbour is identified by device and address
  Route r1{1001, *netdsl::net::ParsePrefix("10.0.0.0/24"), "nd-br1", std::nullopt, {}, nullptr};
  Route r2 = r1;
  r2.dst.length = 25;
  CHECK(!(KeyOf(r1) == KeyOf(r2)));

  KeyIndex index;  // starts small: 20 000 inserts make it grow many times
  std::vector<Neighbour> all;
  for (uint32_t i = 0; i < 20000; ++i) {
    Neighbour x = n;
    x.address.bytes[15] = static_cast<uint8_t>(i);
    x.address.bytes[14] = static_cast<uint8_t>(i >> 8);
    all.push_back(x);
    CHECK(index.Insert(KeyOf(x), i) == i);
  }
  CHECK(index.size() == 20000);
  CHECK(index.Insert(KeyOf(all[123]), 99999) == 123);  // present: keeps the first
  bool all_found = true;
  for (uint32_t i = 0; i < all.size(); ++i) all_found = all_found && index.Find(KeyOf(all[i])) == i;
  CHECK(all_found);
  Neighbour absent = n;
  absent.dev = "nd-other";
  CHECK(index.Find(KeyOf(absent)) == -1);
}

TEST_CASE("a VM port's identity is in its marker: another identity recreates it, none yet records it in place") {
  const char* port = R"(links:
  - {name: nd-br1, kind: bridge, mtu: 1450}
  - {name: nd-br2, kind: bridge, mtu: 1450}
  - name: nd-p1
    kind: veth
    master: nd-br1
    identity: "vm a/nic0"
    veth: {peer: nd-p1g}
)";
  CHECK(OwnerMarker("netdsl", "vm a/nic0") == "netdsl vm a/nic0");
  CHECK(OwnerMarker("netdsl", "") == "netdsl");
  CHECK(IsOwnerMarker("netdsl vm a/nic0", "netdsl"));
  CHECK(IsOwnerMarker("netdsl", "netdsl"));
  CHECK_FALSE(IsOwnerMarker("netdslx", "netdsl"));
  CHECK_FALSE(IsOwnerMarker("netdsl ", "netdsl"));
  CHECK(MarkerIdentity("netdsl vm a/nic0", "netdsl") == "vm a/nic0");
  // The kernel keeps 255 bytes of an alias.
  std::string long_id(256, 'x');
  std::string m = OwnerMarker("netdsl", long_id);
  CHECK(m.size() == 255);
  CHECK(m != OwnerMarker("netdsl", std::string(255, 'x') + "y"));

  HostState desired = PlanOf(port);
  HostState same = Current(port);
  for (Link& l : same.links)
    if (l.name == "nd-p1") l.alias = "netdsl vm a/nic0";
  same.links.push_back(same.links.back());
  same.links.back().name = "nd-p1g";
  same.links.back().veth_peer = "nd-p1";
  same.links.back().master = "";
  same.links.back().identity = "";
  CHECK(Lines(Diff(desired, same)).empty());

  // Another VM NIC under the same port name, also on another bridge: recreated, not moved.
  std::string other = port;
  other.replace(other.find("vm a/nic0"), 9, "vm b/nic0");
  other.replace(other.find("master: nd-br1"), 14, "master: nd-br2");
  ChangeSet cs = Diff(PlanOf(other), same);
  REQUIRE(cs.disruptive.size() == 1);
  CHECK(cs.disruptive[0].link == "nd-p1");
  CHECK(cs.disruptive[0].reason == "identity `vm a/nic0` -> `vm b/nic0`");
  bool created = false;
  for (const Step& s : cs.steps)
    for (const Op& op : s.ops) {
      CHECK(op.kind != OpKind::SetLink);  // no move
      if (op.kind == OpKind::CreateLink) {
        created = true;
        CHECK(std::get<Boxed<Link>>(op.object)->alias == "netdsl vm b/nic0");
      }
    }
  CHECK(created);

  // A marker from before identities: recorded in place on both ends, not disruptive.
  HostState old = same;
  for (Link& l : old.links)
    if (l.name == "nd-p1" || l.name == "nd-p1g") l.alias = "netdsl";
  ChangeSet rec = Diff(desired, old);
  CHECK(rec.disruptive.empty());
  CHECK(Lines(rec) == std::vector<std::string>{"~ link nd-p1: alias `netdsl` -> `netdsl vm a/nic0`",
                                               "~ link nd-p1g: alias `netdsl` -> `netdsl vm a/nic0`"});
}

TEST_CASE("a create asks for an index above those in use and carries netdsl's group; both are journaled") {
  HostState actual = Current("links:\n  - {name: nd-br1, kind: bridge, mtu: 1450}\n");
  actual.links[0].ifindex = 41;
  ChangeSet cs = Diff(PlanOf(R"(links:
  - {name: nd-br1, kind: bridge, mtu: 1450}
  - {name: nd-br2, kind: bridge, mtu: 1450}
  - name: nd-p1
    kind: veth
    master: nd-br2
    veth: {peer: nd-p1g}
)"),
                      actual);
  std::vector<const Link*> created;
  for (const Step& s : cs.steps)
    for (const Op& op : s.ops)
      if (op.kind == OpKind::CreateLink) created.push_back(&*std::get<Boxed<Link>>(op.object));
  REQUIRE(created.size() == 2);
  CHECK(created[0]->ifindex == 42);
  CHECK(created[1]->ifindex == 43);
  CHECK(created[1]->veth_peer_ifindex == 44);
  CHECK(created[0]->group == OwnerGroup("netdsl"));
  CHECK(OwnerGroup("netdsl") >= (1u << 30));
  CHECK(OwnerGroup("netdsl") < (1u << 31));
  // The undo (journaled before the create is sent) names the same index and group.
  for (const Step& s : cs.steps)
    for (const Op& inv : s.inverse)
      if (inv.kind == OpKind::DeleteLink) {
        std::optional<Op> back = DecodeOp(EncodeOp(inv));
        REQUIRE(back);
        const Link& l = *std::get<Boxed<Link>>(back->object);
        CHECK(l.ifindex == std::get<Boxed<Link>>(inv.object)->ifindex);
        CHECK(l.ifindex >= 42);
        CHECK(l.group == OwnerGroup("netdsl"));
      }
  // A line written before the field decodes with no index (the old rule: the marker).
  std::string line = EncodeOp(cs.steps[0].inverse[0]);
  std::optional<Op> old = DecodeOp(line.substr(0, line.find("|i|")));
  REQUIRE(old);
  CHECK(std::get<Boxed<Link>>(old->object)->ifindex == 0);
}

TEST_CASE("a veth's peer on an owned bridge (veth.peer_master): created after the pair, diffed, undone") {
  const char* want = "links:\n  - {name: nd-ext, kind: bridge}\n  - {name: nd-ext2, kind: bridge}\n"
                     "  - {name: nd-n7, kind: veth, veth: {peer: nd-n7x, peer_master: nd-ext}}\n";
  HostState d = PlanOf(want);
  REQUIRE(d.links[2].veth_peer_master == "nd-ext");
  // From nothing: the veth is created one level after its peer's bridge.
  ChangeSet fresh = Diff(d, HostState{});
  CHECK(Lines(fresh) == std::vector<std::string>{"+ link nd-ext: bridge", "+ link nd-ext2: bridge",
                                                 "+ link nd-n7: veth, peer nd-n7x on nd-ext"});
  REQUIRE(fresh.steps.size() == 2);
  CHECK(fresh.steps[1].label == "create link `nd-n7`");
  // The kernel's view: both ends, the peer on nd-ext and up.
  HostState cur = Current(want);
  Link peer;
  peer.name = "nd-n7x";
  peer.kind = "veth";
  peer.veth_peer = "nd-n7";
  peer.master = "nd-ext";
  peer.up = true;
  peer.alias = "netdsl";
  cur.links[2].veth_peer_master.clear();  // kernel side: read from the peer (state_reader)
  cur.links.push_back(peer);
  CHECK(Diff(d, cur).steps.empty());
  // Drift: released by hand, and down.
  cur.links[3].master.clear();
  cur.links[3].up = false;
  ChangeSet cs = Diff(d, cur);
  CHECK(Lines(cs) == std::vector<std::string>{"~ link nd-n7x: master none -> nd-ext, up"});
  REQUIRE(cs.steps.size() == 1);
  CHECK(Describe(cs.steps[0].inverse[0]) == "change link `nd-n7x` (master none -> none, down)");
  // Moved to another bridge: one change, undone by moving back.
  cur.links[3].master = "nd-ext2";
  cur.links[3].up = true;
  cs = Diff(d, cur);
  CHECK(Lines(cs) == std::vector<std::string>{"~ link nd-n7x: master nd-ext2 -> nd-ext"});
  REQUIRE(cs.steps.size() == 1);
  CHECK(Describe(cs.steps[0].inverse[0]) == "change link `nd-n7x` (master none -> nd-ext2)");
  // The peer's bridge goes away: the peer is released first (its undo puts it back), then the bridge deleted.
  const char* without = "links:\n  - {name: nd-ext2, kind: bridge}\n"
                        "  - {name: nd-n7, kind: veth, veth: {peer: nd-n7x, peer_master: nd-ext2}}\n";
  cur.links[3].master = "nd-ext";
  cs = Diff(PlanOf(without), cur);
  CHECK(Lines(cs) == std::vector<std::string>{"~ link nd-n7x: master nd-ext -> none", "- link nd-ext: bridge",
                                              "~ link nd-n7x: master none -> nd-ext2"});
  // Journal: the create carries the peer's master; a line from before the field has none.
  Op create{OpKind::CreateLink, d.links[2]};
  auto back = DecodeOp(EncodeOp(create));
  REQUIRE(back.has_value());
  CHECK(std::get<Boxed<Link>>(back->object)->veth_peer_master == "nd-ext");
  std::string old = EncodeOp(create);
  CHECK(old.substr(old.size() - 11) == "|n|nd-ext|0");  // the optional part, after its tag
  old.erase(old.size() - 11);
  auto before_field = DecodeOp(old);
  REQUIRE(before_field.has_value());
  CHECK(std::get<Boxed<Link>>(before_field->object)->veth_peer_master.empty());
}

TEST_CASE("per-device forwarding: turned on where the plan asks, left alone elsewhere, undone") {
  const char* want = "links:\n  - {name: nd-br1, kind: bridge, forwarding: true}\n  - {name: nd-br2, kind: bridge}\n";
  HostState d = PlanOf(want);
  CHECK(d.links[0].forwarding);
  CHECK_FALSE(d.links[1].forwarding);
  HostState cur = Current(want);
  cur.links[1].forwarding = true;  // someone else's choice on a device netdsl does not route through: left alone
  CHECK(Diff(d, cur).steps.empty());
  cur.links[0].forwarding = false;
  ChangeSet cs = Diff(d, cur);
  CHECK(Lines(cs) == std::vector<std::string>{"~ link nd-br1: forwarding on"});
  REQUIRE(cs.steps.size() == 1);
  CHECK(Describe(cs.steps[0].ops[0]) == "change link `nd-br1` (forwarding on)");
  CHECK(Describe(cs.steps[0].inverse[0]) == "change link `nd-br1` (forwarding off)");
  for (const Op& op : {cs.steps[0].ops[0], cs.steps[0].inverse[0], Op{OpKind::CreateLink, d.links[0]}}) {
    std::string line = EncodeOp(op);
    auto back = DecodeOp(line);
    REQUIRE(back.has_value());
    CHECK(EncodeOp(*back) == line);
  }
  auto created = DecodeOp(EncodeOp(Op{OpKind::CreateLink, d.links[0]}));
  CHECK(std::get<Boxed<Link>>(created->object)->forwarding);
  auto change = DecodeOp(EncodeOp(cs.steps[0].inverse[0]));
  REQUIRE(std::get<LinkChange>(change->object).forwarding.has_value());
  CHECK_FALSE(*std::get<LinkChange>(change->object).forwarding);
  CHECK_FALSE(DecodeOp(EncodeOp(cs.steps[0].ops[0]) + "|2").has_value());
}
