// Diff of desired against actual state into ordered, invertible steps; the
// journal encoding of operations.
#include "runtime/linux/change_set.h"

#include "runtime/linux/address_text.h"
#include "runtime/linux/management.h"
#include "runtime/linux/object_key.h"
#include "runtime/linux/state_reader.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace netdsl::runtime {

size_t ChangeSet::operation_count() const {
  size_t n = 0;
  for (const Step& s : steps) n += s.ops.size();
  return n;
}

namespace {

bool Owned(const Link& l, const HostState& d) {
  return l.name.rfind(d.owner_prefix, 0) == 0 && IsOwnerMarker(l.alias, d.owner_alias);
}

/// Why an existing owned link cannot be changed in place to match `want`, or "".
std::string NeedsRecreate(const Link& want, const Link& have, const std::string& owner_alias) {
  if (want.kind != have.kind) return fmt::format("kind {} -> {}", have.kind.empty() ? "?" : have.kind, want.kind);
  if (want.kind == "vxlan") {
    if (want.vxlan_id != have.vxlan_id) return fmt::format("vxlan id {} -> {}", have.vxlan_id, want.vxlan_id);
    if (want.vxlan_local && want.vxlan_local != have.vxlan_local)
      return fmt::format("vxlan local {} -> {}", IpText(have.vxlan_local), IpText(want.vxlan_local));
    if (want.vxlan_dstport != have.vxlan_dstport)
      return fmt::format("vxlan dstport {} -> {}", have.vxlan_dstport, want.vxlan_dstport);
    if (want.vxlan_learning != have.vxlan_learning) return "vxlan learning";
    if (want.vxlan_ttl != have.vxlan_ttl) return fmt::format("vxlan ttl {} -> {}", have.vxlan_ttl, want.vxlan_ttl);
  } else if (want.kind == "vlan") {
    if (want.vlan_id != have.vlan_id || want.vlan_link != have.vlan_link)
      return fmt::format("vlan {}@{} -> {}@{}", have.vlan_id, have.vlan_link, want.vlan_id, want.vlan_link);
  } else if (want.kind == "bond") {
    if (want.bond_mode != have.bond_mode) return fmt::format("bond mode {} -> {}", have.bond_mode, want.bond_mode);
    if (!want.bond_xmit_hash_policy.empty() && want.bond_xmit_hash_policy != have.bond_xmit_hash_policy)
      return "bond xmit_hash_policy";
    if (want.bond_miimon != have.bond_miimon) return "bond miimon";
  } else if (want.kind == "vrf") {
    if (want.vrf_table != have.vrf_table) return fmt::format("vrf table {} -> {}", have.vrf_table, want.vrf_table);
  } else if (want.kind == "gretap") {
    if (want.gretap_key != have.gretap_key) return "gretap key";
    if (want.gretap_local && want.gretap_local != have.gretap_local) return "gretap local";
    if (want.gretap_remote != have.gretap_remote) return "gretap remote";
  } else if (want.kind == "veth") {
    if (!have.veth_peer_elsewhere && have.veth_peer != want.veth_peer)
      return fmt::format("veth peer {} -> {}", have.veth_peer.empty() ? "?" : have.veth_peer, want.veth_peer);
    // Another VM NIC's port under the same name: a new device, never the old
    // VM's (a marker without identity, from before identities, gets it in place).
    if (std::string_view had = MarkerIdentity(have.alias, owner_alias);
        !had.empty() && !want.identity.empty() && have.alias != OwnerMarker(owner_alias, want.identity))
      return fmt::format("identity `{}` -> `{}`", had, want.identity);
  }
  return "";
}

/// Qdisc equality with the kernel's rounding (tbf burst/latency come back
/// through psched ticks).
bool SameQdisc(const Qdisc& a, const Qdisc& b) {
  if (a.kind != b.kind) return false;
  auto near = [](uint64_t x, uint64_t y) {
    uint64_t d = x > y ? x - y : y - x;
    return d <= 2 + std::max(x, y) / 100;
  };
  if (a.kind == "tbf")
    return a.rate_bps == b.rate_bps && near(a.burst_bytes, b.burst_bytes) && near(a.latency_us, b.latency_us);
  if (a.default_class != b.default_class || a.classes.size() != b.classes.size()) return false;
  auto by_minor = [](std::vector<HtbClass> v) {
    std::sort(v.begin(), v.end(), [](const HtbClass& x, const HtbClass& y) { return x.minor < y.minor; });
    return v;
  };
  std::vector<HtbClass> x = by_minor(a.classes), y = by_minor(b.classes);
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i].minor != y[i].minor || x[i].parent != y[i].parent || x[i].rate_bps != y[i].rate_bps ||
        x[i].ceil_bps != y[i].ceil_bps)
      return false;
  return true;
}

std::string QdiscText(const Qdisc& q) {
  if (q.kind == "tbf")
    return fmt::format("tbf rate {}bit burst {}b latency {}us", q.rate_bps, q.burst_bytes, q.latency_us);
  std::string s = fmt::format("htb default {}", q.default_class);
  for (const HtbClass& c : q.classes)
    s += fmt::format(" 1:{:x}{} rate {}bit ceil {}bit", c.minor, c.parent ? fmt::format(" parent 1:{:x}", c.parent) : "",
                     c.rate_bps, c.ceil_bps);
  return s;
}

std::string LinkText(const Link& l) {
  std::string s = l.kind;
  if (l.mtu) s += fmt::format(", mtu {}", l.mtu);
  if (!l.master.empty()) s += fmt::format(", master {}", l.master);
  if (l.isolated) s += ", isolated";
  if (l.kind == "vxlan") s += fmt::format(", id {}", l.vxlan_id);
  if (l.kind == "vlan") s += fmt::format(", id {} on {}", l.vlan_id, l.vlan_link);
  if (l.kind == "vrf") s += fmt::format(", table {}", l.vrf_table);
  if (l.kind == "veth") s += fmt::format(", peer {}", l.veth_peer);
  if (!l.veth_peer_master.empty()) s += fmt::format(" on {}", l.veth_peer_master);
  if (l.forwarding) s += ", forwarding";
  if (l.kind == "bond") s += fmt::format(", mode {}", l.bond_mode);
  return s;
}

