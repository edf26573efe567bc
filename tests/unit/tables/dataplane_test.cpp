// Reload under concurrent readers: lookups always see one whole image (old or
// new, never a mix), readers never fail, and replaced images are released.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "backends/tables/table_writer.h"
#include "runtime/tables/dataplane.h"
#include "tests/unit/tables/fixture.h"

using namespace netdsl;
using namespace netdsl::testing;
using netdsl::runtime::tables::Dataplane;
using netdsl::runtime::tables::Image;

namespace {

/// Generation g maps every CA to PA 192.168.<g % 256>.x: a mixed view would show.
std::string ImageForGeneration(uint64_t g) {
  ir::HostIr h = SampleHost();
  h.generation = g;
  h.lookup_records.clear();
  for (uint32_t i = 0; i < 512; ++i) {
    ir::LookupRecord r;
    r.vsid = 5001;
    r.ca = net::IpAddress::V4(0x0a000100 + i);
    r.mac = net::MacAddress::FromValue(0x001dd8000000ull + i);
    r.pa = net::IpAddress::V4(0xc0a80000 | uint32_t(g % 256) << 8 | (i % 250));
    r.host = "h";
    h.lookup_records.push_back(r);
  }
  return ImageBytes(h);
}

}  // namespace

TEST_CASE("readers see old or new images, never a mix, while images are swapped") {
  constexpr int kImages = 8;
  std::vector<std::shared_ptr<const Image>> images;
  for (int g = 1; g <= kImages; ++g) {
    std::string error;
    images.push_back(Image::FromBytes(ImageForGeneration(g), &error));
    REQUIRE(images.back());
  }
  Dataplane dataplane(images[0]);
  std::weak_ptr<const Image> first = images[0];

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0}, mismatches{0}, misses{0};
  auto reader = [&](int seed) {
    uint32_t i = seed;
    while (!stop.load(std::memory_order_relaxed)) {
      std::shared_ptr<const Image> snapshot = dataplane.Snapshot();
      uint64_t g = snapshot->generation();
      for (int k = 0; k < 64; ++k, i = i * 1103515245 + 12345) {
        net::IpAddress ca = net::IpAddress::V4(0x0a000100 + (i >> 8) % 512);
        const ndt::CaSlot* s = snapshot->LookupCa(5001, ndt::kFamilyV4, ca.bytes.data());
        if (!s) {
          misses.fetch_add(1);
          continue;
        }
        if (s->pa[14] != g % 256) mismatches.fetch_add(1);
        lookups.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back(reader, t + 1);
  // At least 500 ms, and on until enough swaps and lookups overlapped: on a loaded
  // machine the writer or the readers may get few time slices in 500 ms (this failed
  // with "swaps > 10" at load 16). CTest's timeout bounds the loop.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  uint64_t swaps = 0;
  while (std::chrono::steady_clock::now() < deadline || swaps < 200 || lookups.load() < 10000) {
    dataplane.Swap(images[++swaps % kImages]);
    std::this_thread::yield();
  }
  stop = true;
  for (auto& t : threads) t.join();
  CHECK(mismatches.load() == 0);
  CHECK(misses.load() == 0);
  CHECK(lookups.load() > 0);
  CHECK(swaps > 10);
  // Once nobody holds the replaced images, they are released (unmapped).
  dataplane.Swap(nullptr);
  images.clear();
  CHECK(first.expired());
}

TEST_CASE("Reload keeps the current image when the new one is broken") {
  std::string dir = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
  std::string good_path = dir + "/netdsl-tables-reload-good.ndt";
  std::string bad_path = dir + "/netdsl-tables-reload-bad.ndt";
  std::string good = ImageForGeneration(3);
  FILE* f = std::fopen(good_path.c_str(), "wb");
  REQUIRE(f);
  std::fwrite(good.data(), 1, good.size(), f);
  std::fclose(f);
  f = std::fopen(bad_path.c_str(), "wb");
  REQUIRE(f);
  std::fwrite(good.data(), 1, good.size() / 2, f);
  std::fclose(f);

  Dataplane dataplane;
  std::string error;
  REQUIRE(dataplane.Reload(good_path, &error));
  CHECK(dataplane.Snapshot()->generation() == 3);
  CHECK(!dataplane.Reload(bad_path, &error));
  CHECK(error.find("total_size") != std::string::npos);
  CHECK(dataplane.Snapshot()->generation() == 3);
  CHECK(!dataplane.Reload(dir + "/netdsl-tables-does-not-exist.ndt", &error));
  CHECK(error.find("cannot open") != std::string::npos);
  CHECK(!dataplane.Reload(dir, &error));
  CHECK(error.find("is not a regular file") != std::string::npos);
  CHECK(dataplane.Snapshot()->generation() == 3);
  std::remove(good_path.c_str());
  std::remove(bad_path.c_str());
}
