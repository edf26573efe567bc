// The allocator: VSIDs, RDIDs, PAs, CAs, MACs, port ids, switch ifnames and
// gateway addresses, stable across builds through netdsl.lock.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "common/fabric/names.h"
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
  return fabric::VmNicIdentity(f.vms[vm].name, f.vms[vm].nics[nic].name);
}
std::string PortKey(const model::Fabric& f, uint32_t host, uint32_t vm, uint32_t nic) {
  return "host " + QuoteName(f.hosts[host].name) + "/" + NicKey(f, vm, nic);
}
std::string SwitchKey(const model::Fabric& f, uint32_t sw) { return "logical_switch " + QuoteName(f.logical_switches[sw].name); }
std::string GatewayKey(const model::Fabric& f, uint32_t n) { return VmNetworkKey(f, n) + "/gateway"; }
std::string GatewayCaKey(const model::Fabric& f, uint32_t s) { return VmSubnetKey(f, s) + "/gateway"; }

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

/// Who holds a reserved value; ids are handed out pool < explicit < lock <
/// quarantine, so that on a tie the source wins over the lock and the pool
/// over both, and a quarantined value held by anything else is simply in use.
struct Owner {
  enum class Kind : uint8_t { Pool, Explicit, Lock, Quarantine } kind;
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
  /// The lock file the recorded values come from, as diagnostics name it.
  std::string LockName() const { return old_ && !old_->path.empty() ? old_->path : "the lock"; }
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
  void ReserveQuarantined();
  void ReserveRetained();
  void Seal();
  void AllocateAll();
  void ReportShortfalls();
  AllocatedFabric Finish();
  void FinishQuarantine(LockFile& lock, const Allocation& a);

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
  std::vector<Request> gwca_req_;  ///< the gateway host's CA per VM subnet (after the NICs' CAs)
  std::vector<std::string> switch_names_;  ///< final bridge name per logical switch

  /// The revision this build writes if it changes the lock (docs/lock.md).
  uint64_t candidate_revision_ = 1;
  std::map<std::string, uint32_t> host_by_key_;  ///< `host NAME` → host
};

/// `host NAME` at the start of a lock key (NAME bare or double-quoted with
/// `\` escapes), or "" when the key does not start with a host.
std::string_view HostPart(std::string_view key) {
  if (key.substr(0, 5) != "host ") return {};
  size_t i = 5;
  if (i < key.size() && key[i] == '"') {
    for (++i; i < key.size() && key[i] != '"'; ++i)
      if (key[i] == '\\') ++i;
    if (i >= key.size()) return {};
    return key.substr(0, i + 1);
  }
  size_t slash = key.find('/', i);
  return key.substr(0, slash == std::string_view::npos ? key.size() : slash);
}

