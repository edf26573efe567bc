// The allocator: VSIDs, RDIDs, PAs, CAs, MACs, port ids, switch ifnames and
// gateway addresses, stable across builds through netdsl.lock.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "common/io/sha256.h"
#include "compiler/alloc/alloc.h"
#include "compiler/alloc/free_list.h"
#include "compiler/diag/diagnostics.h"

namespace netdsl::alloc {

using model::kNone;
using U128 = unsigned __int128;

std::string DeriveSwitchIfname(std::string_view switch_name, unsigned attempt) {
  std::string stem;
  for (char c : switch_name) {
    if (stem.size() == 6) break;
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) && u < 0x80) stem.push_back(char(std::tolower(u)));
  }
  if (stem.empty()) stem = "sw";
  io::Sha256 h;
  h.Update(switch_name);
  if (attempt > 0) h.Update("#" + std::to_string(attempt));
  return "nd-" + stem + "-" + h.FinalHex().substr(0, 4);
}

std::string BondIfnameFor(std::string_view bridge_ifname) {
  if (bridge_ifname.substr(0, 3) == "nd-") return "ndb-" + std::string(bridge_ifname.substr(3));
  return "ndb" + std::string(bridge_ifname.substr(0, 12));
}

std::string PortIfname(uint32_t port_id) { return "nd-p" + std::to_string(port_id); }

std::string VmSubnetKey(const model::Fabric& f, uint32_t s) {
  const auto& subnet = f.vm_subnets[s];
  return "vm_subnet " + QuoteName(f.vm_networks[subnet.vm_network].name) + "/" + QuoteName(subnet.name);
}
std::string VmNetworkKey(const model::Fabric& f, uint32_t n) { return "vm_network " + QuoteName(f.vm_networks[n].name); }
std::string ProviderAddressKey(const model::Fabric& f, uint32_t host, uint32_t ln) {
  return "host " + QuoteName(f.hosts[host].name) + "/logical_network " + QuoteName(f.logical_networks[ln].name);
}
std::string NicKey(const model::Fabric& f, uint32_t vm, uint32_t nic) {
  return "vm " + QuoteName(f.vms[vm].name) + "/" + QuoteName(f.vms[vm].nics[nic].name);
}
std::string PortKey(const model::Fabric& f, uint32_t host, uint32_t vm, uint32_t nic) {
  return "host " + QuoteName(f.hosts[host].name) + "/" + NicKey(f, vm, nic);
}
std::string SwitchKey(const model::Fabric& f, uint32_t sw) { return "logical_switch " + QuoteName(f.logical_switches[sw].name); }
std::string GatewayKey(const model::Fabric& f, uint32_t n) { return VmNetworkKey(f, n) + "/gateway"; }

const ProviderAddress* Allocation::FindProviderAddress(uint32_t host, uint32_t logical_network) const {
  auto it = std::lower_bound(provider_addresses.begin(), provider_addresses.end(), std::pair(host, logical_network),
                             [](const ProviderAddress& pa, const std::pair<uint32_t, uint32_t>& k) {
                               return std::pair(pa.host, pa.logical_network) < k;
                             });
  if (it == provider_addresses.end() || it->host != host || it->logical_network != logical_network) return nullptr;
  return &*it;
}

namespace {

U128 ToInt(const net::IpAddress& ip) {
  if (ip.IsV4()) return ip.V4Value();
  U128 v = 0;
  for (uint8_t b : ip.bytes) v = (v << 8) | b;
  return v;
}

net::IpAddress FromInt(U128 v, net::IpAddress::Family family) {
  if (family == net::IpAddress::Family::V4) return net::IpAddress::V4(uint32_t(v));
  net::IpAddress ip;
  ip.family = family;
  for (int i = 15; i >= 0; --i, v >>= 8) ip.bytes[size_t(i)] = uint8_t(v);
  return ip;
}

/// Who holds a reserved value; ids are handed out pool < explicit < lock, so
/// that on a tie the source wins over the lock and the pool over both.
struct Owner {
  enum class Kind : uint8_t { Pool, Explicit, Lock } kind;
  std::string what;               ///< pool/explicit: `ip_pool `web_pool` (as its gateway)`, `` `vm x/nic0` ``
  const std::string* key = nullptr;  ///< lock: the request key (no copy per lock entry)
  llvm::SMRange range;            ///< source or lock location

