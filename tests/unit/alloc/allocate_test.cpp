// Allocation on hand-built fabrics: order, stability across edits, lock round
// trips, exhaustion and lock contradictions.
#include <doctest/doctest.h>

#include <algorithm>

#include "compiler/alloc/alloc.h"
#include "compiler/diag/diagnostics.h"
#include "llvm/Support/SourceMgr.h"

using namespace netdsl;
using model::kNone;

namespace {

net::IpAddress Ip(const char* s) { return *net::ParseIp(s); }

/// One virtualized logical network, one VM network (nvgre, subnet `web`),
/// hosts h1 and h2 on one switch, and the given VMs (name, host index).
model::Fabric MakeFabric(const std::vector<std::pair<std::string, uint32_t>>& vms,
                         const char* ca_last = "10.0.1.200") {
  model::Fabric f;
  f.host_groups.push_back({{"g", {}}, kNone, {0, 1}});
  for (const char* name : {"h1", "h2"}) {
    model::Host h;
    h.name = name;
    h.host_group = 0;
    h.nics.push_back({{"eth0", {}}, 0, 0});
    f.hosts.push_back(h);
  }
  model::LogicalNetwork ln;
  ln.name = "Tenant";
  ln.network_virtualization = true;
  ln.sites = {0};
  ln.ip_pools = {0};
  f.logical_networks.push_back(ln);
  model::Site site;
  site.name = "tenant";
  site.logical_network = 0;
  site.host_groups = {0};
  site.subnets.push_back({*net::ParsePrefix("192.168.0.0/24"), 0, {}});
  f.sites.push_back(site);
  model::IpPool pa;
  pa.name = "PA pool";
  pa.logical_network = 0;
  pa.site = 0;
  pa.subnet = *net::ParsePrefix("192.168.0.0/24");
  pa.range_first = Ip("192.168.0.10");
  pa.range_last = Ip("192.168.0.250");
  f.ip_pools.push_back(pa);
  model::IpPool ca;
  ca.name = "web_pool";
  ca.vm_network = 0;
  ca.vm_subnet = 0;
  ca.subnet = *net::ParsePrefix("10.0.1.0/24");
  ca.range_first = Ip("10.0.1.10");
  ca.range_last = Ip(ca_last);
  ca.gateway = Ip("10.0.1.1");
  ca.reserved = {Ip("10.0.1.12")};
  f.ip_pools.push_back(ca);
  model::MacPool mac;
  mac.name = "default";
  mac.first = *net::ParseMac("00:1d:d8:b7:1c:00");
  mac.last = *net::ParseMac("00:1d:d8:b7:1c:ff");
  f.mac_pools.push_back(mac);
  model::VmNetwork vn;
  vn.name = "tenant A";
  vn.logical_network = 0;
  vn.isolation = model::Isolation::Nvgre;
  vn.vm_subnets = {0};
  vn.ip_pools = {1};
  f.vm_networks.push_back(vn);
  model::VmSubnet sn;
  sn.name = "web";
  sn.vm_network = 0;
  sn.prefix = *net::ParsePrefix("10.0.1.0/24");
  sn.ip_pools = {1};
  f.vm_subnets.push_back(sn);
  model::UplinkPortProfile up;
  up.name = "uplink";
  up.sites = {0};
  f.uplink_port_profiles.push_back(up);
  model::LogicalSwitch sw;
  sw.name = "test logical switch";
  sw.uplinks = {0};
  f.logical_switches.push_back(sw);
  for (const auto& [name, host] : vms) {
    model::Vm vm;
    vm.name = name;
    vm.host = host;
    model::VmNic nic;
    nic.name = "nic0";
    nic.vm_network = 0;
    nic.vm_subnet = 0;
    vm.nics.push_back(nic);
    f.vms.push_back(vm);
  }
  return f;
}

struct Run {
  llvm::SourceMgr sm;
  DiagnosticEngine diags{sm};
  std::optional<alloc::AllocatedFabric> out;
  std::vector<std::string> codes;