/// A quarantined value released by revision `released` is still quarantined
/// in the build that would write revision `candidate`.
bool Quarantined(uint64_t released, uint64_t candidate, uint64_t revisions) {
  return candidate <= released + revisions;
}

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
    // The gateway host's CA in each subnet it serves: the next hop of the
    // routing domain's default route on every other host (docs/lock.md).
    if (net.gateway && net.gateway->host != kNone && net.isolation != model::Isolation::None)
      for (uint32_t sub : net.vm_subnets) {
        if (subnet_pools_[sub].empty()) continue;  // nothing to draw from: no default route via this subnet
        Request r(GatewayCaKey(f_, sub), sub);
        r.pools = subnet_pools_[sub];
        gwca_req_.push_back(std::move(r));
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
  for (auto* reqs :
       {&vsid_req_, &rdid_req_, &pa_req_, &gw_req_, &ca_req_, &mac_req_, &port_req_, &switch_req_, &gwca_req_})
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
    vsids_.Reserve(*subnet.vsid, AddOwner(Owner::Kind::Explicit, "`" + key + "`",
                                          subnet.vsid_range.Start.isValid() ? subnet.vsid_range : subnet.name_range));
    if (const LockEntry* e = Locked(LockSection::Vsid, key); e && e->value != std::to_string(*subnet.vsid)) {
      diags_.Report(DiagKind::LockContradicted, subnet.vsid_range.Start.isValid() ? subnet.vsid_range : subnet.name_range,
                    "`" + key + "` sets vsid " + std::to_string(*subnet.vsid) + ", but " + LockName() + " records vsid " +
                        e->value + " for it")
          .Note(e->value_range, "recorded here; delete this entry if the change of VSID is intended");
      ok_ = false;
    }
  }
  for (uint32_t n = 0; n < f_.vm_networks.size(); ++n) {
    const auto& net = f_.vm_networks[n];
    if (!net.rdid) continue;
    std::string key = VmNetworkKey(f_, n);
    rdids_.Reserve(*net.rdid, AddOwner(Owner::Kind::Explicit, "`" + key + "`",
                                       net.rdid_range.Start.isValid() ? net.rdid_range : net.name_range));
    if (const LockEntry* e = Locked(LockSection::Rdid, key); e && e->value != std::to_string(*net.rdid)) {
      diags_.Report(DiagKind::LockContradicted, net.rdid_range.Start.isValid() ? net.rdid_range : net.name_range,
                    "`" + key + "` sets rdid " + std::to_string(*net.rdid) + ", but " + LockName() + " records rdid " +
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
          if (owner == kNone)
            owner = AddOwner(Owner::Kind::Explicit, "`" + key + "`", nic.ip_range.Start.isValid() ? nic.ip_range : nic.range);
          ip_free_[p].Reserve(ToInt(*nic.ip), owner);
        }
        if (const LockEntry* e = Locked(LockSection::CustomerAddress, key); e && e->value != nic.ip->ToString()) {
          diags_.Report(DiagKind::LockContradicted, nic.ip_range.Start.isValid() ? nic.ip_range : nic.range,
                        "`" + key + "` sets ip " + nic.ip->ToString() + ", but " + LockName() + " records " + e->value +
                            " for it")
              .Note(e->value_range, "recorded here; delete this entry if the change of address is intended");
          ok_ = false;
        }
      }
      if (nic.mac) {
        std::string key = NicKey(f_, v, i);
        uint32_t owner =
            AddOwner(Owner::Kind::Explicit, "`" + key + "`", nic.mac_range.Start.isValid() ? nic.mac_range : nic.range);
        for (auto& list : mac_free_) list.Reserve(nic.mac->Value(), owner);
        if (const LockEntry* e = Locked(LockSection::Mac, key); e && e->value != nic.mac->ToString()) {
          diags_.Report(DiagKind::LockContradicted, nic.mac_range.Start.isValid() ? nic.mac_range : nic.range,
                        "`" + key + "` sets mac " + nic.mac->ToString() + ", but " + LockName() + " records " + e->value +
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
                  LockName() + " gives `" + r.key + "` " + what + " " + e->value + ", outside the range " +
                      std::to_string(list.first()) + "-" + std::to_string(list.last()))
        .Note({}, "restore " + LockName() + " from version control, or delete this entry to allocate a new value");
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
                    " not contain " + e->value + ", the " + what + " " + LockName() + " records for `" + r.key + "`")
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
  for (auto& r : gwca_req_) KeepIpFromLock(LockSection::GatewayCustomerAddress, r, "gateway customer address");
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
                    "no mac_pool contains " + e->value + ", the MAC " + LockName() + " records for `" + r.key + "`")
          .Note(e->value_range, "recorded here; delete this entry to allocate a new MAC from a pool");
      ok_ = false;
      r.failed = true;
    }
  }
}

