// netdsl.lock: every value the compiler allocated, keyed by the owning object's
// full name path, plus per-host {generation, ir_hash}. Format in docs/lock.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llvm/Support/SMLoc.h"

namespace netdsl {
class DiagnosticEngine;
}

namespace netdsl::alloc {

/// The allocation sections of the lock, in file order.
enum class LockSection : uint8_t {
  Vsid,             ///< `vm_subnet NET/SUBNET` → VSID
  Rdid,             ///< `vm_network NET` → routing domain id
  ProviderAddress,  ///< `host HOST/logical_network LN` → IP
  CustomerAddress,  ///< `vm VM/NIC` → IP
  Mac,              ///< `vm VM/NIC` → MAC
  PortId,           ///< `host HOST/vm VM/NIC` → port id (unique per host)
  SwitchIfname,     ///< `logical_switch SWITCH` → Linux bridge name
  GatewayAddress,   ///< `vm_network NET/gateway` → external IP
  GatewayCustomerAddress,  ///< `vm_subnet NET/SUBNET/gateway` → the gateway host's CA in that subnet
  ReleasedPortId,   ///< `host HOST/ID` → the revision that released port id ID on HOST (quarantine)
  ReleasedMac,      ///< `MAC` → the revision that released MAC (quarantine)
};
inline constexpr size_t kLockSectionCount = 11;
/// Sections that map an object to its value (the others are quarantine lists).
inline constexpr size_t kAllocationSectionCount = 9;

/// The format this netdslc writes; it also reads format 1 (no revision, no
/// quarantine: revision 0).
inline constexpr uint64_t kLockFormat = 2;

/// The YAML key of a section (`vsid`, `customer_address`, ...).
const char* LockSectionName(LockSection section);

/// What a section's values are: Id values are printed bare (decimal), the
/// others double-quoted.
enum class LockValueType : uint8_t { Id, Ip, Mac, Ifname };
LockValueType LockValueTypeOf(LockSection section);

/// One `key: value` of an allocation section.
struct LockEntry {
  std::string value;         ///< canonical text (decimal id, canonical IP, lowercase MAC, ifname)
  llvm::SMRange key_range;   ///< where the loaded lock spells the key (invalid for new entries)
  llvm::SMRange value_range; ///< where the loaded lock spells the value
};

/// Per-host provenance of the artifacts: `generation` bumps whenever `ir_hash` changes.
struct LockHost {
  uint64_t generation = 1;
  std::string ir_hash;  ///< sha256 hex of the host's IR (without generation and source hash)
  llvm::SMRange range;
};

/// The whole lock. Maps are ordered by key, which is the file order.
struct LockFile {
  /// The file this lock was read from, or is to be written to: diagnostics
  /// name it (`NAME.lock` beside the root file, `--lock PATH`, or a legacy
  /// `netdsl.lock` being migrated). Not part of the printed lock.
  std::string path;
  /// Counts the builds that changed the allocation or quarantine sections
  /// (docs/lock.md, "Released values"); 0 for a format 1 lock.
  uint64_t revision = 0;
  std::array<std::map<std::string, LockEntry>, kLockSectionCount> sections;
  std::map<std::string, LockHost> hosts;  ///< keyed `host NAME`

  std::map<std::string, LockEntry>& Section(LockSection s) { return sections[size_t(s)]; }
  const std::map<std::string, LockEntry>& Section(LockSection s) const { return sections[size_t(s)]; }
};

/// Loads `text` (the lock at `path`) into diags.sources() so that diagnostics
/// point into it, and parses it. Reports syntax errors, unknown keys, wrong
/// types, duplicate keys and malformed values; returns nullopt after any error.
std::optional<LockFile> ParseLockFile(std::string_view text, const std::string& path,
                                      DiagnosticEngine& diags);

/// The lock's text: header comment, `format: 2`, `revision`, sections with sorted keys.
std::string PrintLockFile(const LockFile& lock);

/// Entry-level difference between two locks (a changed value counts once in
/// each direction, as a line diff of the file would show it).
struct LockDiff {
  size_t added = 0;
  size_t removed = 0;
  bool Empty() const { return added == 0 && removed == 0; }
  /// One entry that differs, in file order (sections, then hosts).
  struct Change {
    std::string section;  ///< `customer_address`, ..., or `hosts`
    std::string key;      ///< `vm a1/nic0`
    std::string before;   ///< "" when added
    std::string after;    ///< "" when removed
    llvm::SMRange range;  ///< the entry's value in the loaded lock (invalid when added)
  };
  std::vector<Change> changes;
};
LockDiff DiffLockFiles(const LockFile& before, const LockFile& after);

/// Spells an object name as in the source: bare when it is an identifier,
/// otherwise double-quoted with `"` and `\` escaped.
std::string QuoteName(std::string_view name);

/// Bytes a plain lock key may hold: not a control character, not one of
/// ``:#{}[],&*!|>%@`\`` (a table: the lock text index checks millions of keys).
inline constexpr std::array<bool, 256> kLockPlainKeyByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 256; ++c) t[size_t(c)] = c != 0x7f;
  for (char c : std::string_view(":#{}[],&*!|>%@`\\")) t[static_cast<unsigned char>(c)] = false;
  return t;
}();

/// Whether PrintLockFile writes `key` bare (YAML reads it back as the same
/// plain scalar in block context: an ASCII letter first, no trailing space,
/// at most 1000 bytes of kLockPlainKeyByte); otherwise it writes LockQuoted(key).
inline bool LockKeyIsPlain(std::string_view key) {
  if (key.empty() || key.size() > 1000 || key.back() == ' ') return false;
  unsigned char first = static_cast<unsigned char>(key[0]) | 0x20;
  if (first < 'a' || first > 'z') return false;
  for (char c : key)
    if (!kLockPlainKeyByte[static_cast<unsigned char>(c)]) return false;
  return true;
}
/// PrintLockFile's double-quoted scalar: `"` and `\` escaped, control
/// characters (below 0x20, 0x7f) as `\xNN` in lowercase hex, every other byte as is.
std::string LockQuoted(std::string_view s);

}  // namespace netdsl::alloc