  std::string Describe() const { return key ? "`" + *key + "`" : what; }
};

/// An object that needs a value, in sorted key order.
struct Request {
  Request(std::string k, uint32_t x = kNone, uint32_t y = kNone) : key(std::move(k)), a(x), b(y) {}
  std::string key;
  uint32_t a = kNone, b = kNone;       ///< object indices (meaning per kind)
  std::vector<uint32_t> pools;          ///< candidate pools (IP or MAC), preference order
  bool kept = false;                    ///< value taken from the lock
  bool failed = false;
  U128 value = 0;
  uint32_t pool = kNone;                ///< pool the value lies in
};

class Allocator {
 public:
  Allocator(model::Fabric& f, const LockFile* old, const AllocOptions& opt, DiagnosticEngine& diags)
      : f_(f), old_(old), opt_(opt), diags_(diags),
        vsids_(opt.vsid_first, opt.vsid_last), rdids_(opt.rdid_first, opt.rdid_last) {}

  std::optional<AllocatedFabric> Run();

 private:
  const LockEntry* Locked(LockSection s, const std::string& key) const {
    if (!old_) return nullptr;
    const auto& section = old_->Section(s);
    auto it = section.find(key);
    return it == section.end() ? nullptr : &it->second;
  }
  uint32_t AddOwner(Owner::Kind kind, std::string what, llvm::SMRange range) {
    owners_.push_back({kind, std::move(what), nullptr, range});
    return uint32_t(owners_.size() - 1);
  }
  /// Requests are complete before any lock owner is added, so the key pointer stays valid.
  uint32_t AddLockOwner(const std::string& key, llvm::SMRange range) {
    owners_.push_back({Owner::Kind::Lock, {}, &key, range});
    return uint32_t(owners_.size() - 1);
  }
  std::string PoolDescription(uint32_t p) const {
    const auto& pool = f_.ip_pools[p];
    return "ip_pool `" + pool.name + "` (" + pool.range_first.ToString() + " - " + pool.range_last.ToString() + ")";
  }
  void CollectIndexes();
  void BuildRequests();
  void ReserveSource();
  void ReserveLocked();
  void Seal();
  void AllocateAll();
  void ReportShortfalls();
  AllocatedFabric Finish();

  template <typename T>
  void OnConflict(T value, uint32_t kept, uint32_t dropped, const std::string& space);
  void KeepIdFromLock(LockSection s, Request& r, FreeList<uint64_t>& list, const char* what);
  void KeepIpFromLock(LockSection s, Request& r, const char* what);
  bool NextIp(Request& r, const char* what);

  model::Fabric& f_;
  const LockFile* old_;
  const AllocOptions& opt_;
  DiagnosticEngine& diags_;
  bool ok_ = true;
  std::vector<Owner> owners_;

  // Indexes.
  std::vector<std::vector<uint32_t>> subnet_pools_, ln_pools_;
  std::vector<std::set<uint32_t>> host_sites_;  ///< sites each host's uplinks carry
  std::vector<std::vector<uint32_t>> host_group_chain_;  ///< group and ancestors per host

  // Id spaces and pools.
  FreeList<uint64_t> vsids_, rdids_;
  std::vector<FreeList<U128>> ip_free_;
  std::vector<FreeList<uint64_t>> mac_free_;
  std::vector<FreeList<uint64_t>> port_free_;  ///< per host
  std::vector<uint64_t> ip_shortfall_, mac_shortfall_, port_shortfall_;
  uint64_t vsid_shortfall_ = 0, rdid_shortfall_ = 0;

