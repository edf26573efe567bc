// LockTextIndex against PrintLockFile/ParseLockFile on random locks (keys that
// need quoting, empty and full sections, hosts, revisions): Value/Host read
// what ParseLockFile reads, Patched and Reduced print what PrintLockFile prints
// for the patched/reduced LockFile, HashWithoutHosts hashes what compile.cpp
// hashed, and Index refuses every hand edit of a canonical lock.
#include <doctest/doctest.h>

#include <random>
#include <set>

#include "common/io/sha256.h"
#include "common/net/address.h"
#include "compiler/alloc/lock_file.h"
#include "compiler/alloc/lock_text.h"
#include "compiler/diag/diagnostics.h"
#include "llvm/Support/SourceMgr.h"

using namespace netdsl;
using alloc::LockFile;
using alloc::LockHost;
using alloc::LockPatch;
using alloc::LockSection;
using alloc::LockTextIndex;

namespace {

constexpr size_t kSections = alloc::kLockSectionCount;

bool IsIdSection(size_t s) {
  auto x = LockSection(s);
  return x == LockSection::Vsid || x == LockSection::Rdid || x == LockSection::PortId ||
         x == LockSection::ReleasedPortId || x == LockSection::ReleasedMac;
}

struct Random {
  std::mt19937_64 rng;
  explicit Random(uint64_t seed) : rng(seed) {}
  size_t Below(size_t n) { return size_t(rng() % n); }
  bool OneIn(size_t n) { return Below(n) == 0; }

  /// A key: mostly lock-like (`vm a1/nic0`), sometimes with bytes that make
  /// PrintLockFile quote it (`:`, `#`, `"`, `\`, controls, a leading digit, a
  /// trailing space) or non-ASCII UTF-8.
  std::string Key() {
    static const char* kPrefixes[] = {"vm ", "host ", "vm_subnet ", "logical_switch ", "", "x"};
    static const char* kPieces[] = {"a", "b", "z", "A", "0", "9", "/", "-", ".", "_", " ", ":", "#", "{", "}",
                                    "[", "]", ",", "&", "*", "!", "|", ">", "%", "@", "`", "\\", "\"", "'",
                                    "\n", "\t", "\x01", "\x7f", "\xc3\xa9", "nic", "vm", "?", "~", "="};
    for (;;) {
      std::string k = kPrefixes[Below(std::size(kPrefixes))];
      size_t n = 1 + Below(6);
      for (size_t i = 0; i < n; ++i) k += OneIn(3) ? kPieces[Below(std::size(kPieces))] : kPieces[Below(6)];
      if (OneIn(20)) k += ' ';
      // YAML reads these plain keys as null: PrintLockFile never meets them (keys start with a kind).
      if (k == "null" || k == "Null" || k == "NULL") continue;
      return k;
    }
  }
  std::string Value(size_t section) {
    switch (LockSection(section)) {
      case LockSection::ProviderAddress:
      case LockSection::CustomerAddress:
      case LockSection::GatewayAddress:
      case LockSection::GatewayCustomerAddress:
        if (OneIn(3)) {
          net::IpAddress ip = *net::ParseIp("fd00::");
          for (size_t i = 8; i < 16; ++i)
            if (!OneIn(3)) ip.bytes[i] = uint8_t(Below(256));
          return ip.ToString();
        }
        return std::to_string(Below(256)) + "." + std::to_string(Below(256)) + "." + std::to_string(Below(256)) +
               "." + std::to_string(Below(256));
      case LockSection::Mac:
        return net::MacAddress::FromValue(rng() & 0xffffffffffffull).ToString();
      case LockSection::SwitchIfname:
        return "nd-br" + std::to_string(Below(100000));
      default:
        return std::to_string(OneIn(10) ? rng() % 10000000000000000000ull : Below(100000));
    }
  }
  LockHost Host() {
    LockHost h;
    h.generation = 1 + Below(OneIn(5) ? 1000000 : 10);
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 64; ++i) h.ir_hash.push_back(kHex[Below(16)]);
    return h;
  }
  LockFile Lock() {
    LockFile lock;
    lock.revision = OneIn(4) ? 0 : Below(OneIn(10) ? 10000000000000000000ull : 1000);  // ParseLockFile reads at most 19 digits
    size_t hosts = OneIn(4) ? 0 : Below(20);
    for (size_t i = 0; i < hosts; ++i) lock.hosts["host " + Key()] = Host();
    for (size_t s = 0; s < kSections; ++s) {
      size_t n = OneIn(3) ? 0 : Below(30);
      for (size_t i = 0; i < n; ++i) lock.sections[s][Key()].value = Value(s);
    }
    return lock;
  }
};