void Allocator::ReserveQuarantined() {
  candidate_revision_ = (old_ ? old_->revision : 0) + 1;
  for (uint32_t h = 0; h < f_.hosts.size(); ++h) host_by_key_.emplace("host " + QuoteName(f_.hosts[h].name), h);
  if (!old_) return;
  // Values this build releases (their objects are gone) are quarantined from
  // now on: nothing in this build may take them.
  auto requested = [](const std::vector<Request>& reqs, const std::string& key) {
    auto it = std::lower_bound(reqs.begin(), reqs.end(), key, [](const Request& r, const std::string& k) { return r.key < k; });
    return it != reqs.end() && it->key == key;
  };
  for (const auto& [key, entry] : old_->Section(LockSection::PortId)) {
    if (requested(port_req_, key)) continue;
    auto it = host_by_key_.find(std::string(HostPart(key)));
    if (it == host_by_key_.end()) continue;
    port_free_[it->second].Reserve(std::stoull(entry.value),
                                   AddOwner(Owner::Kind::Quarantine, "`" + key + "` (released)", entry.value_range));
  }
  for (const auto& [key, entry] : old_->Section(LockSection::Mac)) {
    if (requested(mac_req_, key)) continue;
    uint32_t owner = AddOwner(Owner::Kind::Quarantine, "`" + key + "` (released)", entry.value_range);
    for (auto& list : mac_free_) list.Reserve(net::ParseMac(entry.value)->Value(), owner);
  }
  for (const auto& [key, entry] : old_->Section(LockSection::ReleasedPortId)) {
    uint64_t released = std::stoull(entry.value);
    if (!Quarantined(released, candidate_revision_, opt_.quarantine_revisions)) continue;
    std::string_view host = HostPart(key);
    auto it = host_by_key_.find(std::string(host));
    std::string_view id = host.empty() ? std::string_view() : std::string_view(key).substr(host.size());
    bool digits = id.size() > 1 && id.size() <= 11 && id[0] == '/';
    for (size_t i = 1; i < id.size(); ++i) digits = digits && id[i] >= '0' && id[i] <= '9';
    if (!digits) {
      diags_.Report(DiagKind::LockSchema, entry.key_range,
                    "`" + key + "` in section `released_port_id` of " + LockName() + " is not of the form `host NAME/ID`")
          .Note({}, "restore " + LockName() + " from version control, or delete this entry");
      ok_ = false;
      continue;
    }
    if (it == host_by_key_.end()) continue;  // the host is gone: nothing to protect
    port_free_[it->second].Reserve(std::stoull(std::string(id.substr(1))),
                                   AddOwner(Owner::Kind::Quarantine, "`" + key + "` (released)", entry.key_range));
  }
  for (const auto& [key, entry] : old_->Section(LockSection::ReleasedMac)) {
    uint64_t released = std::stoull(entry.value);
    if (!Quarantined(released, candidate_revision_, opt_.quarantine_revisions)) continue;
    auto mac = net::ParseMac(key);
    if (!mac) {
      diags_.Report(DiagKind::LockSchema, entry.key_range,
                    "`" + key + "` in section `released_mac` of " + LockName() + " is not a MAC address")
          .Note({}, "restore " + LockName() + " from version control, or delete this entry");
      ok_ = false;
      continue;
    }
    uint32_t owner = AddOwner(Owner::Kind::Quarantine, "MAC " + mac->ToString() + " (released)", entry.key_range);
    for (auto& list : mac_free_) list.Reserve(mac->Value(), owner);
  }
}

void Allocator::ReserveRetained() {
  const RetainedValues* kept = opt_.retained;
  if (!kept) return;
  // Held by NICs outside the model: in use, like a quarantined value (never
  // reported, never moved; the incremental build falls back to a full build
  // before a source value could contest one).
  uint32_t owner = AddOwner(Owner::Kind::Quarantine, "a NIC outside this model", {});
  for (uint64_t mac : kept->macs)
    for (auto& list : mac_free_) list.Reserve(mac, owner);
  for (const auto& [pool, ip] : kept->ips)
    if (pool < ip_free_.size() && ip.family == f_.ip_pools[pool].range_first.family) ip_free_[pool].Reserve(ToInt(ip), owner);
  for (const auto& [host, id] : kept->ports)
    if (host < port_free_.size()) port_free_[host].Reserve(id, owner);
}

