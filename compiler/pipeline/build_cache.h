// The build cache (OUT/.netdsl-cache/): what a build leaves beside its output
// so that the next build into the same directory can take the incremental
// path (incremental.h). Not an artifact — the manifest does not list it and
// no host reads it — but its bytes are a pure function of the compiler, the
// options, the inputs and the lock, so a full and an incremental build of the
// same source leave the same cache (docs/build.md, "Incremental builds").
//
//   index      this file's format: the inputs' top-level statements, every VM
//              NIC's source facts and allocated values, CRC32C-sealed
//   src-N      a copy of input N as compiled (the next build diffs against it)
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/address.h"
#include "compiler/alloc/allocation.h"
#include "compiler/pipeline/output.h"
#include "llvm/Support/MemoryBuffer.h"

namespace netdsl::pipeline {

inline constexpr const char* kCacheDir = ".netdsl-cache";

/// A top-level statement of an input file: where it starts and what it is.
struct CachedStatement {
  enum class Kind : uint8_t { Vm = 0, Other = 1, Import = 2 };
  uint64_t begin = 0, end = 0;  ///< its bytes; between statements only blanks and comments
  Kind kind = Kind::Other;
  bool operator==(const CachedStatement&) const = default;
};

/// An input file as the build compiled it.
struct CachedFile {
  std::string path;       ///< as loaded (the SourceMgr's buffer identifier)
  std::string real_path;  ///< symbolic links resolved (an import may not move)
  std::string sha256;     ///< of the text compiled
  uint64_t size = 0;
  uint32_t crc32c = 0;    ///< of the text compiled: src-N is checked against it
  std::vector<CachedStatement> statements;  ///< in file order
  unsigned buffer_id = 0;  ///< in the SourceMgr of the build that read it (not stored)
};

/// One VM NIC (fixed layout: the index stores these records as they are in
/// memory, little-endian).
struct CachedNic {
  uint32_t name_off = 0, name_len = 0;  ///< in BuildCache::strings
  uint32_t vm_network = UINT32_MAX, vm_subnet = UINT32_MAX, classification = UINT32_MAX;
  uint32_t mtu = 0;  ///< explicit MTU, 0 = none
  uint32_t port_id = 0;
  uint32_t ip_pool = UINT32_MAX;  ///< the pool the CA came from (UINT32_MAX: explicit)
  uint8_t flags = 0;              ///< kExplicitIp | kExplicitMac
  uint8_t ip_family = 0, ca_family = 0, reserved = 0;
  uint8_t ip[16] = {}, ca[16] = {};
  uint8_t mac[6] = {}, allocated_mac[6] = {};
  static constexpr uint8_t kExplicitIp = 1, kExplicitMac = 2;
};
static_assert(sizeof(CachedNic) == 80);

/// One VM, in model order (files in import order, statements in file order).
struct CachedVm {
  uint32_t file = 0, statement = 0;  ///< the statement that declared it
  uint32_t host = UINT32_MAX;
  uint32_t name_off = 0, name_len = 0, description_off = 0, description_len = 0;
  uint32_t nic_first = 0, nic_count = 0;  ///< in BuildCache::nics
};
static_assert(sizeof(CachedVm) == 36);

/// What the build's manifest.json says (so that the incremental path need
/// not parse it back), and the file it must still be.
struct CachedManifest {
  uint64_t size = 0;
  uint32_t crc32c = 0;
  std::string lock_path;  ///< the manifest's lock record path
  std::vector<HostRecord> hosts;          ///< by name
  std::vector<ArtifactRecord> artifacts;  ///< by path

