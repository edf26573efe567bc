// In-place commit of a few files into an existing build output, all or
// nothing by roll-forward (the incremental build rewrites only the hosts an
// edit reaches; StagedOutput would copy the whole output).
//
// Files are written (fsync) as temporaries in OUT/.netdsl-cache/commit/; a
// journal naming every (temporary → final path) and every deletion is written
// beside them, fsynced and renamed to `journal` (the commit point); then the
// temporaries are renamed into place (manifest.json last), each parent
// directory fsynced, and the journal and the commit directory are removed.
// RecoverCommit(OUT) finishes a journal that a killed build left, or discards
// temporaries that have no journal: OUT then holds exactly the old or exactly
// the new files, never a mix.
//
// Paths are confined to OUT: a relative path of plain components (no `..`,
// `.`, empty or absolute), never through a symbolic link (every directory is
// opened O_NOFOLLOW below OUT), never into .netdsl-cache/commit. Temporaries
// are created O_EXCL|O_NOFOLLOW. One commit or recovery at a time per OUT
// (flock on OUT/.netdsl-cache).
//
// Tests: NETDSL_TEST_KILL_COMMIT=N makes the process _exit(9) at the Nth step
// of writing and committing (NETDSL_TEST_KILL_RECOVER=N: of RecoverCommit).
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/pipeline/output.h"

namespace netdsl::pipeline {

class JournaledOutput {
 public:
  explicit JournaledOutput(std::string out) : out_(std::move(out)) {}
  ~JournaledOutput();
  JournaledOutput(const JournaledOutput&) = delete;
  JournaledOutput& operator=(const JournaledOutput&) = delete;

  /// OUT must be an existing build output (a directory with manifest.json).
  /// Finishes or discards what an earlier killed commit left (RecoverCommit),
  /// then takes OUT's commit lock and creates the commit directory.
  bool Begin(std::string* error);
  /// Writes `relative_path`'s new content as an fsynced temporary and returns
  /// its record (path, sha256, size). Thread-safe for distinct paths.
  bool WriteFile(const std::string& relative_path, std::string_view data, ArtifactRecord* record,
                 std::string* error);
  /// Deletes `relative_path` at commit (a missing file is not an error);
  /// directories left empty by deletions are removed too.
  bool Remove(const std::string& relative_path, std::string* error);
  /// Writes the journal (the commit point) and puts every change in place.
  /// After a failure past the commit point OUT is finished by the next
  /// RecoverCommit (the error says so).
  bool Commit(std::string* error);
  /// Discards the temporaries (OUT keeps its old files) and releases the lock.
  /// A RecoverCommit of the same OUT waits for the lock: do not call it while
  /// a JournaledOutput of that OUT is open in the same process.
  void Abort();

 private:
  struct Change {
    std::string relative_path;
    std::string temporary;  ///< name in the commit directory; empty = delete
  };
  bool Add(Change change, std::string* error);
  /// `relative_path` is confined to OUT and no existing parent is a symlink or a file.
  bool ParentsAreDirectories(const std::string& relative_path, std::string* error) const;

  std::string out_;
  int out_fd_ = -1;
  int cache_fd_ = -1;   ///< OUT/.netdsl-cache, flock'ed while this commit lasts
  int commit_fd_ = -1;  ///< OUT/.netdsl-cache/commit
  std::mutex mutex_;
  std::vector<Change> changes_;
  size_t temporaries_ = 0;
  bool done_ = false;
};

/// Finishes the commit a killed build left in OUT (its journal is complete:
/// roll forward), or removes its temporaries (no journal: OUT keeps the old
/// files). True when there was nothing to do or OUT does not exist; false
/// with *error when the journal is damaged or a path cannot be written.
bool RecoverCommit(const std::string& out, std::string* error);

}  // namespace netdsl::pipeline