template <typename T>
void Allocator::OnConflict(T value, uint32_t kept, uint32_t dropped, const std::string& space) {
  const Owner& ko = owners_[kept];
  const Owner& d = owners_[dropped];
  // Source against source: sema reports it; a quarantined value someone holds is in use.
  if (d.kind != Owner::Kind::Lock) return;
  struct {
    Owner::Kind kind;
    std::string what;
    llvm::SMRange range;
  } k{ko.kind, ko.Describe(), ko.range};
  std::string dwhat = d.Describe();
  std::string shown = space;
  if (k.kind == Owner::Kind::Lock) {
    diags_.Report(DiagKind::LockValueConflict, d.range,
                  LockName() + " gives " + shown + " to both " + k.what + " and " + dwhat)
        .Note(k.range, "also given here; restore " + LockName() + " from version control, or delete one of the entries");
  } else if (k.kind == Owner::Kind::Explicit) {
    diags_.Report(DiagKind::LockContradicted, k.range,
                  k.what + " claims " + shown + ", which " + LockName() + " gives to " + dwhat)
        .Note(d.range, "recorded here; delete this entry so that " + dwhat + " gets a new value");
  } else {
    diags_.Report(DiagKind::LockContradicted, k.range,
                  k.what + " excludes " + shown + " from allocation, but " + LockName() + " gives it to " + dwhat)
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
  // After the NICs: adding a gateway never moves a VM's address.
  for (auto& r : gwca_req_)
    if (!r.kept && !r.failed) NextIp(r, "gateway customer address");
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
                    LockName() + " gives `" + r.key + "` the bridge name `" + e->value +
                        "`, which is not of the form `nd-NAME-HASH` netdslc derives")
          .Note({}, "restore " + LockName() + " from version control, or delete this entry to derive a new name");
      ok_ = false;
      r.failed = true;
      continue;
    }
    auto [it, inserted] = used.emplace(e->value, &r);
    if (!inserted) {
      diags_.Report(DiagKind::LockValueConflict, e->value_range,
                    LockName() + " gives bridge name `" + e->value + "` to both `" + it->second->key + "` and `" +
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
  if (old_) {
    lock.hosts = old_->hosts;
    lock.path = old_->path;
  }
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
  a.gateway_ca.assign(f_.vm_subnets.size(), std::nullopt);
  for (auto& r : gwca_req_) {
    auto ip = FromInt(r.value, f_.ip_pools[r.pool].range_first.family);
    a.gateway_ca[r.a] = ip;
    record(LockSection::GatewayCustomerAddress, r, ip.ToString());
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
  FinishQuarantine(lock, a);
  return out;
}

void Allocator::FinishQuarantine(LockFile& lock, const Allocation& a) {
  const uint64_t previous = old_ ? old_->revision : 0;
  const uint64_t candidate = candidate_revision_;
  // Values in use after this build: they are not released, and a quarantined
  // value the source now claims explicitly leaves the quarantine.
  std::set<std::pair<uint32_t, uint64_t>> ports_in_use;
  std::set<uint64_t> macs_in_use;
  for (uint32_t v = 0; v < f_.vms.size(); ++v)
    for (uint32_t i = 0; i < f_.vms[v].nics.size(); ++i) {
      if (f_.vms[v].host != kNone) ports_in_use.insert({f_.vms[v].host, a.nics[v][i].port_id});
      macs_in_use.insert(a.nics[v][i].mac.Value());
    }
  const RetainedValues* kept = opt_.retained;
  auto port_in_use = [&](uint32_t host, uint64_t id) {
    return ports_in_use.count({host, id}) ||
           (kept && std::binary_search(kept->ports.begin(), kept->ports.end(), std::pair<uint32_t, uint64_t>(host, id)));
  };
  auto mac_in_use = [&](uint64_t mac) {
    return macs_in_use.count(mac) || (kept && std::binary_search(kept->macs.begin(), kept->macs.end(), mac));
  };
  std::map<std::string, LockEntry> ports, macs;  // next quarantine, before expiry
  auto released_now = [&](std::map<std::string, LockEntry>& into, std::string key) {
    into[std::move(key)] = LockEntry{std::to_string(candidate), {}, {}};
  };
  if (old_) {
    for (const auto& [key, entry] : old_->Section(LockSection::ReleasedPortId)) {
      std::string_view host = HostPart(key);
      auto it = host_by_key_.find(std::string(host));
      if (it == host_by_key_.end()) continue;
      if (port_in_use(it->second, std::stoull(key.substr(host.size() + 1)))) continue;
      ports[key] = LockEntry{entry.value, {}, {}};
    }
    for (const auto& [key, entry] : old_->Section(LockSection::ReleasedMac)) {
      auto mac = net::ParseMac(key);
      if (!mac || mac_in_use(mac->Value())) continue;
      macs[mac->ToString()] = LockEntry{entry.value, {}, {}};
    }
    // Released by this build: values of objects that are gone (or moved) and
    // that nothing holds now.
    const auto& new_ports = lock.Section(LockSection::PortId);
    for (const auto& [key, entry] : old_->Section(LockSection::PortId)) {
      if (new_ports.count(key)) continue;
      std::string_view host = HostPart(key);
      auto it = host_by_key_.find(std::string(host));
      if (it == host_by_key_.end()) continue;  // the host is gone too
      uint64_t id = std::stoull(entry.value);
      if (port_in_use(it->second, id)) continue;
      released_now(ports, std::string(host) + "/" + entry.value);
    }
    for (const auto& [key, entry] : old_->Section(LockSection::Mac)) {
      auto mac = net::ParseMac(entry.value);
      if (!mac || mac_in_use(mac->Value())) continue;
      released_now(macs, mac->ToString());
    }
  }
  // The lock changes (and its revision with it) when an allocation section
  // differs or the quarantine gains or loses more than expired entries.
  auto same = [](const std::map<std::string, LockEntry>& x, const std::map<std::string, LockEntry>& y) {
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [](const auto& p, const auto& q) {
             return p.first == q.first && p.second.value == q.second.value;
           });
  };
  static const std::map<std::string, LockEntry> kEmpty;
  auto old_section = [&](LockSection s) -> const std::map<std::string, LockEntry>& {
    return old_ ? old_->Section(s) : kEmpty;
  };
  bool changed = !same(ports, old_section(LockSection::ReleasedPortId)) ||
                 !same(macs, old_section(LockSection::ReleasedMac));
  for (size_t s = 0; s < kAllocationSectionCount && !changed; ++s)
    changed = !same(lock.sections[s], old_section(LockSection(s)));
  if (!changed) {
    lock.revision = previous;
    lock.Section(LockSection::ReleasedPortId) = std::move(ports);
    lock.Section(LockSection::ReleasedMac) = std::move(macs);
    return;
  }
  lock.revision = candidate;
  for (auto* list : {&ports, &macs})
    for (auto it = list->begin(); it != list->end();)
      it = Quarantined(std::stoull(it->second.value), candidate + 1, opt_.quarantine_revisions) ? std::next(it)
                                                                                             : list->erase(it);
  lock.Section(LockSection::ReleasedPortId) = std::move(ports);
  lock.Section(LockSection::ReleasedMac) = std::move(macs);
}

std::optional<AllocatedFabric> Allocator::Run() {
  CollectIndexes();
  BuildRequests();
  ReserveSource();
  ReserveLocked();
  ReserveQuarantined();
  ReserveRetained();
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
