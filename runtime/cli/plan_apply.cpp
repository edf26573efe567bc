// `netdsl plan` and `netdsl apply`: arguments, output and exit codes around
// the library calls of runtime/linux/apply.h.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <future>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <pthread.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/io/json_string.h"
#include "common/io/terminal_text.h"
#include "runtime/cli/commands.h"
#include "runtime/linux/apply.h"
#include "runtime/linux/confirm.h"
#include "runtime/linux/duration.h"
#include "runtime/linux/journal.h"
#include "runtime/linux/kernel.h"
#include "runtime/linux/kernel_env.h"
#include "runtime/linux/management.h"
#include "runtime/linux/plan_reader.h"
#include "runtime/linux/probe.h"

namespace netdsl::runtime {
namespace {

/// Wall time per phase, printed by `--stats`.
class PhaseTimer {
 public:
  void Mark(const char* phase) {
    auto now = std::chrono::steady_clock::now();
    phases_.emplace_back(phase, std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }
  std::string Text() const {
    std::string s;
    for (const auto& [name, secs] : phases_) s += fmt::format("{}{} {:.3f}s", s.empty() ? "" : ", ", name, secs);
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::vector<std::pair<const char*, double>> phases_;
};

struct Options {
  std::string command;
  std::string plan_path;
  std::string netns;
  bool json = false;
  bool dry_run = false;
  bool discard_journal = false;
  bool allow_disruptive = false;  ///< apply: recreate links (ChangeSet::disruptive)
  std::string host_override;  ///< `--host-override NAME`
  bool stats = false;
  std::optional<std::chrono::milliseconds> confirm_within;  ///< apply: confirm or revert
  std::vector<Probe> probes;                                ///< apply: `--probe`
  bool no_probes = false;
  NetnsIdentity netns_id;  ///< filled once the namespace is entered
  mutable PhaseTimer timer;
};

int Usage(const Options& o, const std::string& problem) {
  std::fprintf(stderr, "netdsl %s: error: %s\n", o.command.c_str(), io::TerminalText(problem).c_str());
  if (o.command == "plan")
    std::fprintf(stderr,
                 "usage: netdsl plan DIR/hosts/NAME/linux.yaml [--netns NS] [--json] [--stats] [--host-override NAME]\n");
  else
    std::fprintf(stderr,
                 "usage: netdsl apply DIR/hosts/NAME/linux.yaml [--netns NS] [--dry-run] [--stats]\n"
                 "                    [--confirm-within DURATION] [--probe ADDR[:PORT]]... [--no-probes] [--discard-journal]\n"
                 "                    [--allow-disruptive] [--host-override NAME]\n");
  return 64;
}

/// Returns -1 when parsed, else the exit code (usage / help).
int ParseArgs(int argc, char** argv, Options* o) {
  o->command = argv[0];
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: netdsl %s DIR/hosts/NAME/linux.yaml [--netns NS] %s[--stats]\n", o->command.c_str(),
                  o->command == "plan" ? "[--json] " : "[--dry-run] ");
      if (o->command == "apply")
        std::printf("                    [--confirm-within DURATION] [--probe ADDR[:PORT]]... [--no-probes] [--discard-journal]\n");
      std::printf("                    %s[--host-override NAME]\n", o->command == "apply" ? "[--allow-disruptive] " : "");
      return 0;
    }
    if (a == "--netns" || a.rfind("--netns=", 0) == 0) {
      if (a == "--netns" && i + 1 >= argc) return Usage(*o, "`--netns` needs a namespace name");
      o->netns = a == "--netns" ? argv[++i] : a.substr(8);
      // An unset variable in a script must not turn into "this namespace".
      if (o->netns.empty())
        return Usage(*o, "`--netns \"\"` names no namespace; give a name, or leave `--netns` out to use the "
                         "current one");
    } else if (a == "--json" && o->command == "plan") {
      o->json = true;
    } else if (a == "--dry-run" && o->command == "apply") {
      o->dry_run = true;
    } else if ((a == "--confirm-within" || a.rfind("--confirm-within=", 0) == 0) && o->command == "apply") {
      if (a == "--confirm-within" && i + 1 >= argc) return Usage(*o, "`--confirm-within` needs a duration, e.g. `5m`");
      std::string text = a == "--confirm-within" ? argv[++i] : a.substr(17), err;
      o->confirm_within = ParseDuration(text, &err);
      if (!o->confirm_within) return Usage(*o, "--confirm-within: " + err);
      if (*o->confirm_within < std::chrono::seconds(1))
        return Usage(*o, fmt::format("--confirm-within {} leaves no time to confirm; give at least 1s", text));
    } else if ((a == "--probe" || a.rfind("--probe=", 0) == 0) && o->command == "apply") {
      if (a == "--probe" && i + 1 >= argc) return Usage(*o, "`--probe` needs ADDR or ADDR:PORT");
      std::string text = a == "--probe" ? argv[++i] : a.substr(8), err;
      std::optional<Probe> p = ParseProbe(text, &err);
      if (!p) return Usage(*o, "--probe: " + err);
      o->probes.push_back(*p);
    } else if (a == "--no-probes" && o->command == "apply") {
      o->no_probes = true;
    } else if (a == "--host-override" || a.rfind("--host-override=", 0) == 0) {
      if (a == "--host-override" && i + 1 >= argc) return Usage(*o, "`--host-override` needs the plan's host name");
      o->host_override = a == "--host-override" ? argv[++i] : a.substr(16);
      if (o->host_override.empty()) return Usage(*o, "`--host-override \"\"` names no host; give the plan's host name");
    } else if (a == "--allow-disruptive" && o->command == "apply") {
      o->allow_disruptive = true;
    } else if (a == "--discard-journal" && o->command == "apply") {
      o->discard_journal = true;
    } else if (a == "--stats") {
      o->stats = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage(*o, fmt::format("unknown option `{}`", a));
    } else if (o->plan_path.empty()) {
      o->plan_path = a;
    } else {
      return Usage(*o, fmt::format("unexpected argument `{}`; give one linux.yaml", a));
    }
  }
  if (o->plan_path.empty()) return Usage(*o, "missing the plan file (DIR/hosts/NAME/linux.yaml)");
  if (o->no_probes && !o->probes.empty()) return Usage(*o, "`--no-probes` and `--probe` contradict each other");
  return -1;
}

bool UseColor() { return isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"); }

// Everything printed for a human goes through io::TerminalText: host names,
// YAML values echoed in errors and kernel messages are user text.

std::string Where(const Options& o, const HostState& d) {
  return io::TerminalText(o.netns.empty() ? fmt::format("host `{}`", d.host)
                                          : fmt::format("host `{}` (netns `{}`)", d.host, o.netns));
}

void Error(const Options& o, std::string_view msg) {
  std::fprintf(stderr, "netdsl %s: error: %s\n", o.command.c_str(), io::TerminalText(msg).c_str());
}

/// Apply's messages on stderr as they happen; progress on a terminal only.
class TerminalReport : public ApplyReport {
 public:
  TerminalReport(const Options& o, bool progress) : o_(o), progress_(progress) {}
  ~TerminalReport() override { EndProgress(); }
  void Error(std::string_view text) override { Line("error: ", text); }
  void Warning(std::string_view text) override { Line("warning: ", text); }
  void Note(std::string_view text) override { Line("", text); }
  void Progress(size_t step, size_t steps, std::string_view label) override {
    if (!progress_ || steps < 2) return;
    std::fprintf(stderr, "\r[%zu/%zu] %s\033[K", step, steps, io::TerminalText(label).c_str());
    shown_ = true;
  }
  void Phase(const char* name) override {
    if (std::string_view(name) == "apply") EndProgress();
    o_.timer.Mark(name);
  }

 private:
  void EndProgress() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }
  void Line(const char* kind, std::string_view text) {
    EndProgress();
    std::fprintf(stderr, "netdsl %s: %s%s\n", o_.command.c_str(), kind, io::TerminalText(text).c_str());
  }
  const Options& o_;
  bool progress_;
  bool shown_ = false;
};

void PrintLines(const ChangeSet& cs, FILE* out) {
  bool color = UseColor() && out == stdout;
  for (const PlanLine& l : cs.lines) {
    const char* c = !color             ? ""
                    : l.action == '+' ? "\033[32m"
                    : l.action == '-' ? "\033[31m"
                    : l.action == '>' ? "\033[36m"
                                      : "\033[33m";
    std::fprintf(out, "  %s%c %s %s%s%s%s%s\n", c, l.action, l.object.c_str(), io::TerminalText(l.name).c_str(),
                 l.detail.empty() ? "" : ": ", io::TerminalText(l.detail).c_str(), l.disruptive ? " [disruptive]" : "",
                 color ? "\033[0m" : "");
  }
}

void PrintStats(const Options& o, const Netlink& nl) {
  if (!o.stats) return;
  std::fprintf(stderr, "stats: %llu mutating netlink requests, %llu dumps, %llu get requests, %llu round trips\n",
               static_cast<unsigned long long>(nl.mutating_requests()),
               static_cast<unsigned long long>(nl.dumps()), static_cast<unsigned long long>(nl.get_requests()),
               static_cast<unsigned long long>(nl.round_trips()));
  std::fprintf(stderr, "stats: time %s\n", o.timer.Text().c_str());
  if (nl.mutating_requests())
    std::fprintf(stderr, "stats: kernel time inside the sends of mutating requests %.3fs CPU, %.3fs wall\n",
                 nl.send_cpu_seconds(), nl.send_wall_seconds());
}

/// Common front half: parse, enter the namespace, open netlink.
bool Prepare(Options& o, HostState* desired, NetlinkKernel* kernel) {
  std::vector<std::string> errors;
  if (!ReadPlanFile(o.plan_path, desired, &errors)) {
    for (const std::string& e : errors) std::fprintf(stderr, "%s\n", io::TerminalText(e).c_str());
    std::fprintf(stderr, "netdsl %s: nothing was changed\n", o.command.c_str());
    return false;
  }
  o.timer.Mark("parse");
  std::string err;
  if (!o.netns.empty() && !EnterNetns(o.netns, &err)) {
    Error(o, err);
    return false;
  }
  if (!CurrentNetns(&o.netns_id, &err) || !kernel->Open(&err)) {
    Error(o, err);
    return false;
  }
  return true;
}

ApplyTarget Target(const Options& o) { return ApplyTarget{StateDir(), o.netns_id, o.netns}; }

int EnvStep(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : 0;
}

void PrintPlanJson(const Options& o, const HostState& desired, const PlanResult& r, bool awaiting) {
  const ChangeSet& cs = r.changes;
  std::string s = fmt::format("{{\n  \"host\": {},\n  \"netns\": {},\n  \"in_sync\": {},\n",
                              io::JsonString(desired.host), io::JsonString(o.netns),
                              cs.lines.empty() && cs.conflicts.empty() ? "true" : "false");
  s += "  \"changes\": [";
  for (size_t i = 0; i < cs.lines.size(); ++i) {
    const PlanLine& l = cs.lines[i];
    const char* action = l.action == '+' ? "create" : l.action == '-' ? "delete" : l.action == '>' ? "move" : "modify";
    s += fmt::format("{}\n    {{\"action\": \"{}\", \"object\": \"{}\", \"name\": {}, \"detail\": {}, \"disruptive\": {}}}",
                     i ? "," : "", action, l.object, io::JsonString(l.name), io::JsonString(l.detail),
                     l.disruptive ? "true" : "false");
  }
  s += cs.lines.empty() ? "],\n" : "\n  ],\n";
  s += "  \"disruptive\": [";
  for (size_t i = 0; i < cs.disruptive.size(); ++i)
    s += fmt::format("{}{{\"link\": {}, \"reason\": {}}}", i ? ", " : "", io::JsonString(cs.disruptive[i].link),
                     io::JsonString(cs.disruptive[i].reason));
  s += "],\n";
  auto list = [&](const char* key, const std::vector<std::string>& v) {
    s += fmt::format("  \"{}\": [", key);
    for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", io::JsonString(v[i]));
    s += "],\n";
  };
  list("conflicts", cs.conflicts);
  list("warnings", cs.warnings);
  s += fmt::format("  \"interrupted_apply\": {},\n", r.interrupted_apply && !awaiting ? "true" : "false");
  s += fmt::format("  \"awaiting_confirmation\": {}\n}}\n", awaiting ? "true" : "false");
  std::fputs(s.c_str(), stdout);
}

}  // namespace

