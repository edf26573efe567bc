// Table image benchmark: (VSID, CA) and (VSID, MAC) lookups/s on 1k, 100k and
// 1M records — image single and batched vs std::unordered_map and a plain flat
// open-addressing map on the same keys — LPM (sorted ranges vs DIR-24-8), image
// build time and size, and load time with and without verification.
// Numbers go to docs/benchmarks.md (section "tables").
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/tables/lpm_builder.h"
#include "backends/tables/table_writer.h"
#include "runtime/tables/image.h"

using namespace netdsl;
using Clock = std::chrono::steady_clock;
using runtime::tables::CaKey;
using runtime::tables::Image;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

/// Runs every variant once per round, `rounds` times, interleaved so that noise
/// from other processes hits all variants alike; returns each variant's best
/// rate in operations/s (each run performs `n` operations).
std::vector<double> Interleaved(size_t n, const std::vector<std::function<void()>>& variants, int rounds = 7) {
  std::vector<double> best(variants.size(), 1e99);
  for (int r = 0; r < rounds; ++r)
    for (size_t v = 0; v < variants.size(); ++v) {
      auto t0 = Clock::now();
      variants[v]();
      best[v] = std::min(best[v], Seconds(t0, Clock::now()));
    }
  for (double& b : best) b = n / b;
  return best;
}

/// Best of `reps` runs of `fn` (which performs `n` operations), in operations/s.
template <typename Fn>
double Rate(size_t n, Fn fn, int reps = 5) {
  double best = 1e99;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    fn();
    best = std::min(best, Seconds(t0, Clock::now()));
  }
  return n / best;
}

struct Value {
  uint8_t pa[16];
  uint8_t mac[6];
};

struct KeyHash {
  size_t operator()(const CaKey& k) const { return ndt::HashCa(k.vsid, k.family, k.bytes); }
};
struct KeyEq {
  bool operator()(const CaKey& a, const CaKey& b) const {
    return a.vsid == b.vsid && a.family == b.family && std::memcmp(a.bytes, b.bytes, 16) == 0;
  }
};

/// A straightforward flat open-addressing map (linear probing, load ≤ 1/2).
class FlatMap {
 public:
  explicit FlatMap(size_t n) {
    size_t cap = 8;
    while (n * 2 > cap) cap *= 2;
    slots_.resize(cap);
    mask_ = cap - 1;
  }
  void Insert(const CaKey& k, const Value& v) {
    for (size_t i = KeyHash()(k) & mask_;; i = (i + 1) & mask_) {
      if (!slots_[i].used) {
        slots_[i] = {true, k, v};
        return;
      }
      if (KeyEq()(slots_[i].key, k)) return;
    }
  }
  const Value* Find(const CaKey& k) const {
    for (size_t i = KeyHash()(k) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (KeyEq()(s.key, k)) return &s.value;
    }
  }