/// A random lock, its text and the index of that text (not copied: the index points into text).
struct Sample {
  LockFile lock;
  std::string text;
  std::optional<LockTextIndex> index;
  explicit Sample(Random& r) : lock(r.Lock()), text(alloc::PrintLockFile(lock)), index(LockTextIndex::Index(text)) {}
  Sample(const Sample&) = delete;
};

/// The lock as ParseLockFile reads `text` (values and hosts only).
std::optional<LockFile> Parse(const std::string& text) {
  llvm::SourceMgr sm;
  DiagnosticEngine diags(sm);
  return alloc::ParseLockFile(text, "test.lock", diags);
}

LockFile Apply(LockFile lock, const LockPatch& patch) {
  lock.revision = patch.revision;
  for (size_t s = 0; s < kSections; ++s)
    for (const auto& [key, value] : patch.entries[s]) {
      if (value) lock.sections[s][key].value = *value;
      else lock.sections[s].erase(key);
    }
  for (const auto& [key, host] : patch.hosts) {
    if (host) lock.hosts[key] = *host;
    else lock.hosts.erase(key);
  }
  return lock;
}

/// Removes, changes and adds entries and hosts; sometimes empties a section
/// or removes a key the lock does not have.
LockPatch RandomPatch(Random& r, const LockFile& lock) {
  LockPatch patch;
  patch.revision = r.OneIn(3) ? lock.revision : lock.revision + 1 + r.Below(3);
  for (size_t s = 0; s < kSections; ++s) {
    if (r.OneIn(3)) continue;
    bool empty_it = r.OneIn(6);
    for (const auto& [key, entry] : lock.sections[s]) {
      if (empty_it) patch.entries[s][key] = std::nullopt;
      else if (r.OneIn(5)) patch.entries[s][key] = std::nullopt;
      else if (r.OneIn(5)) patch.entries[s][key] = r.Value(s);
    }
    if (empty_it) continue;
    for (size_t i = r.Below(4); i > 0; --i) patch.entries[s][r.Key()] = r.Value(s);
    if (r.OneIn(4)) patch.entries[s][r.Key()] = std::nullopt;
  }
  for (const auto& [key, host] : lock.hosts) {
    if (r.OneIn(6)) patch.hosts[key] = std::nullopt;
    else if (r.OneIn(6)) patch.hosts[key] = r.Host();
  }
  for (size_t i = r.Below(3); i > 0; --i) patch.hosts["host " + r.Key()] = r.Host();
  return patch;
}

}  // namespace

TEST_CASE("Index reads every lock PrintLockFile prints, as ParseLockFile does") {
  Random r(1);
  for (int round = 0; round < 300; ++round) {
    Sample sample(r);
    auto& [lock, text, index] = sample;
    REQUIRE_MESSAGE(index, text);
    CHECK(index->revision() == lock.revision);
    CHECK(index->HostCount() == lock.hosts.size());
    auto parsed = Parse(text);
    REQUIRE(parsed);
    for (size_t s = 0; s < kSections; ++s) {
      CHECK(index->Count(LockSection(s)) == lock.sections[s].size());
      for (const auto& [key, entry] : parsed->sections[s]) {
        auto value = index->Value(LockSection(s), key);
        REQUIRE_MESSAGE(value, key);
        CHECK(*value == entry.value);
        CHECK(*value == lock.sections[s].at(key).value);
      }
      for (int i = 0; i < 5; ++i) {
        std::string absent = r.Key();
        if (!lock.sections[s].count(absent)) CHECK(!index->Value(LockSection(s), absent));
      }
    }
    for (const auto& [key, host] : parsed->hosts) {
      auto h = index->Host(key);
      REQUIRE(h);
      CHECK(h->generation == host.generation);
      CHECK(h->ir_hash == host.ir_hash);
    }
    CHECK(!index->Host("host " + r.Key() + "\x01"));
  }
}

