// The apply sequence: lock → recover → feature probe → read → diff → hooks →
// journaled steps → verify → hooks → commit or roll back.
#include "runtime/linux/apply.h"

#include <algorithm>
#include <csignal>
#include <ctime>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <pthread.h>
#include <unistd.h>

#include <fmt/format.h>

#include "runtime/linux/executor.h"  // IsBulkStep
#include "runtime/linux/host_record.h"
#include "runtime/linux/journal.h"
#include "runtime/linux/management.h"
#include "runtime/linux/read_back.h"

namespace netdsl::runtime {
namespace {

const char* Plural(size_t n) { return n == 1 ? "" : "s"; }

std::string StartedText() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

/// Undoes steps [0, executed) of `cs`, newest first. False (with the
/// message reported) when an undo failed.
bool RollBack(Kernel& kernel, const ChangeSet& cs, size_t executed, const std::string& journal_path,
              ApplyReport& report) {
  std::string err;
  for (size_t i = executed; i-- > 0;) {
    if (!kernel.Execute(cs.steps[i].inverse, true, &err)) {
      report.Error(fmt::format("rolling back step {} ({}) failed: {}; the journal `{}` is kept for the next run", i + 1,
                               cs.steps[i].label, err, journal_path));
      return false;
    }
  }
  return true;
}

std::string ReplayProblem(const LoadedJournal& j, const ApplyTarget& target, bool* stale) {
  const JournalHeader& h = j.header;
  if (std::string boot = BootId(); !boot.empty() && h.boot != boot) {
    *stale = true;
    return "it is from before the last reboot; the kernel state it would undo is gone";
  }
  if (h.netns.dev != target.netns_id.dev || h.netns.ino != target.netns_id.ino)
    return fmt::format("it was written for network namespace {}, not this one ({}); netdsl replays a journal only "
                       "where it was written",
                       h.netns.Text(), target.netns_id.Text());
  if (h.netns.cookie && target.netns_id.cookie && h.netns.cookie != target.netns_id.cookie) {
    *stale = true;
    return fmt::format("it was written for a network namespace that no longer exists (cookie {}; this namespace, "
                       "which has the same inode, is cookie {}); the state it would undo went with it",
                       h.netns.cookie, target.netns_id.cookie);
  }
  return "";
}

}  // namespace

std::string JournalReplayProblem(const LoadedJournal& journal, const NetnsIdentity& here, bool* stale) {
  ApplyTarget target;
  target.netns_id = here;
  return ReplayProblem(journal, target, stale);
}

std::string ApplyTarget::LockPath() const { return fmt::format("{}/{}.lock", state_dir, netns_id.Key()); }
std::string ApplyTarget::JournalPath() const { return fmt::format("{}/{}.journal", state_dir, netns_id.Key()); }
std::string ApplyTarget::HostRecordPath() const { return fmt::format("{}/{}.host", state_dir, netns_id.Key()); }

bool RecoverInterrupted(Kernel& kernel, const ApplyTarget& target, bool discard_damaged, ApplyReport& report) {
  RecoverOptions options;
  options.discard_damaged = discard_damaged;
  return RecoverInterrupted([&](const std::vector<Op>& ops, std::string* err) { return kernel.Execute(ops, true, err); },
                            target, options, report);
}

bool RecoverInterrupted(const ExecuteInverse& execute, const ApplyTarget& target, const RecoverOptions& options,
                        ApplyReport& report) {
  const bool discard_damaged = options.discard_damaged;
  if (options.steps) *options.steps = 0;
  const std::string path = target.JournalPath();
  LoadedJournal j = LoadJournal(path);
  if (j.status == LoadedJournal::Status::kNone) return true;
  if (j.status == LoadedJournal::Status::kDamaged) {
    if (!discard_damaged) {
      report.Error(fmt::format("{}; it holds the undo of an interrupted apply, which cannot be rolled back. To "
                               "converge the host to the plan as it is now, run apply again with "
                               "`--discard-journal` (the file is kept as `{}.discarded-TIME`)",
                               j.error, path));
      return false;
    }
    std::string err, to = DiscardJournal(path, &err);
    if (to.empty()) {
      report.Error(err);
      return false;
    }
    report.Warning(fmt::format("{}; moved it to `{}` (--discard-journal); its undo is lost", j.error, to));
    return true;
  }
  bool stale = false;
  if (std::string why = ReplayProblem(j, target, &stale); !why.empty()) {
    if (stale) {
      report.Warning(fmt::format("discarding the journal `{}` of an interrupted apply: {}", path, why));
      RemoveJournal(path);
      return true;
    }
    if (!discard_damaged) {
      report.Error(fmt::format("the journal `{}` will not be rolled back here: {}. Run the apply in the namespace it "
                               "names, or discard it with `--discard-journal`",
                               path, why));
      return false;
    }
    std::string err, to = DiscardJournal(path, &err);
    if (to.empty()) {
      report.Error(err);
      return false;
    }
    report.Warning(fmt::format("the journal `{}`: {}; moved it to `{}` (--discard-journal)", path, why, to));
    return true;
  }
  if (j.torn_tail)
    report.Note(fmt::format("the journal's last record ({} bytes) was cut short when the apply was killed: the step "
                            "it describes never started, ignored",
                            j.torn_bytes));
  if (j.steps.empty()) {
    report.Note(fmt::format("an interrupted apply (pid {}, started {}) had not started any step; removing its journal",
                            j.header.pid, j.header.started));
    RemoveJournal(path);
    return true;
  }
  report.Note(fmt::format("found the journal of an interrupted apply (host `{}`, pid {}, started {}); rolling back {} "
                          "step{}",
                          j.header.host, j.header.pid, j.header.started, j.steps.size(), Plural(j.steps.size())));
  std::string err;
  for (auto it = j.steps.rbegin(); it != j.steps.rend(); ++it) {
    if (!execute(it->inverse, &err)) {
      report.Error(fmt::format("rolling back step {} ({}) of the interrupted apply failed: {}; the journal `{}` is "
                               "kept, fix the cause and run {} again",
                               it->number, it->label, err, path, options.again));
      return false;
    }
    if (options.steps) ++*options.steps;
  }
  RemoveJournal(path);
  report.Note("the interrupted apply was rolled back");
  return true;
}

std::string DisruptiveRefusal(const ChangeSet& cs) {
  if (cs.disruptive.empty()) return "";
  const size_t n = cs.disruptive.size(), shown = std::min<size_t>(n, 20);
  std::string list;
  for (size_t i = 0; i < shown; ++i)
    list += fmt::format("{}`{}` ({})", i ? ", " : "", cs.disruptive[i].link, cs.disruptive[i].reason);
  if (n > shown) list += fmt::format(", and {} more (`netdsl plan` lists them)", n - shown);
  return fmt::format("the plan recreates {} link{} the kernel cannot change in place (each goes down and is created "
                     "again; a VM port's guest end is a new device): {}. Run apply with `--allow-disruptive` to "
                     "recreate {}",
                     n, Plural(n), list, n == 1 ? "it" : "them");
}

PlanResult Plan(Kernel& kernel, const HostState& desired, const ApplyTarget& target, ApplyReport& report,
                const std::string& host_override) {
  PlanResult r;
  r.journal_path = target.JournalPath();
  std::string recorded;
  if (!LoadHostRecord(target.HostRecordPath(), &recorded, &r.error)) return r;
  HostState actual;
  // The host's settings netdsl moved onto its switches: theirs, not netdsl's (management.h).
  if (!LoadHosted(target.Key(), &actual.hosted, &r.error)) return r;
  if (!kernel.Read(desired, &actual, &r.error)) return r;
  report.Phase("read");
  r.read_ok = true;
  r.changes = Diff(desired, actual);
  if (std::string wrong = WrongHostProblem(recorded, desired.host, host_override, target.HostRecordPath());
      !wrong.empty())
    r.changes.conflicts.insert(r.changes.conflicts.begin(), wrong);
  report.Phase("diff");
  LoadedJournal j = LoadJournal(r.journal_path);
  if (j.status == LoadedJournal::Status::kDamaged) {
    r.journal_error = j.error + "; the next apply stops on it (see `--discard-journal`)";
  } else if (j.status == LoadedJournal::Status::kLoaded) {
    bool stale = false;
    std::string why = ReplayProblem(j, target, &stale);
    if (stale) {
      r.stale_journal = true;
      r.stale_reason = why;
    }
    else if (!why.empty()) r.journal_error = fmt::format("the journal `{}` will not be rolled back here: {}", r.journal_path, why);
    else r.interrupted_apply = true;
  }
  return r;
}

ApplyResult Apply(Kernel& kernel, const HostState& desired, const ApplyOptions& o, const ApplyHooks& hooks,
                  ApplyReport& report) {
  ApplyResult result;
  std::string err;
  ApplyLock lock;
  Journal journal;
  const std::string journal_path = o.target.JournalPath();
  if (!o.dry_run) {
    if (!lock.Acquire(o.target.LockPath(), &err)) {
      report.Error(err);
      return result;
    }
    if (hooks.after_lock && !hooks.after_lock(&err)) {
      report.Error(err);
      report.Note("nothing was changed");
      return result;
    }
    RemoveJournalTemporaries(journal_path);
    if (!RecoverInterrupted(kernel, o.target, o.discard_journal, report)) return result;
  } else if (LoadedJournal j = LoadJournal(journal_path); j.status != LoadedJournal::Status::kNone) {
    report.Warning(j.status == LoadedJournal::Status::kDamaged
                       ? j.error
                       : fmt::format("an interrupted apply left `{}`; a real apply rolls it back first", journal_path));
  }

  // Which host this is: never another host's plan by mistake (host_record.h).
  std::string recorded;
  if (!LoadHostRecord(o.target.HostRecordPath(), &recorded, &err)) {
    report.Error(err);
    report.Note("nothing was changed");
    return result;
  }
  if (std::string wrong = WrongHostProblem(recorded, desired.host, o.host_override, o.target.HostRecordPath());
      !wrong.empty()) {
    report.Error(wrong);
    report.Note("nothing was changed");
    return result;
  }
  auto record_host = [&] {
    if (o.dry_run || recorded == desired.host) return;
    std::string e;
    if (!SaveHostRecord(o.target.HostRecordPath(), desired.host, &e))
      report.Warning(fmt::format("{}; the next plan for another host is not refused", e));
  };

  // Feature detection before any change.
  std::vector<std::string> features;
  auto needed = NeededFeatures(desired);
  for (const auto& [f, why] : needed) features.push_back(f);
  auto missing = kernel.MissingFeatures(features);
  report.Phase("probe");
  if (!missing.empty()) {
    for (const auto& [f, reason] : missing) {
      std::string by;
      for (const auto& [g, why] : needed)
        if (g == f) by = why;
      report.Error(fmt::format("kernel lacks `{}` (needed by {}): {}", f, by, reason));
    }
    report.Note("nothing was changed");
    return result;
  }

  // Subscribe to the kernel's notifications before the state is read: the
  // read plus every notification after it is the current state (read_back.h).
  if (!o.dry_run && !kernel.Subscribe(&err)) report.Warning(fmt::format("{}; verifying by reading", err));
  HostState actual;
  // The host's settings netdsl moved onto its switches: theirs, not netdsl's (management.h).
  if (!LoadHosted(o.target.Key(), &actual.hosted, &err)) {
    report.Error(err + "; nothing was changed");
    return result;
  }
  if (!o.dry_run && hooks.before_read) hooks.before_read(desired);
  if (!kernel.Read(desired, &actual, &err)) {
    report.Error(err);
    return result;
  }
  report.Phase("read");
  result.changes = Diff(desired, actual, 4096, o.dry_run ? PlanText::kLines : PlanText::kCount);
  const ChangeSet& cs = result.changes;
  report.Phase("diff");
  for (const std::string& w : cs.warnings) report.Warning(w);
  if (!cs.conflicts.empty()) {
    for (const std::string& c : cs.conflicts) report.Error(c);
    report.Note("nothing was changed");
    return result;
  }
  if (cs.steps.empty()) {
    result.outcome = ApplyOutcome::kInSync;
    record_host();
    return result;
  }
  // Recreations take links down: only when asked for (nothing changed yet).
  if (std::string why = DisruptiveRefusal(cs); !why.empty() && !o.allow_disruptive) {
    if (o.dry_run) {
      report.Warning(why);
    } else {
      report.Error(why);
      report.Note("nothing was changed");
      return result;
    }
  }
  if (o.dry_run) {
    result.outcome = ApplyOutcome::kDryRun;
    return result;
  }
  ApplyContext ctx{o, desired, actual, cs, kernel, journal_path};

  // Checkpoint + apply, one journaled step at a time.
  JournalHeader header;
  header.host = desired.host;
  header.netns = o.target.netns_id;
  header.boot = BootId();
  header.pid = getpid();
  header.started = StartedText();
  if (!journal.Begin(journal_path, header, &err)) {
    report.Error(err + "; nothing was changed");
    return result;
  }
  if (hooks.before_change) {
    std::string why;
    if (!hooks.before_change(ctx, &why)) {
      journal.Finish();
      report.Error(why);
      report.Note("nothing was changed");
      return result;
    }
  }
  int ops_before = 0;
  size_t executed = 0;
  std::string failure;
  int failed_step = 0;
  // Step i+1's journal record and, for a bulk step, its requests are built
  // on a second thread while the kernel works through step i (both bulk
  // steps: nothing in between can change a device index); that thread also
  // moves the kernel's notifications out of the socket.
  struct Ahead {
    std::string record;
    std::unique_ptr<PreparedStep> requests;
  };
  auto prepare = [&](size_t i) {
    Ahead a;
    a.record = Journal::StepRecord(static_cast<int>(i + 1), cs.steps[i]);
    a.requests = kernel.Prepare(cs.steps[i].ops);
    kernel.Drain();
    return a;
  };
  auto prepare_ahead = [&](size_t i) {
    pthread_setname_np(pthread_self(), "netdsl-ahead");  // for top -H / perf
    return prepare(i);
  };
  std::future<Ahead> next;
  for (size_t i = 0; i < cs.steps.size(); ++i) {
    const Step& step = cs.steps[i];
    int k = static_cast<int>(i + 1);
    Ahead cur = next.valid() ? next.get() : prepare(i);
    if (i + 1 < cs.steps.size() && IsBulkStep(step.ops) && IsBulkStep(cs.steps[i + 1].ops))
      next = std::async(std::launch::async, prepare_ahead, i + 1);
    if (!journal.Write(cur.record, &err)) {
      failure = err;
      failed_step = k;
      break;
    }
    executed = i + 1;
    report.Progress(i + 1, cs.steps.size(), step.label);
    bool ok;
    const int drop = o.faults.drop_op;
    if (drop > ops_before && drop <= ops_before + static_cast<int>(step.ops.size())) {
      std::vector<Op> ops = step.ops;
      ops.erase(ops.begin() + (drop - ops_before - 1));
      ok = kernel.Execute(ops, false, &err);
    } else if (cur.requests) {
      ok = kernel.RunPrepared(step.ops, *cur.requests, &err);
    } else {
      ok = kernel.Execute(step.ops, false, &err);
    }
    ops_before += static_cast<int>(step.ops.size());
    if (ok && k == o.faults.kill_after_step) raise(SIGKILL);
    if (ok && k == o.faults.stop_after_step) raise(SIGSTOP);
    if (ok && k == o.faults.pause_after_step) {
      report.Note(fmt::format("paused after step {} (NETDSL_PAUSE_AT_STEP, test-only)", k));
      for (;;) pause();
    }
    if (ok && k == o.faults.fail_after_step) {
      ok = false;
      err = "fault injected by NETDSL_FAULT_AT_STEP (test-only)";
    }
    if (!ok) {
      failure = err;
      failed_step = k;
      break;
    }
    journal.RecordDone(k, &err);
  }
  if (next.valid()) next.wait();
  kernel.Drain();
  report.Phase("apply");
  result.steps_run = executed;
  if (failure.empty() && hooks.after_steps) hooks.after_steps(ctx);
  if (failure.empty()) failure = VerifyApplied(kernel, desired, actual, cs, &result.verified_by);
  if (failure.empty() && hooks.after_change) {
    std::string why;
    if (!hooks.after_change(ctx, &why)) failure = why;
  }
  // The record of the host's settings moved onto switches, before the
  // journal goes (a crash in between rolls back and leaves stale entries,
  // which the next apply drops: their objects are not where they say). Not
  // recorded, they would look like netdsl's to the next apply: roll back.
  if (failure.empty() && !SaveHosted(o.target.Key(), cs.hosted_after, &err)) failure = err;
  if (!failure.empty()) {
    result.failed_step = failed_step;
    result.failure = failure;
    const std::string what = failed_step ? fmt::format("step {}/{} ({}) failed: {}", failed_step, cs.steps.size(),
                                                       cs.steps[failed_step - 1].label, failure)
                                         : failure;
    report.Error(what);
    bool rolled = RollBack(kernel, cs, executed, journal_path, report);
    if (rolled) journal.Finish();
    result.outcome = rolled ? ApplyOutcome::kRolledBack : ApplyOutcome::kRollbackFailed;
    if (hooks.on_rollback) hooks.on_rollback(ctx, rolled, what);
    return result;
  }
  report.Phase("verify");
  CommitAction commit = hooks.on_commit ? hooks.on_commit(ctx) : CommitAction::kRemoveJournal;
  if (commit == CommitAction::kRemoveJournal) journal.Finish();
  else journal.Keep();
  result.outcome = ApplyOutcome::kApplied;
  record_host();
  return result;
}

}  // namespace netdsl::runtime
