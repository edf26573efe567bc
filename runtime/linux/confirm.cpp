// Confirm or revert: the state file, the watchdog (started, and its main
// loop), and rolling an apply back from its journal (confirm.h).
#include "runtime/linux/confirm.h"

#include "runtime/linux/apply.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "runtime/cli/commands.h"
#include "runtime/linux/executor.h"
#include "runtime/linux/journal.h"
#include "runtime/linux/kernel_env.h"
#include "runtime/linux/management.h"

namespace netdsl::runtime {

const char* PhaseName(ConfirmState::Phase p) {
  switch (p) {
    case ConfirmState::Phase::Applying: return "applying";
    case ConfirmState::Phase::Pending: return "pending";
    case ConfirmState::Phase::Confirmed: return "confirmed";
    case ConfirmState::Phase::Reverted: return "reverted";
    case ConfirmState::Phase::Failed: return "failed";
  }
  return "?";
}

std::string ConfirmPath(const std::string& scope) { return fmt::format("{}/{}.confirm", StateDir(), scope); }

namespace {

/// Reads a small state file without following symlinks; "" when absent.
bool ReadSmall(const std::string& path, std::string* text, std::string* error) {
  text->clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return true;
    *error = fmt::format("cannot read `{}`: {}", path, std::strerror(errno));
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 65536) {
    close(fd);
    *error = fmt::format("`{}` is not a regular file of at most 64 KiB", path);
    return false;
  }
  text->resize(static_cast<size_t>(st.st_size));
  ssize_t got = st.st_size ? read(fd, text->data(), text->size()) : 0;
  close(fd);
  if (got != st.st_size) {
    *error = fmt::format("cannot read `{}`", path);
    return false;
  }
  return true;
}

/// One field per line, `key value`; values never hold a newline (they are
/// escaped: `\\n` and `\\\\`).
std::string Esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20) out += ' ';
    else out += c;
  }
  return out;
}
std::string Unesc(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out += s[i + 1] == 'n' ? '\n' : s[i + 1];
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

constexpr const char* kConfirmHeader = "netdsl confirm 1";

}  // namespace

int64_t BootMs() {
  timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

int64_t UnixNow() { return static_cast<int64_t>(std::time(nullptr)); }

std::string UnixText(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&tt));
  return buf;
}

uint64_t ProcessStart(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(in, line)) return 0;
  size_t close_paren = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close_paren == std::string::npos) return 0;
  std::istringstream rest(line.substr(close_paren + 2));
  std::string field;
  // Fields after the name: state is field 3; starttime is field 22.
  for (int i = 3; i <= 22 && rest >> field; ++i)
    if (i == 22) return std::strtoull(field.c_str(), nullptr, 10);
  return 0;
}

bool ProcessAlive(int pid, uint64_t start) {
  if (pid <= 0) return false;
  uint64_t now = ProcessStart(pid);
  if (now == 0 || now != start) return false;
  // A zombie has not been reaped yet but is gone for good.
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string line;
  std::getline(in, line);
  size_t p = line.rfind(')');
  return p == std::string::npos || p + 2 >= line.size() || line[p + 2] != 'Z';
}

bool LoadConfirm(const std::string& scope, ConfirmState* out, std::string* error) {
  std::string text;
  error->clear();
  if (!ReadSmall(ConfirmPath(scope), &text, error) || text.empty()) return false;
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kConfirmHeader) {
    *error = fmt::format("`{}` does not start with `{}`; remove it if no apply awaits confirmation",
                         ConfirmPath(scope), kConfirmHeader);
    return false;
  }
  ConfirmState s;
  bool phase_ok = false;
  while (std::getline(in, line)) {
    size_t sp = line.find(' ');
    std::string key = line.substr(0, sp), value = sp == std::string::npos ? "" : Unesc(line.substr(sp + 1));
    auto num = [&] { return std::strtoll(value.c_str(), nullptr, 10); };
    if (key == "phase") {
      for (auto p : {ConfirmState::Phase::Applying, ConfirmState::Phase::Pending, ConfirmState::Phase::Confirmed,
                     ConfirmState::Phase::Reverted, ConfirmState::Phase::Failed})
        if (value == PhaseName(p)) {
          s.phase = p;
          phase_ok = true;
        }
    } else if (key == "id") {
      s.id = value;
    } else if (key == "host") {
      s.host = value;
    } else if (key == "netns") {
      s.netns = value;
    } else if (key == "boot") {
      s.boot_id = value;
    } else if (key == "window_ms") {
      s.window_ms = num();
    } else if (key == "deadline_boot_ms") {
      s.deadline_boot_ms = num();
    } else if (key == "deadline_unix") {
      s.deadline_unix = num();
    } else if (key == "started_unix") {
      s.started_unix = num();
    } else if (key == "changed_unix") {
      s.changed_unix = num();
    } else if (key == "apply_pid") {
      s.apply_pid = static_cast<int>(num());
    } else if (key == "apply_start") {
      s.apply_start = std::strtoull(value.c_str(), nullptr, 10);
    } else if (key == "reason") {
      s.reason = value;
    }
  }
  if (!phase_ok || s.id.empty()) {
    *error = fmt::format("`{}` is damaged (no phase or id); remove it if no apply awaits confirmation",
                         ConfirmPath(scope));
    return false;
  }
  if (s.boot_id != BootId()) return false;  // from an earlier boot: the kernel state it speaks of is gone
  *out = s;
  return true;
}

