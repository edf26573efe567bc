// libFuzzer target for the table image reader: any bytes must be rejected with
// a message or accepted and then answer every query without a memory error.
// Each input is also tried with its checksums recomputed, so that the fuzzer
// reaches the structural and entry checks behind the checksums.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/tables/image.h"
#include "runtime/tables/render.h"
#include "tests/unit/tables/corrupt.h"

using netdsl::runtime::tables::Image;
using netdsl::runtime::tables::Verify;
namespace ndt = netdsl::ndt;

static void Exercise(const Image& image) {
  netdsl::runtime::tables::Render(image);
  for (const ndt::PortEntry& p : image.ports()) {
    image.FindSegment(p.vsid);
    image.LookupCa(p.vsid, p.ca.family, p.ca.bytes);
    image.LookupMac(p.vsid, p.mac);
    image.LookupRoute(p.rdid, p.ca.family, p.ca.bytes);
    image.FindNat(p.rdid);
    std::string out;
    netdsl::runtime::tables::Trace(image, p.id, "10.0.1.20", "00:1d:d8:b7:1c:10", &out);
    out.clear();
    netdsl::runtime::tables::Trace(image, p.id, "fd00:1::9", "", &out);
  }
  uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8};
  for (const ndt::RouteDomainEntry& d : image.route_domains()) {
    image.LookupRoute(d.rdid, ndt::kFamilyV4, addr);
    image.LookupRoute(d.rdid, ndt::kFamilyV6, addr);
  }
}

static void Try(const std::string& bytes) {
  for (Verify verify : {Verify::kFull, Verify::kStructure}) {
    std::string error;
    auto image = Image::FromBytes(bytes, &error, verify);
    if (image) Exercise(*image);
    else if (error.empty()) __builtin_trap();  // a rejection must say why
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  Try(bytes);
  netdsl::testing::FixChecksums(bytes);
  Try(bytes);
  return 0;
}
