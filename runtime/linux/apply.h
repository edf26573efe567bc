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
#include "runtime/linux/journal.h"
#include "runtime/linux/kernel_env.h"

namespace netdsl::runtime {

/// The network namespace an apply changes, and where its lock and journal live.
struct ApplyTarget {
  /// Directory of lock and journal files (journal.h's StateDir()).
  std::string state_dir;
  /// The namespace the kernel calls reach (kernel_env.h's CurrentNetns):
  /// lock and journal are keyed by it, not by a name, so `--netns NS` and
  /// `ip netns exec NS` share them, and a namespace recreated under the same
  /// name does not inherit the old one's journal.
  NetnsIdentity netns_id;
  /// The namespace name given with `--netns` ("" = the process's own), for messages.
  std::string netns;

  /// The name of its files in `state_dir` (`net-DEV-INO`: NetnsIdentity::Key).
  std::string Key() const { return netns_id.Key(); }
  std::string LockPath() const;
  std::string JournalPath() const;
  /// Which fabric host this namespace is (host_record.h).
  std::string HostRecordPath() const;
};

/// Test-only fault injection (docs/runtime.md, "Test-only hooks"); 0 = off.
struct ApplyFaults {
  int fail_after_step = 0;   ///< NETDSL_FAULT_AT_STEP: step k "fails" after it ran
  int kill_after_step = 0;   ///< NETDSL_KILL_AT_STEP: SIGKILL after step k ran
  int pause_after_step = 0;  ///< NETDSL_PAUSE_AT_STEP: wait to be killed after step k ran
  int stop_after_step = 0;   ///< NETDSL_STOP_AT_STEP: SIGSTOP after step k ran (a test changes the host, then SIGCONT)
  int drop_op = 0;           ///< NETDSL_DROP_OP: the k-th operation is not sent
};

struct ApplyOptions {
  ApplyTarget target;
  bool dry_run = false;
  /// A journal that cannot be read (damaged, another format) is moved aside
  /// (`JOURNAL.discarded-TIME`) instead of stopping the apply: its undo is
  /// lost, and the apply converges the host to the plan as it finds it.
  bool discard_journal = false;
  /// `--host-override NAME`: apply a plan for NAME (the plan's host) where
  /// another host's plan was applied last (host_record.h).
  std::string host_override;
  /// `--allow-disruptive`: recreate links the kernel cannot change in place
  /// (ChangeSet::disruptive); without it such a plan is refused unchanged.
  bool allow_disruptive = false;
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
  kRefused,         ///< stopped before any change (conflict, lock, missing feature, disruptive, hook, ...)
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

/// Why `journal` must not be replayed in namespace `here` (this boot), or
/// "" when it may be. `stale` is set when the state it would undo is gone
/// (a journal from before the last reboot, or of a namespace deleted since,
/// whose inode number `here` got again): discard it, do not refuse.
std::string JournalReplayProblem(const LoadedJournal& journal, const NetnsIdentity& here, bool* stale);

/// What `netdsl plan` shows.
struct PlanResult {
  bool read_ok = false;  ///< false: `error` says why
  std::string error;
  ChangeSet changes;
  bool interrupted_apply = false;  ///< a journal waits for the next apply to roll it back
  bool stale_journal = false;      ///< a journal of state that is gone (discarded by the next apply)
  std::string stale_reason;        ///< why (another boot, a namespace since recreated)
  std::string journal_error;       ///< the journal cannot be read: why, and the way out
  std::string journal_path;
};

/// Why `apply` refuses `changes` without `--allow-disruptive`: the links it
/// recreates, with their reasons, and the way out ("" = none recreated).
std::string DisruptiveRefusal(const ChangeSet& changes);

/// Reads and diffs without changing anything and without the lock.
PlanResult Plan(Kernel& kernel, const HostState& desired, const ApplyTarget& target, ApplyReport& report,
                const std::string& host_override = "");

/// Rolls back the leftover journal of an interrupted apply, if any (the
/// caller holds the lock): only a journal of this namespace and this boot
/// (one from before a reboot, or of a namespace since deleted and recreated,
/// describes state that is gone, and is discarded with a warning). A torn
/// last record is ignored (its step never started). Returns false when the
/// journal is damaged (unless `discard_damaged`: then it is moved aside) or
/// written for another namespace, or the rollback failed; the journal is
/// kept and `report` says why and what to do.
bool RecoverInterrupted(Kernel& kernel, const ApplyTarget& target, bool discard_damaged, ApplyReport& report);

/// The same, for callers that hold a netlink socket instead of a Kernel
/// (`netdsl rollback`, the confirm watchdog): `execute` runs a step's
/// inverse (tolerantly), `steps` counts the steps undone, `again` names the
/// command to run once the cause of a failed undo is fixed.
struct RecoverOptions {
  bool discard_damaged = false;
  size_t* steps = nullptr;
  const char* again = "apply";
};
using ExecuteInverse = std::function<bool(const std::vector<Op>& inverse, std::string* error)>;
bool RecoverInterrupted(const ExecuteInverse& execute, const ApplyTarget& target, const RecoverOptions& options,
                        ApplyReport& report);

}  // namespace netdsl::runtime