std::string ChangeText(const LinkChange& c, const Link* before) {
  std::vector<std::string> parts;
  if (c.mtu) parts.push_back(before ? fmt::format("mtu {} -> {}", before->mtu, *c.mtu) : fmt::format("mtu {}", *c.mtu));
  if (c.mac) parts.push_back(fmt::format("mac {} -> {}", before ? MacText(before->mac) : "?", MacStr(*c.mac)));
  if (c.master) {
    std::string from = before && !before->master.empty() ? before->master : "none";
    parts.push_back(fmt::format("master {} -> {}", from, c.master->empty() ? "none" : *c.master));
  }
  if (c.up) parts.push_back(*c.up ? "up" : "down");
  if (c.isolated) parts.push_back(*c.isolated ? "isolated" : "not isolated");
  if (c.alias) parts.push_back(fmt::format("alias `{}` -> `{}`", before ? before->alias : "?", *c.alias));
  if (c.forwarding) parts.push_back(*c.forwarding ? "forwarding on" : "forwarding off");
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ", ") + p;
  return s;
}

/// The change that undoes `c` on `before`.
LinkChange Undo(const LinkChange& c, const Link& before) {
  LinkChange u;
  u.name = c.name;
  if (c.mtu) u.mtu = before.mtu;
  if (c.mac && before.mac) u.mac = before.mac;
  if (c.master) u.master = before.master;
  if (c.up) u.up = before.up;
  // A new master makes a new bridge port, which starts not isolated.
  if (c.isolated || (c.master && before.isolated)) u.isolated = before.isolated;
  if (c.alias) u.alias = before.alias;
  if (c.forwarding) u.forwarding = before.forwarding;
  return u;
}

/// Creation order of the actual links: masters and lower links first.
std::vector<const Link*> CreationOrder(const std::vector<const Link*>& links) {
  std::map<std::string, const Link*> by_name;
  for (const Link* l : links) by_name[l->name] = l;
  std::vector<const Link*> order;
  std::set<std::string> done, visiting;
  std::function<void(const Link*)> visit = [&](const Link* l) {
    if (done.count(l->name) || visiting.count(l->name)) return;
    visiting.insert(l->name);
    for (const std::string& dep : {l->master, l->vlan_link, l->veth_peer_master})
      if (auto it = by_name.find(dep); it != by_name.end()) visit(it->second);
    visiting.erase(l->name);
    done.insert(l->name);
    order.push_back(l);
  };
  for (const Link* l : links) visit(l);
  return order;
}

class Builder {
 public:
  Builder(ChangeSet* cs, size_t bulk, PlanText text) : cs_(cs), bulk_(bulk), text_(text) {}

  /// Whether plan lines are built; callers formatting many skip the work when not.
  bool lines() const { return text_ == PlanText::kLines; }
  void Line(char action, const char* object, std::string name, std::string detail = "") {
    ++cs_->changes;
    if (lines()) cs_->lines.push_back({action, object, std::move(name), std::move(detail)});
  }
  /// Marks the last line as a disruptive change (PlanLine::disruptive).
  void MarkDisruptive() {
    if (lines()) cs_->lines.back().disruptive = true;
  }
  /// A line of a bulk object, formatted only when lines are built.
  template <typename Fn>
  void LazyLine(char action, const char* object, Fn format) {
    ++cs_->changes;
    if (lines()) {
      auto [name, detail] = format();
      cs_->lines.push_back({action, object, std::move(name), std::move(detail)});
    }
  }
  /// A single-operation step.
  void One(std::string label, Op op, std::vector<Op> inverse) {
    cs_->steps.push_back({std::move(label), {std::move(op)}, std::move(inverse)});
  }
  /// Bulk steps of `ops` (each op's inverse is `inverse[i]`), `bulk_` per step.
  void Bulk(const std::string& what, std::vector<Op> ops, std::vector<Op> inverse, const char* nouns = "entries") {
    for (size_t i = 0; i < ops.size(); i += bulk_) {
      size_t n = std::min(bulk_, ops.size() - i);
      Step s;
      s.label = fmt::format("{} ({} {})", what, n, n == 1 ? "entry" : nouns);
      s.ops.assign(std::make_move_iterator(ops.begin() + i), std::make_move_iterator(ops.begin() + i + n));
      s.inverse.assign(std::make_move_iterator(inverse.begin() + i), std::make_move_iterator(inverse.begin() + i + n));
      std::reverse(s.inverse.begin(), s.inverse.end());
      cs_->steps.push_back(std::move(s));
    }
  }

 private:
  ChangeSet* cs_;
  size_t bulk_;
  PlanText text_;
};

/// The host's own objects the diff must not treat as netdsl's
/// (management.h): on adopted NICs (`nics`: neither indexed nor deleted),
/// hosted on a switch (`kept`: not deleted when unwanted), and desired
/// objects the move steps install (`installed`: not added again).
template <typename T>
struct Foreign {
  const std::vector<std::string>* nics = nullptr;
  const std::vector<T>* kept = nullptr;
  const std::vector<T>* installed = nullptr;
  const std::vector<T>* moving = nullptr;  ///< moved by the back steps: like `nics`
  KeyIndex moving_keys = Keys(moving);
  bool OnNic(const T& x) const {
    return (!nics->empty() && std::find(nics->begin(), nics->end(), x.dev) != nics->end()) ||
           (moving_keys.size() && moving_keys.Find(KeyOf(x)) >= 0 && Moving(x));
  }

 private:
  static KeyIndex Keys(const std::vector<T>* v) {
    KeyIndex k(v ? v->size() : 0);
    if (v)
      for (const T& x : *v) k.Insert(KeyOf(x), 0);
    return k;
  }
  bool Moving(const T& x) const {  // route keys leave out the device
    return std::any_of(moving->begin(), moving->end(), [&](const T& m) { return m.dev == x.dev; });
  }
};