  Run(model::Fabric f, const alloc::LockFile* lock, alloc::AllocOptions opt = {}) {
    out = alloc::Allocate(std::move(f), lock, opt, diags);
    for (const auto& d : diags.Sorted()) codes.push_back(CodeString(d.kind) + " " + d.message);
  }
  std::string Ca(const std::string& vm) const {
    const auto& f = out->fabric;
    for (uint32_t v = 0; v < f.vms.size(); ++v)
      if (f.vms[v].name == vm) return out->allocation.nics[v][0].ca.ToString();
    return "?";
  }
  bool Has(const std::string& code) const {
    return std::any_of(codes.begin(), codes.end(), [&](const auto& c) { return c.rfind(code, 0) == 0; });
  }
};

/// Round trip through the lock's text so that tests use what a build writes.
alloc::LockFile Reload(const alloc::LockFile& lock, llvm::SourceMgr& sm) {
  DiagnosticEngine diags(sm);
  auto parsed = alloc::ParseLockFile(alloc::PrintLockFile(lock), "netdsl.lock", diags);
  REQUIRE(parsed);
  return *parsed;
}

}  // namespace

TEST_CASE("fresh allocation visits objects in key order and skips reserved addresses") {
  Run r(MakeFabric({{"b", 1}, {"a", 0}, {"c", 1}}), nullptr);
  REQUIRE(r.out);
  CHECK(r.Ca("a") == "10.0.1.10");
  CHECK(r.Ca("b") == "10.0.1.11");
  CHECK(r.Ca("c") == "10.0.1.13");  // .12 is reserved
  const auto& a = r.out->allocation;
  CHECK(a.vsid[0] == 4096);
  CHECK(a.rdid[0] == 1001);
  REQUIRE(a.provider_addresses.size() == 2);
  CHECK(a.FindProviderAddress(0, 0)->ip.ToString() == "192.168.0.10");
  CHECK(a.FindProviderAddress(1, 0)->ip.ToString() == "192.168.0.11");
  CHECK(a.nics[0][0].port_id == 1);  // b on h2
  CHECK(a.nics[2][0].port_id == 2);  // c on h2
  CHECK(a.nics[1][0].port_id == 1);  // a on h1
  CHECK(a.nics[2][0].ifname == "nd-p2");
  CHECK(r.out->lock.Section(alloc::LockSection::CustomerAddress).at("vm a/nic0").value == "10.0.1.10");
  CHECK(r.out->lock.Section(alloc::LockSection::Vsid).at("vm_subnet \"tenant A\"/web").value == "4096");
}

TEST_CASE("adding an object that sorts first renumbers nothing; removing one frees its value") {
  Run first(MakeFabric({{"b", 1}, {"c", 1}}), nullptr);
  REQUIRE(first.out);
  CHECK(first.Ca("b") == "10.0.1.10");
  CHECK(first.Ca("c") == "10.0.1.11");
  llvm::SourceMgr sm;
  alloc::LockFile lock = Reload(first.out->lock, sm);

  Run added(MakeFabric({{"a", 1}, {"b", 1}, {"c", 1}}), &lock);
  REQUIRE(added.out);
  CHECK(added.Ca("b") == "10.0.1.10");
  CHECK(added.Ca("c") == "10.0.1.11");
  CHECK(added.Ca("a") == "10.0.1.13");
  CHECK(added.out->allocation.nics[1][0].port_id == 1);  // b keeps port 1
  CHECK(added.out->allocation.nics[0][0].port_id == 3);  // a is new

  alloc::LockFile lock2 = Reload(added.out->lock, sm);
  Run removed(MakeFabric({{"a", 1}, {"c", 1}, {"d", 0}}), &lock2);
  REQUIRE(removed.out);
  CHECK(removed.Ca("a") == "10.0.1.13");
  CHECK(removed.Ca("c") == "10.0.1.11");
  CHECK(removed.Ca("d") == "10.0.1.10");  // b's released address is the lowest free one
  CHECK(removed.out->lock.Section(alloc::LockSection::CustomerAddress).count("vm b/nic0") == 0);
  auto diff = alloc::DiffLockFiles(lock2, removed.out->lock);
  CHECK(diff.added >= 1);
  CHECK(diff.removed >= 1);
}

