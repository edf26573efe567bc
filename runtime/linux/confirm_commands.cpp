// `netdsl confirm`, `netdsl rollback`, `netdsl status`: the other half of
// `netdsl apply --confirm-within` (docs/runtime.md "Confirm or revert").
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "common/io/json_string.h"
#include "runtime/cli/commands.h"
#include "runtime/linux/confirm.h"
#include "runtime/linux/duration.h"
#include "runtime/linux/journal.h"
#include "runtime/linux/kernel_env.h"
#include "runtime/linux/management.h"

namespace netdsl::runtime {
namespace {

struct Args {
  std::string command;
  std::string netns;
  bool json = false;
  std::string scope;  ///< the target's lock, journal and state files: `net-DEV-INO` (kernel_env.h)
};

int Usage(const Args& a, const std::string& problem) {
  std::fprintf(stderr, "netdsl %s: error: %s\n", a.command.c_str(), problem.c_str());
  std::fprintf(stderr, "usage: netdsl %s [--netns NS]%s\n", a.command.c_str(), a.command == "status" ? " [--json]" : "");
  return 64;
}

/// -1 when parsed, else the exit code.
int Parse(int argc, char** argv, Args* a) {
  a->command = argv[0];
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      std::printf("usage: netdsl %s [--netns NS]%s\n", a->command.c_str(), a->command == "status" ? " [--json]" : "");
      return 0;
    }
    if (s == "--netns" || s.rfind("--netns=", 0) == 0) {
      if (s == "--netns" && i + 1 >= argc) return Usage(*a, "`--netns` needs a namespace name");
      a->netns = s == "--netns" ? argv[++i] : s.substr(8);
      // An unset variable in a script must not mean the host itself.
      if (a->netns.empty()) return Usage(*a, "`--netns` is empty; name a namespace, or leave the option out for this one");
    } else if (s == "--json" && a->command == "status") {
      a->json = true;
    } else if (!s.empty() && s[0] == '-') {
      return Usage(*a, fmt::format("unknown option `{}`", s));
    } else {
      return Usage(*a, fmt::format("unexpected argument `{}`; `netdsl {}` takes no plan", s, a->command));
    }
  }
  // The same files as `netdsl apply`: keyed by the namespace's identity, not its name.
  std::string err;
  if (!StateKeyOf(a->netns, &a->scope, &err)) {
    std::fprintf(stderr, "netdsl %s: error: %s\n", a->command.c_str(), err.c_str());
    return 1;
  }
  return -1;
}

const std::string& ScopeOf(const Args& a) { return a.scope; }

/// User text (linux.yaml `host:`) for a terminal: control characters escaped.
std::string Printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

std::string Where(const Args& a, const ConfirmState& s) {
  std::string who = s.host.empty() ? "this host" : fmt::format("host `{}`", Printable(s.host));
  return a.netns.empty() ? who : fmt::format("{} (netns `{}`)", who, a.netns);
}

void Error(const Args& a, const std::string& msg) { std::fprintf(stderr, "netdsl %s: error: %s\n", a.command.c_str(), msg.c_str()); }