 private:
  struct Slot {
    bool used = false;
    CaKey key;
    Value value;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

ir::HostIr MakeHost(size_t records) {
  ir::HostIr h;
  h.host = "bench";
  h.source_hash = std::string(64, 'a');
  for (size_t i = 0; i < records; ++i) {
    ir::LookupRecord r;
    r.vsid = 5000 + uint32_t(i % 1000);
    r.ca = net::IpAddress::V4(0x0a000000u + uint32_t(i / 1000) * 7 + 1);
    r.mac = net::MacAddress::FromValue(0x001dd8000000ull + i);
    r.pa = net::IpAddress::V4(0xc0a80000u + uint32_t(i % 4000));
    r.host = "host" + std::to_string(i % 4000);
    r.vm = "vm" + std::to_string(i);
    r.nic = "nic0";
    h.lookup_records.push_back(r);
  }
  return h;
}

void BenchLookups(size_t records, FILE* md) {
  ir::HostIr host = MakeHost(records);
  auto t1 = Clock::now();
  std::string bytes = llvm::cantFail(backends::WriteTableImage(host));
  auto t2 = Clock::now();
  std::string path = "/tmp/netdsl-tables-bench-" + std::to_string(records) + ".ndt";
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  std::string error;
  double load_full = 1e99, load_structure = 1e99;
  std::shared_ptr<const Image> image;
  for (int r = 0; r < 3; ++r) {
    auto a = Clock::now();
    image = Image::Open(path, &error, runtime::tables::Verify::kFull);
    load_full = std::min(load_full, Seconds(a, Clock::now()));
    a = Clock::now();
    auto trusted = Image::Open(path, &error, runtime::tables::Verify::kStructure);
    load_structure = std::min(load_structure, Seconds(a, Clock::now()));
  }
  if (!image) {
    std::fprintf(stderr, "bench: %s\n", error.c_str());
    std::exit(1);
  }
  // The same image copied into memory advised for huge pages (Image::FromBytes).
  double load_copy = 1e99;
  std::shared_ptr<const Image> copied;
  for (int r = 0; r < 3; ++r) {
    auto a = Clock::now();
    copied = Image::FromBytes(bytes, &error, runtime::tables::Verify::kFull);
    load_copy = std::min(load_copy, Seconds(a, Clock::now()));
  }
  // Pre-fault the mapping so that lookups measure the cache, not page faults.
  volatile uint64_t sink = 0;
  for (size_t i = 0; i < bytes.size(); i += 4096) sink = sink + image->bytes()[i];

  std::vector<CaKey> keys(host.lookup_records.size());
  std::vector<std::array<uint8_t, 6>> macs(keys.size());
  std::vector<uint32_t> vsids(keys.size());
  std::unordered_map<CaKey, Value, KeyHash, KeyEq> umap;
  umap.reserve(keys.size());
  FlatMap flat(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const ir::LookupRecord& r = host.lookup_records[i];
    keys[i].vsid = r.vsid;
    std::memcpy(keys[i].bytes, r.ca.bytes.data(), 16);
    macs[i] = r.mac.bytes;
    vsids[i] = r.vsid;
    Value v;
    std::memcpy(v.pa, r.pa.bytes.data(), 16);
    std::memcpy(v.mac, r.mac.bytes.data(), 6);
    umap.emplace(keys[i], v);
    flat.Insert(keys[i], v);
  }
  host = {};
  // Random order over all keys, 4M lookups (repeating for small tables).
  const size_t n = 4'000'000;
  std::mt19937_64 rng(7);
  std::vector<uint32_t> order(n);
  for (auto& o : order) o = uint32_t(rng() % keys.size());
  std::vector<CaKey> stream(n);
  std::vector<uint32_t> stream_vsid(n);
  std::vector<std::array<uint8_t, 6>> stream_mac(n);
  for (size_t i = 0; i < n; ++i) stream[i] = keys[order[i]], stream_vsid[i] = vsids[order[i]], stream_mac[i] = macs[order[i]];

  uint64_t check = 0;
  constexpr size_t kBatch = 256;  // packets a virtual switch handles per poll
  std::vector<const ndt::CaSlot*> out(kBatch);
  std::vector<const ndt::MacSlot*> mout(kBatch);
  std::vector<double> rates = Interleaved(n, {
      [&] { for (size_t i = 0; i < n; ++i) check += umap.find(stream[i])->second.pa[15]; },
      [&] { for (size_t i = 0; i < n; ++i) check += flat.Find(stream[i])->pa[15]; },
      [&] {
        for (size_t i = 0; i < n; ++i)
          check += image->LookupCa(stream[i].vsid, stream[i].family, stream[i].bytes)->pa[15];
      },
      [&] {
        for (size_t i = 0; i < n; i += kBatch) {
          size_t m = std::min<size_t>(kBatch, n - i);
          image->LookupCaBatch(&stream[i], m, out.data());
          for (size_t j = 0; j < m; ++j) check += out[j]->pa[15];
        }
      },
      [&] {
        for (size_t i = 0; i < n; i += kBatch) {
          size_t m = std::min<size_t>(kBatch, n - i);
          copied->LookupCaBatch(&stream[i], m, out.data());
          for (size_t j = 0; j < m; ++j) check += out[j]->pa[15];
        }
      },
      [&] { for (size_t i = 0; i < n; ++i) check += image->LookupMac(stream_vsid[i], stream_mac[i].data())->pa[15]; },
      [&] {
        for (size_t i = 0; i < n; i += kBatch) {
          size_t m = std::min<size_t>(kBatch, n - i);
          image->LookupMacBatch(&stream_vsid[i], reinterpret_cast<const uint8_t(*)[6]>(&stream_mac[i]), m, mout.data());
          for (size_t j = 0; j < m; ++j) check += mout[j]->pa[15];
        }
      },
  });
  double r_umap = rates[0], r_flat = rates[1], r_image = rates[2], r_batch = rates[3], r_copy_batch = rates[4],
         r_mac = rates[5], r_mac_batch = rates[6];
  auto M = [](double r) { return r / 1e6; };
  std::fprintf(md,
               "| %zu | %.1f | %.1f | %.1f (%.2fx) | %.1f (%.2fx) | %.1f (%.2fx) | %.1f | %.1f | %.0f | %.1f | %.1f | %.2f | %.1f |\n",
               records, M(r_umap), M(r_flat), M(r_image), r_image / r_flat, M(r_batch), r_batch / r_flat,
               M(r_copy_batch), r_copy_batch / r_flat, M(r_mac), M(r_mac_batch), Seconds(t1, t2) * 1e3,
               bytes.size() / 1048576.0, load_full * 1e3, load_structure * 1e3, load_copy * 1e3);
  std::fflush(md);
  if (check == 42) std::puts("");
  std::remove(path.c_str());
}

/// DIR-24-8 for comparison: 2^24 first-level u16 entries, 256-entry second-level chunks.
class Dir248 {
 public:
  explicit Dir248(const std::vector<std::pair<uint32_t, uint8_t>>& prefixes) : tbl24_(1 << 24, 0) {
    // Insert shorter prefixes first so longer ones overwrite (entries: route+1, or chunk | 0x8000).
    std::vector<size_t> order(prefixes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prefixes[a].second < prefixes[b].second; });
    for (size_t idx : order) {
      auto [addr, len] = prefixes[idx];
      uint16_t value = uint16_t(idx + 1);
      if (len <= 24) {
        uint32_t first = addr >> 8, count = 1u << (24 - len);
        for (uint32_t i = first; i < first + count; ++i) {
          if (tbl24_[i] & 0x8000) {
            auto& chunk = tbl8_[tbl24_[i] & 0x7fff];
            std::fill(chunk.begin(), chunk.end(), value);
          } else {
            tbl24_[i] = value;
          }
        }
      } else {
        uint32_t i24 = addr >> 8;
        if (!(tbl24_[i24] & 0x8000)) {
          tbl8_.push_back({});
          tbl8_.back().fill(tbl24_[i24]);
          tbl24_[i24] = uint16_t(0x8000 | (tbl8_.size() - 1));
        }
        auto& chunk = tbl8_[tbl24_[i24] & 0x7fff];
        uint32_t first = addr & 0xff, count = 1u << (32 - len);
        for (uint32_t i = first; i < first + count; ++i) chunk[i] = value;
      }
    }
  }
  uint16_t Lookup(uint32_t addr) const {
    uint16_t e = tbl24_[addr >> 8];
    return e & 0x8000 ? tbl8_[e & 0x7fff][addr & 0xff] : e;
  }
  size_t Bytes() const { return tbl24_.size() * 2 + tbl8_.size() * 512; }