  // Requests by kind, each sorted by key.
  std::vector<Request> vsid_req_, rdid_req_, pa_req_, gw_req_, ca_req_, mac_req_, port_req_, switch_req_;
  std::vector<std::string> switch_names_;  ///< final bridge name per logical switch
};

void Allocator::CollectIndexes() {
  subnet_pools_.assign(f_.vm_subnets.size(), {});
  ln_pools_.assign(f_.logical_networks.size(), {});
  for (uint32_t p = 0; p < f_.ip_pools.size(); ++p) {
    const auto& pool = f_.ip_pools[p];
    if (pool.vm_subnet != kNone) subnet_pools_[pool.vm_subnet].push_back(p);
    else if (pool.logical_network != kNone) ln_pools_[pool.logical_network].push_back(p);
  }
  host_sites_.assign(f_.hosts.size(), {});
  host_group_chain_.assign(f_.hosts.size(), {});
  for (uint32_t h = 0; h < f_.hosts.size(); ++h) {
    for (const auto& nic : f_.hosts[h].nics) {
      if (nic.uplink_profile == kNone) continue;
      for (uint32_t site : f_.uplink_port_profiles[nic.uplink_profile].sites) host_sites_[h].insert(site);
    }
    for (uint32_t g = f_.hosts[h].host_group; g != kNone && host_group_chain_[h].size() <= f_.host_groups.size();
         g = f_.host_groups[g].parent)
      host_group_chain_[h].push_back(g);
  }
  for (uint32_t p = 0; p < f_.ip_pools.size(); ++p)
    ip_free_.emplace_back(ToInt(f_.ip_pools[p].range_first), ToInt(f_.ip_pools[p].range_last));
  for (const auto& pool : f_.mac_pools) mac_free_.emplace_back(pool.first.Value(), pool.last.Value());
  for (size_t h = 0; h < f_.hosts.size(); ++h) port_free_.emplace_back(opt_.port_first, opt_.port_last);
  ip_shortfall_.assign(f_.ip_pools.size(), 0);
  mac_shortfall_.assign(f_.mac_pools.size(), 0);
  port_shortfall_.assign(f_.hosts.size(), 0);
}

void Allocator::BuildRequests() {
  for (uint32_t s = 0; s < f_.vm_subnets.size(); ++s)
    if (!f_.vm_subnets[s].vsid) vsid_req_.emplace_back(VmSubnetKey(f_, s), s);
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n) {
    const auto& net = f_.vm_networks[n];
    if (!net.rdid) rdid_req_.emplace_back(VmNetworkKey(f_, n), n);
    if (net.gateway && net.gateway->external_pool != kNone) {
      Request r(GatewayKey(f_, n), n);
      r.pools = {net.gateway->external_pool};
      gw_req_.push_back(std::move(r));
    }
  }
  // PAs: one per (host, network-virtualized logical network its uplinks reach).
  for (uint32_t h = 0; h < f_.hosts.size(); ++h) {
    std::map<uint32_t, std::vector<uint32_t>> by_ln;  // ln -> reached sites
    for (uint32_t site : host_sites_[h]) {
      uint32_t ln = f_.sites[site].logical_network;
      if (ln != kNone && f_.logical_networks[ln].network_virtualization) by_ln[ln].push_back(site);
    }
    for (const auto& [ln, sites] : by_ln) {
      Request r(ProviderAddressKey(f_, h, ln), h, ln);
      for (uint32_t p : ln_pools_[ln])
        if (std::find(sites.begin(), sites.end(), f_.ip_pools[p].site) != sites.end()) r.pools.push_back(p);
      if (r.pools.empty()) {
        diags_.Report(DiagKind::NoPool, f_.hosts[h].name_range,
                      "host `" + f_.hosts[h].name + "` needs a provider address on logical network `" +
                          f_.logical_networks[ln].name + "`, but no ip_pool covers a site its uplinks carry")
            .Note(f_.logical_networks[ln].name_range, "add an ip_pool for one of its sites to this logical network");
        ok_ = false;
        continue;
      }
      pa_req_.push_back(std::move(r));
    }
  }
  for (uint32_t v = 0; v < f_.vms.size(); ++v) {
    const auto& vm = f_.vms[v];
    for (uint32_t i = 0; i < vm.nics.size(); ++i) {
      const auto& nic = vm.nics[i];
      std::string key = NicKey(f_, v, i);
      if (vm.host != kNone) port_req_.emplace_back(PortKey(f_, vm.host, v, i), v, i);
      if (!nic.mac) {
        Request r(key, v, i);
        for (uint32_t p = 0; p < f_.mac_pools.size(); ++p) r.pools.push_back(p);
        if (r.pools.empty()) {
          diags_.Report(DiagKind::NoPool, nic.range,
                        "`" + key + "` has no `mac` and the fabric declares no mac_pool to draw one from")
              .Note({}, "declare a mac_pool or set `mac` on the NIC");
          ok_ = false;
        } else {
          mac_req_.push_back(std::move(r));
        }
      }
      if (!nic.ip && nic.vm_network != kNone) {
        Request r(key, v, i);
        if (nic.vm_subnet != kNone) {
          r.pools = subnet_pools_[nic.vm_subnet];
        } else {
          // Isolation none: the logical network's site pools, those scoped to the VM's host first.
          uint32_t ln = f_.vm_networks[nic.vm_network].logical_network;
          if (ln != kNone) {
            std::vector<uint32_t> scoped, other;
            for (uint32_t p : ln_pools_[ln]) {
              uint32_t site = f_.ip_pools[p].site;
              bool in_scope = false;
              if (site != kNone && vm.host != kNone)
                for (uint32_t g : f_.sites[site].host_groups)
                  for (uint32_t mine : host_group_chain_[vm.host]) in_scope |= g == mine;
              (in_scope ? scoped : other).push_back(p);
            }
            r.pools = scoped.empty() ? other : scoped;
          }
        }
        if (r.pools.empty()) {
          std::string from = nic.vm_subnet != kNone
                                 ? "vm_subnet `" + f_.vm_subnets[nic.vm_subnet].name + "`"
                                 : "logical network of vm_network `" + f_.vm_networks[nic.vm_network].name + "`";
          diags_.Report(DiagKind::NoPool, nic.range,
                        "`" + key + "` has no `ip` and its " + from + " has no ip_pool to draw one from")
              .Note({}, "add an ip_pool or set `ip` on the NIC");
          ok_ = false;
        } else {
          ca_req_.push_back(std::move(r));
        }
      }
    }
  }
  for (uint32_t s = 0; s < f_.logical_switches.size(); ++s) switch_req_.emplace_back(SwitchKey(f_, s), s);
  for (auto* reqs : {&vsid_req_, &rdid_req_, &pa_req_, &gw_req_, &ca_req_, &mac_req_, &port_req_, &switch_req_})
    std::sort(reqs->begin(), reqs->end(), [](const Request& x, const Request& y) { return x.key < y.key; });
}