bool SaveConfirm(const std::string& scope, const ConfirmState& s, std::string* error) {
  std::string text = std::string(kConfirmHeader) + "\n";
  auto put = [&](const char* key, const std::string& value) { text += fmt::format("{} {}\n", key, Esc(value)); };
  put("phase", PhaseName(s.phase));
  put("id", s.id);
  put("host", s.host);
  put("netns", s.netns);
  put("boot", s.boot_id.empty() ? BootId() : s.boot_id);
  put("window_ms", std::to_string(s.window_ms));
  put("deadline_boot_ms", std::to_string(s.deadline_boot_ms));
  put("deadline_unix", std::to_string(s.deadline_unix));
  put("started_unix", std::to_string(s.started_unix));
  put("changed_unix", std::to_string(s.changed_unix ? s.changed_unix : UnixNow()));
  put("apply_pid", std::to_string(s.apply_pid));
  put("apply_start", std::to_string(s.apply_start));
  put("reason", s.reason);
  return WriteStateFile(ConfirmPath(scope), text, error);
}

namespace {

std::string WatchdogPath(const std::string& scope) { return fmt::format("{}/{}.watchdog", StateDir(), scope); }

}  // namespace

bool LoadWatchdog(const std::string& scope, WatchdogInfo* out) {
  std::string text, error;
  if (!ReadSmall(WatchdogPath(scope), &text, &error) || text.empty()) return false;
  std::istringstream in(text);
  WatchdogInfo w;
  if (!(in >> w.pid >> w.start >> w.id)) return false;
  std::getline(in >> std::ws, w.how);
  *out = w;
  return true;
}

// ---- Rolling back ----

bool RollBackJournal(Netlink& nl, const std::string& scope, size_t* steps, std::string* error) {
  *steps = 0;
  // The recovery every apply runs (apply.h): only a journal of this
  // namespace and boot, a torn last record ignored.
  ApplyTarget target;
  target.state_dir = StateDir();
  if (!CurrentNetns(&target.netns_id, error)) return false;
  if (target.Key() != scope) {
    *error = fmt::format("the state `{}` is not this network namespace's (`{}`)", scope, target.Key());
    return false;
  }
  struct FirstError : ApplyReport {
    std::string text;
    void Error(std::string_view t) override {
      if (text.empty()) text = t;
    }
  } report;
  RecoverOptions options;
  options.steps = steps;
  options.again = "`netdsl rollback`";
  if (!RecoverInterrupted([&](const std::vector<Op>& ops, std::string* err) { return ExecuteOps(nl, ops, true, err); },
                          target, options, report)) {
    *error = report.text;
    return false;
  }
  return RestoreHostedSnapshot(scope, error);
}

namespace {

/// Marks `state` reverted with `reason`, after rolling back its journal.
bool Revert(Netlink& nl, const std::string& scope, ConfirmState state, const std::string& reason, size_t* steps,
            std::string* error) {
  if (!RollBackJournal(nl, scope, steps, error)) return false;
  state.phase = ConfirmState::Phase::Reverted;
  state.reason = reason;
  state.changed_unix = UnixNow();
  return SaveConfirm(scope, state, error);
}

}  // namespace

