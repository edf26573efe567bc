// Lock file (flock + holder) and journal of inverse operations (see journal.h on why no fsync).
#include "runtime/linux/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "common/io/regular_file.h"

#include <fmt/format.h>

namespace netdsl::runtime {

std::string StateDir() {
  const char* env = std::getenv("NETDSL_STATE_DIR");
  return env && *env ? env : "/run/netdsl";
}

std::string LockPathFor(const std::string& scope) { return fmt::format("{}/{}.lock", StateDir(), scope); }
std::string JournalPathFor(const std::string& scope) { return fmt::format("{}/{}.journal", StateDir(), scope); }

namespace {

/// Creates the directory of `path`.
bool EnsureDir(const std::string& path, std::string* error) {
  std::string dir = path.substr(0, path.rfind('/'));
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = fmt::format("cannot create `{}`: {}", dir, std::strerror(errno));
    return false;
  }
  return true;
}

/// This boot's id: a journal from another boot describes a kernel state that is gone.
std::string BootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

std::string NowText() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

ApplyLock::~ApplyLock() {
  if (fd_ >= 0) close(fd_);  // releases the flock; the file stays (its content is stale but harmless)
}

bool ApplyLock::Acquire(const std::string& path, std::string* error) {
  if (!EnsureDir(path, error)) return false;
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    *error = fmt::format("cannot open the lock `{}`: {}", path, std::strerror(errno));
    return false;
  }
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[256] = {};
    ssize_t n = pread(fd_, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, n) : "unknown holder";
    holder = holder.substr(0, holder.find('\n'));  // an older, longer holder line may follow
    while (!holder.empty() && holder.back() == ' ') holder.pop_back();
    *error = fmt::format("another `netdsl apply` holds `{}` ({}); wait for it to finish", path, holder);
    close(fd_);
    fd_ = -1;
    return false;
  }
  // Padded to a fixed size instead of truncating first: on a disk-backed
  // state directory, truncation waits for the blocks to be discarded.
  std::string who = fmt::format("pid {} started {}", getpid(), NowText());
  who.resize(std::max<size_t>(who.size(), 95), ' ');
  who += '\n';
  (void)!pwrite(fd_, who.data(), who.size(), 0);
  return true;
}

Journal::~Journal() {
  if (fd_ >= 0) close(fd_);
}

bool Journal::WriteAll(const std::string& text, std::string* error) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write(fd_, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = fmt::format("cannot write the journal `{}`: {}", path_, std::strerror(errno));
      return false;
    }
    off += n;
  }
  return true;
}

bool Journal::Begin(const std::string& path, const std::string& host, std::string* error) {
  if (!EnsureDir(path, error)) return false;
  path_ = path;
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    *error = fmt::format("cannot create the journal `{}`: {}", path_, std::strerror(errno));
    return false;
  }
  if (!WriteAll(fmt::format("netdsl-journal 1 host={} pid={} started={} boot={}\n", host, getpid(), NowText(), BootId()),
                error))
    return false;
  return true;
}

std::string Journal::StepRecord(int number, const Step& step) {
  std::string text = fmt::format("step {} {}\n", number, step.label);
  text.reserve(text.size() + step.inverse.size() * 64);
  for (const Op& op : step.inverse) {
    text += "undo ";
    AppendEncodedOp(op, &text);
    text += '\n';
  }
  text += fmt::format("ready {}\n", number);
  return text;
}

bool Journal::RecordDone(int number, std::string* error) {
  return WriteAll(fmt::format("done {}\n", number), error);
}

void Journal::Finish() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (!path_.empty()) unlink(path_.c_str());
}

void Journal::Remove(const std::string& path) { unlink(path.c_str()); }

bool Journal::Load(const std::string& path, std::string* header, std::vector<JournalStep>* steps,
                   std::string* error, bool* stale) {
  // A regular file within the limit: a FIFO would block with the lock held.
  std::string text, why;
  io::OpenOptions options;
  options.max_size = kMaxJournalBytes;
  options.what = "journal";
  if (!io::ReadRegularFile(path, options, &text, &why)) {
    if (errno == ENOENT) return false;
    *error = fmt::format("cannot read the journal `{}`: {}; it would hold the undo of an interrupted apply: "
                         "remove it once you know the host is as it should be",
                         path, why);
    return true;
  }
  std::istringstream in(text);
  std::string line;
  std::getline(in, *header);
  if (size_t at = header->find(" boot="); at != std::string::npos) {
    std::string boot = header->substr(at + 6, header->find(' ', at + 6) - at - 6);
    if (std::string now = BootId(); !now.empty() && boot != now) {
      if (stale) *stale = true;
      return false;
    }
  }
  JournalStep cur;
  bool open_step = false;
  while (std::getline(in, line)) {
    if (line.rfind("step ", 0) == 0) {
      cur = JournalStep();
      cur.number = std::atoi(line.c_str() + 5);
      size_t sp = line.find(' ', 5);
      cur.label = sp == std::string::npos ? "" : line.substr(sp + 1);
      open_step = true;
    } else if (line.rfind("undo ", 0) == 0 && open_step) {
      if (auto op = DecodeOp(line.substr(5))) cur.inverse.push_back(*op);
      else *error = fmt::format("journal `{}` has an unreadable line: {}", path, line);
    } else if (line.rfind("ready ", 0) == 0 && open_step) {
      // Only a fully written (and synced) record counts; a torn one means
      // the step never started.
      steps->push_back(cur);
      open_step = false;
    } else if (line.rfind("done ", 0) == 0) {
      int n = std::atoi(line.c_str() + 5);
      for (JournalStep& s : *steps)
        if (s.number == n) s.done = true;
    }
  }
  return true;
}

}  // namespace netdsl::runtime
