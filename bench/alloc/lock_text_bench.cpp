// LockTextIndex on a real lock (make one with `netdslc build` of
// bench/gen_fabric.py's 1M-NIC fabric) against what the full build does with
// the same lock in the same process: ParseLockFile + PrintLockFile, and a
// sha256 of the whole text (one pass over the bytes). Each operation runs
// `rounds` times interleaved; the best time is printed, with its ratio to
// ParseLockFile + PrintLockFile.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/io/atomic_file.h"
#include "common/io/sha256.h"
#include "compiler/alloc/lock_file.h"
#include "compiler/alloc/lock_text.h"
#include "compiler/diag/diagnostics.h"
#include "llvm/Support/SourceMgr.h"

using namespace netdsl;
using alloc::LockSection;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: lock_text_bench LOCK [ROUNDS [ONLY]]  (ONLY: run the operations whose name starts so, e.g. for perf)\n");
    return 64;
  }
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  std::string text, error;
  if (!io::ReadFile(argv[1], &text, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  auto index = alloc::LockTextIndex::Index(text);
  if (!index) {
    std::fprintf(stderr, "%s is not in PrintLockFile's form\n", argv[1]);
    return 1;
  }
  // Keys to look up, filter and patch: spread over the customer_address,
  // mac and port_id sections (the VM-keyed ones).
  std::vector<std::string> cas, port_ids;
  index->ForEach(LockSection::CustomerAddress, "", [&](std::string_view k, std::string_view) { cas.emplace_back(k); });
  index->ForEach(LockSection::PortId, "", [&](std::string_view k, std::string_view) { port_ids.emplace_back(k); });
  std::mt19937_64 rng(1);
  std::vector<std::string> ten;
  for (int i = 0; i < 10; ++i) ten.push_back(cas[rng() % cas.size()]);
  std::set<std::string, std::less<>> thousand;
  while (thousand.size() < 1000) thousand.insert(cas[rng() % cas.size()]);
  alloc::LockPatch patch;
  patch.revision = index->revision() + 1;
  for (int i = 0; i < 4; ++i) patch.entries[size_t(LockSection::CustomerAddress)][ten[i]] = "10.255.0." + std::to_string(i);
  for (int i = 4; i < 7; ++i) patch.entries[size_t(LockSection::Mac)][ten[i]] = std::nullopt;
  patch.entries[size_t(LockSection::PortId)][port_ids[rng() % port_ids.size()]] = "4000";
  patch.entries[size_t(LockSection::CustomerAddress)]["vm zzz-new/nic0"] = "10.255.1.1";
  patch.hosts["host h00000"] = alloc::LockHost{7, std::string(64, 'e'), {}};
  std::bitset<alloc::kLockSectionCount> vm_keyed;
  vm_keyed[size_t(LockSection::CustomerAddress)] = vm_keyed[size_t(LockSection::Mac)] =
      vm_keyed[size_t(LockSection::PortId)] = true;

  std::array<std::vector<std::string>, alloc::kLockSectionCount> prefixes;
  for (const auto& k : thousand) {
    std::string vm = k.substr(0, k.find('/') + 1);
    prefixes[size_t(LockSection::CustomerAddress)].push_back(vm);
    prefixes[size_t(LockSection::Mac)].push_back(vm);
  }
  size_t sink = 0;
  struct Op {
    const char* name;
    std::function<void()> run;
    double best = 1e99;
  };
  std::vector<Op> ops = {
      {"ParseLockFile + PrintLockFile (baseline)",
       [&] {
         llvm::SourceMgr sm;
         DiagnosticEngine diags(sm);
         auto lock = alloc::ParseLockFile(text, argv[1], diags);
         sink += lock ? alloc::PrintLockFile(*lock).size() : 0;
       }},
      {"sha256 of the whole text", [&] { sink += io::Sha256Hex(text).size(); }},
      {"Index", [&] { sink += alloc::LockTextIndex::Index(text)->HostCount(); }},
      {"10 Values", [&] {
         for (const auto& k : ten) sink += index->Value(LockSection::CustomerAddress, k)->size();
       }},
      {"Reduced, 1000 keys kept of 3 VM-keyed sections", [&] {
         sink += index->Reduced([&](LockSection, std::string_view k) { return thousand.count(k) > 0; }, vm_keyed).size();
       }},
      {"ReducedTo, 1000 `vm NAME/` prefixes of CA, MAC", [&] {
         sink += index->ReducedTo(prefixes, vm_keyed).size();
       }},
      {"Patched, 10 changes", [&] { sink += index->Patched(patch).size(); }},
      {"HashWithoutHosts (index)", [&] {
         io::Sha256 h;
         index->HashWithoutHosts(h);
         sink += h.FinalHex().size();
       }},
  };
  if (argc > 3)
    ops.erase(std::remove_if(ops.begin(), ops.end(),
                             [&](const Op& op) { return std::string_view(op.name).rfind(argv[3], 0) != 0; }),
              ops.end());
  if (ops.empty()) return 64;
  for (int r = 0; r < rounds; ++r)
    for (Op& op : ops) {
      auto t0 = Clock::now();
      op.run();
      op.best = std::min(op.best, std::chrono::duration<double>(Clock::now() - t0).count());
    }
  std::printf("lock %s: %zu bytes, %zu hosts, %zu customer addresses; best of %d\n", argv[1], text.size(),
              index->HostCount(), cas.size(), rounds);
  for (const Op& op : ops)
    std::printf("  %-48s %10.3f ms  %8.4fx of the first\n", op.name, op.best * 1e3, op.best / ops[0].best);
  return sink == 0;
}