/// Set difference of two object lists by key (object_key.h); `gone` =
/// devices whose objects vanish (recreated links), so their actual objects
/// count as absent. Output keeps the lists' order.
template <typename T, typename SameFn>
void DiffObjects(const std::vector<T>& want, const std::vector<T>& have, const std::set<std::string>& gone,
                 SameFn same, std::vector<const T*>* add, std::vector<const T*>* del, const Foreign<T>& foreign) {
  KeyIndex index(have.size());
  for (size_t i = 0; i < have.size(); ++i)
    if (!foreign.OnNic(have[i])) index.Insert(KeyOf(have[i]), static_cast<uint32_t>(i));
  KeyIndex kept(foreign.kept->size()), installed(foreign.installed->size());
  for (const T& k : *foreign.kept) kept.Insert(KeyOf(k), 0);
  for (const T& k : *foreign.installed) installed.Insert(KeyOf(k), 0);
  std::vector<bool> wanted(have.size(), false);
  add->reserve(want.size());
  for (const T& w : want) {
    int64_t at = index.Find(KeyOf(w));
    if (at < 0) {
      if (installed.size() == 0 || installed.Find(KeyOf(w)) < 0) add->push_back(&w);
      continue;
    }
    const T* match = &have[at];
    wanted[at] = true;
    if ((!gone.empty() && gone.count(match->dev)) || !same(w, *match)) {
      del->push_back(match);
      add->push_back(&w);
    }
  }
  for (size_t i = 0; i < have.size(); ++i)
    if (!wanted[i] && !foreign.OnNic(have[i]) && (kept.size() == 0 || kept.Find(KeyOf(have[i])) < 0 ||
                                                   (!gone.empty() && gone.count(have[i].dev))))
      del->push_back(&have[i]);
}

}  // namespace