TEST_CASE("the lock's text round-trips exactly") {
  Run r(MakeFabric({{"a", 0}, {"b", 1}}), nullptr);
  REQUIRE(r.out);
  std::string text = alloc::PrintLockFile(r.out->lock);
  llvm::SourceMgr sm;
  alloc::LockFile back = Reload(r.out->lock, sm);
  CHECK(alloc::PrintLockFile(back) == text);
  CHECK(alloc::DiffLockFiles(r.out->lock, back).Empty());
  CHECK(text.rfind("# generated by netdslc; commit this file\n", 0) == 0);
}

TEST_CASE("an exhausted pool names the pool and the shortfall") {
  Run r(MakeFabric({{"a", 0}, {"b", 0}, {"c", 0}, {"d", 0}}, "10.0.1.13"), nullptr);
  CHECK_FALSE(r.out);
  REQUIRE(r.codes.size() == 1);
  CHECK(r.codes[0].find("ND2040 ip_pool `web_pool` runs out: 1 more address is needed") == 0);
}

TEST_CASE("the VSID space running out is reported") {
  auto f = MakeFabric({});
  f.vm_subnets.push_back(f.vm_subnets[0]);
  f.vm_subnets.back().name = "db";
  f.vm_subnets.back().ip_pools = {};
  alloc::AllocOptions opt;
  opt.vsid_last = opt.vsid_first;
  Run r(f, nullptr, opt);
  CHECK_FALSE(r.out);
  CHECK(r.Has("ND2040 the VSID range 4096-4096 runs out: 1 more VSID is needed"));
}

TEST_CASE("an explicit vsid that differs from the lock is a contradiction") {
  Run first(MakeFabric({{"a", 0}}), nullptr);
  REQUIRE(first.out);
  llvm::SourceMgr sm;
  alloc::LockFile lock = Reload(first.out->lock, sm);
  auto f = MakeFabric({{"a", 0}});
  f.vm_subnets[0].vsid = 5000;
  Run r(f, &lock);
  CHECK_FALSE(r.out);
  CHECK(r.Has("ND2020 `vm_subnet \"tenant A\"/web` sets vsid 5000, but netdsl.lock records vsid 4096"));
  // The same explicit value as the lock is fine; the entry is no longer needed.
  f.vm_subnets[0].vsid = 4096;
  Run same(f, &lock);
  REQUIRE(same.out);
  CHECK(same.out->lock.Section(alloc::LockSection::Vsid).empty());
}

TEST_CASE("an explicit address that takes a locked one is a contradiction") {
  Run first(MakeFabric({{"a", 0}}), nullptr);
  REQUIRE(first.out);
  llvm::SourceMgr sm;
  alloc::LockFile lock = Reload(first.out->lock, sm);
  auto f = MakeFabric({{"a", 0}, {"b", 0}});
  f.vms[1].nics[0].ip = Ip("10.0.1.10");
  Run r(f, &lock);
  CHECK_FALSE(r.out);
  CHECK(r.Has("ND2020 `vm b/nic0` claims 10.0.1.10, which netdsl.lock gives to `vm a/nic0`"));
}

TEST_CASE("tampered locks: duplicated values, values out of range, outside the pool") {
  Run first(MakeFabric({{"a", 0}, {"b", 0}}), nullptr);
  REQUIRE(first.out);
  {
    alloc::LockFile lock = first.out->lock;
    lock.Section(alloc::LockSection::CustomerAddress)["vm b/nic0"].value = "10.0.1.10";
    Run r(MakeFabric({{"a", 0}, {"b", 0}}), &lock);
    CHECK_FALSE(r.out);
    CHECK(r.Has("ND2005 netdsl.lock gives 10.0.1.10 to both `vm a/nic0` and `vm b/nic0`"));
  }
  {
    alloc::LockFile lock = first.out->lock;
    lock.Section(alloc::LockSection::Vsid)["vm_subnet \"tenant A\"/web"].value = "17";
    Run r(MakeFabric({{"a", 0}, {"b", 0}}), &lock);
    CHECK_FALSE(r.out);
    CHECK(r.Has("ND2004 netdsl.lock gives `vm_subnet \"tenant A\"/web` vsid 17, outside the range 4096-16777214"));
  }
  {
    alloc::LockFile lock = first.out->lock;
    lock.Section(alloc::LockSection::CustomerAddress)["vm b/nic0"].value = "10.9.9.9";
    Run r(MakeFabric({{"a", 0}, {"b", 0}}), &lock);
    CHECK_FALSE(r.out);
    CHECK(r.Has("ND2020 ip_pool `web_pool` (10.0.1.10 - 10.0.1.200) does not contain 10.9.9.9"));
  }
  {
    alloc::LockFile lock = first.out->lock;
    lock.Section(alloc::LockSection::CustomerAddress)["vm b/nic0"].value = "10.0.1.12";  // reserved
    Run r(MakeFabric({{"a", 0}, {"b", 0}}), &lock);
    CHECK_FALSE(r.out);
    CHECK(r.Has("ND2020 ip_pool `web_pool` (as a reserved address) excludes 10.0.1.12 from allocation, but netdsl.lock gives it to `vm b/nic0`"));
  }
}

