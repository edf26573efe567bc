// `netdsl plan` and `netdsl apply` as library calls: desired + current →
// validate → checkpoint (journal) → apply → read back → verify → commit or
// roll back (docs/runtime.md). The CLI (runtime/cli) only parses arguments
// and prints; everything it decides is here, reachable by unit tests through
// an in-memory Kernel.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/linux/change_set.h"
#include "runtime/linux/host_state.h"
#include "runtime/linux/kernel.h"

namespace netdsl::runtime {

/// Where the lock and journal of one target live, and how messages name it.
struct ApplyTarget {
  /// Directory of lock and journal files (journal.h's StateDir()).
  std::string state_dir;
  /// The key of the lock and journal files in `state_dir` (`host`, `netns-NAME`).
  std::string scope;
  /// The namespace name given with `--netns` ("" = the process's own), for messages.
  std::string netns;
};

/// Test-only fault injection (docs/runtime.md, "Test-only hooks"); 0 = off.
struct ApplyFaults {
  int fail_after_step = 0;   ///< NETDSL_FAULT_AT_STEP: step k "fails" after it ran
  int kill_after_step = 0;   ///< NETDSL_KILL_AT_STEP: SIGKILL after step k ran
  int pause_after_step = 0;  ///< NETDSL_PAUSE_AT_STEP: wait to be killed after step k ran
  int drop_op = 0;           ///< NETDSL_DROP_OP: the k-th operation is not sent
};

struct ApplyOptions {
  ApplyTarget target;
  bool dry_run = false;
  ApplyFaults faults;
};

/// Messages and progress as they happen. The CLI prints them (escaped for
/// the terminal); tests collect them. Texts carry no `netdsl apply:` prefix.
class ApplyReport {
 public:
  virtual ~ApplyReport() = default;
  virtual void Error(std::string_view /*text*/) {}
  virtual void Warning(std::string_view /*text*/) {}
  /// What happens and why ("found the journal of an interrupted apply ...").
  virtual void Note(std::string_view /*text*/) {}
  /// Step `step` of `steps` starts (1-based).
  virtual void Progress(size_t /*step*/, size_t /*steps*/, std::string_view /*label*/) {}
  /// Phase `name` (probe, read, diff, apply, verify) ended.
  virtual void Phase(const char* /*name*/) {}
};

/// What a hook sees: the plan, the state before, the change about to be
/// made or just made, and the kernel it was made through.
struct ApplyContext {
  const ApplyOptions& options;
  const HostState& desired;
  const HostState& before;  ///< the actual state read before any change
  const ChangeSet& changes;
  Kernel& kernel;
  std::string journal_path;
};

/// What happens to the journal when an apply commits.
enum class CommitAction : uint8_t {
  kRemoveJournal,  ///< done: the change is final
  kKeepJournal,    ///< pending (confirm-or-revert): the journal stays, for a later rollback
};

/// Where other parts of netdsl take part in an apply (probes, confirm-or-
/// revert). Every hook is optional. A hook that refuses gives its reason.
/// In order:
struct ApplyHooks {
  /// Right after the lock is taken, before an interrupted apply is rolled
  /// back. Refusing stops with nothing changed. (Confirm-or-revert settles
  /// an earlier apply here: refuses while one awaits confirmation.)
  std::function<bool(std::string* why)> after_lock;
  /// Before the state is read (a real apply, not a dry run): work that can
  /// run while it is read (probes are chosen and run on a thread of their own).
  std::function<void(const HostState& desired)> before_read;
  /// After the diff found changes and the journal was created, before the
  /// first change: nothing has changed yet, and refusing stops the apply
  /// with nothing changed. (Probes keep those that pass now; a confirm
  /// watchdog is armed here.)
  std::function<bool(const ApplyContext&, std::string* why)> before_change;
  /// After the last step, before the state is read back (probes start
  /// their recheck on a thread of their own).
  std::function<void(const ApplyContext&)> after_steps;
  /// After every step ran and the state read back matched the plan. Refusing
  /// rolls the whole change back. (Probes that passed before and fail now.)
  std::function<bool(const ApplyContext&, std::string* why)> after_change;
  /// At commit; default: remove the journal.
  std::function<CommitAction(const ApplyContext&)> on_commit;
  /// After a change was rolled back (because a step, the verification or
  /// `after_change` failed), with whether the rollback completed and why
  /// it was rolled back.
  std::function<void(const ApplyContext&, bool rolled_back, const std::string& failure)> on_rollback;
};

enum class ApplyOutcome : uint8_t {
  kInSync,          ///< nothing to do, nothing changed
  kDryRun,          ///< changes found, none made (`--dry-run`)
  kApplied,         ///< converged and committed
  kRefused,         ///< stopped before any change (conflict, lock, missing feature, hook, ...)
  kRolledBack,      ///< a change failed and was undone: the host is as it was
  kRollbackFailed,  ///< a change failed and its undo failed too: the journal is kept
};

struct ApplyResult {
  ApplyOutcome outcome = ApplyOutcome::kRefused;
  /// The change set (with plan lines only for a dry run).
  ChangeSet changes;
  size_t steps_run = 0;  ///< steps sent to the kernel (rolled back or not)
  int failed_step = 0;   ///< 1-based; 0 = none or not a step (verification, hook)
  std::string failure;   ///< why the change was rolled back
  std::string verified_by;
  /// The process exit code: 0 in sync / dry run / applied, else 1.
  int ExitCode() const {
    return outcome == ApplyOutcome::kInSync || outcome == ApplyOutcome::kDryRun || outcome == ApplyOutcome::kApplied
               ? 0
               : 1;
  }
};

/// Converges the host `kernel` reaches to `desired`, all or nothing. Takes
/// the lock, rolls back an interrupted apply's journal, probes the kernel
/// features the plan needs, reads, diffs, runs the steps journaled, verifies
/// and commits, or rolls back. Messages go to `report` as they happen.
ApplyResult Apply(Kernel& kernel, const HostState& desired, const ApplyOptions& options, const ApplyHooks& hooks,
                  ApplyReport& report);

/// What `netdsl plan` shows.
struct PlanResult {
  bool read_ok = false;  ///< false: `error` says why
  std::string error;
  ChangeSet changes;
  bool interrupted_apply = false;  ///< a journal waits for the next apply to roll it back
  bool stale_journal = false;      ///< a journal from before the last reboot (discarded by the next apply)
  std::string journal_error;       ///< the journal cannot be read: why, and the way out
  std::string journal_path;
};

/// Reads and diffs without changing anything and without the lock.
PlanResult Plan(Kernel& kernel, const HostState& desired, const ApplyTarget& target, ApplyReport& report);

/// Rolls back the leftover journal of an interrupted apply, if any (the
/// caller holds the lock). Returns false when the rollback failed (the
/// journal is kept and `report` says why).
bool RecoverInterrupted(Kernel& kernel, const ApplyTarget& target, ApplyReport& report);

}  // namespace netdsl::runtime
