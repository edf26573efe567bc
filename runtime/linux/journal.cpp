// Lock file (flock + holder) and the framed journal of inverse operations
// (journal.h). Files in the state directory are opened relative to the
// directory, never through a symlink, and must belong to this user.
#include "runtime/linux/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "common/io/atomic_file.h"
#include "common/io/regular_file.h"
#include "common/ndt/format.h"  // Crc32c

namespace netdsl::runtime {

std::string StateDir() {
  const char* env = std::getenv("NETDSL_STATE_DIR");
  return env && *env ? env : "/run/netdsl";
}

std::string LockPathFor(const std::string& scope) { return fmt::format("{}/{}.lock", StateDir(), scope); }
std::string JournalPathFor(const std::string& scope) { return fmt::format("{}/{}.journal", StateDir(), scope); }

namespace {

constexpr std::string_view kMagic = "netdsl-journal 2\n";

std::string NowText() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

/// `path` split into its directory and file name.
std::pair<std::string, std::string> Split(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

/// Why the directory behind `fd` (named `dir`) cannot hold netdsl's state, or "".
std::string DirProblem(int fd, const std::string& dir) {
  struct stat st;
  if (fstat(fd, &st) != 0) return fmt::format("cannot stat `{}`: {}", dir, std::strerror(errno));
  if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
    return fmt::format("the state directory `{}` is owned by uid {}{}; netdsl keeps its lock and journal only in a "
                       "directory that no other user can write (mode 0700, owner uid {})",
                       dir, st.st_uid, (st.st_mode & (S_IWGRP | S_IWOTH)) ? " and writable by others" : "",
                       geteuid());
  return "";
}

/// Opens the state directory `dir` (created 0700 when missing), not through a
/// symlink, and checks its owner and mode. Returns the descriptor or -1.
int OpenStateDir(const std::string& dir, std::string* error) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = fmt::format("cannot create the state directory `{}`: {}", dir, std::strerror(errno));
    return -1;
  }
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    *error = errno == ELOOP || errno == ENOTDIR
                 ? fmt::format("the state directory `{}` is a symbolic link or not a directory; netdsl does not "
                               "follow links for its lock and journal",
                               dir)
                 : fmt::format("cannot open the state directory `{}`: {}", dir, std::strerror(errno));
    return -1;
  }
  if (std::string problem = DirProblem(fd, dir); !problem.empty()) {
    *error = problem;
    close(fd);
    return -1;
  }
  return fd;
}