TEST_CASE("lock parsing reports duplicate keys, wrong types and syntax errors with positions") {
  llvm::SourceMgr sm;
  DiagnosticEngine diags(sm);
  CHECK_FALSE(alloc::ParseLockFile("format: 1\nvsid:\n  a: 4096\n  a: 4097\n", "l1", diags));
  CHECK_FALSE(alloc::ParseLockFile("format: 1\nvsid:\n  a: \"x\"\n", "l2", diags));
  CHECK_FALSE(alloc::ParseLockFile("format: 1\nvsid: [\n", "l3", diags));
  CHECK_FALSE(alloc::ParseLockFile("format: 2\n", "l4", diags));
  CHECK_FALSE(alloc::ParseLockFile("format: 1\nbogus: {}\n", "l5", diags));
  auto sorted = diags.Sorted();
  REQUIRE(sorted.size() == 5);
  std::vector<std::string> seen;
  for (const auto& d : sorted) {
    auto [line, col] = sm.getLineAndColumn(d.range.Start);
    seen.push_back(CodeString(d.kind) + "@" + std::to_string(line) + ":" + std::to_string(col));
  }
  std::sort(seen.begin(), seen.end());
  CHECK(std::count(seen.begin(), seen.end(), "ND2003@4:3") == 1);  // duplicate key
  CHECK(std::count(seen.begin(), seen.end(), "ND2002@3:6") == 1);  // quoted id
  CHECK(std::count(seen.begin(), seen.end(), "ND2002@1:9") == 1);  // format 2
  CHECK(std::count(seen.begin(), seen.end(), "ND2002@2:1") == 1);  // unknown section
  CHECK(std::count_if(seen.begin(), seen.end(), [](const std::string& s) { return s.rfind("ND2001@", 0) == 0; }) == 1);
}

TEST_CASE("keys that are not plain YAML are quoted, and both parsers read the same lock") {
  alloc::LockFile lock;
  const char* keys[] = {"vm \"a: b\"/nic0", "vm \"x #y\"/nic0", "vm \"{[,]}\"/n", "vm \"back\\\\slash\"/n", "vm plain/nic0"};
  uint64_t mac = 0x021dd8000000;
  for (const char* k : keys) lock.Section(alloc::LockSection::Mac)[k].value = net::MacAddress::FromValue(mac++).ToString();
  lock.hosts["host h1"] = alloc::LockHost{3, std::string(64, 'a'), {}};
  std::string text = alloc::PrintLockFile(lock);
  CHECK(text.find("  \"vm \\\"a: b\\\"/nic0\": \"02:1d:d8:00:00:00\"\n") != std::string::npos);
  CHECK(text.find("  vm plain/nic0: ") != std::string::npos);
  llvm::SourceMgr sm;
  DiagnosticEngine diags(sm);
  auto fast = alloc::ParseLockFile(text, "fast.lock", diags);
  // A trailing comment is outside the layout netdslc writes: yaml-cpp parses this one.
  std::string edited = text;
  edited.replace(edited.find("hosts:\n"), 7, "hosts:   # hand edit\n");
  auto slow = alloc::ParseLockFile(edited, "slow.lock", diags);
  REQUIRE(fast);
  REQUIRE(slow);
  CHECK(diags.ErrorCount() == 0);
  CHECK(alloc::PrintLockFile(*fast) == text);
  CHECK(alloc::PrintLockFile(*slow) == text);
  CHECK(fast->Section(alloc::LockSection::Mac).count("vm \"{[,]}\"/n") == 1);
  CHECK(fast->hosts.at("host h1").generation == 3);
}
