// The apply lock and the journal of inverse operations in the state directory
// (/run/netdsl or $NETDSL_STATE_DIR), both keyed by the network namespace's
// identity: a killed apply is detected and rolled back by the next run, in
// the same namespace only.
//
// Journal format 2 (docs/runtime.md, "The journal"): the line
// `netdsl-journal 2`, then records, each framed as
//     R <payload length> <crc32c of the payload, 8 hex digits>\n<payload>\n
// written whole (one write) before the requests it describes are sent. The
// first record is `begin` (host, namespace identity, boot id, pid, start
// time); then `step N LABEL` with one `undo OP` line per inverse operation,
// and `done N`. A record cut short at the end of the file was being written
// when the process died: its step never started, and the reader says so
// instead of failing. Any other damage is an error naming the record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/linux/change_set.h"
#include "runtime/linux/kernel_env.h"

namespace netdsl::runtime {

/// The largest journal read back (100k operations take about 10 MB).
inline constexpr uint64_t kMaxJournalBytes = 1ull << 30;

/// Directory of lock and journal files: $NETDSL_STATE_DIR, else /run/netdsl.
std::string StateDir();

/// The lock and journal files of `scope` in StateDir().
std::string LockPathFor(const std::string& scope);
std::string JournalPathFor(const std::string& scope);

/// Creates the state directory (mode 0700) when missing, and checks it: a
/// directory, not a symlink, owned by this user and writable by no one else.
bool CheckStateDir(const std::string& dir, std::string* error);

/// Replaces the small state file `path` (in the state directory: confirm
/// state, watchdog, hosted record, host record) atomically, mode 0600: the
/// directory checked as for the journal (CheckStateDir), no symlink followed
/// (io::WriteFileAtomic with no_follow). Error: "cannot write `PATH`: WHY".
bool WriteStateFile(const std::string& path, std::string_view text, std::string* error);

/// An exclusive flock on a lock file (`<dir>/<key>.lock`), naming its holder inside.
class ApplyLock {
 public:
  ~ApplyLock();
  /// Fails with a message naming the holder (pid and start time) when taken.
  /// The file is opened without following a symlink, and must be a regular
  /// file of this user that no one else can write.
  bool Acquire(const std::string& path, std::string* error);

 private:
  int fd_ = -1;
};

/// What the `begin` record says about the apply that wrote the journal.
struct JournalHeader {
  std::string host;       ///< the plan's `host:`
  NetnsIdentity netns;    ///< the namespace the apply changed
  std::string boot;       ///< the boot id then
  int64_t pid = 0;
  std::string started;    ///< UTC, ISO 8601
};

/// One journaled step read back from disk.
struct JournalStep {
  int number = 0;
  std::string label;
  bool done = false;
  std::vector<Op> inverse;
};

/// A journal read back.
struct LoadedJournal {
  enum class Status : uint8_t {
    kNone,     ///< no journal
    kLoaded,   ///< read; `steps` are the steps whose record was complete
    kDamaged,  ///< unreadable: `error` says where and why
  };
  Status status = Status::kNone;
  JournalHeader header;
  std::vector<JournalStep> steps;
  /// The last record was cut short (the writer died writing it): ignored.
  bool torn_tail = false;
  uint64_t torn_bytes = 0;
  std::string error;
};

/// Parses journal text (format 2). `path` is for messages only.
LoadedJournal ParseJournal(std::string_view text, const std::string& path);
/// Reads and parses `path` (a regular file of this user, not a symlink).
LoadedJournal LoadJournal(const std::string& path);

class Journal {
 public:
  ~Journal();
  /// Creates the journal `path` for a new apply with its `begin` record:
  /// written to a temporary file and renamed into place, so that a journal
  /// either holds a complete `begin` record or does not exist (a full disk
  /// leaves no journal behind).
  bool Begin(const std::string& path, const JournalHeader& header, std::string* error);
  /// The framed record of a step (its inverse operations), written with
  /// Write before the step runs; built ahead, on another thread.
  static std::string StepRecord(int number, const Step& step);
  /// Writes a record (one write; a short write is retried, a failure leaves
  /// a torn tail, which readers ignore).
  bool Write(const std::string& record, std::string* error);
  /// Marks a step finished.
  bool RecordDone(int number, std::string* error);
  /// Removes the journal: the apply committed or was rolled back.
  void Finish();
  /// Closes the journal and keeps the file (a change awaiting confirmation).
  void Keep();

  /// A record framed for the journal: `R LEN CRC\nPAYLOAD\n`.
  static std::string Frame(std::string_view payload);

 private:
  int fd_ = -1;
  std::string path_;
};

/// Removes a journal file.
void RemoveJournal(const std::string& path);
/// Removes temporary files Journal::Begin left when it was killed before
/// renaming (`PATH.new-PID`); the caller holds the lock.
void RemoveJournalTemporaries(const std::string& path);
/// Moves a journal aside to `PATH.discarded-TIME` (kept for inspection);
/// returns the new path, or "" with `error` set.
std::string DiscardJournal(const std::string& path, std::string* error);

}  // namespace netdsl::runtime