 private:
  std::vector<uint16_t> tbl24_;
  std::vector<std::array<uint16_t, 256>> tbl8_;
};

void BenchLpm(size_t routes, FILE* md) {
  std::mt19937 rng(11);
  ir::HostIr host;
  host.host = "bench";
  std::vector<std::pair<uint32_t, uint8_t>> prefixes;
  while (prefixes.size() < routes) {
    uint8_t len = uint8_t(8 + rng() % 25);  // /8 .. /32
    uint32_t addr = (0x0a000000u | (rng() & 0x00ffffffu)) & (len == 0 ? 0 : ~0u << (32 - len));
    if (len < 8) continue;
    prefixes.push_back({addr, len});
  }
  std::sort(prefixes.begin(), prefixes.end());
  prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
  for (auto [addr, len] : prefixes) {
    ir::CustomerRoute r;
    r.rdid = 1;
    r.prefix = {net::IpAddress::V4(addr), len};
    r.vsid = 5001;
    host.customer_routes.push_back(r);
  }
  std::string error;
  auto image = Image::FromBytes(llvm::cantFail(backends::WriteTableImage(host)), &error);
  Dir248 dir(prefixes);
  const size_t n = 4'000'000;
  std::vector<std::array<uint8_t, 16>> addrs(n);
  std::vector<uint32_t> values(n);
  for (size_t i = 0; i < n; ++i) {
    values[i] = 0x0a000000u | (rng() & 0x00ffffffu);
    net::IpAddress ip = net::IpAddress::V4(values[i]);
    addrs[i] = ip.bytes;
  }
  uint64_t check = 0, hits = 0;
  double r_ranges = Rate(n, [&] {
    for (size_t i = 0; i < n; ++i) {
      const ndt::RouteEntry* r = image->LookupRoute(1, ndt::kFamilyV4, addrs[i].data());
      check += r ? r->prefix.length : 0;
    }
  });
  double r_dir = Rate(n, [&] {
    for (size_t i = 0; i < n; ++i) hits += dir.Lookup(values[i]);
  });
  // Cross-check the two structures on the first 100k addresses.
  size_t disagree = 0;
  for (size_t i = 0; i < 100000; ++i) {
    const ndt::RouteEntry* r = image->LookupRoute(1, ndt::kFamilyV4, addrs[i].data());
    uint16_t d = dir.Lookup(values[i]);
    uint8_t want = d ? prefixes[d - 1].second : 0;
    if ((r ? r->prefix.length : 0) != want) ++disagree;
  }
  std::fprintf(md, "| %zu | %zu | %.1f | %.1f | %.1f | %.1f | %zu |\n", prefixes.size(),
               image->lpm_v4().size(), r_ranges / 1e6, image->lpm_v4().size() * 8 / 1024.0, r_dir / 1e6,
               dir.Bytes() / 1048576.0, disagree);
  std::fflush(md);
  if (check + hits == 42) std::puts("");
}

}  // namespace