void Allocator::ReserveSource() {
  // Pool-level exclusions first: they win every tie.
  for (uint32_t p = 0; p < f_.ip_pools.size(); ++p) {
    const auto& pool = f_.ip_pools[p];
    auto reserve = [&](const net::IpAddress& ip, const char* role) {
      if (ip.family != pool.range_first.family) return;
      ip_free_[p].Reserve(ToInt(ip), AddOwner(Owner::Kind::Pool, "ip_pool `" + pool.name + "` (as " + role + ")",
                                             pool.name_range));
    };
    if (pool.gateway) reserve(*pool.gateway, "its gateway");
    for (const auto& ip : pool.dns) reserve(ip, "a DNS server");
    for (const auto& ip : pool.reserved) reserve(ip, "a reserved address");
    for (const auto& ip : pool.vips) reserve(ip, "a VIP");
  }
  // Explicit values in the source.
  for (uint32_t s = 0; s < f_.vm_subnets.size(); ++s) {
    const auto& subnet = f_.vm_subnets[s];
    if (!subnet.vsid) continue;
    std::string key = VmSubnetKey(f_, s);
    vsids_.Reserve(*subnet.vsid, AddOwner(Owner::Kind::Explicit, "`" + key + "`", subnet.name_range));
    if (const LockEntry* e = Locked(LockSection::Vsid, key); e && e->value != std::to_string(*subnet.vsid)) {
      diags_.Report(DiagKind::LockContradicted, subnet.name_range,
                    "`" + key + "` sets vsid " + std::to_string(*subnet.vsid) + ", but netdsl.lock records vsid " +
                        e->value + " for it")
          .Note(e->value_range, "recorded here; delete this entry if the change of VSID is intended");
      ok_ = false;
    }
  }
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n) {
    const auto& net = f_.vm_networks[n];
    if (!net.rdid) continue;
    std::string key = VmNetworkKey(f_, n);
    rdids_.Reserve(*net.rdid, AddOwner(Owner::Kind::Explicit, "`" + key + "`", net.name_range));
    if (const LockEntry* e = Locked(LockSection::Rdid, key); e && e->value != std::to_string(*net.rdid)) {
      diags_.Report(DiagKind::LockContradicted, net.name_range,
                    "`" + key + "` sets rdid " + std::to_string(*net.rdid) + ", but netdsl.lock records rdid " +
                        e->value + " for it")
          .Note(e->value_range, "recorded here; delete this entry if the change of routing domain is intended");
      ok_ = false;
    }
  }
  for (uint32_t v = 0; v < f_.vms.size(); ++v) {
    const auto& vm = f_.vms[v];
    for (uint32_t i = 0; i < vm.nics.size(); ++i) {
      const auto& nic = vm.nics[i];
      if (nic.ip && nic.vm_network != kNone) {
        std::string key = NicKey(f_, v, i);
        std::vector<uint32_t> pools;
        if (nic.vm_subnet != kNone) pools = subnet_pools_[nic.vm_subnet];
        else if (uint32_t ln = f_.vm_networks[nic.vm_network].logical_network; ln != kNone) pools = ln_pools_[ln];
        uint32_t owner = kNone;
        for (uint32_t p : pools) {
          if (nic.ip->family != f_.ip_pools[p].range_first.family) continue;
          if (owner == kNone) owner = AddOwner(Owner::Kind::Explicit, "`" + key + "`", nic.range);
          ip_free_[p].Reserve(ToInt(*nic.ip), owner);
        }
        if (const LockEntry* e = Locked(LockSection::CustomerAddress, key); e && e->value != nic.ip->ToString()) {
          diags_.Report(DiagKind::LockContradicted, nic.range,
                        "`" + key + "` sets ip " + nic.ip->ToString() + ", but netdsl.lock records " + e->value +
                            " for it")
              .Note(e->value_range, "recorded here; delete this entry if the change of address is intended");
          ok_ = false;
        }
      }
      if (nic.mac) {
        std::string key = NicKey(f_, v, i);
        uint32_t owner = AddOwner(Owner::Kind::Explicit, "`" + key + "`", nic.range);
        for (auto& list : mac_free_) list.Reserve(nic.mac->Value(), owner);
        if (const LockEntry* e = Locked(LockSection::Mac, key); e && e->value != nic.mac->ToString()) {
          diags_.Report(DiagKind::LockContradicted, nic.range,
                        "`" + key + "` sets mac " + nic.mac->ToString() + ", but netdsl.lock records " + e->value +
                            " for it")
              .Note(e->value_range, "recorded here; delete this entry if the change of MAC is intended");
          ok_ = false;
        }
      }
    }
  }
}

