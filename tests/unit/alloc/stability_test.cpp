// Lock stability for every allocated kind (issue 11, defect 11): adding an
// object whose key sorts before every existing one keeps every value the lock
// records. Mutation testing found that the allocator could ignore the lock's
// RDID entries without any test noticing; each case here fails when the
// allocator ignores the lock's entries of its kind.
#include <doctest/doctest.h>

#include <functional>

#include "compiler/alloc/alloc.h"
#include "compiler/diag/diagnostics.h"
#include "llvm/Support/SourceMgr.h"
#include "tests/unit/alloc/fabric_fixture.h"

using namespace netdsl;
using testing::Ip;
using testing::MakeFabric;

namespace {

/// MakeFabric plus an external logical network whose pool NATs tenant A on h1.
model::Fabric BaseFabric() {
  model::Fabric f = MakeFabric({{"b", 0}, {"c", 1}});
  model::LogicalNetwork ext;
  ext.name = "External";
  ext.sites = {uint32_t(f.sites.size())};
  ext.ip_pools = {uint32_t(f.ip_pools.size())};
  f.logical_networks.push_back(ext);
  model::Site site;
  site.name = "outside";
  site.logical_network = 1;
  site.host_groups = {0};
  site.subnets.push_back({*net::ParsePrefix("192.168.10.0/24"), 0, {}});
  f.sites.push_back(site);
  model::IpPool pool;
  pool.name = "external";
  pool.logical_network = 1;
  pool.site = uint32_t(f.sites.size() - 1);
  pool.subnet = *net::ParsePrefix("192.168.10.0/24");
  pool.range_first = Ip("192.168.10.40");
  pool.range_last = Ip("192.168.10.50");
  f.ip_pools.push_back(pool);
  f.vm_networks[0].gateway = model::Gateway{0, uint32_t(f.ip_pools.size() - 1), true, {}};
  return f;
}

struct Built {
  llvm::SourceMgr sm;
  DiagnosticEngine diags{sm};
  std::optional<alloc::AllocatedFabric> out;
};

/// Builds `base` (optionally editing its lock), then `base` edited by `add`
/// with that lock, and checks that every value the first lock records is
/// recorded unchanged by the second. Returns the second lock.
alloc::LockFile CheckKept(const std::function<void(model::Fabric&)>& add,
                          const std::function<void(alloc::LockFile&)>& edit_lock = {}) {
  Built first;
  first.out = alloc::Allocate(BaseFabric(), nullptr, {}, first.diags);
  REQUIRE(first.out);
  llvm::SourceMgr sm;
  DiagnosticEngine diags(sm);
  alloc::LockFile printed = first.out->lock;
  if (edit_lock) edit_lock(printed);
  auto lock = alloc::ParseLockFile(alloc::PrintLockFile(printed), "netdsl.lock", diags);
  REQUIRE(lock);
  model::Fabric f = BaseFabric();
  add(f);
  Built second;
  second.out = alloc::Allocate(std::move(f), &*lock, {}, second.diags);
  for (const auto& d : second.diags.Sorted()) MESSAGE(std::string(CodeString(d.kind) + " " + d.message));
  REQUIRE(second.out);
  size_t compared = 0;
  for (size_t s = 0; s < alloc::kAllocationSectionCount; ++s) {
    for (const auto& [key, entry] : lock->sections[s]) {
      CAPTURE(key);
      auto it = second.out->lock.sections[s].find(key);
      REQUIRE(it != second.out->lock.sections[s].end());
      CHECK(it->second.value == entry.value);
      ++compared;
    }
  }
  CHECK(compared > 8);
  return second.out->lock;
}

const std::string& Value(const alloc::LockFile& lock, alloc::LockSection s, const std::string& key) {
  return lock.Section(s).at(key).value;
}

}  // namespace

TEST_CASE("a VM network whose name sorts first renumbers no routing domain") {
  auto lock = CheckKept([](model::Fabric& f) {
    model::VmNetwork first;
    first.name = "0first";
    first.logical_network = 0;
    f.vm_networks.insert(f.vm_networks.begin(), first);  // declared first, too
    for (auto& s : f.vm_subnets) ++s.vm_network;
    for (auto& p : f.ip_pools)
      if (p.vm_network != model::kNone) ++p.vm_network;
    for (auto& vm : f.vms)
      for (auto& nic : vm.nics) ++nic.vm_network;
  });
  CHECK(Value(lock, alloc::LockSection::Rdid, "vm_network \"0first\"") == "1002");
  CHECK(Value(lock, alloc::LockSection::Rdid, "vm_network \"tenant A\"") == "1001");
}

