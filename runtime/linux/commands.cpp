// `netdsl plan` and `netdsl apply`: desired + current → validate → checkpoint
// (journal) → apply → read back → verify → commit or roll back.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <future>
#include <string>
#include <vector>

#include <pthread.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/io/json_string.h"
#include "runtime/cli/commands.h"
#include "runtime/linux/change_set.h"
#include "runtime/linux/executor.h"
#include "runtime/linux/journal.h"
#include "runtime/linux/kernel_env.h"
#include "runtime/linux/confirm.h"
#include "runtime/linux/duration.h"
#include "runtime/linux/management.h"
#include "runtime/linux/probe.h"
#include "runtime/linux/netlink.h"
#include "runtime/linux/plan_reader.h"
#include "runtime/linux/state_reader.h"

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
  bool stats = false;
  std::optional<std::chrono::milliseconds> confirm_within;  ///< apply: confirm or revert
  std::vector<Probe> probes;                                ///< apply: `--probe`
  bool no_probes = false;
  mutable PhaseTimer timer;
};

int Usage(const Options& o, const std::string& problem) {
  std::fprintf(stderr, "netdsl %s: error: %s\n", o.command.c_str(), problem.c_str());
  if (o.command == "plan")
    std::fprintf(stderr, "usage: netdsl plan DIR/hosts/NAME/linux.yaml [--netns NS] [--json] [--stats]\n");
  else
    std::fprintf(stderr,
                 "usage: netdsl apply DIR/hosts/NAME/linux.yaml [--netns NS] [--dry-run] [--stats]\n"
                 "                    [--confirm-within DURATION] [--probe ADDR[:PORT]]... [--no-probes]\n");
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
        std::printf("                    [--confirm-within DURATION] [--probe ADDR[:PORT]]... [--no-probes]\n");
      return 0;
    }
    if (a == "--netns") {
      if (i + 1 >= argc) return Usage(*o, "`--netns` needs a namespace name");
      o->netns = argv[++i];
    } else if (a.rfind("--netns=", 0) == 0) {
      o->netns = a.substr(8);
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


std::string Where(const Options& o, const HostState& d) {
  return o.netns.empty() ? fmt::format("host `{}`", d.host) : fmt::format("host `{}` (netns `{}`)", d.host, o.netns);
}

void Error(const Options& o, const std::string& msg) {
  std::fprintf(stderr, "netdsl %s: error: %s\n", o.command.c_str(), msg.c_str());
}

void PrintLines(const ChangeSet& cs, FILE* out) {
  bool color = UseColor() && out == stdout;
  for (const PlanLine& l : cs.lines) {
    const char* c = !color             ? ""
                    : l.action == '+' ? "\033[32m"
                    : l.action == '-' ? "\033[31m"
                    : l.action == '>' ? "\033[36m"
                                      : "\033[33m";
    std::fprintf(out, "  %s%c %s %s%s%s%s\n", c, l.action, l.object.c_str(), l.name.c_str(),
                 l.detail.empty() ? "" : ": ", l.detail.c_str(), color ? "\033[0m" : "");
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
bool Prepare(const Options& o, HostState* desired, Netlink* nl) {
  std::vector<std::string> errors;
  if (!ReadPlanFile(o.plan_path, desired, &errors)) {
    for (const std::string& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::fprintf(stderr, "netdsl %s: nothing was changed\n", o.command.c_str());
    return false;
  }
  o.timer.Mark("parse");
  std::string err;
  if (!o.netns.empty() && !EnterNetns(o.netns, &err)) {
    Error(o, err);
    return false;
  }
  if (!nl->Open(&err)) {
    Error(o, err);
    return false;
  }
  return true;
}

std::string Scope(const Options& o) { return o.netns.empty() ? "host" : "netns-" + o.netns; }

/// Rolls back a leftover journal of a killed apply. Returns false on failure.
bool Recover(const Options& o, Netlink& nl) {
  std::string header, err;
  std::vector<JournalStep> steps;
  bool stale = false;
  if (!Journal::Load(Scope(o), &header, &steps, &err, &stale)) {
    if (stale) {
      std::fprintf(stderr, "netdsl apply: warning: discarding `%s`, the journal of an apply interrupted before the "
                   "last reboot; the kernel state it would undo is gone\n",
                   Journal::PathFor(Scope(o)).c_str());
      Journal::Remove(Scope(o));
    }
    return true;
  }
  if (!err.empty()) {
    Error(o, err);
    return false;
  }
  std::fprintf(stderr, "netdsl apply: found the journal of an interrupted apply (%s); rolling back %zu step%s\n",
               header.c_str(), steps.size(), steps.size() == 1 ? "" : "s");
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    if (!ExecuteOps(nl, it->inverse, true, &err)) {
      Error(o, fmt::format("rolling back step {} ({}) of the interrupted apply failed: {}; the journal `{}` is "
                           "kept, fix the cause and run apply again",
                           it->number, it->label, err, Journal::PathFor(Scope(o))));
      return false;
    }
  }
  Journal::Remove(Scope(o));
  std::fprintf(stderr, "netdsl apply: the interrupted apply was rolled back\n");
  return true;
}

/// 16 hex digits from the kernel's random pool: names one apply.
std::string RandomId() {
  uint64_t v = 0;
  if (FILE* f = std::fopen("/dev/urandom", "rb")) {
    if (std::fread(&v, sizeof v, 1, f) != 1) v = 0;
    std::fclose(f);
  }
  if (v == 0) v = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ getpid();
  return fmt::format("{:016x}", v);
}

int EnvStep(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : 0;
}


/// The first difference of a failed verification, for the message.
std::string FirstDifference(const HostState& desired, HostState after) {
  CanonicalOrder(&after);
  ChangeSet left = Diff(desired, after);
  if (!left.conflicts.empty()) return left.conflicts[0];
  if (left.lines.empty()) return "?";
  const PlanLine& l = left.lines[0];
  return fmt::format("{} {} {}{}{}", l.action, l.object, l.name, l.detail.empty() ? "" : ": ", l.detail);
}

/// Reads the state back after the steps `cs` ran and compares it with
/// `desired`; returns "" when they agree, else why not. `actual` is the
/// state read before (after `monitor` subscribed). Kinds no step touched are
/// as read before; links, addresses, routes, qdiscs and nft tables are read
/// again. Neighbours and vxlan FDB entries are `actual`'s plus the kernel's
/// notifications since, when that is exact: the log is complete and no link
/// was deleted, re-enslaved or set down (the kernel may flush a device's
/// entries without notifying). Otherwise, or when the result differs from
/// `desired` (a notification that never came must not fail an apply by
/// itself), they are read again: a dump for neighbours, and one get request
/// per vxlan FDB entry instead of the FDB dump, which is quadratic in the
/// kernel.
std::string Verify(Netlink& nl, const NlMonitor& monitor, const HostState& desired, const HostState& actual,
                   const ChangeSet& cs, std::string* verified_by) {
  ReadScope scope{false, false, false, false, false, false};
  scope.canonical_order = false;
  bool replayable = monitor.complete();
  for (const Step& step : cs.steps)
    for (const Op& op : step.ops) {
      switch (op.kind) {
        case OpKind::AddAddress: case OpKind::DelAddress: scope.addresses = true; break;
        case OpKind::AddRoute: case OpKind::DelRoute: case OpKind::ReplaceRoute: scope.routes = true; break;
        case OpKind::AddNeighbour: case OpKind::DelNeighbour: scope.neighbours = true; break;
        case OpKind::AddFdb: case OpKind::DelFdb: scope.fdb = true; break;
        case OpKind::ReplaceQdisc: case OpKind::DelQdisc: scope.qdiscs = true; break;
        case OpKind::ReplaceNft: case OpKind::RestoreNft: scope.nft = true; break;
        case OpKind::CreateLink: scope = ReadScope{.canonical_order = false}; break;
        case OpKind::DeleteLink: scope = ReadScope{.canonical_order = false}; replayable = false; break;
        case OpKind::SetLink: {
          const auto& c = std::get<LinkChange>(op.object);
          if (c.master || (c.up && !*c.up)) replayable = false;
          break;
        }
      }
    }
  std::string err;
  HostState after;
  after.hosted = cs.hosted_after;
  auto keep_unread = [&](const ReadScope& read) {
    if (!read.addresses) after.addresses = actual.addresses;
    if (!read.routes) after.routes = actual.routes;
    if (!read.neighbours) after.neighbours = actual.neighbours;
    if (!read.fdb) after.fdb = actual.fdb;
    if (!read.qdiscs) after.qdiscs = actual.qdiscs;
    if (!read.nft) {
      after.nft = actual.nft;
      after.nft_nat = actual.nft_nat;
    }
  };
  if (replayable) {
    ReadScope fresh = scope;
    fresh.neighbours = fresh.fdb = false;
    if (!ReadActualState(nl, desired, &after, &err, fresh)) return "reading the state back failed: " + err;
    keep_unread(fresh);
    if (ReplayNotifications(monitor, desired, &after)) {
      ChangeSet left = Diff(desired, after, 4096, PlanText::kCount);
      if (left.conflicts.empty() && left.changes == 0) {
        *verified_by = fmt::format("reading back ({} dumps) and {} kernel notifications", nl.dumps(),
                                   monitor.notifications());
        return "";
      }
    }
    after = HostState();  // not confirmed: read everything the steps touched
    after.hosted = cs.hosted_after;
  }
  // FDB: one get request per entry the plan wants plus per entry deleted.
  std::vector<FdbEntry> fdb_probe;
  if (scope.fdb) {
    fdb_probe = desired.fdb;
    for (const Step& step : cs.steps)
      for (const Op& op : step.ops)
        if (op.kind == OpKind::DelFdb) fdb_probe.push_back(std::get<FdbEntry>(op.object));
    scope.fdb_probe = &fdb_probe;
  }
  if (!ReadActualState(nl, desired, &after, &err, scope)) return "reading the state back failed: " + err;
  keep_unread(scope);
  ChangeSet left = Diff(desired, after, 4096, PlanText::kCount);
  *verified_by = fmt::format("reading back ({} dumps, {} get requests){}", nl.dumps(), nl.get_requests(),
                             monitor.complete() ? "" : "; the kernel's notification log was incomplete");
  if (left.conflicts.empty() && left.changes == 0) return "";
  return "verification failed: the kernel does not show the applied state (" + FirstDifference(desired, after) + ")";
}

}  // namespace

int PlanMain(int argc, char** argv) {
  Options o;
  if (int rc = ParseArgs(argc, argv, &o); rc >= 0) return rc;
  HostState desired, actual;
  Netlink nl;
  if (!Prepare(o, &desired, &nl)) return 1;
  std::string err;
  if (!LoadHosted(Scope(o), &actual.hosted, &err)) {
    Error(o, err);
    return 1;
  }
  if (!ReadActualState(nl, desired, &actual, &err)) {
    Error(o, err);
    return 1;
  }
  o.timer.Mark("read");
  ChangeSet cs = Diff(desired, actual);
  o.timer.Mark("diff");
  std::string header, jerr;
  std::vector<JournalStep> leftover;
  bool stale_journal = false;
  bool interrupted = Journal::Load(Scope(o), &header, &leftover, &jerr, &stale_journal);
  ConfirmState pending;
  std::string cerr;
  bool awaiting = LoadConfirm(Scope(o), &pending, &cerr) &&
                  (pending.phase == ConfirmState::Phase::Pending || pending.phase == ConfirmState::Phase::Applying);
  if (awaiting && !o.json)
    std::fprintf(stderr, "netdsl plan: note: the apply of %s awaits confirmation (`netdsl status`)%s\n",
                 UnixText(pending.started_unix).c_str(),
                 pending.phase == ConfirmState::Phase::Pending
                     ? fmt::format("; unless confirmed it is rolled back at {}", UnixText(pending.deadline_unix)).c_str()
                     : "");
  if (stale_journal && !o.json)
    std::fprintf(stderr, "netdsl plan: note: `%s` is from before the last reboot; the next apply discards it\n",
                 Journal::PathFor(Scope(o)).c_str());
  if (o.json) {
    std::string s = fmt::format("{{\n  \"host\": {},\n  \"netns\": {},\n  \"in_sync\": {},\n",
                                io::JsonString(desired.host), io::JsonString(o.netns),
                                cs.lines.empty() && cs.conflicts.empty() ? "true" : "false");
    s += "  \"changes\": [";
    for (size_t i = 0; i < cs.lines.size(); ++i) {
      const PlanLine& l = cs.lines[i];
      const char* action = l.action == '+' ? "create" : l.action == '-' ? "delete" : l.action == '>' ? "move" : "modify";
      s += fmt::format("{}\n    {{\"action\": \"{}\", \"object\": \"{}\", \"name\": {}, \"detail\": {}}}",
                       i ? "," : "", action, l.object, io::JsonString(l.name), io::JsonString(l.detail));
    }
    s += cs.lines.empty() ? "],\n" : "\n  ],\n";
    auto list = [&](const char* key, const std::vector<std::string>& v, bool last) {
      s += fmt::format("  \"{}\": [", key);
      for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", io::JsonString(v[i]));
      s += last ? "],\n" : "],\n";
    };
    list("conflicts", cs.conflicts, false);
    list("warnings", cs.warnings, false);
    s += fmt::format("  \"interrupted_apply\": {},\n", interrupted && !awaiting ? "true" : "false");
    s += fmt::format("  \"awaiting_confirmation\": {}\n}}\n", awaiting ? "true" : "false");
    std::fputs(s.c_str(), stdout);
  } else {
    for (const std::string& w : cs.warnings) std::fprintf(stderr, "netdsl plan: warning: %s\n", w.c_str());
    if (interrupted && !awaiting)
      std::fprintf(stderr, "netdsl plan: warning: an interrupted apply left `%s`; the next apply rolls it back first\n",
                   Journal::PathFor(Scope(o)).c_str());
    for (const std::string& c : cs.conflicts) Error(o, c);
    if (cs.conflicts.empty()) {
      if (cs.lines.empty()) {
        std::printf("%s: in sync\n", Where(o, desired).c_str());
      } else {
        std::printf("%s: %zu change%s pending\n", Where(o, desired).c_str(), cs.lines.size(),
                    cs.lines.size() == 1 ? "" : "s");
        PrintLines(cs, stdout);
      }
    }
  }
  PrintStats(o, nl);
  if (!cs.conflicts.empty()) return 1;
  return cs.lines.empty() ? 0 : 2;
}

int ApplyMain(int argc, char** argv) {
  Options o;
  if (int rc = ParseArgs(argc, argv, &o); rc >= 0) return rc;
  HostState desired, actual;
  Netlink nl;
  if (!Prepare(o, &desired, &nl)) return 1;
  std::string err;
  ApplyLock lock;
  Journal journal;
  if (!o.dry_run) {
    if (!lock.Acquire(Scope(o), &err)) {
      Error(o, err);
      return 1;
    }
    if (!SettleEarlierApply(nl, Scope(o), &err)) {
      Error(o, err);
      std::fprintf(stderr, "netdsl apply: nothing was changed\n");
      return 1;
    }
    if (!Recover(o, nl)) return 1;
  } else if (std::string header; [&] {
               std::vector<JournalStep> steps;
               std::string jerr;
               return Journal::Load(Scope(o), &header, &steps, &jerr);
             }()) {
    std::fprintf(stderr, "netdsl apply: warning: an interrupted apply left `%s`; a real apply rolls it back first\n",
                 Journal::PathFor(Scope(o)).c_str());
  }
  // Feature detection before any change.
  std::vector<std::string> features;
  auto needed = NeededFeatures(desired);
  for (const auto& [f, why] : needed) features.push_back(f);
  auto missing = MissingFeatures(features);
  o.timer.Mark("probe");
  if (!missing.empty()) {
    for (const auto& [f, reason] : missing) {
      std::string by;
      for (const auto& [g, why] : needed)
        if (g == f) by = why;
      Error(o, fmt::format("kernel lacks `{}` (needed by {}): {}", f, by, reason));
    }
    std::fprintf(stderr, "netdsl apply: nothing was changed\n");
    return 1;
  }
  // Subscribe to the kernel's notifications before the state is read: the
  // read plus every notification after it is the current state (see Verify).
  NlMonitor monitor;
  if (!o.dry_run && !monitor.Open(&err)) std::fprintf(stderr, "netdsl apply: warning: %s; verifying by reading\n", err.c_str());
  if (!LoadHosted(Scope(o), &actual.hosted, &err)) {
    Error(o, err + "; nothing was changed");
    return 1;
  }
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
  if (!o.dry_run && !o.no_probes)
    probing = std::async(std::launch::async, [&desired, &o, &stop_probing] {
      pthread_setname_np(pthread_self(), "netdsl-probes");
      ProbesBefore p;
      p.chosen = ChooseProbes(desired, o.probes, &p.error);
      p.results = RunProbes(p.chosen, std::chrono::seconds(1), true, &stop_probing);
      return p;
    });
  StopProbing stop_on_return{stop_probing};
  if (!ReadActualState(nl, desired, &actual, &err)) {
    Error(o, err);
    return 1;
  }
  o.timer.Mark("read");
  ChangeSet cs = Diff(desired, actual, 4096, o.dry_run ? PlanText::kLines : PlanText::kCount);
  o.timer.Mark("diff");
  for (const std::string& w : cs.warnings) std::fprintf(stderr, "netdsl apply: warning: %s\n", w.c_str());
  if (!cs.conflicts.empty()) {
    for (const std::string& c : cs.conflicts) Error(o, c);
    std::fprintf(stderr, "netdsl apply: nothing was changed\n");
    return 1;
  }
  if (cs.steps.empty()) {
    std::printf("%s: in sync, nothing to do%s\n", Where(o, desired).c_str(),
                o.confirm_within && !o.dry_run ? " (nothing to confirm)" : "");
    PrintStats(o, nl);
    return 0;
  }
  if (o.dry_run) {
    std::printf("%s: would apply %zu change%s in %zu step%s\n", Where(o, desired).c_str(), cs.changes,
                cs.changes == 1 ? "" : "s", cs.steps.size(), cs.steps.size() == 1 ? "" : "s");
    PrintLines(cs, stdout);
    PrintStats(o, nl);
    return 0;
  }

  // The probes that passed before anything changed are the ones to watch.
  std::vector<Probe> probes;
  if (probing.valid()) {
    ProbesBefore got = probing.get();
    const std::vector<Probe>& chosen = got.chosen;
    const std::vector<ProbeResult>& before = got.results;
    if (!got.error.empty())
      std::fprintf(stderr, "netdsl apply: warning: cannot read the default gateways: %s\n", got.error.c_str());
    size_t unused = 0;
    for (size_t i = 0; i < chosen.size(); ++i) {
      if (before[i].passed) {
        probes.push_back(chosen[i]);
      } else if (++unused <= 5) {
        std::fprintf(stderr, "netdsl apply: note: probe `%s` fails before the apply (%s); not used\n",
                     chosen[i].Name().c_str(), before[i].detail.c_str());
      }
    }
    if (unused > 5) std::fprintf(stderr, "netdsl apply: note: %zu more probes fail before the apply; not used\n", unused - 5);
    if (o.stats)
      std::fprintf(stderr, "stats: %zu probes pass before the apply, %zu do not\n", probes.size(), unused);
    o.timer.Mark("probes");
  }

  // Checkpoint + apply, one journaled step at a time.
  if (!journal.Begin(Scope(o), desired.host, &err)) {
    Error(o, err + "; nothing was changed");
    return 1;
  }
  // Confirm or revert: the journal stays as the way back, and a watchdog
  // that outlives this process rolls the change back unless confirmed.
  ConfirmState confirm;
  if (o.confirm_within) {
    confirm.id = RandomId();
    confirm.host = desired.host;
    confirm.netns = o.netns;
    confirm.window_ms = o.confirm_within->count();
    confirm.started_unix = UnixNow();
    confirm.apply_pid = getpid();
    confirm.apply_start = ProcessStart(getpid());
    std::string how;
    if (!SnapshotHosted(Scope(o), &err) || !SaveConfirm(Scope(o), confirm, &err) ||
        !StartWatchdog(Scope(o), confirm, &how, &err)) {
      confirm.phase = ConfirmState::Phase::Failed;
      confirm.reason = "no watchdog: " + err;
      std::string ignored;
      SaveConfirm(Scope(o), confirm, &ignored);
      DropHostedSnapshot(Scope(o));
      journal.Finish();
      Error(o, "cannot arm confirm-or-revert: " + err + "; nothing was changed");
      return 1;
    }
    if (o.stats) std::fprintf(stderr, "stats: confirm watchdog: %s\n", how.c_str());
  }
  const int fault_at = EnvStep("NETDSL_FAULT_AT_STEP");  // test-only hooks (docs/runtime.md)
  const int kill_at = EnvStep("NETDSL_KILL_AT_STEP");
  const int pause_at = EnvStep("NETDSL_PAUSE_AT_STEP");  // waits to be killed
  const int drop_op = EnvStep("NETDSL_DROP_OP");  // k-th operation of the apply is not sent
  int ops_before = 0;
  const bool progress = isatty(STDERR_FILENO) && cs.steps.size() > 1;
  size_t executed = 0;
  std::string failure;
  std::string verified_by;
  int failed_step = 0;
  // Step i+1's journal record and, for a bulk step, its requests are built
  // on a second thread while the kernel works through step i (both bulk
  // steps: nothing in between can change a device index); that thread also
  // moves the kernel's notifications out of the socket.
  struct Ahead {
    std::string record;
    PreparedOps requests;
    bool prepared = false;
  };
  auto prepare = [&](size_t i) {
    Ahead a;
    a.record = Journal::StepRecord(static_cast<int>(i + 1), cs.steps[i]);
    std::string ignored;  // a missing device: ExecuteOps reports it when the step runs
    if (IsBulkStep(cs.steps[i].ops)) a.prepared = PrepareOps(cs.steps[i].ops, &a.requests, &ignored);
    monitor.Drain();
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
    if (progress) std::fprintf(stderr, "\r[%d/%zu] %s\033[K", k, cs.steps.size(), step.label.c_str());
    bool ok;
    if (drop_op > ops_before && drop_op <= ops_before + static_cast<int>(step.ops.size())) {
      std::vector<Op> ops = step.ops;
      ops.erase(ops.begin() + (drop_op - ops_before - 1));
      ok = ExecuteOps(nl, ops, false, &err);
    } else if (cur.prepared) {
      ok = RunPrepared(nl, step.ops, cur.requests, &err);
    } else {
      ok = ExecuteOps(nl, step.ops, false, &err);
    }
    ops_before += static_cast<int>(step.ops.size());
    if (ok && k == kill_at) raise(SIGKILL);
    if (ok && k == pause_at) {
      std::fprintf(stderr, "netdsl apply: paused after step %d (NETDSL_PAUSE_AT_STEP, test-only)\n", k);
      for (;;) pause();
    }
    if (ok && k == fault_at) {
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
  monitor.Drain();
  if (progress) std::fprintf(stderr, "\r\033[K");
  o.timer.Mark("apply");
  std::future<std::vector<ProbeResult>> recheck;
  if (failure.empty() && !probes.empty())
    recheck = std::async(std::launch::async, [&desired, &probes] {
      pthread_setname_np(pthread_self(), "netdsl-probes");
      return RecheckProbes(desired, probes, std::chrono::seconds(10));
    });
  if (failure.empty()) failure = Verify(nl, monitor, desired, actual, cs, &verified_by);
  if (!failure.empty() && recheck.valid()) recheck.wait();  // a failure already: the probes do not matter
  // The probes again, given time to settle (ARP, bridge ports, DAD), on a
  // second thread while the state is read back: one that passed before and
  // fails now means this change cut something off.
  if (failure.empty() && !probes.empty()) {
    o.timer.Mark("verify");
    std::vector<ProbeResult> after = recheck.get();
    for (size_t i = 0; i < probes.size(); ++i)
      if (!after[i].passed)
        failure += fmt::format("{}probe `{}` passed before the apply and fails after it ({})", failure.empty() ? "" : "; ",
                               probes[i].Name(), after[i].detail);
    o.timer.Mark("probes");
  }
  // The record of the host's settings moved onto switches, before the
  // journal goes (a crash in between rolls back and leaves stale entries,
  // which the next apply drops: their objects are not where they say). Not
  // recorded, they would look like netdsl's to the next apply: roll back.
  if (failure.empty() && !SaveHosted(Scope(o), cs.hosted_after, &err)) failure = err;
  if (!failure.empty()) {
    std::string what = failed_step ? fmt::format("step {}/{} ({}) failed: {}", failed_step, cs.steps.size(),
                                                 cs.steps[failed_step - 1].label, failure)
                                   : failure;
    Error(o, what);
    std::string rerr;
    bool rolled = true;
    for (size_t i = executed; i-- > 0;) {
      if (!ExecuteOps(nl, cs.steps[i].inverse, true, &rerr)) {
        Error(o, fmt::format("rolling back step {} ({}) failed: {}; the journal `{}` is kept for the next run", i + 1,
                             cs.steps[i].label, rerr, Journal::PathFor(Scope(o))));
        rolled = false;
        break;
      }
    }
    if (o.confirm_within) {
      confirm.phase = ConfirmState::Phase::Failed;
      confirm.reason = what;
      confirm.changed_unix = UnixNow();
      std::string ignored;
      if (rolled) DropHostedSnapshot(Scope(o));
      if (rolled) SaveConfirm(Scope(o), confirm, &ignored);  // else the watchdog retries: the apply is gone
    }
    if (rolled) {
      journal.Finish();
      std::fprintf(stderr, "netdsl apply: rolled back %zu step%s; %s is as it was\n", executed,
                   executed == 1 ? "" : "s", Where(o, desired).c_str());
    }
    PrintStats(o, nl);
    return 1;
  }
  if (probes.empty()) o.timer.Mark("verify");
  if (o.stats) std::fprintf(stderr, "stats: verified by %s\n", verified_by.c_str());
  std::printf("%s: applied %zu change%s in %zu step%s\n", Where(o, desired).c_str(), cs.changes,
              cs.changes == 1 ? "" : "s", cs.steps.size(), cs.steps.size() == 1 ? "" : "s");
  if (o.confirm_within) {
    // The journal stays: it is the way back until `netdsl confirm`.
    confirm.phase = ConfirmState::Phase::Pending;
    confirm.deadline_boot_ms = BootMs() + o.confirm_within->count();
    confirm.deadline_unix = UnixNow() + (o.confirm_within->count() + 999) / 1000;
    confirm.changed_unix = UnixNow();
    if (!SaveConfirm(Scope(o), confirm, &err)) {
      // The watchdog sees an apply that died while applying: it rolls back at once.
      Error(o, err + "; the watchdog rolls the change back now");
      return 1;
    }
    std::printf("%s: confirm with `netdsl confirm%s` by %s (within %s), or the change is rolled back\n",
                Where(o, desired).c_str(), o.netns.empty() ? "" : (" --netns " + o.netns).c_str(),
                UnixText(confirm.deadline_unix).c_str(), FormatDuration(*o.confirm_within).c_str());
    PrintStats(o, nl);
    return 0;
  }
  journal.Finish();
  PrintStats(o, nl);
  return 0;
}

}  // namespace netdsl::runtime
