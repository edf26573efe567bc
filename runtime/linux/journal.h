// The apply lock and the journal of inverse operations in /run/netdsl (or
// $NETDSL_STATE_DIR): a killed apply is detected and rolled back by the next run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/linux/change_set.h"

namespace netdsl::runtime {

/// The largest journal read back (100k operations take about 10 MB).
inline constexpr uint64_t kMaxJournalBytes = 1ull << 30;

/// Directory of lock and journal files: $NETDSL_STATE_DIR, else /run/netdsl.
std::string StateDir();

/// The lock and journal files of `scope` in StateDir().
std::string LockPathFor(const std::string& scope);
std::string JournalPathFor(const std::string& scope);

/// An exclusive flock on a lock file (`<dir>/<scope>.lock`), naming its holder inside.
class ApplyLock {
 public:
  ~ApplyLock();
  /// Fails with a message naming the holder (pid and start time) when taken.
  bool Acquire(const std::string& path, std::string* error);

 private:
  int fd_ = -1;
};

/// One journaled step read back from disk.
struct JournalStep {
  int number = 0;
  std::string label;
  bool done = false;
  std::vector<Op> inverse;
};

class Journal {
 public:
  ~Journal();
  /// Creates the journal file `path` (`<dir>/<scope>.journal`) for a new apply.
  bool Begin(const std::string& path, const std::string& host, std::string* error);
  /// The record of a step (its inverse operations), written with Write
  /// before the step runs; built ahead, on another thread.
  static std::string StepRecord(int number, const Step& step);
  /// Writes a StepRecord.
  bool Write(const std::string& record, std::string* error) { return WriteAll(record, error); }
  /// Marks a step finished.
  bool RecordDone(int number, std::string* error);
  /// Removes the journal: the apply committed or was rolled back.
  void Finish();

  /// Reads a leftover journal; returns false when there is none. A journal
  /// written before the last reboot describes kernel state that no longer
  /// exists: it is not loaded (returns false) and `stale` is set, for the
  /// caller to discard it (apply) or mention it (plan).
  static bool Load(const std::string& path, std::string* header, std::vector<JournalStep>* steps,
                   std::string* error, bool* stale = nullptr);
  static void Remove(const std::string& path);

 private:
  int fd_ = -1;
  std::string path_;
  bool WriteAll(const std::string& text, std::string* error);
};

}  // namespace netdsl::runtime