/// Why the file behind `fd` (named `path`) is not netdsl's own regular file, or "".
std::string FileProblem(int fd, const std::string& path, const char* what) {
  struct stat st;
  if (fstat(fd, &st) != 0) return fmt::format("cannot stat `{}`: {}", path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return fmt::format("the {} `{}` is not a regular file", what, path);
  if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
    return fmt::format("the {} `{}` is owned by uid {} or writable by others; remove it", what, path, st.st_uid);
  return "";
}

/// %XX for spaces, `%`, `=` and control characters: a header value is one word.
std::string HeaderValue(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '%' || c == '=' || c >= 0x7f) {
      out += fmt::format("%{:02X}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool HexDigit(char c, int* v) {
  if (c >= '0' && c <= '9') *v = c - '0';
  else if (c >= 'a' && c <= 'f') *v = c - 'a' + 10;
  else if (c >= 'A' && c <= 'F') *v = c - 'A' + 10;
  else return false;
  return true;
}

bool UnHeaderValue(std::string_view s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out->push_back(s[i]);
      continue;
    }
    int hi, lo;
    if (i + 2 >= s.size() || !HexDigit(s[i + 1], &hi) || !HexDigit(s[i + 2], &lo)) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

template <typename T>
bool Number(std::string_view s, T* v) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

std::string BeginPayload(const JournalHeader& h) {
  return fmt::format("begin host={} netns={}:{} cookie={} boot={} pid={} started={}", HeaderValue(h.host), h.netns.dev,
                     h.netns.ino, h.netns.cookie, HeaderValue(h.boot), h.pid, HeaderValue(h.started));
}

/// Parses a `begin` payload; "" or what is wrong.
std::string ParseBegin(std::string_view p, JournalHeader* h) {
  if (p.rfind("begin", 0) != 0) return "the first record is not `begin`";
  bool host = false, netns = false, boot = false;
  size_t pos = 5;
  while (pos < p.size()) {
    if (p[pos] != ' ') return "malformed `begin` record";
    size_t end = p.find(' ', pos + 1);
    std::string_view field = p.substr(pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1);
    pos = end == std::string_view::npos ? p.size() : end;
    size_t eq = field.find('=');
    if (eq == std::string_view::npos) return "malformed `begin` record";
    std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
    std::string text;
    if (!UnHeaderValue(value, &text)) return fmt::format("malformed `{}` in the `begin` record", key);
    if (key == "host") {
      h->host = text;
      host = true;
    } else if (key == "netns") {
      size_t colon = value.find(':');
      if (colon == std::string_view::npos || !Number(value.substr(0, colon), &h->netns.dev) ||
          !Number(value.substr(colon + 1), &h->netns.ino))
        return "malformed `netns` in the `begin` record";
      netns = true;
    } else if (key == "cookie") {
      if (!Number(value, &h->netns.cookie)) return "malformed `cookie` in the `begin` record";
    } else if (key == "boot") {
      h->boot = text;
      boot = true;
    } else if (key == "pid") {
      if (!Number(value, &h->pid)) return "malformed `pid` in the `begin` record";
    } else if (key == "started") {
      h->started = text;
    }  // unknown keys: written by a later netdsl, not needed to roll back
  }
  if (!host || !netns || !boot) return "the `begin` record lacks `host`, `netns` or `boot`";
  return "";
}

/// Parses a `step` payload into `step`; "" or what is wrong.
std::string ParseStep(std::string_view p, JournalStep* step) {
  size_t eol = p.find('\n');
  std::string_view head = p.substr(0, eol);
  size_t sp = head.find(' ', 5);
  if (!Number(head.substr(5, sp == std::string_view::npos ? std::string_view::npos : sp - 5), &step->number))
    return "malformed `step` record";
  step->label = sp == std::string_view::npos ? "" : std::string(head.substr(sp + 1));
  size_t pos = eol == std::string_view::npos ? p.size() : eol + 1;
  while (pos < p.size()) {
    size_t end = p.find('\n', pos);
    std::string_view line = p.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? p.size() : end + 1;
    if (line.rfind("undo ", 0) != 0) return "malformed line in a `step` record";
    std::optional<Op> op = DecodeOp(std::string(line.substr(5)));
    if (!op) return fmt::format("undecodable operation `{}`", line.substr(5, 80));
    step->inverse.push_back(std::move(*op));
  }
  return "";
}

}  // namespace

bool CheckStateDir(const std::string& dir, std::string* error) {
  int fd = OpenStateDir(dir, error);
  if (fd < 0) return false;
  close(fd);
  return true;
}

bool WriteStateFile(const std::string& path, std::string_view text, std::string* error) {
  if (!CheckStateDir(Split(path).first, error)) return false;
  std::string ignored;
  if (io::WriteFileAtomic(path, text, &ignored, {.mode = 0600, .no_follow = true})) return true;
  *error = fmt::format("cannot write `{}`: {}", path, std::strerror(errno));
  return false;
}

ApplyLock::~ApplyLock() {
  if (fd_ >= 0) close(fd_);  // releases the flock; the file stays (its content is stale but harmless)
}

bool ApplyLock::Acquire(const std::string& path, std::string* error) {
  auto [dir, name] = Split(path);
  int dfd = OpenStateDir(dir, error);
  if (dfd < 0) return false;
  fd_ = openat(dfd, name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
  int saved = errno;
  close(dfd);
  if (fd_ < 0) {
    *error = saved == ELOOP ? fmt::format("the lock `{}` is a symbolic link; netdsl does not follow links; remove it",
                                          path)
                            : fmt::format("cannot open the lock `{}`: {}", path, std::strerror(saved));
    return false;
  }
  if (std::string problem = FileProblem(fd_, path, "lock"); !problem.empty()) {
    *error = problem;
    close(fd_);
    fd_ = -1;
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

std::string Journal::Frame(std::string_view payload) {
  std::string r = fmt::format("R {} {:08x}\n", payload.size(), ndt::Crc32c(payload.data(), payload.size()));
  r.reserve(r.size() + payload.size() + 1);
  r.append(payload);
  r.push_back('\n');
  return r;
}

Journal::~Journal() {
  if (fd_ >= 0) close(fd_);
}

bool Journal::Write(const std::string& text, std::string* error) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write(fd_, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = fmt::format("cannot write the journal `{}`: {}", path_, std::strerror(errno));
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

bool Journal::Begin(const std::string& path, const JournalHeader& header, std::string* error) {
  auto [dir, name] = Split(path);
  int dfd = OpenStateDir(dir, error);
  if (dfd < 0) return false;
  // The `begin` record goes to a temporary file renamed into place: a full
  // disk must not leave an empty journal that later runs would take for an
  // interrupted apply. O_EXCL never follows a symlink; rename replaces one.
  std::string tmp = fmt::format("{}.new-{}", name, getpid());
  unlinkat(dfd, tmp.c_str(), 0);
  int fd = openat(dfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = fmt::format("cannot create the journal `{}/{}`: {}", dir, tmp, std::strerror(errno));
    close(dfd);
    return false;
  }
  fd_ = fd;
  path_ = fmt::format("{}/{}", dir, tmp);
  std::string text(kMagic);
  text += Frame(BeginPayload(header));
  if (!Write(text, error) || renameat(dfd, tmp.c_str(), dfd, name.c_str()) != 0) {
    if (error->empty()) *error = fmt::format("cannot create the journal `{}`: {}", path, std::strerror(errno));
    close(fd_);
    fd_ = -1;
    unlinkat(dfd, tmp.c_str(), 0);
    close(dfd);
    return false;
  }
  close(dfd);
  path_ = path;
  return true;
}

std::string Journal::StepRecord(int number, const Step& step) {
  std::string payload = fmt::format("step {} {}", number, step.label);
  payload.reserve(payload.size() + step.inverse.size() * 64);
  for (const Op& op : step.inverse) {
    payload += "\nundo ";
    AppendEncodedOp(op, &payload);
  }
  return Frame(payload);
}

bool Journal::RecordDone(int number, std::string* error) { return Write(Frame(fmt::format("done {}", number)), error); }

void Journal::Finish() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (!path_.empty()) unlink(path_.c_str());
  path_.clear();
}

void Journal::Keep() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  path_.clear();
}

void RemoveJournal(const std::string& path) { unlink(path.c_str()); }

void RemoveJournalTemporaries(const std::string& path) {
  auto [dir, name] = Split(path);
  std::string unused;
  int dfd = OpenStateDir(dir, &unused);
  if (dfd < 0) return;
  DIR* d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return;
  }
  const std::string prefix = name + ".new-";
  while (dirent* e = readdir(d))
    if (std::string_view(e->d_name).rfind(prefix, 0) == 0) unlinkat(dfd, e->d_name, 0);
  closedir(d);  // closes dfd
}

std::string DiscardJournal(const std::string& path, std::string* error) {
  std::string stamp = NowText();
  std::replace(stamp.begin(), stamp.end(), ':', '-');
  std::string to = fmt::format("{}.discarded-{}", path, stamp);
  if (rename(path.c_str(), to.c_str()) != 0) {
    *error = fmt::format("cannot move `{}` aside: {}", path, std::strerror(errno));
    return "";
  }
  return to;
}

LoadedJournal ParseJournal(std::string_view text, const std::string& path) {
  LoadedJournal j;
  j.status = LoadedJournal::Status::kLoaded;
  auto damaged = [&](uint64_t offset, const std::string& why) {
    j.status = LoadedJournal::Status::kDamaged;
    j.error = fmt::format("the journal `{}` is damaged at byte {}: {}", path, offset, why);
    return j;
  };
  auto torn = [&](uint64_t offset) {
    j.torn_tail = true;
    j.torn_bytes = text.size() - offset;
    return j;
  };
  // The magic line: a prefix of it is a journal torn before its first record.
  if (text.size() < kMagic.size()) {
    if (kMagic.substr(0, text.size()) != text) return damaged(0, "not a netdsl journal of format 2");
    return torn(0);  // cut inside its first line: no step was ever recorded
  }
  if (text.substr(0, kMagic.size()) != kMagic) {
    if (text.rfind("netdsl-journal ", 0) == 0) return damaged(0, "a journal of another format (written by another netdsl version)");
    return damaged(0, "not a netdsl journal");
  }
  size_t pos = kMagic.size();
  bool have_begin = false;
  size_t record = 0;
  while (pos < text.size()) {
    const size_t at = pos;
    ++record;
    // `R LEN CRC\n`: a frame header cut short is a torn tail.
    size_t eol = text.find('\n', pos);
    std::string_view head = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    bool head_ok = head.size() >= 2 && head.substr(0, 2) == "R ";
    if (!head_ok && eol == std::string_view::npos && std::string_view("R ").substr(0, head.size()) == head)
      return torn(at);
    if (!head_ok) return damaged(at, fmt::format("record {} has no frame (`R LEN CRC`)", record));
    size_t sp = head.find(' ', 2);
    uint64_t len = 0;
    uint32_t crc = 0;
    bool len_ok = sp != std::string_view::npos && Number(head.substr(2, sp - 2), &len);
    std::string_view crc_text = sp == std::string_view::npos ? std::string_view() : head.substr(sp + 1);
    bool crc_ok = crc_text.size() == 8 && crc_text.find_first_not_of("0123456789abcdef") == std::string_view::npos &&
                  std::from_chars(crc_text.data(), crc_text.data() + 8, crc, 16).ptr == crc_text.data() + 8;
    if (eol == std::string_view::npos) {
      // The header line itself is incomplete: torn, as long as what is there could start a valid one.
      bool could_be = head.find_first_not_of("R 0123456789abcdef") == std::string_view::npos;
      if (!could_be) return damaged(at, fmt::format("record {} has a malformed frame", record));
      return torn(at);
    }
    if (!len_ok || !crc_ok || len > kMaxJournalBytes) return damaged(at, fmt::format("record {} has a malformed frame", record));
    pos = eol + 1;
    if (text.size() - pos < len + 1) return torn(at);
    std::string_view payload = text.substr(pos, len);
    if (text[pos + len] != '\n') return damaged(at, fmt::format("record {} does not end where its frame says", record));
    if (ndt::Crc32c(payload.data(), payload.size()) != crc)
      return damaged(at, fmt::format("record {} fails its checksum", record));
    pos += len + 1;
    if (!have_begin) {
      if (std::string why = ParseBegin(payload, &j.header); !why.empty()) return damaged(at, why);
      have_begin = true;
    } else if (payload.rfind("step ", 0) == 0) {
      JournalStep step;
      if (std::string why = ParseStep(payload, &step); !why.empty())
        return damaged(at, fmt::format("record {}: {}", record, why));
      j.steps.push_back(std::move(step));
    } else if (payload.rfind("done ", 0) == 0) {
      int n = 0;
      if (!Number(payload.substr(5), &n)) return damaged(at, fmt::format("record {}: malformed `done`", record));
      for (JournalStep& s : j.steps)
        if (s.number == n) s.done = true;
    } else {
      return damaged(at, fmt::format("record {} is of an unknown kind", record));
    }
  }
  if (!have_begin) return torn(pos);  // only the first line: nothing was ever recorded
  return j;
}

LoadedJournal LoadJournal(const std::string& path) {
  LoadedJournal j;
  std::string text, why;
  io::OpenOptions options;
  options.max_size = kMaxJournalBytes;
  options.what = "journal";
  options.no_follow = true;
  options.owned_by_me = true;
  if (!io::ReadRegularFile(path, options, &text, &why)) {
    if (errno == ENOENT) return j;
    j.status = LoadedJournal::Status::kDamaged;
    j.error = fmt::format("cannot read the journal `{}`: {}", path, why);
    return j;
  }
  return ParseJournal(text, path);
}

}  // namespace netdsl::runtime