bool SettleEarlierApply(Netlink& nl, const std::string& scope, std::string* error) {
  ConfirmState s;
  if (!LoadConfirm(scope, &s, error)) return error->empty();
  size_t steps = 0;
  switch (s.phase) {
    case ConfirmState::Phase::Confirmed:
    case ConfirmState::Phase::Reverted:
    case ConfirmState::Phase::Failed:
      return true;  // settled; a leftover journal is an ordinary interrupted apply
    case ConfirmState::Phase::Applying:
      // We hold the lock, so the apply that wrote this is gone.
      if (!Revert(nl, scope, s, "the apply was interrupted; rolled back by the next apply", &steps, error))
        return false;
      std::fprintf(stderr, "netdsl apply: an earlier apply awaiting confirmation was interrupted; rolled back %zu "
                   "step%s\n", steps, steps == 1 ? "" : "s");
      return true;
    case ConfirmState::Phase::Pending:
      if (BootMs() < s.deadline_boot_ms) {
        *error = fmt::format("the apply of {} awaits confirmation until {}: run `netdsl confirm` to keep it or "
                             "`netdsl rollback` to undo it, then apply again",
                             UnixText(s.started_unix), UnixText(s.deadline_unix));
        return false;
      }
      if (!Revert(nl, scope, s,
                  fmt::format("not confirmed by {}; rolled back by the next apply (the watchdog did not)",
                              UnixText(s.deadline_unix)),
                  &steps, error))
        return false;
      std::fprintf(stderr, "netdsl apply: the apply of %s was not confirmed by %s; rolled back %zu step%s\n",
                   UnixText(s.started_unix).c_str(), UnixText(s.deadline_unix).c_str(), steps, steps == 1 ? "" : "s");
      return true;
  }
  return true;
}

// ---- Starting the watchdog ----

namespace {

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

bool UseSystemd() {
  const char* force = std::getenv("NETDSL_WATCHDOG");
  if (force && std::strcmp(force, "systemd") == 0) return true;
  if (force && std::strcmp(force, "detached") == 0) return false;
  struct stat st;
  return stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);  // sd_booted(3)
}

/// Whether this thread runs in the namespace PID 1 runs in (where a systemd unit starts).
bool InInitNetns() {
  struct stat mine, init;
  return stat("/proc/self/ns/net", &mine) == 0 && stat("/proc/1/ns/net", &init) == 0 && mine.st_ino == init.st_ino &&
         mine.st_dev == init.st_dev;
}

/// fork, setsid, fork, exec: the grandchild has no controlling terminal, is
/// in a session and process group of its own (a hangup or a kill of the
/// shell's group does not reach it), is reparented to init, inherits this
/// thread's network namespace, and holds no descriptor of ours (not the lock).
bool SpawnDetached(const std::vector<std::string>& args, const std::string& log, std::string* error) {
  std::string exe = SelfExe();
  if (exe.empty()) {
    *error = "cannot find the netdsl executable (/proc/self/exe)";
    return false;
  }
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int logfd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (devnull < 0) {
    *error = fmt::format("cannot open /dev/null: {}", std::strerror(errno));
    return false;
  }
  pid_t child = fork();
  if (child < 0) {
    *error = fmt::format("fork: {}", std::strerror(errno));
    close(devnull);
    if (logfd >= 0) close(logfd);
    return false;
  }
  if (child == 0) {  // only async-signal-safe calls from here to exec
    setsid();
    pid_t grandchild = fork();
    if (grandchild != 0) _exit(grandchild < 0 ? 1 : 0);
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(logfd >= 0 ? logfd : devnull, 2);
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    if (chdir("/") != 0) _exit(126);
    umask(077);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGHUP, SIG_IGN);  // stays ignored across exec
    signal(SIGPIPE, SIG_DFL);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  close(devnull);
  if (logfd >= 0) close(logfd);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = "could not detach the watchdog process";
    return false;
  }
  return true;
}

bool RunSystemdRun(const std::vector<std::string>& args, std::string* error) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    *error = fmt::format("fork: {}", std::strerror(errno));
    return false;
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) dup2(devnull, 0);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "`systemd-run` is not installed"
                                                              : "`systemd-run` could not start the watchdog unit";
    return false;
  }
  return true;
}

}  // namespace