int main(int argc, char** argv) {
  // tables_bench [--quick | RECORDS...]: --quick skips the 1M table; RECORDS runs
  // only the lookup rows of those sizes (no LPM table).
  std::vector<size_t> sizes = {1000, 100000, 1000000};
  bool lpm = true;
  if (argc > 1 && std::string(argv[1]) == "--quick") {
    sizes = {1000, 100000};
  } else if (argc > 1) {
    sizes.clear();
    lpm = false;
    for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoull(argv[i], nullptr, 10));
  }
  FILE* md = stdout;
  std::fprintf(md, "Lookups in millions per second, one core, 4M random hits per run, variants interleaved, best of 7 rounds.\n\n");
  std::fprintf(md,
               "| records | unordered_map | flat map | image (vs flat) | image batched (vs flat) | image in huge pages, batched "
               "(vs flat) | image MAC | image MAC batched | build ms | image MiB | mmap+verify ms | mmap, structure only ms | "
               "copy to huge pages+verify ms |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t s : sizes) BenchLookups(s, md);
  if (!lpm) return 0;
  std::fprintf(md, "\nLPM, one routing domain, IPv4 /8–/32 routes inside 10/8, 4M random lookups:\n\n");
  std::fprintf(md,
               "| routes | ranges | sorted ranges Mlookups/s | ranges KiB | DIR-24-8 Mlookups/s | DIR-24-8 MiB | "
               "disagreements |\n|---|---|---|---|---|---|---|\n");
  for (size_t r : {16, 1000, 10000}) BenchLpm(r, md);  // u16 DIR-24-8 entries: < 32768 routes
  return 0;
}