void Allocator::KeepIdFromLock(LockSection s, Request& r, FreeList<uint64_t>& list, const char* what) {
  const LockEntry* e = Locked(s, r.key);
  if (!e) return;
  uint64_t v = std::stoull(e->value);
  if (!list.InRange(v)) {
    diags_.Report(DiagKind::LockValueOutOfRange, e->value_range,
                  "netdsl.lock gives `" + r.key + "` " + what + " " + e->value + ", outside the range " +
                      std::to_string(list.first()) + "-" + std::to_string(list.last()))
        .Note({}, "restore netdsl.lock from version control, or delete this entry to allocate a new value");
    ok_ = false;
    r.failed = true;
    return;
  }
  list.Reserve(v, AddLockOwner(r.key, e->value_range));
  r.kept = true;
  r.value = v;
}

void Allocator::KeepIpFromLock(LockSection s, Request& r, const char* what) {
  const LockEntry* e = Locked(s, r.key);
  if (!e) return;
  auto ip = net::ParseIp(e->value);
  for (uint32_t p : r.pools) {
    if (ip && ip->family == f_.ip_pools[p].range_first.family && ip_free_[p].InRange(ToInt(*ip))) {
      ip_free_[p].Reserve(ToInt(*ip), AddLockOwner(r.key, e->value_range));
      r.kept = true;
      r.value = ToInt(*ip);
      r.pool = p;
      return;
    }
  }
  uint32_t p = r.pools.front();
  diags_.Report(DiagKind::LockContradicted, f_.ip_pools[p].name_range,
                PoolDescription(p) + (r.pools.size() > 1 ? " and the other candidate pools do" : " does") +
                    " not contain " + e->value + ", the " + what + " netdsl.lock records for `" + r.key + "`")
      .Note(e->value_range, "recorded here; delete this entry to allocate a new address from the pool");
  ok_ = false;
  r.failed = true;
}

void Allocator::ReserveLocked() {
  for (auto& r : vsid_req_) KeepIdFromLock(LockSection::Vsid, r, vsids_, "vsid");
  for (auto& r : rdid_req_) KeepIdFromLock(LockSection::Rdid, r, rdids_, "rdid");
  for (auto& r : port_req_) KeepIdFromLock(LockSection::PortId, r, port_free_[f_.vms[r.a].host], "port id");
  for (auto& r : pa_req_) KeepIpFromLock(LockSection::ProviderAddress, r, "provider address");
  for (auto& r : gw_req_) KeepIpFromLock(LockSection::GatewayAddress, r, "gateway address");
  for (auto& r : ca_req_) KeepIpFromLock(LockSection::CustomerAddress, r, "customer address");
  for (auto& r : mac_req_) {
    const LockEntry* e = Locked(LockSection::Mac, r.key);
    if (!e) continue;
    uint64_t mac = net::ParseMac(e->value)->Value();
    for (uint32_t p : r.pools) {
      if (mac_free_[p].InRange(mac)) {
        mac_free_[p].Reserve(mac, AddLockOwner(r.key, e->value_range));
        r.kept = true;
        r.value = mac;
        r.pool = p;
        break;
      }
    }
    if (!r.kept) {
      diags_.Report(DiagKind::LockContradicted, f_.mac_pools[r.pools.front()].name_range,
                    "no mac_pool contains " + e->value + ", the MAC netdsl.lock records for `" + r.key + "`")
          .Note(e->value_range, "recorded here; delete this entry to allocate a new MAC from a pool");
      ok_ = false;
      r.failed = true;
    }
  }
}

