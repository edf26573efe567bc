// linux.yaml parse benchmark: best wall time of ReadPlanFile (file read, scan,
// yaml-cpp, validation) over several rounds for each file, plus a digest of
// what was read so that two builds of the reader (compare.sh) can be checked
// to agree on every entry and every diagnostic, not only timed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/linux/plan_reader.h"

using namespace netdsl::runtime;
using Clock = std::chrono::steady_clock;

namespace {

/// FNV-1a 64 over the bulk lists' fields and the diagnostics.
class Digest {
 public:
  void Add(const void* data, size_t size) {
    for (size_t i = 0; i < size; ++i) hash_ = (hash_ ^ static_cast<const unsigned char*>(data)[i]) * 1099511628211ull;
  }
  void Add(std::string_view s) {
    Add(s.data(), s.size());
    Add("", 1);  // terminator: "ab"+"c" differs from "a"+"bc"
  }
  void Add(const SourceLoc& loc) {
    Add(&loc.line, sizeof loc.line);
    Add(&loc.col, sizeof loc.col);
  }
  void Add(const netdsl::net::IpAddress& ip) { Add(ip.ToString()); }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 14695981039346656037ull;
};

uint64_t DigestOf(bool ok, const HostState& s, const std::vector<std::string>& errors) {
  Digest d;
  d.Add(&ok, sizeof ok);
  for (const Address& a : s.addresses) {
    d.Add(a.dev), d.Add(a.address), d.Add(&a.prefix_length, 1), d.Add(a.loc);
  }
  for (const Route& r : s.routes) {
    d.Add(&r.table, sizeof r.table), d.Add(r.dst.ToString()), d.Add(r.dev), d.Add(r.loc);
    d.Add(r.via ? r.via->ToString() : "-");
  }
  for (const FdbEntry& f : s.fdb) d.Add(f.dev), d.Add(f.mac.ToString()), d.Add(f.dst), d.Add(f.loc);
  for (const Neighbour& n : s.neighbours) d.Add(n.dev), d.Add(n.address), d.Add(n.mac.ToString()), d.Add(n.loc);
  for (const std::string& e : errors) d.Add(e);
  return d.value();
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 7;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = std::max(1, std::atoi(argv[++i]));
    else
      files.push_back(argv[i]);
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: parse_bench [--rounds N] linux.yaml...\n");
    return 64;
  }
  std::printf("%-40s %8s %7s %10s %18s\n", "file", "entries", "errors", "best_s", "digest");
  for (const std::string& file : files) {
    double best = 1e99;
    uint64_t digest = 0;
    size_t entries = 0, error_count = 0;
    for (int r = 0; r < rounds; ++r) {
      HostState s;
      std::vector<std::string> errors;
      auto t0 = Clock::now();
      bool ok = ReadPlanFile(file, &s, &errors);
      best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
      if (r + 1 < rounds) continue;  // every round reads the same
      digest = DigestOf(ok, s, errors);
      entries = s.addresses.size() + s.routes.size() + s.fdb.size() + s.neighbours.size();
      error_count = errors.size();
    }
    std::printf("%-40s %8zu %7zu %10.4f %18llx\n", file.c_str(), entries, error_count, best,
                static_cast<unsigned long long>(digest));
  }
  return 0;
}