TEST_CASE("a VM subnet whose name sorts first renumbers no VSID") {
  auto lock = CheckKept([](model::Fabric& f) {
    model::VmSubnet first;
    first.name = "0first";
    first.vm_network = 0;
    first.prefix = *net::ParsePrefix("10.0.2.0/24");
    f.vm_networks[0].vm_subnets.push_back(uint32_t(f.vm_subnets.size()));
    f.vm_subnets.push_back(first);
  });
  CHECK(Value(lock, alloc::LockSection::Vsid, "vm_subnet \"tenant A\"/\"0first\"") == "4097");
  CHECK(Value(lock, alloc::LockSection::Vsid, "vm_subnet \"tenant A\"/web") == "4096");
}

TEST_CASE("a host whose name sorts first renumbers no provider address") {
  auto lock = CheckKept([](model::Fabric& f) {
    model::Host first = f.hosts[0];
    first.name = "a0";
    f.host_groups[0].hosts.push_back(uint32_t(f.hosts.size()));
    f.hosts.push_back(first);
  });
  CHECK(Value(lock, alloc::LockSection::ProviderAddress, "host a0/logical_network Tenant") == "192.168.0.12");
  CHECK(Value(lock, alloc::LockSection::ProviderAddress, "host h1/logical_network Tenant") == "192.168.0.10");
}

TEST_CASE("a VM whose name sorts first renumbers no CA, MAC or port id") {
  auto lock = CheckKept([](model::Fabric& f) {
    model::Vm first = f.vms[0];
    first.name = "a";
    f.vms.insert(f.vms.begin(), first);
  });
  // .12 is reserved, .13 the gateway host's CA (drawn after the VMs' in the
  // first build): an allocator ignoring the lock's gateway_customer_address
  // would hand .13 to `a` and move the gateway.
  CHECK(Value(lock, alloc::LockSection::CustomerAddress, "vm a/nic0") == "10.0.1.14");
  CHECK(Value(lock, alloc::LockSection::GatewayCustomerAddress, "vm_subnet \"tenant A\"/web/gateway") == "10.0.1.13");
  CHECK(Value(lock, alloc::LockSection::Mac, "vm a/nic0") == "00:1d:d8:b7:1c:02");
  CHECK(Value(lock, alloc::LockSection::PortId, "host h1/vm a/nic0") == "2");
}

TEST_CASE("a switch keeps the bridge name the lock records, even one it would not derive today") {
  auto lock = CheckKept(
      [](model::Fabric& f) {
        model::LogicalSwitch first = f.logical_switches[0];
        first.name = "0first";
        f.logical_switches.insert(f.logical_switches.begin(), first);
        for (auto& h : f.hosts)
          for (auto& nic : h.nics) ++nic.logical_switch;
      },
      [](alloc::LockFile& lock) {
        // As after a collision: an alternative name (attempt > 0), not the first derivation.
        lock.Section(alloc::LockSection::SwitchIfname)["logical_switch \"test logical switch\""].value =
            alloc::DeriveSwitchIfname("test logical switch", 1);
      });
  CHECK(Value(lock, alloc::LockSection::SwitchIfname, "logical_switch \"test logical switch\"") ==
        alloc::DeriveSwitchIfname("test logical switch", 1));
}

TEST_CASE("a NAT gateway whose VM network sorts first takes no other gateway's address") {
  auto lock = CheckKept([](model::Fabric& f) {
    model::VmNetwork first;
    first.name = "0first";
    first.logical_network = 0;
    first.gateway = f.vm_networks[0].gateway;
    f.vm_networks.insert(f.vm_networks.begin(), first);
    for (auto& s : f.vm_subnets) ++s.vm_network;
    for (auto& p : f.ip_pools)
      if (p.vm_network != model::kNone) ++p.vm_network;
    for (auto& vm : f.vms)
      for (auto& nic : vm.nics) ++nic.vm_network;
  });
  CHECK(Value(lock, alloc::LockSection::GatewayAddress, "vm_network \"0first\"/gateway") == "192.168.10.41");
  CHECK(Value(lock, alloc::LockSection::GatewayAddress, "vm_network \"tenant A\"/gateway") == "192.168.10.40");
}
