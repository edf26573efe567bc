// The lock as text: read values out of, reduce and patch a lock that
// PrintLockFile wrote, without parsing it into a LockFile. At a million NICs a
// lock is ~100 MB and ~3M entries; the incremental build
// (compiler/pipeline/incremental.*) touches a handful of them.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/alloc/lock_file.h"

namespace netdsl::io {
class Sha256;
}

namespace netdsl::alloc {

/// Changes to a lock, keyed as LockFile is (unquoted keys).
struct LockPatch {
  uint64_t revision = 0;  ///< the patched lock's revision
  /// Per section: key → new value (canonical text, as LockEntry::value), nullopt = remove.
  std::array<std::map<std::string, std::optional<std::string>>, kLockSectionCount> entries;
  /// `host NAME` → new provenance (range ignored), nullopt = remove.
  std::map<std::string, std::optional<LockHost>> hosts;
};

/// A lock text exactly as PrintLockFile prints it, indexed in one pass: the
/// offsets of its sections, nothing per entry. Lookups are binary searches
/// inside a section (PrintLockFile sorts a section by unquoted key, byte-wise
/// as std::map<std::string> does). The index points into the text: keep the
/// text alive and unchanged while the index is used.
class LockTextIndex {
 public:
  /// nullopt unless `text` is PrintLockFile(L) for a lock L that
  /// ParseLockFile(text) reads back as L: header, `format: 2`, revision,
  /// hosts and the sections in order, keys strictly increasing, plain keys
  /// only where PrintLockFile writes them plain, every value canonical. A
  /// comment, another spacing, reordered or repeated keys → nullopt (the
  /// caller then parses the lock with ParseLockFile).
  static std::optional<LockTextIndex> Index(std::string_view text);

  std::string_view text() const { return text_; }
  uint64_t revision() const { return revision_; }
  /// Number of entries of a section / of hosts.
  size_t Count(LockSection section) const { return blocks_[BlockOf(section)].count; }
  size_t HostCount() const { return blocks_[0].count; }

  /// The value of `key` in `section` as ParseLockFile reads it (LockEntry::value:
  /// unquoted, canonical), or nullopt when the section has no such key.
  std::optional<std::string> Value(LockSection section, std::string_view key) const;
  /// The provenance of `host NAME` (range empty), or nullopt.
  std::optional<LockHost> Host(std::string_view key) const;
  /// Calls fn(key, value) for every entry of `section` whose key starts with
  /// `prefix`, in file order (keys and values unquoted as in Value()).
  void ForEach(LockSection section, std::string_view prefix,
               const std::function<void(std::string_view key, std::string_view value)>& fn) const;

  /// PrintLockFile of this lock without the entries of a section in `filtered`
  /// whose key keep(section, key) refuses (unquoted key). Sections not in
  /// `filtered` and hosts are copied whole, keep() is not called for them.
  std::string Reduced(const std::function<bool(LockSection, std::string_view key)>& keep,
                      std::bitset<kLockSectionCount> filtered = std::bitset<kLockSectionCount>().set()) const;
  /// Reduced() for a known slice, without visiting every entry: in each
  /// section of `filtered`, only the entries whose key starts with one of
  /// `prefixes[section]` (e.g. `vm NAME/`, `host H/vm NAME/`) are kept; the
  /// other sections and hosts are copied whole. Costs a binary search per
  /// prefix plus copying the kept text.
  std::string ReducedTo(const std::array<std::vector<std::string>, kLockSectionCount>& prefixes,
                        std::bitset<kLockSectionCount> filtered = std::bitset<kLockSectionCount>().set()) const;
  /// PrintLockFile of this lock with `patch` applied, byte for byte: untouched
  /// runs of lines are copied as they are. Removing an absent key is a no-op.
  std::string Patched(const LockPatch& patch) const;
  /// Feeds `h` the bytes of PrintLockFile(this lock with no hosts).
  void HashWithoutHosts(io::Sha256& h) const;

 private:
  /// A section of the text; block 0 is `hosts`, block 1 + s is LockSection s.
  struct Span {
    size_t header = 0;  ///< offset of the `name:` line
    size_t begin = 0;   ///< first entry line
    size_t end = 0;     ///< one past the last entry line (the next header)
    size_t count = 0;
  };
  static size_t BlockOf(LockSection s) { return 1 + size_t(s); }
  /// Offset of the first line of `block` whose key is >= key, in [from, block end].
  size_t LowerBound(size_t block, size_t from, std::string_view key) const;
  /// The line at `offset` has exactly `key`.
  bool KeyIs(size_t offset, std::string_view key) const;
  std::optional<std::string_view> RawValue(size_t block, std::string_view key) const;

  std::string_view text_;
  uint64_t revision_ = 0;
  size_t revision_line_ = 0;  ///< offset of `revision: N`
  std::array<Span, kLockSectionCount + 1> blocks_{};
};

/// Feeds `h` exactly the bytes of PrintLockFile(lock with its hosts emptied)
/// for the lock text `text`, which LockTextIndex::Index accepts (for another
/// text the bytes fed are unspecified). Used for the source hash (compile.cpp).
void HashWithoutHosts(std::string_view text, io::Sha256& h);

}  // namespace netdsl::alloc
