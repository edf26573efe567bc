// FakeKernel: netdsl's operations on an in-memory HostState.
#include "tests/unit/runtime/fake_kernel.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "runtime/linux/object_key.h"

namespace netdsl::runtime::testing {
namespace {

template <typename T>
typename std::vector<T>::iterator FindKey(std::vector<T>& v, const T& x) {
  return std::find_if(v.begin(), v.end(), [&](const T& y) { return KeyOf(y) == KeyOf(x); });
}

template <typename T>
int Add(std::vector<T>& v, const T& x, bool replace = false) {
  auto it = FindKey(v, x);
  if (it != v.end() && !replace) return EEXIST;
  if (it != v.end()) *it = x;
  else v.push_back(x);
  return 0;
}

template <typename T>
int Del(std::vector<T>& v, const T& x) {
  auto it = FindKey(v, x);
  if (it == v.end()) return ENOENT;
  v.erase(it);
  return 0;
}

}  // namespace

Link& FakeKernel::AddLink(const std::string& name, const std::string& kind, const std::string& alias) {
  Link l;
  l.name = name;
  l.kind = kind;
  l.alias = alias;
  l.ifindex = next_ifindex_++;
  l.mtu = 1500;
  l.up = true;
  state.links.push_back(l);
  return state.links.back();
}

Link* FakeKernel::Find(const std::string& name) {
  for (Link& l : state.links)
    if (l.name == name) return &l;
  return nullptr;
}

void FakeKernel::DropObjectsOn(const std::string& dev) {
  auto on = [&](const auto& x) { return x.dev == dev; };
  std::erase_if(state.addresses, on);
  std::erase_if(state.routes, on);
  std::erase_if(state.fdb, on);
  std::erase_if(state.neighbours, on);
  std::erase_if(state.qdiscs, on);
  for (Link& l : state.links)
    if (l.master == dev) l.master.clear();
}

int FakeKernel::Run(const Op& op) {
  if (fault)
    if (int e = fault(op)) return e;
  auto need_dev = [&](const std::string& dev) { return Find(dev) ? 0 : ENODEV; };
  switch (op.kind) {
    case OpKind::CreateLink: {
      const Link& spec = *std::get<Boxed<Link>>(op.object);
      if (Find(spec.name) || (spec.kind == "veth" && Find(spec.veth_peer))) return EEXIST;
      if (!spec.master.empty() && !Find(spec.master)) return ENODEV;
      Link l = spec;
      l.ifindex = next_ifindex_++;
      l.up = true;
      if (!l.mtu) l.mtu = 1500;
      state.links.push_back(l);
      if (spec.kind == "veth") {
        Link peer;
        peer.name = spec.veth_peer;
        peer.kind = "veth";
        peer.veth_peer = spec.name;
        peer.mtu = spec.veth_peer_mtu ? spec.veth_peer_mtu : 1500;
        peer.mac = spec.veth_peer_mac;
        peer.alias = spec.alias;
        peer.ifindex = next_ifindex_++;
        state.links.push_back(peer);
      }
      return 0;
    }
    case OpKind::DeleteLink: {
      const Link& spec = *std::get<Boxed<Link>>(op.object);
      Link* l = Find(spec.name);
      if (!l) return ENODEV;
      std::string peer = l->kind == "veth" ? l->veth_peer : "";
      for (const std::string& name : {spec.name, peer}) {
        if (name.empty()) continue;
        DropObjectsOn(name);
        std::erase_if(state.links, [&](const Link& x) { return x.name == name; });
      }
      return 0;
    }
    case OpKind::SetLink: {
      const auto& c = std::get<LinkChange>(op.object);
      Link* l = Find(c.name);
      if (!l) return ENODEV;
      if (c.master && !c.master->empty() && !Find(*c.master)) return ENODEV;
      if (c.mtu) l->mtu = *c.mtu;
      if (c.mac) l->mac = *c.mac;
      if (c.master) l->master = *c.master;
      if (c.up) l->up = *c.up;
      return 0;
    }
    case OpKind::AddAddress: {
      const auto& x = std::get<Address>(op.object);
      if (int e = need_dev(x.dev)) return e;
      return Add(state.addresses, x);
    }
    case OpKind::DelAddress: return Del(state.addresses, std::get<Address>(op.object)) ? EADDRNOTAVAIL : 0;
    case OpKind::AddRoute: {
      const auto& x = std::get<Route>(op.object);
      if (int e = need_dev(x.dev)) return e;
      return Add(state.routes, x);
    }
    case OpKind::DelRoute: return Del(state.routes, std::get<Route>(op.object)) ? ESRCH : 0;
    case OpKind::AddFdb: {
      const auto& x = std::get<FdbEntry>(op.object);
      if (int e = need_dev(x.dev)) return e;
      return Add(state.fdb, x);
    }
    case OpKind::DelFdb: return Del(state.fdb, std::get<FdbEntry>(op.object));
    case OpKind::AddNeighbour: {
      const auto& x = std::get<Neighbour>(op.object);
      if (int e = need_dev(x.dev)) return e;
      return Add(state.neighbours, x, true);
    }
    case OpKind::DelNeighbour: return Del(state.neighbours, std::get<Neighbour>(op.object));
    case OpKind::ReplaceQdisc: {
      const Qdisc& q = *std::get<Boxed<Qdisc>>(op.object);
      if (int e = need_dev(q.dev)) return e;
      std::erase_if(state.qdiscs, [&](const Qdisc& x) { return x.dev == q.dev; });
      state.qdiscs.push_back(q);
      return 0;
    }
    case OpKind::DelQdisc: {
      const Qdisc& q = *std::get<Boxed<Qdisc>>(op.object);
      return std::erase_if(state.qdiscs, [&](const Qdisc& x) { return x.dev == q.dev; }) ? 0 : EINVAL;
    }
    case OpKind::ReplaceNft: {
      NftTable t = *std::get<Boxed<NftTable>>(op.object);
      if (t.fingerprint.empty()) t.fingerprint = NftFingerprint(t);
      (t.family == "bridge" ? state.nft : state.nft_nat) = t;
      return 0;
    }
    case OpKind::RestoreNft: return ENOTSUP;  // a saved listing is nft text; unit tests use no nft
  }
  return EINVAL;
}

std::vector<std::pair<std::string, std::string>> FakeKernel::MissingFeatures(const std::vector<std::string>& features) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& f : features)
    if (missing_features.count(f)) out.emplace_back(f, "Operation not supported");
  return out;
}

