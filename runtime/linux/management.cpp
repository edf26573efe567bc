// Management continuity: moving an adopted NIC's settings onto its switch and
// back, and the record of what was moved (management.h).
#include "runtime/linux/management.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>

#include "runtime/linux/address_text.h"
#include "runtime/linux/journal.h"
#include "runtime/linux/object_key.h"

namespace netdsl::runtime {

std::string SettingsTarget(const HostState& desired, const std::string& nic) {
  std::string master;
  for (const AdoptedNic& a : desired.adopted)
    if (a.name == nic) master = a.master;
  // Up the chain of owned masters (a bond's master is the switch bridge);
  // bounded, in case a hand-written plan has a cycle.
  for (int depth = 0; !master.empty() && depth < 8; ++depth) {
    auto it = std::find_if(desired.links.begin(), desired.links.end(),
                           [&](const Link& l) { return l.name == master; });
    if (it == desired.links.end() || it->master.empty()) break;
    master = it->master;
  }
  return master;
}

namespace {

constexpr uint32_t kMainTable = 254;

const char* ProtoName(uint8_t p) {
  switch (p) {
    case 2: return "kernel";
    case 3: return "boot";
    case 4: return "static";
    case 16: return "dhcp";
    case 9: return "ra";
    default: return nullptr;
  }
}

std::string AddrText(const Address& a) { return fmt::format("{}/{}", IpStr(a.address), a.prefix_length); }
std::string RouteName(const Route& r) { return fmt::format("table {} {}", r.table, PrefixStr(r.dst)); }
std::string RouteAttrText(const Route& r) {
  std::string s = r.via ? " via " + IpStr(*r.via) : "";
  if (const RouteAttrs* a = r.attrs.get()) {
    s += fmt::format(" metric {}", a->priority);
    const char* proto = ProtoName(a->protocol);
    s += proto ? fmt::format(" proto {}", proto) : fmt::format(" proto {}", a->protocol);
    if (a->prefsrc) s += " src " + IpStr(*a->prefsrc);
  }
  return s;
}
std::string NeighbourText(const Neighbour& n) { return fmt::format("{} lladdr {}", IpStr(n.address), MacStr(n.mac)); }

/// The kernel's metric for a route added without one: 0 (IPv4), 1024 (IPv6).
uint32_t Metric(const Route& r) {
  if (r.attrs) return r.attrs->priority;
  return r.dst.address.IsV4() ? 0 : 1024;
}

/// `a` as it is put on `dev`: an IPv4 label follows the device (`eth0:1` →
/// `nd-sw-x:1`); an IPv6 address skips duplicate address detection, as it was
/// in use on this link a moment ago.
Address OnDev(const Address& a, const std::string& dev) {
  Address c = a;
  c.dev = dev;
  c.loc = {};
  if (a.attrs) {
    AddressAttrs at = *a.attrs;
    if (!at.label.empty()) {
      size_t colon = at.label.find(':');
      std::string label = colon == std::string::npos ? "" : dev + at.label.substr(colon);
      at.label = label.size() <= 15 ? label : "";
    }
    if (!a.address.IsV4()) at.flags |= 0x02;  // IFA_F_NODAD
    c.attrs = std::make_shared<const AddressAttrs>(std::move(at));
  }
  return c;
}
Route OnDev(const Route& r, const std::string& dev) {
  Route c = r;
  c.dev = dev;
  c.loc = {};
  return c;
}
Neighbour OnDev(const Neighbour& n, const std::string& dev) {
  Neighbour c = n;
  c.dev = dev;
  c.loc = {};
  return c;
}

template <typename T>
KeyIndex IndexOf(const std::vector<T>& v) {
  KeyIndex index(v.size());
  for (size_t i = 0; i < v.size(); ++i) index.Insert(KeyOf(v[i]), static_cast<uint32_t>(i));
  return index;
}

/// What moves between one NIC and one device.
struct Moves {
  std::vector<Address> addresses;  ///< as on the side they leave
  std::vector<Route> routes;
  std::vector<Neighbour> neighbours;
  bool empty() const { return addresses.empty() && routes.empty() && neighbours.empty(); }
};

}  // namespace

ManagementPlan PlanManagement(const HostState& d, const HostState& a) {
  ManagementPlan mp;
  std::map<std::string, const Link*> have;
  for (const Link& l : a.links) have[l.name] = &l;
  std::set<std::string> want_links;
  for (const Link& l : d.links) want_links.insert(l.name);
  KeyIndex want_addr = IndexOf(d.addresses), want_route = IndexOf(d.routes), want_nb = IndexOf(d.neighbours);
  KeyIndex have_addr = IndexOf(a.addresses), have_route = IndexOf(a.routes), have_nb = IndexOf(a.neighbours);

  // 1. The record: objects still hosted stay; those whose NIC netdsl no
  //    longer adopts onto that device go back to their NIC.
  std::map<std::string, Moves> back;  // by NIC: the objects as they are on the switch
  std::map<std::string, std::string> back_from;
  std::map<std::string, Moves> back_orig;  // the same objects as they were on the NIC
  for (const HostedObject& h : a.hosted) {
    int64_t at = -1;
    bool wanted = false;
    switch (h.kind) {
      case HostedObject::Kind::Address: {
        Address on = OnDev(h.address, h.dev);
        at = have_addr.Find(KeyOf(on));
        wanted = want_addr.Find(KeyOf(on)) >= 0;
        break;
      }
      case HostedObject::Kind::Route: {
        Route on = OnDev(h.route, h.dev);
        at = have_route.Find(KeyOf(on));
        if (at >= 0 && a.routes[at].dev != h.dev) at = -1;
        wanted = want_route.Find(KeyOf(on)) >= 0;
        break;
      }
      case HostedObject::Kind::Neighbour: {
        Neighbour on = OnDev(h.neighbour, h.dev);
        at = have_nb.Find(KeyOf(on));
        wanted = want_nb.Find(KeyOf(on)) >= 0;
        break;
      }
    }
    if (at < 0) continue;  // gone
    bool adopted = std::any_of(d.adopted.begin(), d.adopted.end(), [&](const AdoptedNic& n) { return n.name == h.nic; });
    bool stays = adopted && want_links.count(h.dev);
    if (wanted && stays) {  // the plan's own object for now; the host's again when the plan drops it
      mp.hosted_after.push_back(h);
      continue;
    }
    if (wanted) continue;  // the plan's own object now, wherever its NIC went
    bool nic_here = have.count(h.nic) > 0;
    if (stays || !nic_here) {
      if (!stays)
        mp.warnings.push_back(fmt::format("`{}`, whose settings netdsl moved onto `{}`, is gone; they stay on `{}`",
                                          h.nic, h.dev, h.dev));
      switch (h.kind) {
        case HostedObject::Kind::Address: mp.kept_addresses.push_back(a.addresses[at]); break;
        case HostedObject::Kind::Route: mp.kept_routes.push_back(a.routes[at]); break;
        case HostedObject::Kind::Neighbour: mp.kept_neighbours.push_back(a.neighbours[at]); break;
      }
      mp.hosted_after.push_back(h);
      continue;
    }
    back_from[h.nic] = h.dev;
    switch (h.kind) {
      case HostedObject::Kind::Address:
        back[h.nic].addresses.push_back(a.addresses[at]);
        back_orig[h.nic].addresses.push_back(h.address);
        break;
      case HostedObject::Kind::Route:
        back[h.nic].routes.push_back(a.routes[at]);
        back_orig[h.nic].routes.push_back(h.route);
        break;
      case HostedObject::Kind::Neighbour:
        back[h.nic].neighbours.push_back(a.neighbours[at]);
        back_orig[h.nic].neighbours.push_back(h.neighbour);
        break;
    }
  }
  auto line = [&](std::vector<PlanLine>* lines, char action, const char* object, std::string name, std::string detail) {
    lines->push_back({action, object, std::move(name), std::move(detail)});
  };
  for (const auto& [nic, on_switch] : back) {
    const Moves& orig = back_orig[nic];
    const std::string& dev = back_from[nic];
    std::string label = fmt::format("move the settings of `{}` back from `{}`", nic, dev);
    Step add{label + " (add)", {}, {}}, del{label + " (remove)", {}, {}};
    // Neighbours leave before the addresses: removing a device's last IPv4
    // address flushes its neighbours, permanent ones too.
    for (size_t i = 0; i < orig.neighbours.size(); ++i) {
      add.ops.push_back({OpKind::AddNeighbour, orig.neighbours[i]});
      del.ops.push_back({OpKind::DelNeighbour, on_switch.neighbours[i]});
      line(&mp.back_lines, '>', "neighbour", fmt::format("{} -> {}", dev, nic), NeighbourText(orig.neighbours[i]));
    }
    for (size_t i = 0; i < orig.addresses.size(); ++i) {
      add.ops.push_back({OpKind::AddAddress, orig.addresses[i]});
      del.ops.push_back({OpKind::DelAddress, on_switch.addresses[i]});
      del.inverse.push_back({OpKind::AddAddress, on_switch.addresses[i]});
      line(&mp.back_lines, '>', "address", fmt::format("{} -> {}", dev, nic), AddrText(orig.addresses[i]));
    }
    for (const Neighbour& x : on_switch.neighbours) del.inverse.push_back({OpKind::AddNeighbour, x});
    // The diff must not delete them again.
    mp.moving_addresses.insert(mp.moving_addresses.end(), on_switch.addresses.begin(), on_switch.addresses.end());
    mp.moving_routes.insert(mp.moving_routes.end(), on_switch.routes.begin(), on_switch.routes.end());
    mp.moving_neighbours.insert(mp.moving_neighbours.end(), on_switch.neighbours.begin(), on_switch.neighbours.end());
    for (size_t i = 0; i < orig.routes.size(); ++i) {
      add.ops.push_back({OpKind::ReplaceRoute, orig.routes[i]});
      add.inverse.push_back({OpKind::ReplaceRoute, on_switch.routes[i]});
      line(&mp.back_lines, '>', "route", RouteName(orig.routes[i]),
           fmt::format("dev {} -> {}{}", dev, nic, RouteAttrText(orig.routes[i])));
    }
    for (size_t i = orig.neighbours.size(); i-- > 0;) add.inverse.push_back({OpKind::DelNeighbour, orig.neighbours[i]});
    for (size_t i = orig.addresses.size(); i-- > 0;) add.inverse.push_back({OpKind::DelAddress, orig.addresses[i]});
    mp.back_steps.push_back(std::move(add));
    if (!del.ops.empty()) mp.back_steps.push_back(std::move(del));
  }

  // 2. Adopted NICs: their settings move onto the switch.
  std::vector<const AdoptedNic*> nics;
  for (const AdoptedNic& n : d.adopted) nics.push_back(&n);
  std::sort(nics.begin(), nics.end(), [](const AdoptedNic* x, const AdoptedNic* y) { return x->name < y->name; });
  for (const AdoptedNic* n : nics) {
    auto hn = have.find(n->name);
    if (hn == have.end()) continue;  // Diff reports the missing NIC
    mp.nics.push_back(n->name);
    std::string target = SettingsTarget(d, n->name);
    if (target.empty()) continue;
    Moves on_nic;
    for (const Address& x : a.addresses)
      if (x.dev == n->name) on_nic.addresses.push_back(x);
    for (const Route& r : a.routes)
      if (r.dev == n->name) on_nic.routes.push_back(r);
    for (const Neighbour& x : a.neighbours)
      if (x.dev == n->name) on_nic.neighbours.push_back(x);
    if (auto b = back_orig.find(n->name); b != back_orig.end()) {  // moved back above, from another switch
      for (const Address& x : b->second.addresses) on_nic.addresses.push_back(x);
      for (const Route& r : b->second.routes) on_nic.routes.push_back(r);
      for (const Neighbour& x : b->second.neighbours) on_nic.neighbours.push_back(x);
    }
    // A declared management address (and gateway) on this NIC replaces the
    // NIC's addresses (and default routes) of its family instead of moving them.
    const ManagementSpec* decl = d.management && d.management->nic == n->name ? &*d.management : nullptr;
    const Address* decl_addr = nullptr;
    const Route* decl_route = nullptr;
    if (decl && decl->address) {
      for (const Address& x : d.addresses)
        if (x.dev == decl->dev && x.address == decl->address->address && x.prefix_length == decl->address->length)
          decl_addr = &x;
      if (decl->gateway)
        for (const Route& r : d.routes)
          if (r.table == kMainTable && r.dst.length == 0 && r.dev == decl->dev && r.via == decl->gateway) decl_route = &r;
    }
    auto family = decl && decl->address ? std::optional(decl->address->address.family) : std::nullopt;
    Moves move, drop;  // drop: replaced by the declaration
    for (const Address& x : on_nic.addresses) (family && x.address.family == *family ? drop : move).addresses.push_back(x);
    for (const Route& r : on_nic.routes) {
      bool replaced = decl_route && r.table == kMainTable && r.dst.length == 0 && r.dst.address.family == *family;
      (replaced ? drop : move).routes.push_back(r);
    }
    move.neighbours = on_nic.neighbours;
    if (move.empty() && drop.empty()) continue;
    for (const Route& r : on_nic.routes)
      if (r.attrs && r.attrs->multipath && (!move.addresses.empty() || !drop.addresses.empty()))
        mp.conflicts.push_back(fmt::format(
            "route {} has several next hops, one through adopted NIC `{}`; netdsl cannot move it onto `{}` and will "
            "not adopt `{}` while it is there: replace it by single-path routes first",
            RouteName(r), n->name, target, n->name));
    for (const Route& r : move.routes)
      if (int64_t w = want_route.Find(KeyOf(r)); w >= 0)
        mp.conflicts.push_back(fmt::format("route {} of adopted NIC `{}` would move onto `{}`, but the plan has its "
                                           "own route {} (dev `{}`); remove one of them",
                                           RouteName(r), n->name, target, RouteName(d.routes[w]), d.routes[w].dev));

    std::string label = fmt::format("move the settings of `{}` to `{}`", n->name, target);
    Step add{label + " (add)", {}, {}}, del{label + " (remove)", {}, {}};
    std::vector<Op> undo_routes, undo_rest;
    // The switch answers with the NIC's MAC, as the NIC did: neighbours'
    // caches stay valid, and the bridge's MAC no longer follows its ports.
    auto want_target = std::find_if(d.links.begin(), d.links.end(), [&](const Link& l) { return l.name == target; });
    auto have_target = have.find(target);
    if ((!move.addresses.empty() || decl_addr) && hn->second->mac && want_target != d.links.end() &&
        !want_target->mac && (have_target == have.end() || have_target->second->mac != hn->second->mac)) {
      LinkChange c;
      c.name = target;
      c.mac = hn->second->mac;
      add.ops.push_back({OpKind::SetLink, c});
      if (have_target != have.end() && have_target->second->mac) {
        LinkChange u;
        u.name = target;
        u.mac = have_target->second->mac;
        undo_rest.push_back({OpKind::SetLink, u});
      }
      line(&mp.forward_lines, '~', "link", target,
           fmt::format("mac -> {} (of `{}`, whose settings it takes over)", MacStr(*hn->second->mac), n->name));
    }
    if (decl_addr && have_addr.Find(KeyOf(*decl_addr)) < 0) {
      add.ops.push_back({OpKind::AddAddress, *decl_addr});
      undo_rest.insert(undo_rest.begin(), {OpKind::DelAddress, *decl_addr});
      mp.installed_addresses.push_back(*decl_addr);
      line(&mp.forward_lines, '+', "address", decl_addr->dev, AddrText(*decl_addr) + " (management)");
    }
    for (const Address& x : move.addresses) {
      Address c = OnDev(x, target);
      if (int64_t w = want_addr.Find(KeyOf(c)); w >= 0) {
        // The plan wants this very address there (a PA the operator had put
        // on the NIC): the plan's own from now on, installed here so that it
        // is never absent between this step and the next.
        if (have_addr.Find(KeyOf(c)) < 0) {
          add.ops.push_back({OpKind::AddAddress, d.addresses[w]});
          undo_rest.insert(undo_rest.begin(), {OpKind::DelAddress, d.addresses[w]});
          mp.installed_addresses.push_back(d.addresses[w]);
        }
        line(&mp.forward_lines, '>', "address", fmt::format("{} -> {}", n->name, target),
             AddrText(x) + " (in the plan)");
        continue;
      }
      if (have_addr.Find(KeyOf(c)) < 0) {
        add.ops.push_back({OpKind::AddAddress, c});
        undo_rest.insert(undo_rest.begin(), {OpKind::DelAddress, c});
      }
      mp.hosted_after.push_back({n->name, target, HostedObject::Kind::Address, x, {}, {}});
      line(&mp.forward_lines, '>', "address", fmt::format("{} -> {}", n->name, target), AddrText(x));
    }
    for (const Neighbour& x : move.neighbours) {
      Neighbour c = OnDev(x, target);
      add.ops.push_back({OpKind::AddNeighbour, c});
      undo_rest.insert(undo_rest.begin(), {OpKind::DelNeighbour, c});
      mp.hosted_after.push_back({n->name, target, HostedObject::Kind::Neighbour, {}, {}, x});
      line(&mp.forward_lines, '>', "neighbour", fmt::format("{} -> {}", n->name, target), NeighbourText(x));
    }
    // Routes last: their gateways are reachable once the addresses are there.
    // One replace per route: the route never disappears.
    for (const Route& r : move.routes) {
      add.ops.push_back({OpKind::ReplaceRoute, OnDev(r, target)});
      undo_routes.push_back({OpKind::ReplaceRoute, r});
      mp.hosted_after.push_back({n->name, target, HostedObject::Kind::Route, {}, r, {}});
      line(&mp.forward_lines, '>', "route", RouteName(r), fmt::format("dev {} -> {}{}", n->name, target, RouteAttrText(r)));
    }
    std::vector<Route> drop_later;  // replaced default routes the declared one did not take the place of
    if (decl_route && !drop.routes.empty()) {
      add.ops.push_back({OpKind::ReplaceRoute, *decl_route});
      mp.installed_routes.push_back(*decl_route);
      const Route* same_slot = nullptr;  // the one the replace takes the place of
      for (const Route& r : drop.routes)
        if (!same_slot && r.dst.address.family == decl_route->dst.address.family && Metric(r) == Metric(*decl_route))
          same_slot = &r;
      undo_routes.push_back(same_slot ? Op{OpKind::ReplaceRoute, *same_slot} : Op{OpKind::DelRoute, *decl_route});
      for (const Route& r : drop.routes) {
        if (&r == same_slot) {
          line(&mp.forward_lines, '~', "route", RouteName(r),
               fmt::format("dev {}{} -> dev {}{} (management gateway)", n->name, RouteAttrText(r), decl_route->dev,
                           RouteAttrText(*decl_route)));
        } else {
          drop_later.push_back(r);
          line(&mp.forward_lines, '-', "route", RouteName(r),
               fmt::format("dev {}{} (replaced by the management gateway)", n->name, RouteAttrText(r)));
        }
      }
    }
    add.inverse = undo_routes;
    add.inverse.insert(add.inverse.end(), undo_rest.begin(), undo_rest.end());
    // Then the NIC lets go: routes it still has that were replaced, its
    // neighbours, its addresses (the kernel's connected routes go with them).
    for (const Route& r : drop_later) {
      del.ops.push_back({OpKind::DelRoute, r});
      del.inverse.push_back({OpKind::AddRoute, r});
    }
    for (const Neighbour& x : move.neighbours) {
      del.ops.push_back({OpKind::DelNeighbour, x});
      del.inverse.insert(del.inverse.begin(), {OpKind::AddNeighbour, x});
    }
    for (const Address& x : drop.addresses) {
      del.ops.push_back({OpKind::DelAddress, x});
      del.inverse.insert(del.inverse.begin(), {OpKind::AddAddress, x});
      line(&mp.forward_lines, '-', "address", n->name,
           fmt::format("{} (replaced by the management address {})", AddrText(x), decl_addr ? AddrText(*decl_addr) : "?"));
    }
    for (const Address& x : move.addresses) {
      del.ops.push_back({OpKind::DelAddress, x});
      del.inverse.insert(del.inverse.begin(), {OpKind::AddAddress, x});
    }
    if (!add.ops.empty()) mp.forward_steps.push_back(std::move(add));
    if (!del.ops.empty()) mp.forward_steps.push_back(std::move(del));
  }
  // A declared management address and gateway are the plan's; when a later
  // plan drops them they are still the host's way in, so they are recorded
  // too: kept while the NIC stays adopted, moved back onto it when released
  // (as Hyper-V gives a removed switch's management settings back to the NIC).
  if (const auto& m = d.management; m && m->address && have.count(m->nic)) {
    auto recorded = [&](HostedObject::Kind kind, const ObjectKey& key) {
      for (const HostedObject& h : mp.hosted_after) {
        if (h.kind != kind || h.dev != m->dev) continue;
        if (kind == HostedObject::Kind::Address && KeyOf(OnDev(h.address, m->dev)) == key) return true;
        if (kind == HostedObject::Kind::Route && KeyOf(OnDev(h.route, m->dev)) == key) return true;
      }
      return false;
    };
    for (const Address& x : d.addresses)
      if (x.dev == m->dev && x.address == m->address->address && x.prefix_length == m->address->length &&
          !recorded(HostedObject::Kind::Address, KeyOf(x)))
        mp.hosted_after.push_back({m->nic, m->dev, HostedObject::Kind::Address, OnDev(x, m->nic), {}, {}});
    for (const Route& r : d.routes)
      if (m->gateway && r.table == kMainTable && r.dst.length == 0 && r.dev == m->dev && r.via == m->gateway &&
          !recorded(HostedObject::Kind::Route, KeyOf(r)))
        mp.hosted_after.push_back({m->nic, m->dev, HostedObject::Kind::Route, {}, OnDev(r, m->nic), {}});
  }
  return mp;
}

// ---- The record ----

std::string HostedPath(const std::string& scope) { return fmt::format("{}/{}.hosted", StateDir(), scope); }

namespace {
constexpr const char* kHostedHeader = "netdsl hosted 1";
}

std::string EncodeHosted(const HostedObject& h) {
  Op op{OpKind::AddAddress, h.address};
  if (h.kind == HostedObject::Kind::Route) op = {OpKind::AddRoute, h.route};
  if (h.kind == HostedObject::Kind::Neighbour) op = {OpKind::AddNeighbour, h.neighbour};
  return h.nic + "|" + h.dev + "|" + EncodeOp(op);
}

std::optional<HostedObject> DecodeHosted(const std::string& line) {
  size_t a = line.find('|');
  size_t b = a == std::string::npos ? a : line.find('|', a + 1);
  if (b == std::string::npos) return std::nullopt;
  HostedObject h;
  h.nic = line.substr(0, a);
  h.dev = line.substr(a + 1, b - a - 1);
  if (h.nic.empty() || h.dev.empty() || h.nic.size() > 15 || h.dev.size() > 15) return std::nullopt;
  std::optional<Op> op = DecodeOp(line.substr(b + 1));
  if (!op) return std::nullopt;
  switch (op->kind) {
    case OpKind::AddAddress:
      h.kind = HostedObject::Kind::Address;
      h.address = std::get<Address>(op->object);
      return h;
    case OpKind::AddRoute:
      h.kind = HostedObject::Kind::Route;
      h.route = std::get<Route>(op->object);
      return h;
    case OpKind::AddNeighbour:
      h.kind = HostedObject::Kind::Neighbour;
      h.neighbour = std::get<Neighbour>(op->object);
      return h;
    default: return std::nullopt;
  }
}

namespace {

bool LoadHostedFrom(const std::string& path, std::vector<HostedObject>* out, std::string* error);
bool SaveHostedTo(const std::string& path, const std::vector<HostedObject>& hosted, bool keep_empty,
                  std::string* error);

}  // namespace

bool LoadHosted(const std::string& scope, std::vector<HostedObject>* out, std::string* error) {
  return LoadHostedFrom(HostedPath(scope), out, error);
}

bool SaveHosted(const std::string& scope, const std::vector<HostedObject>& hosted, std::string* error) {
  return SaveHostedTo(HostedPath(scope), hosted, false, error);
}

bool SnapshotHosted(const std::string& scope, std::string* error) {
  std::vector<HostedObject> now;
  return LoadHosted(scope, &now, error) && SaveHostedTo(HostedPath(scope) + ".before", now, true, error);
}

bool RestoreHostedSnapshot(const std::string& scope, std::string* error) {
  std::vector<HostedObject> before;
  std::string path = HostedPath(scope) + ".before";
  if (access(path.c_str(), F_OK) != 0) return true;  // no snapshot: nothing to put back
  if (!LoadHostedFrom(path, &before, error) || !SaveHosted(scope, before, error)) return false;
  unlink(path.c_str());
  return true;
}

void DropHostedSnapshot(const std::string& scope) { unlink((HostedPath(scope) + ".before").c_str()); }

namespace {

bool LoadHostedFrom(const std::string& path, std::vector<HostedObject>* out, std::string* error) {
  out->clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return true;
    *error = fmt::format("cannot read `{}`: {}", path, std::strerror(errno));
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (64 << 20)) {
    close(fd);
    *error = fmt::format("`{}` is not a regular file of at most 64 MiB", path);
    return false;
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  ssize_t got = st.st_size ? read(fd, text.data(), text.size()) : 0;
  close(fd);
  if (got != st.st_size) {
    *error = fmt::format("cannot read `{}`", path);
    return false;
  }
  size_t pos = 0;
  int number = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) {
      *error = fmt::format("`{}` ends in the middle of a line", path);
      return false;
    }
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (++number == 1) {
      if (line != kHostedHeader) {
        *error = fmt::format("`{}` does not start with `{}`", path, kHostedHeader);
        return false;
      }
      continue;
    }
    std::optional<HostedObject> h = DecodeHosted(line);
    if (!h) {
      *error = fmt::format("`{}` line {} is unreadable", path, number);
      return false;
    }
    out->push_back(std::move(*h));
  }
  return true;
}

bool SaveHostedTo(const std::string& path, const std::vector<HostedObject>& hosted, bool keep_empty,
                  std::string* error) {
  if (hosted.empty() && !keep_empty) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      *error = fmt::format("cannot remove `{}`: {}", path, std::strerror(errno));
      return false;
    }
    return true;
  }
  std::string text = std::string(kHostedHeader) + "\n";
  for (const HostedObject& h : hosted) text += EncodeHosted(h) + "\n";
  return WriteStateFile(path, text, error);
}

}  // namespace

}  // namespace netdsl::runtime