TEST_CASE("Patched prints the patched lock byte for byte") {
  Random r(2);
  for (int round = 0; round < 400; ++round) {
    Sample sample(r);
    auto& [lock, text, index] = sample;
    REQUIRE(index);
    LockPatch patch = RandomPatch(r, lock);
    std::string want = alloc::PrintLockFile(Apply(lock, patch));
    std::string got = index->Patched(patch);
    REQUIRE_MESSAGE(got == want, "before:\n" << text << "\nwant:\n" << want << "\ngot:\n" << got);
    CHECK(LockTextIndex::Index(got));
  }
}

TEST_CASE("Reduced prints the lock without the refused entries of the filtered sections") {
  Random r(3);
  for (int round = 0; round < 300; ++round) {
    Sample sample(r);
    auto& [lock, text, index] = sample;
    REQUIRE(index);
    std::bitset<kSections> filtered;
    for (size_t s = 0; s < kSections; ++s) filtered[s] = !r.OneIn(3);
    std::set<std::pair<size_t, std::string>> kept;
    LockFile want = lock;
    for (size_t s = 0; s < kSections; ++s) {
      if (!filtered[s]) continue;
      for (auto it = want.sections[s].begin(); it != want.sections[s].end();) {
        if (r.OneIn(2)) kept.emplace(s, it->first), ++it;
        else it = want.sections[s].erase(it);
      }
    }
    size_t calls = 0;
    std::string got = index->Reduced(
        [&](LockSection s, std::string_view key) {
          ++calls;
          CHECK(filtered[size_t(s)]);
          return kept.count({size_t(s), std::string(key)}) > 0;
        },
        filtered);
    CHECK(got == alloc::PrintLockFile(want));
    size_t filtered_entries = 0;
    for (size_t s = 0; s < kSections; ++s)
      if (filtered[s]) filtered_entries += lock.sections[s].size();
    CHECK(calls == filtered_entries);
  }
}

TEST_CASE("ReducedTo keeps the entries under the given prefixes") {
  Random r(6);
  for (int round = 0; round < 300; ++round) {
    Sample sample(r);
    auto& [lock, text, index] = sample;
    REQUIRE(index);
    std::bitset<kSections> filtered;
    std::array<std::vector<std::string>, kSections> prefixes;
    LockFile want = lock;
    for (size_t s = 0; s < kSections; ++s) {
      filtered[s] = !r.OneIn(3);
      // Prefixes of present keys (some nested or repeated), whole keys, absent ones.
      for (size_t i = r.Below(5); i > 0; --i) {
        if (!lock.sections[s].empty() && !r.OneIn(4)) {
          auto it = lock.sections[s].begin();
          std::advance(it, r.Below(lock.sections[s].size()));
          prefixes[s].push_back(it->first.substr(0, r.OneIn(3) ? it->first.size() : 1 + r.Below(it->first.size())));
        } else {
          prefixes[s].push_back(r.Key());
        }
      }
      if (!filtered[s]) continue;
      for (auto it = want.sections[s].begin(); it != want.sections[s].end();) {
        bool keep = false;
        for (const auto& p : prefixes[s]) keep = keep || it->first.compare(0, p.size(), p) == 0;
        it = keep ? std::next(it) : want.sections[s].erase(it);
      }
    }
    CHECK(index->ReducedTo(prefixes, filtered) == alloc::PrintLockFile(want));
  }
}