ChangeSet Diff(const HostState& d, const HostState& a, size_t bulk, PlanText text) {
  ChangeSet cs;
  Builder b(&cs, bulk ? bulk : 1, text);
  std::map<std::string, const Link*> have, want;
  for (const Link& l : a.links) have[l.name] = &l;
  for (const Link& l : d.links) want[l.name] = &l;
  std::set<std::string> peers;  // guest ends of desired veths: part of their pair
  for (const Link& l : d.links)
    if (l.kind == "veth") peers.insert(l.veth_peer);

  // Ownership and conflicts.
  for (const Link& l : d.links) {
    auto it = have.find(l.name);
    if (it != have.end() && !Owned(*it->second, d))
      cs.conflicts.push_back(fmt::format("link `{}` exists but is not owned by netdsl (its alias is `{}`, not `{}`); "
                                         "rename or remove it, netdsl will not touch it",
                                         l.name, it->second->alias, d.owner_alias));
    // A veth's guest end is created with it: its name must be free, or be
    // the other end of that same owned veth (never a foreign link, which
    // the create would fail on, and which must never get netdsl's marker).
    if (l.kind == "veth" && !l.veth_peer.empty()) {
      auto p = have.find(l.veth_peer);
      bool ours = it != have.end() && Owned(*it->second, d) && it->second->kind == "veth" &&
                  it->second->veth_peer == l.veth_peer;
      if (p != have.end() && !ours)
        cs.conflicts.push_back(fmt::format("the peer `{}` of veth `{}` exists but is not owned by netdsl (it is not "
                                           "the other end of netdsl's `{}`; its alias is `{}`); rename or remove it, "
                                           "netdsl will not touch it",
                                           l.veth_peer, l.name, l.name, p->second->alias));
    }
    if (l.kind == "vlan" && !want.count(l.vlan_link) && !have.count(l.vlan_link))
      cs.conflicts.push_back(
          fmt::format("vlan `{}` needs lower link `{}`, which does not exist on this host", l.name, l.vlan_link));
  }
  for (const AdoptedNic& n : d.adopted) {
    auto it = have.find(n.name);
    if (it == have.end()) {
      cs.conflicts.push_back(fmt::format("adopted NIC `{}` does not exist on this host", n.name));
    } else if (const std::string& m = it->second->master; !m.empty() && m != n.master) {
      auto mi = have.find(m);
      if (mi == have.end() || !Owned(*mi->second, d))
        cs.conflicts.push_back(fmt::format("adopted NIC `{}` is enslaved to `{}`, which netdsl does not own; "
                                           "release it first",
                                           n.name, m));
    }
  }
  for (const Link& l : a.links)
    if (l.name.rfind(d.owner_prefix, 0) == 0 && !Owned(l, d) && !want.count(l.name) && !peers.count(l.name))
      cs.warnings.push_back(fmt::format("link `{}` has the `{}` prefix but not the `{}` alias; not owned, left alone",
                                        l.name, d.owner_prefix, d.owner_alias));
  for (auto [want_t, have_t] : {std::pair{&d.nft, &a.nft}, std::pair{&d.nft_nat, &a.nft_nat}})
    if (want_t->present && have_t->present && have_t->fingerprint.empty())
      cs.conflicts.push_back(fmt::format("nftables table `{} {}` exists but was not created by netdsl; remove it or "
                                         "rename netdsl's table",
                                         want_t->family, want_t->table));
  if (!cs.conflicts.empty()) return cs;

  // Which owned links go away, which are recreated, which stay.
  std::vector<const Link*> remove;  // deleted or recreated, actual
  std::set<std::string> gone;       // their names
  std::map<std::string, std::string> recreate_reason;
  for (const Link& l : a.links) {
    if (!Owned(l, d) || peers.count(l.name)) continue;
    auto w = want.find(l.name);
    if (w == want.end()) {
      remove.push_back(&l);
    } else if (std::string why = NeedsRecreate(*w->second, l, d.owner_alias); !why.empty()) {
      remove.push_back(&l);
      recreate_reason[l.name] = why;
    }
  }
  for (const Link* l : remove) gone.insert(l->name);

  // The host's own settings on adopted NICs and switches (management.h).
  ManagementPlan mp = PlanManagement(d, a);
  cs.conflicts.insert(cs.conflicts.end(), mp.conflicts.begin(), mp.conflicts.end());
  cs.warnings.insert(cs.warnings.end(), mp.warnings.begin(), mp.warnings.end());
  if (!cs.conflicts.empty()) return cs;
  cs.hosted_after = mp.hosted_after;
  const std::vector<FdbEntry> no_fdb;
  const std::vector<Neighbour> no_neighbours;

  // Objects on owned devices.
  std::vector<const Address*> add_addr, del_addr;
  DiffObjects(d.addresses, a.addresses, gone, [](const Address&, const Address&) { return true; }, &add_addr,
              &del_addr, Foreign<Address>{&mp.nics, &mp.kept_addresses, &mp.installed_addresses, &mp.moving_addresses});
  std::vector<const Route*> add_route, del_route;
  DiffObjects(d.routes, a.routes, gone, [](const Route& x, const Route& y) { return x.dev == y.dev && x.via == y.via; },
              &add_route, &del_route, Foreign<Route>{&mp.nics, &mp.kept_routes, &mp.installed_routes, &mp.moving_routes});
  // A route that changes next hop or device is replaced in place, one
  // request: a host's default route is never absent, even for a moment.
  std::vector<std::pair<const Route*, const Route*>> replace_route;  // (new, old)
  if (!add_route.empty() && !del_route.empty()) {
    KeyIndex adds(add_route.size());
    for (size_t i = 0; i < add_route.size(); ++i) adds.Insert(KeyOf(*add_route[i]), static_cast<uint32_t>(i));
    std::vector<bool> taken(add_route.size(), false);
    std::vector<const Route*> still_del;
    for (const Route* old : del_route) {
      int64_t i = gone.count(old->dev) ? -1 : adds.Find(KeyOf(*old));
      if (i < 0 || taken[i] || gone.count(add_route[i]->dev)) {
        still_del.push_back(old);
        continue;
      }
      taken[i] = true;
      replace_route.push_back({add_route[i], old});
    }
    del_route = std::move(still_del);
    std::vector<const Route*> still_add;
    for (size_t i = 0; i < add_route.size(); ++i)
      if (!taken[i]) still_add.push_back(add_route[i]);
    add_route = std::move(still_add);
  }
  std::vector<const FdbEntry*> add_fdb, del_fdb;
  DiffObjects(d.fdb, a.fdb, gone, [](const FdbEntry&, const FdbEntry&) { return true; }, &add_fdb, &del_fdb,
              Foreign<FdbEntry>{&mp.nics, &no_fdb, &no_fdb, &no_fdb});
  std::vector<const Neighbour*> add_nb, del_nb;
  DiffObjects(d.neighbours, a.neighbours, gone, [](const Neighbour& x, const Neighbour& y) { return x.mac == y.mac; },
              &add_nb, &del_nb, Foreign<Neighbour>{&mp.nics, &mp.kept_neighbours, &no_neighbours, &mp.moving_neighbours});
  std::vector<const Qdisc*> set_q, del_q;
  std::map<std::string, const Qdisc*> have_q;
  for (const Qdisc& q : a.qdiscs) have_q[q.dev] = &q;
  std::set<std::string> want_q;
  for (const Qdisc& q : d.qdiscs) {
    want_q.insert(q.dev);
    auto it = have_q.find(q.dev);
    if (it == have_q.end() || gone.count(q.dev) || !SameQdisc(q, *it->second)) set_q.push_back(&q);
  }
  // On devices that go away the qdisc goes too; deleting it explicitly first
  // lets a rollback put it back. An adopted NIC's root qdisc is netdsl's
  // only while the plan lists one there: otherwise it is the host's.
  for (const Qdisc& q : a.qdiscs)
    if ((!want_q.count(q.dev) && std::find(mp.nics.begin(), mp.nics.end(), q.dev) == mp.nics.end()) ||
        gone.count(q.dev))
      del_q.push_back(&q);

  // 1. nftables tables no longer wanted.
  for (const NftTable* t : {&a.nft, &a.nft_nat}) {
    const NftTable& want_t = t == &a.nft ? d.nft : d.nft_nat;
    if (want_t.present || !t->present || t->fingerprint.empty()) continue;
    b.Line('-', "nftables", fmt::format("{} {}", t->family, t->table));
    std::string head = t->family + " " + t->table + "\n";
    b.One(fmt::format("delete nftables table `{}`", t->table), {OpKind::RestoreNft, head},
          {{OpKind::RestoreNft, head + NftListTable(t->family, t->table)}});
  }
  // 1b. Settings that go back to the NICs netdsl releases, before anything is deleted.
  auto merge = [&](std::vector<Step>& steps, std::vector<PlanLine>& lines) {
    cs.changes += lines.size();
    if (b.lines()) cs.lines.insert(cs.lines.end(), lines.begin(), lines.end());
    for (Step& st : steps) cs.steps.push_back(std::move(st));
  };
  merge(mp.back_steps, mp.back_lines);
  // 2. Deletions of objects, children before their devices.
  for (const Qdisc* q : del_q) {
    b.Line('-', "qdisc", q->dev, QdiscText(*q));
    b.One(fmt::format("delete qdisc on `{}`", q->dev), {OpKind::DelQdisc, *q}, {{OpKind::ReplaceQdisc, *q}});
  }
  {
    std::vector<Op> ops, inv;
    ops.reserve(del_nb.size());
    inv.reserve(del_nb.size());
    for (const Neighbour* n : del_nb) {
      b.LazyLine('-', "neighbour", [&] { return std::pair{n->dev, fmt::format("{} lladdr {}", IpStr(n->address), MacStr(n->mac))}; });
      ops.push_back({OpKind::DelNeighbour, *n});
      inv.push_back({OpKind::AddNeighbour, *n});
    }
    b.Bulk("delete neighbours", std::move(ops), std::move(inv));
  }
  {
    std::vector<Op> ops, inv;
    ops.reserve(del_fdb.size());
    inv.reserve(del_fdb.size());
    for (const FdbEntry* f : del_fdb) {
      b.LazyLine('-', "fdb", [&] { return std::pair{f->dev, fmt::format("{} dst {}", MacStr(f->mac), IpStr(f->dst))}; });
      ops.push_back({OpKind::DelFdb, *f});
      inv.push_back({OpKind::AddFdb, *f});
    }
    b.Bulk("delete fdb", std::move(ops), std::move(inv));
  }
  {
    std::vector<Op> ops, inv;
    ops.reserve(del_route.size());
    inv.reserve(del_route.size());
    for (const Route* r : del_route) {
      b.LazyLine('-', "route", [&] {
        return std::pair{fmt::format("table {} {}", r->table, PrefixStr(r->dst)),
                         fmt::format("dev {}{}", r->dev, r->via ? " via " + IpStr(*r->via) : "")};
      });
      ops.push_back({OpKind::DelRoute, *r});
      inv.push_back({OpKind::AddRoute, *r});
    }
    b.Bulk("delete routes", std::move(ops), std::move(inv));
  }
  {
    std::vector<Op> ops, inv;
    ops.reserve(del_addr.size());
    inv.reserve(del_addr.size());
    for (const Address* x : del_addr) {
      b.LazyLine('-', "address", [&] { return std::pair{x->dev, fmt::format("{}/{}", IpStr(x->address), x->prefix_length)}; });
      ops.push_back({OpKind::DelAddress, *x});
      inv.push_back({OpKind::AddAddress, *x});
    }
    b.Bulk("delete addresses", std::move(ops), std::move(inv));
  }
  // 3. Release links (owned or adopted) whose master goes away or changes to none.
  std::map<std::string, std::string> want_master;  // for every link netdsl may enslave
  for (const Link& l : d.links) want_master[l.name] = l.master;
  for (const AdoptedNic& n : d.adopted) want_master[n.name] = n.master;
  // A desired veth's guest end may be a port of an owned bridge too (a NAT
  // veth's peer on the external switch): released like any owned port.
  for (const Link& l : d.links)
    if (l.kind == "veth" && !l.veth_peer.empty()) want_master[l.veth_peer] = l.veth_peer_master;
  std::set<std::string> released;
  for (const Link& l : a.links) {
    if (l.master.empty()) continue;
    if (peers.count(l.name) && gone.count(l.veth_peer)) continue;  // deleted with its pair
    auto m = have.find(l.master);
    bool master_owned = m != have.end() && Owned(*m->second, d);
    if (!master_owned || gone.count(l.name)) continue;
    auto w = want_master.find(l.name);
    bool keep = w != want_master.end() && w->second == l.master && !gone.count(l.master);
    if (keep) continue;
    // Owned links that stay but move to another master are handled by the set
    // step below, unless their master goes away first (the kernel would
    // release them silently, and a rollback must re-enslave them).
    if ((want.count(l.name) || peers.count(l.name)) && !gone.count(l.name) && w != want_master.end() &&
        !w->second.empty() &&
        !gone.count(w->second) && w->second != l.master && !gone.count(l.master))
      continue;
    LinkChange c;
    c.name = l.name;
    c.master = "";
    b.Line('~', Owned(l, d) ? "link" : "adopted", l.name, ChangeText(c, &l));
    b.One(fmt::format("release `{}` from `{}`", l.name, l.master), {OpKind::SetLink, c}, {{OpKind::SetLink, Undo(c, l)}});
    released.insert(l.name);
  }
  // 4. Delete links, in reverse creation order (the veth peer of a deleted veth goes with it).
  {
    std::vector<const Link*> order = CreationOrder(remove);
    std::reverse(order.begin(), order.end());
    for (const Link* l : order) {
      if (l->kind == "veth" && !l->veth_peer.empty() && gone.count(l->veth_peer) && l->veth_peer < l->name) continue;
      if (recreate_reason.count(l->name)) {
        b.Line('-', "link", l->name, fmt::format("recreated: {}", recreate_reason[l->name]));
        b.MarkDisruptive();
        cs.disruptive.push_back({l->name, recreate_reason[l->name]});
      } else {
        b.Line('-', "link", l->name, LinkText(*l));
      }
      Link restore = *l;
      if (restore.kind == "veth" && restore.veth_peer.empty()) restore.veth_peer = l->name + "g";
      restore.ifindex = restore.veth_peer_ifindex = 0;  // an undo takes whatever index the kernel gives
      b.One(fmt::format("delete link `{}`", l->name), {OpKind::DeleteLink, *l}, {{OpKind::CreateLink, restore}});
    }
  }
  // 5. Create missing links (desired order puts masters and lower links first), fix attributes of others.
  // Consecutive creations go into bulk steps by dependency depth (a link one
  // step after its master or lower link, whose index its request needs): one
  // send for a host's 100 tenant bridges instead of a journaled step each.
  std::vector<const Link*> creations;
  // Each create asks for an index above every index in use, journaled with
  // its undo before it is sent: the undo deletes that index only (ownership
  // proven in the creating request, with OwnerGroup).
  int next_index = 1;
  for (const Link& l : a.links) next_index = std::max(next_index, l.ifindex + 1);
  auto create_pending = [&] {
    std::map<std::string, int> depth;
    int deepest = 0;
    for (const Link* l : creations) {
      int at = 0;
      for (const std::string& dep : {l->master, l->vlan_link, l->veth_peer_master})
        if (auto it = depth.find(dep); it != depth.end()) at = std::max(at, it->second + 1);
      depth[l->name] = at;
      deepest = std::max(deepest, at);
    }
    for (int level = 0; level <= deepest && !creations.empty(); ++level) {
      std::vector<Op> ops, inv;
      std::string first;
      for (const Link* l : creations) {
        if (depth[l->name] != level) continue;
        Link spec = *l;
        spec.alias = OwnerMarker(d.owner_alias, l->identity);
        spec.group = OwnerGroup(d.owner_alias);
        spec.ifindex = next_index++;
        if (spec.kind == "veth" && !spec.veth_peer.empty()) spec.veth_peer_ifindex = next_index++;
        if (first.empty()) first = l->name;
        ops.push_back({OpKind::CreateLink, spec});
        inv.push_back({OpKind::DeleteLink, spec});
      }
      if (ops.size() == 1) {
        b.One(fmt::format("create link `{}`", first), std::move(ops[0]), {std::move(inv[0])});
      } else {
        b.Bulk(fmt::format("create links `{}`, ...", first), std::move(ops), std::move(inv), "links");
      }
    }
    creations.clear();
  };
  for (const Link& l : d.links) {
    auto it = have.find(l.name);
    if (it == have.end() || gone.count(l.name)) {
      b.Line('+', "link", l.name, LinkText(l));
      if (recreate_reason.count(l.name)) b.MarkDisruptive();
      creations.push_back(&l);
      continue;
    }
    create_pending();  // changes keep their place after the creations before them
    const Link& h = *it->second;
    LinkChange c;
    c.name = l.name;
    if (l.mtu && l.mtu != h.mtu) c.mtu = l.mtu;
    if (l.mac && l.mac != h.mac) c.mac = l.mac;
    std::string cur_master = released.count(l.name) || gone.count(h.master) ? "" : h.master;
    if (l.master != cur_master) c.master = l.master;
    if (!h.up) c.up = true;
    if (l.isolated != (c.master ? false : h.isolated)) c.isolated = l.isolated;
    const std::string marker = OwnerMarker(d.owner_alias, l.identity);
    if (h.alias != marker) c.alias = marker;  // a VM port's identity recorded in place, or the marker repaired
    // `forwarding: false` leaves the device's setting alone (schema.h).
    if (l.forwarding && !h.forwarding) c.forwarding = true;
    if (c.mtu || c.mac || c.master || c.up || c.isolated || c.alias || c.forwarding) {
      LinkChange u = Undo(c, h);
      if (c.master && cur_master != h.master) u.master = "";  // was released by an earlier step
      b.Line('~', "link", l.name, ChangeText(c, &h));
      b.One(fmt::format("change link `{}`", l.name), {OpKind::SetLink, c}, {{OpKind::SetLink, u}});
    }
    // The guest end of a veth stays netdsl's: its MAC, MTU and marker are
    // diffed like the host end's (docs/runtime.md, "What netdsl owns").
    if (l.kind == "veth" && !h.veth_peer_elsewhere && !l.veth_peer.empty() && h.veth_peer == l.veth_peer) {
      if (auto p = have.find(l.veth_peer); p != have.end()) {
        const Link& g = *p->second;
        LinkChange gc;
        gc.name = g.name;
        if (l.veth_peer_mtu && l.veth_peer_mtu != g.mtu) gc.mtu = l.veth_peer_mtu;
        if (l.veth_peer_mac && l.veth_peer_mac != g.mac) gc.mac = l.veth_peer_mac;
        if (g.alias != marker) gc.alias = marker;
        // A guest end on a bridge (veth.peer_master) is a port there, up.
        std::string g_master = released.count(g.name) || gone.count(g.master) ? "" : g.master;
        if (l.veth_peer_master != g_master) gc.master = l.veth_peer_master;
        if (!l.veth_peer_master.empty() && !g.up) gc.up = true;
        if (gc.mtu || gc.mac || gc.alias || gc.master || gc.up) {
          Link now = g;  // as the earlier steps left it
          now.master = g_master;
          b.Line('~', "link", g.name, ChangeText(gc, &now));
          LinkChange gu = Undo(gc, g);
          if (gc.master && g_master != g.master) gu.master = "";  // was released by an earlier step
          b.One(fmt::format("change link `{}`", g.name), {OpKind::SetLink, gc}, {{OpKind::SetLink, gu}});
        }
      }
    }
  }
  create_pending();
  // 6. Adopted NICs: enslave and set up. The bonding driver takes a slave
  // only while it is down ("Device can not be enslaved while up"), closes it
  // on release, and the kernel applies a request's flags before its master:
  // enslaving to a bond is three requests (down, master, up), undone as
  // release, then the NIC's admin state as it was.
  auto is_bond = [&](const std::string& name) {
    auto w = want.find(name);
    if (w != want.end() && !gone.count(name)) return w->second->kind == "bond";
    auto h = have.find(name);
    return h != have.end() && h->second->kind == "bond";
  };
  for (const AdoptedNic& n : d.adopted) {
    const Link& h = *have.at(n.name);
    LinkChange c;
    c.name = n.name;
    std::string cur_master = released.count(n.name) || gone.count(h.master) ? "" : h.master;
    bool up_now = h.up && !(cur_master != h.master && is_bond(h.master));  // a bond closes a released slave
    if (cur_master != n.master) c.master = n.master;
    if (!up_now) c.up = true;
    if (c.master || c.up) {
      LinkChange u = Undo(c, h);
      if (c.master && cur_master != h.master) u.master = "";
      b.Line('~', "adopted", n.name, ChangeText(c, &h));
      std::string label = fmt::format("attach adopted NIC `{}`", n.name);
      if (!c.master || n.master.empty() || !is_bond(n.master)) {
        b.One(std::move(label), {OpKind::SetLink, c}, {{OpKind::SetLink, u}});
        continue;
      }
      auto set = [&](std::optional<std::string> master, std::optional<bool> admin_up) {
        LinkChange x;
        x.name = n.name;
        x.master = std::move(master);
        x.up = admin_up;
        return Op{OpKind::SetLink, std::move(x)};
      };
      Step s{std::move(label), {}, {}};
      if (up_now) s.ops.push_back(set(std::nullopt, false));
      s.ops.push_back(set(n.master, std::nullopt));
      s.ops.push_back(set(std::nullopt, true));
      s.inverse = {set(std::nullopt, false), set(u.master, std::nullopt), set(std::nullopt, h.up)};
      cs.steps.push_back(std::move(s));
    }
  }
  // 6b. Their settings move onto the switch, right after they are attached.
  merge(mp.forward_steps, mp.forward_lines);
  // 7. Objects on devices: addresses, routes, fdb, neighbours, qdiscs, nftables.
  {
    std::vector<Op> ops, inv;
    ops.reserve(add_addr.size());
    inv.reserve(add_addr.size());
    for (const Address* x : add_addr) {
      b.LazyLine('+', "address", [&] { return std::pair{x->dev, fmt::format("{}/{}", IpStr(x->address), x->prefix_length)}; });
      ops.push_back({OpKind::AddAddress, *x});
      inv.push_back({OpKind::DelAddress, *x});
    }
    b.Bulk("add addresses", std::move(ops), std::move(inv));
  }
  {
    std::vector<Op> ops, inv;
    ops.reserve(add_route.size());
    inv.reserve(add_route.size());
    for (const Route* r : add_route) {
      b.LazyLine('+', "route", [&] {
        return std::pair{fmt::format("table {} {}", r->table, PrefixStr(r->dst)),
                         fmt::format("dev {}{}", r->dev, r->via ? " via " + IpStr(*r->via) : "")};
      });
      ops.push_back({OpKind::AddRoute, *r});
      inv.push_back({OpKind::DelRoute, *r});
    }
    b.Bulk("add routes", std::move(ops), std::move(inv));
  }
  {
    std::vector<Op> ops, inv;
    for (const auto& [now, old] : replace_route) {
      b.LazyLine('~', "route", [&] {
        return std::pair{fmt::format("table {} {}", now->table, PrefixStr(now->dst)),
                         fmt::format("dev {}{} -> dev {}{}", old->dev, old->via ? " via " + IpStr(*old->via) : "",
                                     now->dev, now->via ? " via " + IpStr(*now->via) : "")};
      });
      ops.push_back({OpKind::ReplaceRoute, *now});
      inv.push_back({OpKind::ReplaceRoute, *old});
    }
    b.Bulk("replace routes", std::move(ops), std::move(inv));
  }
  {
    std::vector<Op> ops, inv;
    ops.reserve(add_fdb.size());
    inv.reserve(add_fdb.size());
    for (const FdbEntry* f : add_fdb) {
      b.LazyLine('+', "fdb", [&] { return std::pair{f->dev, fmt::format("{} dst {}", MacStr(f->mac), IpStr(f->dst))}; });
      ops.push_back({OpKind::AddFdb, *f});
      inv.push_back({OpKind::DelFdb, *f});
    }
    b.Bulk("add fdb", std::move(ops), std::move(inv));
  }
  {
    std::vector<Op> ops, inv;
    ops.reserve(add_nb.size());
    inv.reserve(add_nb.size());
    for (const Neighbour* n : add_nb) {
      b.LazyLine('+', "neighbour", [&] { return std::pair{n->dev, fmt::format("{} lladdr {}", IpStr(n->address), MacStr(n->mac))}; });
      ops.push_back({OpKind::AddNeighbour, *n});
      inv.push_back({OpKind::DelNeighbour, *n});
    }
    b.Bulk("add neighbours", std::move(ops), std::move(inv));
  }
  for (const Qdisc* q : set_q) {
    auto it = have_q.find(q->dev);
    bool had = it != have_q.end() && !gone.count(q->dev);
    b.Line(had ? '~' : '+', "qdisc", q->dev,
           had ? fmt::format("{} -> {}", QdiscText(*it->second), QdiscText(*q)) : QdiscText(*q));
    Op undo = had ? Op{OpKind::ReplaceQdisc, *it->second} : Op{OpKind::DelQdisc, *q};
    b.One(fmt::format("set qdisc on `{}`", q->dev), {OpKind::ReplaceQdisc, *q}, {undo});
  }
  for (auto [want_t, have_t] : {std::pair{&d.nft, &a.nft}, std::pair{&d.nft_nat, &a.nft_nat}}) {
    const NftTable& w = *want_t;
    const NftTable& h = *have_t;
    if (!w.present) continue;
    // What differs, chain by chain, rule by rule (by comment: the kernel's
    // rule text is its own) and set element by set element: one plan line
    // each, all applied as one atomic replacement of the table.
    size_t before = cs.changes;
    const std::string table = w.table;
    if (!h.present) b.Line('+', "nftables", fmt::format("{} {}", w.family, w.table));
    std::map<std::string, const NftChain*> have_chains, want_chains;
    for (const NftChain& c : h.chains) have_chains[c.name] = &c;
    for (const NftChain& c : w.chains) want_chains[c.name] = &c;
    auto chain_text = [](const NftChain& c) {
      return fmt::format("type {} hook {} priority {} policy {}", c.type, c.hook, c.priority, c.policy);
    };
    for (const auto& [name, c] : have_chains)
      if (!want_chains.count(name)) b.Line('-', "nft chain", table + "/" + name, chain_text(*c));
    for (const auto& [name, c] : want_chains) {
      auto it = have_chains.find(name);
      if (it == have_chains.end()) b.Line('+', "nft chain", table + "/" + name, chain_text(*c));
      else if (chain_text(*it->second) != chain_text(*c))
        b.Line('~', "nft chain", table + "/" + name, fmt::format("{} -> {}", chain_text(*it->second), chain_text(*c)));
    }
    std::map<std::string, const NftSet*> have_sets, want_sets;
    for (const NftSet& st : h.sets) have_sets[st.name] = &st;
    for (const NftSet& st : w.sets) want_sets[st.name] = &st;
    auto element_text = [](const std::vector<std::string>& e) {
      std::string text;
      for (size_t i = 0; i < e.size(); ++i) (text += i ? " . " : "") += e[i];
      return text;
    };
    static const NftSet kNoSet;
    for (const auto& [name, st] : have_sets)
      if (!want_sets.count(name)) b.Line('-', "nft set", table + "/" + name, st->type);
    for (const auto& [name, st] : want_sets) {
      auto it = have_sets.find(name);
      const NftSet& had = it == have_sets.end() ? kNoSet : *it->second;
      if (it == have_sets.end()) b.Line('+', "nft set", table + "/" + name, st->type);
      else if (had.type != st->type) b.Line('~', "nft set", table + "/" + name, had.type + " -> " + st->type);
      // Both sides are sorted (the readers sort them).
      std::vector<std::vector<std::string>> gone, added;
      std::set_difference(had.elements.begin(), had.elements.end(), st->elements.begin(), st->elements.end(),
                          std::back_inserter(gone));
      std::set_difference(st->elements.begin(), st->elements.end(), had.elements.begin(), had.elements.end(),
                          std::back_inserter(added));
      for (const auto& e : gone) b.LazyLine('-', "nft element", [&] { return std::pair{table + "/" + name, element_text(e)}; });
      for (const auto& e : added) b.LazyLine('+', "nft element", [&] { return std::pair{table + "/" + name, element_text(e)}; });
    }
    for (const auto& [name, st] : have_sets)
      if (!want_sets.count(name))
        for (const auto& e : st->elements)
          b.LazyLine('-', "nft element", [&] { return std::pair{table + "/" + name, element_text(e)}; });
    // Rules: the kernel lists them chain by chain; order matters only within a chain.
    std::map<std::string, std::vector<const NftRule*>> have_rules, want_rules;
    for (const NftRule& r : h.rules) have_rules[r.chain].push_back(&r);
    for (const NftRule& r : w.rules) want_rules[r.chain].push_back(&r);
    std::set<std::string> rule_chains;
    for (const auto& [c, _] : have_rules) rule_chains.insert(c);
    for (const auto& [c, _] : want_rules) rule_chains.insert(c);
    for (const std::string& chain : rule_chains) {
      std::multiset<std::string> had, want;
      for (const NftRule* r : have_rules[chain]) had.insert(r->comment);
      for (const NftRule* r : want_rules[chain]) want.insert(r->comment);
      for (const NftRule* r : have_rules[chain])
        if (auto it = want.find(r->comment); it != want.end()) want.erase(it);
        else b.Line('-', "nft rule", table + "/" + chain, r->comment.empty() ? "(no comment)" : r->comment);
      for (const NftRule* r : want_rules[chain])
        if (auto it = had.find(r->comment); it != had.end()) had.erase(it);
        else b.Line('+', "nft rule", table + "/" + chain, r->rule + (r->comment.empty() ? "" : "  # " + r->comment));
      if (cs.changes == before && h.present) {
        std::vector<std::string> a_order, w_order;
        for (const NftRule* r : have_rules[chain]) a_order.push_back(r->comment);
        for (const NftRule* r : want_rules[chain]) w_order.push_back(r->comment);
        if (a_order != w_order) b.Line('~', "nft rule", table + "/" + chain, "order");
      }
    }
    // Same chains, sets and rule comments, but the kernel table's fingerprint
    // differs: a rule's text changed (or the table was edited by hand).
    if (cs.changes == before && h.present && h.fingerprint != w.fingerprint)
      b.Line('~', "nftables", fmt::format("{} {}", w.family, w.table), "rule text (same comments)");
    if (cs.changes == before) continue;
    std::string saved = w.family + " " + w.table + "\n" + (h.present ? NftListTable(w.family, w.table) : "");
    b.One(fmt::format("replace nftables table `{}`", w.table), {OpKind::ReplaceNft, w},
          {{OpKind::RestoreNft, saved}});
  }
  return cs;
}