bool FakeKernel::Read(const HostState& desired, HostState* actual, std::string*, const ReadScope& scope) {
  actual->links = state.links;
  actual->adopted.clear();
  if (scope.addresses) actual->addresses = state.addresses;
  if (scope.routes) actual->routes = state.routes;
  if (scope.neighbours) actual->neighbours = state.neighbours;
  if (scope.fdb) actual->fdb = state.fdb;
  if (scope.qdiscs) actual->qdiscs = state.qdiscs;
  if (scope.nft) {
    actual->nft = desired.nft.present ? state.nft : NftTable();
    actual->nft_nat = desired.nft_nat.present ? state.nft_nat : NftTable();
  }
  if (scope.canonical_order) CanonicalOrder(actual);
  return true;
}

bool FakeKernel::Execute(const std::vector<Op>& ops, bool tolerant, std::string* error) {
  for (const Op& op : ops) {
    log.push_back(Describe(op));
    int e = Run(op);
    if (!e) continue;
    bool benign = e == EEXIST || e == ENOENT || e == ENODEV || e == ESRCH || e == EADDRNOTAVAIL ||
                  (e == EINVAL && op.kind == OpKind::DelQdisc);
    if (tolerant && benign) continue;
    *error = fmt::format("{}: {}", Describe(op), std::strerror(e));
    return false;
  }
  return true;
}

}  // namespace netdsl::runtime::testing