TEST_CASE("ForEach lists the entries under a prefix in file order") {
  Random r(4);
  for (int round = 0; round < 100; ++round) {
    Sample sample(r);
    auto& [lock, text, index] = sample;
    REQUIRE(index);
    for (size_t s = 0; s < kSections; ++s) {
      std::string prefix = r.OneIn(3) ? std::string() : r.Key().substr(0, 1 + r.Below(4));
      std::vector<std::pair<std::string, std::string>> want, got;
      for (const auto& [key, entry] : lock.sections[s])
        if (key.compare(0, prefix.size(), prefix) == 0) want.emplace_back(key, entry.value);
      index->ForEach(LockSection(s), prefix,
                     [&](std::string_view k, std::string_view v) { got.emplace_back(std::string(k), std::string(v)); });
      CHECK(got == want);
    }
  }
}

TEST_CASE("HashWithoutHosts hashes PrintLockFile of the lock with no hosts") {
  Random r(5);
  for (int round = 0; round < 200; ++round) {
    Sample sample(r);
    auto& [lock, text, index] = sample;
    LockFile without = lock;
    without.hosts.clear();
    std::string want = io::Sha256Hex(alloc::PrintLockFile(without));
    io::Sha256 free_function;
    alloc::HashWithoutHosts(text, free_function);
    CHECK(free_function.FinalHex() == want);
    REQUIRE(index);
    io::Sha256 member;
    index->HashWithoutHosts(member);
    CHECK(member.FinalHex() == want);
  }
}