// ---- Describe ----

std::string Describe(const Op& op) {
  switch (op.kind) {
    case OpKind::CreateLink: return fmt::format("create link `{}`", std::get<Boxed<Link>>(op.object)->name);
    case OpKind::DeleteLink: return fmt::format("delete link `{}`", std::get<Boxed<Link>>(op.object)->name);
    case OpKind::SetLink: {
      const auto& c = std::get<LinkChange>(op.object);
      return fmt::format("change link `{}` ({})", c.name, ChangeText(c, nullptr));
    }
    case OpKind::AddAddress:
    case OpKind::DelAddress: {
      const auto& x = std::get<Address>(op.object);
      return fmt::format("{} address {}/{} on `{}`", op.kind == OpKind::AddAddress ? "add" : "delete",
                         IpStr(x.address), x.prefix_length, x.dev);
    }
    case OpKind::AddRoute:
    case OpKind::DelRoute:
    case OpKind::ReplaceRoute: {
      const auto& r = std::get<Route>(op.object);
      const char* verb = op.kind == OpKind::AddRoute ? "add" : op.kind == OpKind::DelRoute ? "delete" : "replace";
      return fmt::format("{} route {} table {} dev `{}`{}", verb, PrefixStr(r.dst), r.table, r.dev,
                         r.via ? " via " + IpStr(*r.via) : "");
    }
    case OpKind::AddFdb:
    case OpKind::DelFdb: {
      const auto& f = std::get<FdbEntry>(op.object);
      return fmt::format("{} fdb {} dst {} on `{}`", op.kind == OpKind::AddFdb ? "add" : "delete", MacStr(f.mac),
                         IpStr(f.dst), f.dev);
    }
    case OpKind::AddNeighbour:
    case OpKind::DelNeighbour: {
      const auto& n = std::get<Neighbour>(op.object);
      return fmt::format("{} neighbour {} lladdr {} on `{}`", op.kind == OpKind::AddNeighbour ? "add" : "delete",
                         IpStr(n.address), MacStr(n.mac), n.dev);
    }
    case OpKind::ReplaceQdisc: return fmt::format("set qdisc on `{}`", std::get<Boxed<Qdisc>>(op.object)->dev);
    case OpKind::DelQdisc: return fmt::format("delete qdisc on `{}`", std::get<Boxed<Qdisc>>(op.object)->dev);
    case OpKind::ReplaceNft: return fmt::format("replace nftables table `{}`", std::get<Boxed<NftTable>>(op.object)->table);
    case OpKind::RestoreNft: return "restore the nftables table";
  }
  return "?";
}

}  // namespace netdsl::runtime