bool StartWatchdog(const std::string& scope, const ConfirmState& state, std::string* how, std::string* error) {
  unlink(WatchdogPath(scope).c_str());
  std::vector<std::string> watchdog = {"netdsl", "confirm-watchdog", "--scope", scope, "--id", state.id};
  // A systemd unit starts in init's namespace: it can enter a named one, not
  // the namespace of `ip netns exec NS netdsl apply`, which only a child inherits.
  bool systemd = UseSystemd() && (!state.netns.empty() || InInitNetns());
  const char* force = std::getenv("NETDSL_WATCHDOG");
  bool forced = force && std::strcmp(force, "systemd") == 0;
  std::string systemd_error;
  if (systemd) {
    std::string unit = "netdsl-confirm-" + state.id;
    std::vector<std::string> args = {"systemd-run", "--unit=" + unit, "--collect", "--quiet",
                                     "--description=netdsl: roll back " + scope + " unless confirmed"};
    if (const char* dir = std::getenv("NETDSL_STATE_DIR"); dir && *dir)
      args.push_back(std::string("--setenv=NETDSL_STATE_DIR=") + dir);
    args.push_back("--");
    args.push_back(SelfExe());
    for (size_t i = 1; i < watchdog.size(); ++i) args.push_back(watchdog[i]);
    if (!state.netns.empty()) {
      args.push_back("--netns");
      args.push_back(state.netns);
    }
    if (RunSystemdRun(args, &systemd_error)) {
      *how = "systemd unit " + unit;
    } else if (forced) {
      *error = systemd_error;
      return false;
    } else {
      systemd = false;  // e.g. a container without a system bus: a process of our own will do
    }
  }
  if (!systemd) {
    if (!SpawnDetached(watchdog, fmt::format("{}/{}.watchdog.log", StateDir(), scope), error)) return false;
    *how = systemd_error.empty() ? "detached process" : "detached process (" + systemd_error + ")";
  }
  // It reports for duty by writing `<scope>.watchdog`.
  for (int i = 0; i < 100; ++i) {
    WatchdogInfo w;
    if (LoadWatchdog(scope, &w) && w.id == state.id && ProcessAlive(w.pid, w.start)) {
      *how += fmt::format(" (pid {})", w.pid);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error = fmt::format("the confirm watchdog ({}) did not report within 5 seconds", *how);
  return false;
}

// ---- The watchdog itself ----

int WatchdogMain(int argc, char** argv) {
  std::string scope, id, netns;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--scope") scope = argv[i + 1];
    else if (k == "--id") id = argv[i + 1];
    else if (k == "--netns") netns = argv[i + 1];
  }
  if (scope.empty() || id.empty() || scope.find('/') != std::string::npos) {
    std::fprintf(stderr, "netdsl confirm-watchdog: internal command of `netdsl apply --confirm-within`\n");
    return 64;
  }
  std::string error;
  auto log = [&](const std::string& what) {
    std::fprintf(stderr, "%s netdsl watchdog %s (%s): %s\n", UnixText(UnixNow()).c_str(), id.c_str(), scope.c_str(),
                 what.c_str());
  };
  if (!netns.empty() && !EnterNetns(netns, &error)) {
    log(error);
    return 1;
  }
  std::string how = std::getenv("INVOCATION_ID") ? "systemd" : "detached";
  if (!WriteStateFile(WatchdogPath(scope), fmt::format("{} {} {} {}\n", getpid(), ProcessStart(getpid()), id, how),
                  &error)) {
    log(error);
    return 1;
  }
  for (;;) {
    ConfirmState s;
    if (!LoadConfirm(scope, &s, &error) || s.id != id) {
      if (!error.empty()) log(error);
      return 0;  // superseded or removed: nothing of ours to watch
    }
    bool interrupted = s.phase == ConfirmState::Phase::Applying && !ProcessAlive(s.apply_pid, s.apply_start);
    bool expired = s.phase == ConfirmState::Phase::Pending && BootMs() >= s.deadline_boot_ms;
    if (s.phase != ConfirmState::Phase::Applying && s.phase != ConfirmState::Phase::Pending) return 0;
    if (interrupted || expired) {
      // Take the apply lock as any apply would, and look again under it: a
      // `netdsl confirm` may have come first.
      ApplyLock lock;
      while (!lock.Acquire(LockPathFor(scope), &error)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!LoadConfirm(scope, &s, &error) || s.id != id ||
          (s.phase != ConfirmState::Phase::Applying && s.phase != ConfirmState::Phase::Pending))
        return 0;
      Netlink nl;
      size_t steps = 0;
      std::string reason = s.phase == ConfirmState::Phase::Applying
                               ? "the apply was interrupted; rolled back by its watchdog"
                               : fmt::format("not confirmed by {}; rolled back by the watchdog", UnixText(s.deadline_unix));
      if (!nl.Open(&error) || !Revert(nl, scope, s, reason, &steps, &error)) {
        log("rollback failed: " + error);
        s.reason = "the watchdog could not roll back: " + error;
        SaveConfirm(scope, s, &error);
        return 1;
      }
      log(fmt::format("{}; {} step{} undone", reason, steps, steps == 1 ? "" : "s"));
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace netdsl::runtime