int PlanMain(int argc, char** argv) {
  Options o;
  if (int rc = ParseArgs(argc, argv, &o); rc >= 0) return rc;
  HostState desired;
  NetlinkKernel kernel;
  if (!Prepare(o, &desired, &kernel)) return 1;
  TerminalReport report(o, false);
  PlanResult r = Plan(kernel, desired, Target(o), report, o.host_override);
  if (!r.read_ok) {
    Error(o, r.error);
    return 1;
  }
  const ChangeSet& cs = r.changes;
  ConfirmState pending;
  std::string cerr;
  const std::string scope = Target(o).Key();
  bool awaiting = LoadConfirm(scope, &pending, &cerr) &&
                  (pending.phase == ConfirmState::Phase::Pending || pending.phase == ConfirmState::Phase::Applying);
  if (awaiting && !o.json)
    std::fprintf(stderr, "netdsl plan: note: the apply of %s awaits confirmation (`netdsl status`)%s\n",
                 UnixText(pending.started_unix).c_str(),
                 pending.phase == ConfirmState::Phase::Pending
                     ? fmt::format("; unless confirmed it is rolled back at {}", UnixText(pending.deadline_unix)).c_str()
                     : "");
  if (r.stale_journal && !o.json)
    std::fprintf(stderr, "netdsl plan: note: the next apply discards the journal `%s`: %s\n",
                 io::TerminalText(r.journal_path).c_str(), io::TerminalText(r.stale_reason).c_str());
  if (o.json) {
    PrintPlanJson(o, desired, r, awaiting);
  } else {
    for (const std::string& w : cs.warnings)
      std::fprintf(stderr, "netdsl plan: warning: %s\n", io::TerminalText(w).c_str());
    if (!r.journal_error.empty())
      std::fprintf(stderr, "netdsl plan: warning: %s\n", io::TerminalText(r.journal_error).c_str());
    else if (r.interrupted_apply && !awaiting)
      std::fprintf(stderr, "netdsl plan: warning: an interrupted apply left `%s`; the next apply rolls it back first\n",
                   io::TerminalText(r.journal_path).c_str());
    for (const std::string& c : cs.conflicts) Error(o, c);
    if (cs.conflicts.empty()) {
      if (cs.lines.empty()) {
        std::printf("%s: in sync\n", Where(o, desired).c_str());
      } else {
        std::printf("%s: %zu change%s pending\n", Where(o, desired).c_str(), cs.lines.size(),
                    cs.lines.size() == 1 ? "" : "s");
        PrintLines(cs, stdout);
        if (!cs.disruptive.empty())
          std::printf("%zu link%s recreated (marked [disruptive]: the kernel cannot change %s in place); apply needs "
                      "`--allow-disruptive`\n",
                      cs.disruptive.size(), cs.disruptive.size() == 1 ? "" : "s",
                      cs.disruptive.size() == 1 ? "it" : "them");
      }
    }
  }
  PrintStats(o, kernel.netlink());
  if (!cs.conflicts.empty()) return 1;
  return cs.lines.empty() ? 0 : 2;
}