TEST_CASE("Index refuses a lock that is not exactly PrintLockFile's") {
  LockFile lock;
  lock.revision = 7;
  lock.hosts["host h1"] = {3, std::string(64, 'a'), {}};
  lock.hosts["host h2"] = {1, std::string(64, '0'), {}};
  lock.Section(LockSection::Vsid)["vm_subnet n/s"].value = "5001";
  lock.Section(LockSection::Vsid)["vm_subnet n/t"].value = "5002";
  lock.Section(LockSection::CustomerAddress)["vm a/nic0"].value = "10.0.0.5";
  lock.Section(LockSection::CustomerAddress)["vm b/nic0"].value = "fd00::5";
  lock.Section(LockSection::Mac)["vm \"a:b\"/nic0"].value = "02:00:00:00:00:0a";
  lock.Section(LockSection::Mac)["vm a/nic0"].value = "02:00:00:00:00:0b";
  lock.Section(LockSection::SwitchIfname)["logical_switch s"].value = "nd-br1";
  lock.Section(LockSection::SwitchIfname)["9 lives"].value = "nd-br2";  // quoted: a digit first
  const std::string text = alloc::PrintLockFile(lock);
  REQUIRE(LockTextIndex::Index(text));
  REQUIRE(text.find("  \"vm \\\"a:b\\\"/nic0\": \"02:00:00:00:00:0a\"\n") != std::string::npos);

  auto edited = [&](std::string_view from, std::string_view to) {
    std::string t = text;
    size_t at = t.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, from);
    t.replace(at, from.size(), to);
    return t;
  };
  struct Case {
    const char* what;
    std::string text;
  };
  const Case cases[] = {
      {"a comment line in a section", edited("  vm_subnet n/t", "  # hand edit\n  vm_subnet n/t")},
      {"a comment line between sections", edited("rdid: {}", "# hand edit\nrdid: {}")},
      {"a trailing comment", edited(": 5001\n", ": 5001 # hand edit\n")},
      {"a comment at the end", text + "# end\n"},
      {"a blank line", edited("rdid: {}", "\nrdid: {}")},
      {"reordered keys", edited("  vm_subnet n/s: 5001\n  vm_subnet n/t: 5002\n",
                                "  vm_subnet n/t: 5002\n  vm_subnet n/s: 5001\n")},
      {"reordered hosts", edited("  host h1: {generation: 3, ir_hash: " + std::string(64, 'a') + "}\n" +
                                     "  host h2: {generation: 1, ir_hash: " + std::string(64, '0') + "}\n",
                                 "  host h2: {generation: 1, ir_hash: " + std::string(64, '0') + "}\n" +
                                     "  host h1: {generation: 3, ir_hash: " + std::string(64, 'a') + "}\n")},
      {"a repeated key", edited("  vm_subnet n/t: 5002\n", "  vm_subnet n/s: 5002\n")},
      {"reordered sections", edited("vsid:\n  vm_subnet n/s: 5001\n  vm_subnet n/t: 5002\nrdid: {}\n",
                                    "rdid: {}\nvsid:\n  vm_subnet n/s: 5001\n  vm_subnet n/t: 5002\n")},
      {"a missing section", edited("rdid: {}\n", "")},
      {"an unknown section", edited("rdid: {}\n", "rdid: {}\nextra: {}\n")},
      {"two spaces after the colon", edited("  vm_subnet n/s: 5001", "  vm_subnet n/s:  5001")},
      {"a space before the colon", edited("  vm_subnet n/s: 5001", "  vm_subnet n/s : 5001")},
      {"three spaces of indent", edited("  vm_subnet n/s: 5001", "   vm_subnet n/s: 5001")},
      {"a tab", edited("  vm_subnet n/s: 5001", "\tvm_subnet n/s: 5001")},
      {"a trailing space", edited(": 5001\n", ": 5001 \n")},
      {"CRLF", edited(": 5001\n", ": 5001\r\n")},
      {"no final newline", text.substr(0, text.size() - 1)},
      {"a flow map", edited("rdid: {}", "rdid: { }")},
      {"an empty block section", edited("rdid: {}", "rdid:")},
      {"a quoted plain key", edited("  vm_subnet n/s:", "  \"vm_subnet n/s\":")},
      {"a needlessly escaped key", edited("  \"vm \\\"a:b\\\"/nic0\"", "  \"vm \\\"a:b\\\"/nic\\x30\"")},
      {"an unquoted key that needs quotes", edited("  \"vm \\\"a:b\\\"/nic0\"", "  vm \"a:b\"/nic0")},
      {"an unquoted key with a digit first", edited("  \"9 lives\":", "  9 lives:")},
      {"a single-quoted key", edited("  \"vm \\\"a:b\\\"/nic0\"", "  'vm \"a:b\"/nic0'")},
      {"a leading zero", edited(": 5001\n", ": 05001\n")},
      {"a quoted id", edited(": 5001\n", ": \"5001\"\n")},
      {"an unquoted address", edited("\"10.0.0.5\"", "10.0.0.5")},
      {"a non-canonical IPv4", edited("\"10.0.0.5\"", "\"10.0.0.05\"")},
      {"a non-canonical IPv6", edited("\"fd00::5\"", "\"fd00:0::5\"")},
      {"an upper-case MAC", edited("02:00:00:00:00:0a", "02:00:00:00:00:0A")},
      {"a dashed MAC", edited("02:00:00:00:00:0a", "02-00-00-00-00-0a")},
      {"a single-quoted value", edited("\"nd-br1\"", "'nd-br1'")},
      {"an escaped value", edited("\"nd-br1\"", "\"nd-br\\x31\"")},
      {"a generation 0", edited("{generation: 3,", "{generation: 0,")},
      {"an upper-case ir_hash", edited(std::string(64, 'a'), std::string(64, 'A'))},
      {"a short ir_hash", edited(std::string(64, 'a'), std::string(63, 'a'))},
      {"reordered host fields", edited("{generation: 3, ir_hash: " + std::string(64, 'a') + "}",
                                       "{ir_hash: " + std::string(64, 'a') + ", generation: 3}")},
      {"format 1", edited("format: 2", "format: 1")},
      {"a revision with a leading zero", edited("revision: 7", "revision: 07")},
      {"an edited header comment", edited("# generated by netdslc", "# written by hand")},
      {"block-style host", edited("  host h2: {generation: 1, ir_hash: " + std::string(64, '0') + "}\n",
                                  "  host h2:\n    generation: 1\n    ir_hash: " + std::string(64, '0') + "\n")},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(c.text != text);
    CHECK(!LockTextIndex::Index(c.text));
  }
}