/// The apply lock, waiting a little: a watchdog holds it for the moment it reverts.
bool Lock(const Args& a, ApplyLock* lock) {
  std::string err;
  for (int i = 0; i < 40; ++i) {
    if (lock->Acquire(LockPathFor(ScopeOf(a)), &err)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Error(a, err);
  return false;
}

bool OpenTarget(const Args& a, Netlink* nl) {
  std::string err;
  if ((!a.netns.empty() && !EnterNetns(a.netns, &err)) || !nl->Open(&err)) {
    Error(a, err);
    return false;
  }
  return true;
}

void StopWatchdog(const std::string& scope, const std::string& id) {
  WatchdogInfo w;
  if (LoadWatchdog(scope, &w) && w.id == id && ProcessAlive(w.pid, w.start)) kill(w.pid, SIGTERM);
}

bool Revert(const Args& a, Netlink& nl, ConfirmState s, const std::string& reason, size_t* steps) {
  std::string err;
  if (!RollBackJournal(nl, ScopeOf(a), steps, &err)) {
    Error(a, err);
    return false;
  }
  s.phase = ConfirmState::Phase::Reverted;
  s.reason = reason;
  s.changed_unix = UnixNow();
  if (!SaveConfirm(ScopeOf(a), s, &err)) Error(a, err);
  StopWatchdog(ScopeOf(a), s.id);
  return true;
}

}  // namespace

int ConfirmMain(int argc, char** argv) {
  Args a;
  if (int rc = Parse(argc, argv, &a); rc >= 0) return rc;
  ApplyLock lock;
  if (!Lock(a, &lock)) return 1;
  std::string scope = ScopeOf(a), err;
  ConfirmState s;
  if (!LoadConfirm(scope, &s, &err)) {
    Error(a, err.empty() ? "no apply awaits confirmation here" : err);
    return 1;
  }
  switch (s.phase) {
    case ConfirmState::Phase::Confirmed:
      std::printf("%s: the apply of %s was confirmed at %s already\n", Where(a, s).c_str(),
                  UnixText(s.started_unix).c_str(), UnixText(s.changed_unix).c_str());
      return 0;
    case ConfirmState::Phase::Reverted:
    case ConfirmState::Phase::Failed:
      Error(a, fmt::format("nothing to confirm: the apply of {} was {} at {} ({})", UnixText(s.started_unix),
                           s.phase == ConfirmState::Phase::Failed ? "rolled back by itself" : "reverted",
                           UnixText(s.changed_unix), s.reason));
      return 1;
    case ConfirmState::Phase::Applying:
      Error(a, "the apply awaiting confirmation was interrupted before it finished; `netdsl rollback` undoes it");
      return 1;
    case ConfirmState::Phase::Pending: break;
  }
  if (BootMs() >= s.deadline_boot_ms) {
    // Too late is too late: the watchdog may not have come round yet, but
    // the change was promised to go. Revert now, under the lock we hold.
    Netlink nl;
    if (!OpenTarget(a, &nl)) return 1;
    size_t steps = 0;
    if (!Revert(a, nl, s, fmt::format("not confirmed by {}; rolled back by a late `netdsl confirm`",
                                      UnixText(s.deadline_unix)),
                &steps))
      return 1;
    Error(a, fmt::format("too late: the deadline was {}; the change was rolled back ({} step{})",
                         UnixText(s.deadline_unix), steps, steps == 1 ? "" : "s"));
    return 1;
  }
  // Keep it: the journal was its way back; without it the change is final.
  s.phase = ConfirmState::Phase::Confirmed;
  s.changed_unix = UnixNow();
  if (!SaveConfirm(scope, s, &err)) {
    Error(a, err + "; nothing was confirmed");
    return 1;
  }
  RemoveJournal(JournalPathFor(scope));
  DropHostedSnapshot(scope);
  StopWatchdog(scope, s.id);
  std::printf("%s: confirmed; the change applied at %s stays\n", Where(a, s).c_str(), UnixText(s.started_unix).c_str());
  return 0;
}

int RollbackMain(int argc, char** argv) {
  Args a;
  if (int rc = Parse(argc, argv, &a); rc >= 0) return rc;
  ApplyLock lock;
  if (!Lock(a, &lock)) return 1;
  std::string scope = ScopeOf(a), err;
  ConfirmState s;
  bool have_state = LoadConfirm(scope, &s, &err);
  if (!have_state && !err.empty()) {
    Error(a, err);
    return 1;
  }
  bool awaiting = have_state && (s.phase == ConfirmState::Phase::Pending || s.phase == ConfirmState::Phase::Applying);
  bool journal = LoadJournal(JournalPathFor(scope)).status != LoadedJournal::Status::kNone;
  if (!awaiting && !journal) {
    Error(a, have_state ? fmt::format("nothing to roll back: the last apply awaiting confirmation was {} at {}",
                                      PhaseName(s.phase), UnixText(s.changed_unix))
                        : "nothing to roll back: no apply awaits confirmation and none was interrupted");
    return 1;
  }
  Netlink nl;
  if (!OpenTarget(a, &nl)) return 1;
  size_t steps = 0;
  if (awaiting) {
    if (!Revert(a, nl, s, "rolled back by `netdsl rollback`", &steps)) return 1;
    std::printf("%s: rolled back %zu step%s; it is as it was before the apply of %s\n", Where(a, s).c_str(), steps,
                steps == 1 ? "" : "s", UnixText(s.started_unix).c_str());
    return 0;
  }
  if (!RollBackJournal(nl, scope, &steps, &err)) {
    Error(a, err);
    return 1;
  }
  std::printf("%s: rolled back the %zu step%s of an interrupted apply\n", a.netns.empty() ? "this host" : ("netns `" + a.netns + "`").c_str(),
              steps, steps == 1 ? "" : "s");
  return 0;
}

int StatusMain(int argc, char** argv) {
  Args a;
  if (int rc = Parse(argc, argv, &a); rc >= 0) return rc;
  std::string scope = ScopeOf(a), err;
  ConfirmState s;
  bool have = LoadConfirm(scope, &s, &err);
  if (!have && !err.empty()) {
    Error(a, err);
    return 1;
  }
  bool journal = LoadJournal(JournalPathFor(scope)).status != LoadedJournal::Status::kNone;
  WatchdogInfo w;
  bool watchdog = have && LoadWatchdog(scope, &w) && w.id == s.id;
  bool running = watchdog && ProcessAlive(w.pid, w.start);
  int64_t left = have ? s.deadline_boot_ms - BootMs() : 0;
  if (a.json) {
    std::string out = fmt::format("{{\n  \"netns\": {},\n  \"phase\": {},\n", io::JsonString(a.netns),
                                  io::JsonString(have ? PhaseName(s.phase) : "none"));
    if (have) {
      out += fmt::format("  \"id\": {},\n  \"host\": {},\n  \"applied\": {},\n", io::JsonString(s.id),
                         io::JsonString(s.host), io::JsonString(UnixText(s.started_unix)));
      if (s.phase == ConfirmState::Phase::Pending)
        out += fmt::format("  \"deadline\": {},\n  \"remaining_ms\": {},\n", io::JsonString(UnixText(s.deadline_unix)),
                           left > 0 ? left : 0);
      else
        out += fmt::format("  \"changed\": {},\n", io::JsonString(UnixText(s.changed_unix)));
      out += fmt::format("  \"reason\": {},\n  \"watchdog_running\": {},\n", io::JsonString(s.reason),
                         running ? "true" : "false");
    }
    out += fmt::format("  \"interrupted_apply\": {}\n}}\n", journal && !(have && (s.phase == ConfirmState::Phase::Pending ||
                                                                                     s.phase == ConfirmState::Phase::Applying))
                                                               ? "true"
                                                               : "false");
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  if (!have) {
    std::printf("%s: no apply awaits confirmation\n", a.netns.empty() ? "this host" : ("netns `" + a.netns + "`").c_str());
  } else {
    std::string dog = !watchdog ? "no watchdog reported"
                                : fmt::format("watchdog pid {} ({}{})", w.pid, w.how, running ? "" : ", not running");
    switch (s.phase) {
      case ConfirmState::Phase::Pending:
        if (left > 0)
          std::printf("%s: pending: applied at %s; rolled back at %s (in %s) unless `netdsl confirm`; %s\n",
                      Where(a, s).c_str(), UnixText(s.started_unix).c_str(), UnixText(s.deadline_unix).c_str(),
                      FormatDuration(std::chrono::milliseconds((left + 999) / 1000 * 1000)).c_str(), dog.c_str());
        else
          std::printf("%s: pending, past its deadline %s: being rolled back; %s%s\n", Where(a, s).c_str(),
                      UnixText(s.deadline_unix).c_str(), dog.c_str(),
                      running ? "" : "; run `netdsl rollback` (the next apply also rolls it back)");
        break;
      case ConfirmState::Phase::Applying:
        std::printf("%s: applying since %s (confirm within %s once it is done); %s\n", Where(a, s).c_str(),
                    UnixText(s.started_unix).c_str(), FormatDuration(std::chrono::milliseconds(s.window_ms)).c_str(),
                    dog.c_str());
        break;
      case ConfirmState::Phase::Confirmed:
        std::printf("%s: confirmed at %s (applied at %s)\n", Where(a, s).c_str(), UnixText(s.changed_unix).c_str(),
                    UnixText(s.started_unix).c_str());
        break;
      case ConfirmState::Phase::Reverted:
      case ConfirmState::Phase::Failed:
        std::printf("%s: %s at %s: %s (applied at %s)\n", Where(a, s).c_str(),
                    s.phase == ConfirmState::Phase::Failed ? "failed and rolled back" : "reverted",
                    UnixText(s.changed_unix).c_str(), s.reason.c_str(), UnixText(s.started_unix).c_str());
        break;
    }
  }
  if (journal && !(have && (s.phase == ConfirmState::Phase::Pending || s.phase == ConfirmState::Phase::Applying)))
    std::printf("an interrupted apply left `%s`; the next apply (or `netdsl rollback`) rolls it back\n",
                JournalPathFor(scope).c_str());
  return 0;
}

}  // namespace netdsl::runtime