/// 16 hex digits from the kernel's random pool: names one apply.
static std::string RandomId() {
  uint64_t v = 0;
  if (FILE* f = std::fopen("/dev/urandom", "rb")) {
    if (std::fread(&v, sizeof v, 1, f) != 1) v = 0;
    std::fclose(f);
  }
  if (v == 0) v = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ getpid();
  return fmt::format("{:016x}", v);
}

int ApplyMain(int argc, char** argv) {
  Options o;
  if (int rc = ParseArgs(argc, argv, &o); rc >= 0) return rc;
  HostState desired;
  NetlinkKernel kernel;
  if (!Prepare(o, &desired, &kernel)) return 1;
  ApplyOptions options;
  options.target = Target(o);
  options.dry_run = o.dry_run;
  options.discard_journal = o.discard_journal;
  options.host_override = o.host_override;
  options.allow_disruptive = o.allow_disruptive;
  options.faults = {EnvStep("NETDSL_FAULT_AT_STEP"), EnvStep("NETDSL_KILL_AT_STEP"), EnvStep("NETDSL_PAUSE_AT_STEP"),
                    EnvStep("NETDSL_STOP_AT_STEP"), EnvStep("NETDSL_DROP_OP")};
  TerminalReport report(o, isatty(STDERR_FILENO));
  const std::string scope = options.target.Key();
  ApplyHooks hooks;

  // Confirm or revert: an earlier apply awaiting confirmation blocks this one.
  hooks.after_lock = [&](std::string* why) { return SettleEarlierApply(kernel.netlink(), scope, why); };

  // Probes that pass now, before anything changes (docs/runtime.md
  // "Probes"): on a second thread (in this namespace too), while the state
  // is read and diffed, which takes longer at any size that matters.
  struct ProbesBefore {
    std::vector<Probe> chosen;
    std::vector<ProbeResult> results;
    std::string error;
  };
  std::atomic<bool> stop_probing{false};  // nothing to change after all: the answers do not matter
  std::future<ProbesBefore> probing;
  struct StopProbing {
    std::atomic<bool>& stop;
    ~StopProbing() { stop = true; }  // before the future's destructor waits for the thread
  };
  StopProbing stop_on_return{stop_probing};
  std::vector<Probe> probes;  // the ones that passed before the change
  std::future<std::vector<ProbeResult>> recheck;
  if (!o.no_probes) {
    hooks.before_read = [&](const HostState& d) {
      probing = std::async(std::launch::async, [&d, &o, &stop_probing] {
        pthread_setname_np(pthread_self(), "netdsl-probes");
        ProbesBefore p;
        p.chosen = ChooseProbes(d, o.probes, &p.error);
        p.results = RunProbes(p.chosen, std::chrono::seconds(1), true, &stop_probing);
        return p;
      });
    };
  }

  // Confirm or revert: the journal stays as the way back, and a watchdog
  // that outlives this process rolls the change back unless confirmed.
  ConfirmState confirm;
  hooks.before_change = [&](const ApplyContext& ctx, std::string* why) {
    // The probes that passed before anything changed are the ones to watch.
    if (probing.valid()) {
      ProbesBefore got = probing.get();
      if (!got.error.empty())
        report.Warning(fmt::format("cannot read the default gateways: {}", got.error));
      size_t unused = 0;
      for (size_t i = 0; i < got.chosen.size(); ++i) {
        if (got.results[i].passed) {
          probes.push_back(got.chosen[i]);
        } else if (++unused <= 5) {
          report.Note(fmt::format("note: probe `{}` fails before the apply ({}); not used", got.chosen[i].Name(),
                                  got.results[i].detail));
        }
      }
      if (unused > 5) report.Note(fmt::format("note: {} more probes fail before the apply; not used", unused - 5));
      if (o.stats) std::fprintf(stderr, "stats: %zu probes pass before the apply, %zu do not\n", probes.size(), unused);
      o.timer.Mark("probes");
    }
    if (!o.confirm_within) return true;
    confirm.id = RandomId();
    confirm.host = ctx.desired.host;
    confirm.netns = o.netns;
    confirm.window_ms = o.confirm_within->count();
    confirm.started_unix = UnixNow();
    confirm.apply_pid = getpid();
    confirm.apply_start = ProcessStart(getpid());
    std::string how, err;
    if (!SnapshotHosted(scope, &err) || !SaveConfirm(scope, confirm, &err) || !StartWatchdog(scope, confirm, &how, &err)) {
      confirm.phase = ConfirmState::Phase::Failed;
      confirm.reason = "no watchdog: " + err;
      std::string ignored;
      SaveConfirm(scope, confirm, &ignored);
      DropHostedSnapshot(scope);
      *why = "cannot arm confirm-or-revert: " + err;
      return false;
    }
    if (o.stats) std::fprintf(stderr, "stats: confirm watchdog: %s\n", how.c_str());
    return true;
  };
  // The probes again, given time to settle (ARP, bridge ports, DAD), on a
  // second thread while the state is read back: one that passed before and
  // fails now means this change cut something off.
  hooks.after_steps = [&](const ApplyContext& ctx) {
    if (probes.empty()) return;
    recheck = std::async(std::launch::async, [&ctx, &probes] {
      pthread_setname_np(pthread_self(), "netdsl-probes");
      return RecheckProbes(ctx.desired, probes, std::chrono::seconds(10));
    });
  };
  hooks.after_change = [&](const ApplyContext&, std::string* why) {
    if (!recheck.valid()) return true;
    o.timer.Mark("verify");
    std::vector<ProbeResult> after = recheck.get();
    for (size_t i = 0; i < probes.size(); ++i)
      if (!after[i].passed)
        *why += fmt::format("{}probe `{}` passed before the apply and fails after it ({})", why->empty() ? "" : "; ",
                            probes[i].Name(), after[i].detail);
    o.timer.Mark("probes");
    return why->empty();
  };
  hooks.on_rollback = [&](const ApplyContext&, bool rolled, const std::string& what) {
    if (recheck.valid()) recheck.wait();  // a failure already: the probes do not matter
    if (!o.confirm_within || confirm.id.empty()) return;
    confirm.phase = ConfirmState::Phase::Failed;
    confirm.reason = what;
    confirm.changed_unix = UnixNow();
    std::string ignored;
    if (rolled) DropHostedSnapshot(scope);
    if (rolled) SaveConfirm(scope, confirm, &ignored);  // else the watchdog retries: the apply is gone
  };
  hooks.on_commit = [&](const ApplyContext&) {
    return o.confirm_within ? CommitAction::kKeepJournal : CommitAction::kRemoveJournal;
  };

  ApplyResult r = Apply(kernel, desired, options, hooks, report);
  const ChangeSet& cs = r.changes;
  switch (r.outcome) {
    case ApplyOutcome::kInSync:
      std::printf("%s: in sync, nothing to do%s\n", Where(o, desired).c_str(),
                  o.confirm_within && !o.dry_run ? " (nothing to confirm)" : "");
      break;
    case ApplyOutcome::kDryRun:
      std::printf("%s: would apply %zu change%s in %zu step%s\n", Where(o, desired).c_str(), cs.changes,
                  cs.changes == 1 ? "" : "s", cs.steps.size(), cs.steps.size() == 1 ? "" : "s");
      PrintLines(cs, stdout);
      break;
    case ApplyOutcome::kApplied:
      if (o.stats) std::fprintf(stderr, "stats: verified by %s\n", r.verified_by.c_str());
      std::printf("%s: applied %zu change%s in %zu step%s\n", Where(o, desired).c_str(), cs.changes,
                  cs.changes == 1 ? "" : "s", cs.steps.size(), cs.steps.size() == 1 ? "" : "s");
      if (o.confirm_within) {
        // The journal stays: it is the way back until `netdsl confirm`.
        confirm.phase = ConfirmState::Phase::Pending;
        confirm.deadline_boot_ms = BootMs() + o.confirm_within->count();
        confirm.deadline_unix = UnixNow() + (o.confirm_within->count() + 999) / 1000;
        confirm.changed_unix = UnixNow();
        std::string err;
        if (!SaveConfirm(scope, confirm, &err)) {
          // The watchdog sees an apply that died while applying: it rolls back at once.
          Error(o, err + "; the watchdog rolls the change back now");
          return 1;
        }
        std::printf("%s: confirm with `netdsl confirm%s` by %s (within %s), or the change is rolled back\n",
                    Where(o, desired).c_str(), o.netns.empty() ? "" : io::TerminalText(" --netns " + o.netns).c_str(),
                    UnixText(confirm.deadline_unix).c_str(), FormatDuration(*o.confirm_within).c_str());
      }
      break;
    case ApplyOutcome::kRolledBack:
      std::fprintf(stderr, "netdsl apply: rolled back %zu step%s; %s is as it was\n", r.steps_run,
                   r.steps_run == 1 ? "" : "s", Where(o, desired).c_str());
      break;
    case ApplyOutcome::kRefused:
    case ApplyOutcome::kRollbackFailed: break;
  }
  if (r.outcome != ApplyOutcome::kRefused) PrintStats(o, kernel.netlink());
  return r.ExitCode();
}

}  // namespace netdsl::runtime