template <typename T>
void Allocator::OnConflict(T value, uint32_t kept, uint32_t dropped, const std::string& space) {
  const Owner& ko = owners_[kept];
  const Owner& d = owners_[dropped];
  if (d.kind != Owner::Kind::Lock) return;  // source against source: sema reports it
  struct {
    Owner::Kind kind;
    std::string what;
    llvm::SMRange range;
  } k{ko.kind, ko.Describe(), ko.range};
  std::string dwhat = d.Describe();
  std::string shown = space;
  if (k.kind == Owner::Kind::Lock) {
    diags_.Report(DiagKind::LockValueConflict, d.range,
                  "netdsl.lock gives " + shown + " to both " + k.what + " and " + dwhat)
        .Note(k.range, "also given here; restore netdsl.lock from version control, or delete one of the entries");
  } else if (k.kind == Owner::Kind::Explicit) {
    diags_.Report(DiagKind::LockContradicted, k.range,
                  k.what + " claims " + shown + ", which netdsl.lock gives to " + dwhat)
        .Note(d.range, "recorded here; delete this entry so that " + dwhat + " gets a new value");
  } else {
    diags_.Report(DiagKind::LockContradicted, k.range,
                  k.what + " excludes " + shown + " from allocation, but netdsl.lock gives it to " + dwhat)
        .Note(d.range, "recorded here; delete this entry so that " + dwhat + " gets a new value");
  }
  ok_ = false;
}

void Allocator::Seal() {
  vsids_.Seal([&](uint64_t v, uint32_t k, uint32_t d) { OnConflict(v, k, d, "vsid " + std::to_string(v)); });
  rdids_.Seal([&](uint64_t v, uint32_t k, uint32_t d) { OnConflict(v, k, d, "rdid " + std::to_string(v)); });
  for (uint32_t p = 0; p < ip_free_.size(); ++p) {
    auto family = f_.ip_pools[p].range_first.family;
    ip_free_[p].Seal([&](U128 v, uint32_t k, uint32_t d) { OnConflict(v, k, d, FromInt(v, family).ToString()); });
  }
  for (auto& list : mac_free_)
    list.Seal([&](uint64_t v, uint32_t k, uint32_t d) {
      OnConflict(v, k, d, "MAC " + net::MacAddress::FromValue(v).ToString());
    });
  for (uint32_t h = 0; h < port_free_.size(); ++h)
    port_free_[h].Seal([&](uint64_t v, uint32_t k, uint32_t d) {
      OnConflict(v, k, d, "port id " + std::to_string(v) + " on host `" + f_.hosts[h].name + "`");
    });
}

bool Allocator::NextIp(Request& r, const char* what) {
  for (uint32_t p : r.pools) {
    if (auto v = ip_free_[p].Next()) {
      r.value = *v;
      r.pool = p;
      return true;
    }
  }
  ++ip_shortfall_[r.pools.back()];
  r.failed = true;
  return false;
}