  /// Puts hosts and artifacts in the order above (ManifestJson's).
  void Sort();
};

struct BuildCache {
  std::string compiler_sha256;
  std::string options_key;  ///< the build options that shape the output (BuildOptions::cache_key)
  std::string lock_path;
  std::string lock_sha256;  ///< of the lock as this build left it on disk
  uint64_t lock_size = 0;
  uint32_t lock_crc32c = 0;  ///< the lock is the one this build left: same size and CRC32C
  /// verify's state file beside the index (verify.state), when the build verified.
  bool verify_state = false;
  uint64_t verify_state_size = 0;
  uint32_t verify_state_crc32c = 0;
  std::vector<CachedFile> files;
  CachedManifest manifest;
  // The records: built in vms/nics/strings, or read (ParseCache) as views
  // into the mapped index.
  std::vector<CachedVm> vms;
  std::vector<CachedNic> nics;
  std::string strings;  ///< names and descriptions, in VM order
  std::shared_ptr<const llvm::MemoryBuffer> mapped;  ///< the index, when read
  std::array<std::shared_ptr<const llvm::MemoryBuffer>, 3> mapped_records;
  std::span<const CachedVm> vm_view;
  std::span<const CachedNic> nic_view;
  std::string_view string_view;

  /// Records borrowed from another, mapped cache ahead of the own ones (the
  /// leading run an incremental build leaves as it was: written out, not
  /// copied). Only for a cache that is written, never read back.
  std::array<std::shared_ptr<const llvm::MemoryBuffer>, 3> borrowed_from;
  std::span<const CachedVm> borrowed_vms;
  std::span<const CachedNic> borrowed_nics;
  std::string_view borrowed_strings;
  size_t NicCount() const { return borrowed_nics.size() + nics.size(); }
  size_t StringBytes() const { return borrowed_strings.size() + strings.size(); }

  std::span<const CachedVm> Vms() const { return mapped ? vm_view : std::span<const CachedVm>(vms); }
  std::span<const CachedNic> Nics() const { return mapped ? nic_view : std::span<const CachedNic>(nics); }
  std::string_view Strings() const { return mapped ? string_view : std::string_view(strings); }

  std::string_view Str(uint32_t off, uint32_t len) const { return Strings().substr(off, len); }
  std::string_view Name(const CachedVm& vm) const { return Str(vm.name_off, vm.name_len); }
  std::string_view Name(const CachedNic& nic) const { return Str(nic.name_off, nic.name_len); }

  /// Appends a VM of `fabric` (with its NICs and strings) in model order.
  void AddVm(const alloc::AllocatedFabric& fabric, uint32_t vm, uint32_t file, uint32_t statement);
  /// Appends VMs [first, end) of another cache (their NICs and strings,
  /// which lie together there), each statement moved by `statement_shift`:
  /// three block copies and one pass over the records.
  void AppendVms(const BuildCache& from, uint32_t first, uint32_t end, int64_t statement_shift);
};

/// The model VM and allocation a cached VM stands for (source ranges empty).
model::Vm ToModelVm(const BuildCache& cache, const CachedVm& vm);
alloc::NicAllocation ToNicAllocation(const CachedNic& nic);

/// The cache's record files beside `index`: VM records, NIC records, the
/// string pool. Each is rewritten only from its first changed byte.
inline constexpr const char* kRecordFiles[3] = {"vms", "nics", "strings"};

/// A record file's bytes as pieces (what is borrowed from the last cache,
/// then the own records).
struct RecordBytes {
  std::string_view borrowed, own;
  size_t size() const { return borrowed.size() + own.size(); }
};
std::array<RecordBytes, 3> RecordFileBytes(const BuildCache& cache);

/// The index (deterministic: same cache, same bytes): every field above but
/// the records, plus each record file's size and CRC32C.
std::string SerializeCacheIndex(const BuildCache& cache);

/// Writes the index to `path` (not fsynced: a torn index fails its CRC32C
/// and the build takes the full path; the caller renames it into place).
bool WriteCacheIndex(const std::string& path, const BuildCache& cache, std::string* error);

/// Makes the record file at `path` hold `bytes`, writing only what follows
/// the borrowed prefix (which the file already holds).
bool UpdateRecordFile(const std::string& path, const RecordBytes& bytes, std::string* error);

/// Parses a mapped index and its mapped record files (the records stay views
/// into them); nullopt when any is torn, of another format or damaged (a
/// CRC32C does not match): the build then takes the full path.
std::optional<BuildCache> ParseCache(std::shared_ptr<const llvm::MemoryBuffer> index,
                                     std::array<std::shared_ptr<const llvm::MemoryBuffer>, 3> records);

}  // namespace netdsl::pipeline
