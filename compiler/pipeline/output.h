// Build output: a staging directory beside the output that is swapped into
// place only when every artifact was written (all or nothing), the manifest,
// and a small parallel-for over hosts.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/io/json_string.h"

namespace netdsl::pipeline {

/// One file of the output, for the manifest.
struct ArtifactRecord {
  std::string path;    ///< relative to the output directory, `/`-separated
  std::string sha256;  ///< hex
  uint64_t size = 0;
};

/// Output directory under construction. Files go into a fresh staging
/// directory beside `target`; Commit() swaps it in atomically and removes the
/// previous tree, Abort() (or the destructor without Commit) removes the
/// staging directory and leaves `target` untouched. WriteFile is thread-safe
/// for distinct paths.
class StagedOutput {
 public:
  explicit StagedOutput(std::string target) : target_(std::move(target)) {}
  ~StagedOutput();
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;

  /// Refuses a `target` that exists, is not empty and has no manifest.json
  /// (so `-o ~` never replaces a home directory), removes the staging
  /// directories killed builds left beside it, then creates the staging dir.
  bool Begin(std::string* error);
  /// Writes `relative_path` (creating its directories) and returns its record.
  bool WriteFile(const std::string& relative_path, std::string_view data, ArtifactRecord* record,
                 std::string* error);
  /// Keeps `previous.path` of the current output (a hard link into the
  /// staging directory, a copy across file systems) and returns its record:
  /// `previous` when the file is `intact` (as the build that listed it wrote
  /// it), else hashed again.
  bool KeepFile(const ArtifactRecord& previous, bool intact, ArtifactRecord* record, std::string* error);
  bool Commit(std::string* error);
  void Abort();
  const std::string& staging() const { return staging_; }

 private:
  std::string target_;
  std::string staging_;
  int staging_lock_ = -1;  ///< flock held on the staging directory (Begin removes unheld ones)
  bool committed_ = false;
};

/// Input file of the manifest.
struct InputRecord {
  std::string path;  ///< relative to the root file's directory
  std::string sha256;
};

/// A host of the fabric, for the manifest (deploy tools such as the Ansible
/// inventory plugin read hosts and groups from it, integrations/ansible).
struct HostRecord {
  std::string name;
  std::vector<std::string> groups;  ///< enclosing host groups, outermost first
  uint64_t generation = 0;          ///< 0 = not built yet
  std::string ir_hash;              ///< of the IR its artifacts were emitted from
  std::set<std::string> backends;   ///< whose host artifacts it has, by name
};

/// `manifest.json`: format, compiler version, inputs, lock, hosts, artifacts
/// — each list sorted by path or name; deterministic bytes for the same content.
/// `compiler_sha256` identifies the netdslc binary (CompilerSha256()): a
/// later build reuses artifacts only from the same one.
std::string ManifestJson(std::string_view compiler_version, std::string_view compiler_sha256,
                         std::vector<InputRecord> inputs, const InputRecord& lock, std::vector<HostRecord> hosts,
                         std::vector<ArtifactRecord> artifacts);

/// A JSON string literal (common/io/json_string.h).
using ::netdsl::io::JsonString;

/// Runs body(i) for i in [0, n) on `jobs` threads (the calling thread
/// included); each index runs exactly once. `on_done` (may be empty) is called
/// under a lock after each index, e.g. for progress output.
void ParallelFor(size_t n, unsigned jobs, const std::function<void(size_t)>& body,
                 const std::function<void(size_t done)>& on_done = {});

}  // namespace netdsl::pipeline