void Allocator::AllocateAll() {
  for (auto& r : vsid_req_) {
    if (r.kept || r.failed) continue;
    if (auto v = vsids_.Next()) r.value = *v;
    else { ++vsid_shortfall_; r.failed = true; }
  }
  for (auto& r : rdid_req_) {
    if (r.kept || r.failed) continue;
    if (auto v = rdids_.Next()) r.value = *v;
    else { ++rdid_shortfall_; r.failed = true; }
  }
  for (auto& r : pa_req_)
    if (!r.kept && !r.failed) NextIp(r, "provider address");
  for (auto& r : gw_req_)
    if (!r.kept && !r.failed) NextIp(r, "gateway address");
  for (auto& r : ca_req_)
    if (!r.kept && !r.failed) NextIp(r, "customer address");
  for (auto& r : mac_req_) {
    if (r.kept || r.failed) continue;
    bool got = false;
    for (uint32_t p : r.pools) {
      if (auto v = mac_free_[p].Next()) {
        r.value = *v;
        r.pool = p;
        got = true;
        break;
      }
    }
    if (!got) { ++mac_shortfall_[r.pools.back()]; r.failed = true; }
  }
  for (auto& r : port_req_) {
    if (r.kept || r.failed) continue;
    uint32_t host = f_.vms[r.a].host;
    if (auto v = port_free_[host].Next()) r.value = *v;
    else { ++port_shortfall_[host]; r.failed = true; }
  }
  // Switch bridge names: kept from the lock when well formed and unique, else derived.
  std::map<std::string, const Request*> used;
  for (auto& r : switch_req_) {
    const LockEntry* e = Locked(LockSection::SwitchIfname, r.key);
    if (!e) continue;
    bool well_formed = e->value.size() <= 15 && e->value.rfind("nd-", 0) == 0 &&
                       std::count(e->value.begin(), e->value.end(), '-') >= 2;
    if (!well_formed) {
      diags_.Report(DiagKind::LockValueOutOfRange, e->value_range,
                    "netdsl.lock gives `" + r.key + "` the bridge name `" + e->value +
                        "`, which is not of the form `nd-NAME-HASH` netdslc derives")
          .Note({}, "restore netdsl.lock from version control, or delete this entry to derive a new name");
      ok_ = false;
      r.failed = true;
      continue;
    }
    auto [it, inserted] = used.emplace(e->value, &r);
    if (!inserted) {
      diags_.Report(DiagKind::LockValueConflict, e->value_range,
                    "netdsl.lock gives bridge name `" + e->value + "` to both `" + it->second->key + "` and `" +
                        r.key + "`")
          .Note(Locked(LockSection::SwitchIfname, it->second->key)->value_range, "also given here");
      ok_ = false;
      r.failed = true;
      continue;
    }
    r.kept = true;
  }
  switch_names_.assign(f_.logical_switches.size(), {});
  for (auto& r : switch_req_)
    if (r.kept) switch_names_[r.a] = Locked(LockSection::SwitchIfname, r.key)->value;
  for (auto& r : switch_req_) {
    if (r.kept || r.failed) continue;
    for (unsigned attempt = 0;; ++attempt) {
      std::string name = DeriveSwitchIfname(f_.logical_switches[r.a].name, attempt);
      if (used.emplace(name, &r).second) {
        switch_names_[r.a] = name;
        break;
      }
    }
  }
}

