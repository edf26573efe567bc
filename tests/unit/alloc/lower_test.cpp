// Lowering on a hand-built fabric: locality, lookup records, and the IR hash.
#include <doctest/doctest.h>

#include "compiler/alloc/alloc.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/lower/lower.h"
#include "llvm/Support/SourceMgr.h"
#include "tests/unit/alloc/fabric_fixture.h"

using namespace netdsl;
using testing::MakeFabric;

namespace {

alloc::AllocatedFabric Allocated(model::Fabric f) {
  llvm::SourceMgr sm;
  DiagnosticEngine diags(sm);
  auto out = alloc::Allocate(std::move(f), nullptr, {}, diags);
  REQUIRE(out);
  return std::move(*out);
}

}  // namespace

TEST_CASE("a host without VMs receives no segment, port or lookup record") {
  auto af = Allocated(MakeFabric({{"a", 1}, {"b", 1}}));
  auto index = lower::BuildLowerIndex(af, "hash");
  ir::HostIr h1 = lower::LowerHost(af, index, 0);
  CHECK(h1.host == "h1");
  CHECK(h1.segments.empty());
  CHECK(h1.ports.empty());
  CHECK(h1.lookup_records.empty());
  CHECK(h1.customer_routes.empty());
  REQUIRE(h1.provider_addresses.size() == 1);
  CHECK(h1.source_hash == "hash");
  ir::HostIr h2 = lower::LowerHost(af, index, 1);
  REQUIRE(h2.segments.size() == 1);
  CHECK(h2.segments[0].remote_pas.empty());
  CHECK(h2.segments[0].tunnel_ifname == "nd-gt4096");
  CHECK(h2.segments[0].mtu == 1458);
  REQUIRE(h2.ports.size() == 2);
  CHECK(h2.ports[0].id < h2.ports[1].id);
  REQUIRE(h2.lookup_records.size() == 2);
  CHECK(h2.lookup_records[0].local);
  CHECK(h2.lookup_records[0].ca < h2.lookup_records[1].ca);
}

TEST_CASE("lookup records span hosts sharing a VSID, with remote PAs") {
  auto af = Allocated(MakeFabric({{"a", 0}, {"b", 1}}));
  auto index = lower::BuildLowerIndex(af, "");
  ir::HostIr h1 = lower::LowerHost(af, index, 0);
  REQUIRE(h1.segments.size() == 1);
  REQUIRE(h1.segments[0].remote_pas.size() == 1);
  CHECK(h1.segments[0].remote_pas[0].ToString() == "192.168.0.11");
  REQUIRE(h1.lookup_records.size() == 2);
  CHECK(h1.lookup_records[0].vm == "a");
  CHECK(h1.lookup_records[0].local);
  CHECK(h1.lookup_records[1].vm == "b");
  CHECK_FALSE(h1.lookup_records[1].local);
  CHECK(h1.lookup_records[1].pa.ToString() == "192.168.0.11");
  CHECK(h1.lookup_records[1].port_id == 0);
}

TEST_CASE("the IR hash ignores provenance and sees every other change") {
  auto af = Allocated(MakeFabric({{"a", 0}, {"b", 1}}));
  auto index = lower::BuildLowerIndex(af, "one");
  ir::HostIr h = lower::LowerHost(af, index, 0);
  std::string base = lower::HostIrHash(h);
  CHECK(base.size() == 64);
  ir::HostIr other = h;
  other.generation = 7;
  other.source_hash = "two";
  CHECK(lower::HostIrHash(other) == base);
  other = h;
  other.lookup_records[1].mac = net::MacAddress::FromValue(1);
  CHECK(lower::HostIrHash(other) != base);
  other = h;
  other.segments[0].mtu -= 1;
  CHECK(lower::HostIrHash(other) != base);
  other = h;
  other.ports[0].vm += "x";
  CHECK(lower::HostIrHash(other) != base);
  // Moving a byte between adjacent strings changes the hash (length prefixes).
  other = h;
  other.ports[0].vm = "a";
  other.ports[0].nic = "nic0";
  ir::HostIr shifted = other;
  shifted.ports[0].vm = "an";
  shifted.ports[0].nic = "ic0";
  CHECK(lower::HostIrHash(other) != lower::HostIrHash(shifted));
  // The dump shows provenance only when asked.
  CHECK(lower::DumpHostIr(h, true).find("source_hash one") != std::string::npos);
  CHECK(lower::DumpHostIr(h, false).find("source_hash") == std::string::npos);
}