void Allocator::ReportShortfalls() {
  auto plural = [](uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  for (uint32_t p = 0; p < ip_shortfall_.size(); ++p) {
    if (!ip_shortfall_[p]) continue;
    const auto& pool = f_.ip_pools[p];
    uint64_t size = net::RangeSize(pool.range_first, pool.range_last);
    diags_.Report(DiagKind::PoolExhausted, pool.name_range,
                  "ip_pool `" + pool.name + "` runs out: " + plural(ip_shortfall_[p], "more address is", "more addresses are") +
                      " needed than its range " + pool.range_first.ToString() + " - " + pool.range_last.ToString() +
                      " (" + plural(size, "address", "addresses") + ", " +
                      std::to_string(ip_free_[p].reserved_count()) + " reserved or already taken) can supply")
        .Note({}, "widen the range or add another pool");
    ok_ = false;
  }
  for (uint32_t p = 0; p < mac_shortfall_.size(); ++p) {
    if (!mac_shortfall_[p]) continue;
    const auto& pool = f_.mac_pools[p];
    diags_.Report(DiagKind::PoolExhausted, pool.name_range,
                  "mac_pool `" + pool.name + "` runs out: " + plural(mac_shortfall_[p], "more MAC is", "more MACs are") +
                      " needed than " + pool.first.ToString() + " - " + pool.last.ToString() + " can supply")
        .Note({}, "widen the range or add another mac_pool");
    ok_ = false;
  }
  for (uint32_t h = 0; h < port_shortfall_.size(); ++h) {
    if (!port_shortfall_[h]) continue;
    diags_.Report(DiagKind::PoolExhausted, f_.hosts[h].name_range,
                  "host `" + f_.hosts[h].name + "` runs out of port ids: " + plural(port_shortfall_[h], "more is", "more are") +
                      " needed than " + std::to_string(opt_.port_first) + "-" + std::to_string(opt_.port_last) +
                      " can supply");
    ok_ = false;
  }
  if (vsid_shortfall_) {
    diags_.Report(DiagKind::PoolExhausted, llvm::SMRange(),
                  "the VSID range " + std::to_string(opt_.vsid_first) + "-" + std::to_string(opt_.vsid_last) +
                      " runs out: " + plural(vsid_shortfall_, "more VSID is", "more VSIDs are") + " needed");
    ok_ = false;
  }
  if (rdid_shortfall_) {
    diags_.Report(DiagKind::PoolExhausted, llvm::SMRange(),
                  "the routing domain id range " + std::to_string(opt_.rdid_first) + "-" + std::to_string(opt_.rdid_last) +
                      " runs out: " + plural(rdid_shortfall_, "more rdid is", "more rdids are") + " needed");
    ok_ = false;
  }
}

AllocatedFabric Allocator::Finish() {
  AllocatedFabric out;
  Allocation& a = out.allocation;
  LockFile& lock = out.lock;
  if (old_) lock.hosts = old_->hosts;
  // Keys move into the lock: requests are not used after this.
  auto record = [&](LockSection s, Request& r, std::string value) {
    lock.Section(s).emplace_hint(lock.Section(s).end(), std::move(r.key), LockEntry{std::move(value), {}, {}});
  };
  a.vsid.assign(f_.vm_subnets.size(), 0);
  for (uint32_t s = 0; s < f_.vm_subnets.size(); ++s)
    if (f_.vm_subnets[s].vsid) a.vsid[s] = *f_.vm_subnets[s].vsid;
  for (auto& r : vsid_req_) {
    a.vsid[r.a] = uint32_t(r.value);
    record(LockSection::Vsid, r, std::to_string(uint64_t(r.value)));
  }
  a.rdid.assign(f_.vm_networks.size(), 0);
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n)
    if (f_.vm_networks[n].rdid) a.rdid[n] = *f_.vm_networks[n].rdid;
  for (auto& r : rdid_req_) {
    a.rdid[r.a] = uint32_t(r.value);
    record(LockSection::Rdid, r, std::to_string(uint64_t(r.value)));
  }
  for (auto& r : pa_req_) {
    ProviderAddress pa;
    pa.host = r.a;
    pa.logical_network = r.b;
    pa.ip_pool = r.pool;
    pa.ip = FromInt(r.value, f_.ip_pools[r.pool].range_first.family);
    record(LockSection::ProviderAddress, r, pa.ip.ToString());
    a.provider_addresses.push_back(pa);
  }
  std::sort(a.provider_addresses.begin(), a.provider_addresses.end(),
            [](const ProviderAddress& x, const ProviderAddress& y) {
              return std::pair(x.host, x.logical_network) < std::pair(y.host, y.logical_network);
            });
  a.gateway_external_ip.assign(f_.vm_networks.size(), std::nullopt);
  for (auto& r : gw_req_) {
    auto ip = FromInt(r.value, f_.ip_pools[r.pool].range_first.family);
    a.gateway_external_ip[r.a] = ip;
    record(LockSection::GatewayAddress, r, ip.ToString());
  }
  a.nics.resize(f_.vms.size());
  for (uint32_t v = 0; v < f_.vms.size(); ++v) {
    a.nics[v].resize(f_.vms[v].nics.size());
    for (uint32_t i = 0; i < f_.vms[v].nics.size(); ++i) {
      const auto& nic = f_.vms[v].nics[i];
      if (nic.ip) a.nics[v][i].ca = *nic.ip;
      if (nic.mac) a.nics[v][i].mac = *nic.mac;
    }
  }
  for (auto& r : ca_req_) {
    auto& n = a.nics[r.a][r.b];
    n.ca = FromInt(r.value, f_.ip_pools[r.pool].range_first.family);
    n.ip_pool = r.pool;
    record(LockSection::CustomerAddress, r, n.ca.ToString());
  }
  for (auto& r : mac_req_) {
    auto& n = a.nics[r.a][r.b];
    n.mac = net::MacAddress::FromValue(uint64_t(r.value));
    record(LockSection::Mac, r, n.mac.ToString());
  }
  for (auto& r : port_req_) {
    auto& n = a.nics[r.a][r.b];
    n.port_id = uint32_t(r.value);
    n.ifname = PortIfname(n.port_id);
    record(LockSection::PortId, r, std::to_string(n.port_id));
  }
  a.switch_ifname = switch_names_;
  for (auto& r : switch_req_) record(LockSection::SwitchIfname, r, switch_names_[r.a]);
  return out;
}

std::optional<AllocatedFabric> Allocator::Run() {
  CollectIndexes();
  BuildRequests();
  ReserveSource();
  ReserveLocked();
  Seal();
  AllocateAll();
  ReportShortfalls();
  if (!ok_) return std::nullopt;
  AllocatedFabric out = Finish();
  return out;
}

}  // namespace

std::optional<AllocatedFabric> Allocate(model::Fabric fabric, const LockFile* lock, const AllocOptions& options,
                                        DiagnosticEngine& diags) {
  Allocator allocator(fabric, lock, options, diags);
  auto out = allocator.Run();
  if (out) out->fabric = std::move(fabric);
  return out;
}

}  // namespace netdsl::alloc
