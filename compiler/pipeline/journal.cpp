// JournaledOutput and RecoverCommit (see journal.h): every file operation is
// relative to a directory descriptor opened below OUT without following
// symbolic links.
#include "compiler/pipeline/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "common/io/atomic_file.h"
#include "common/io/sha256.h"

namespace netdsl::pipeline {
namespace {

constexpr const char* kCacheDir = ".netdsl-cache";
constexpr const char* kCommitDir = "commit";
constexpr const char* kJournal = "journal";
constexpr const char* kJournalTemp = "journal.tmp";
constexpr std::string_view kMagic = "netdsl commit journal 1\n";
constexpr std::string_view kEnd = "end ";

/// Test hook: _exit(9) when this is step N of `variable` (NETDSL_TEST_KILL_COMMIT
/// counts WriteFile and Commit, NETDSL_TEST_KILL_RECOVER RecoverCommit).
void Step(const char* variable, std::atomic<int>& counter) {
  const char* value = std::getenv(variable);
  if (!value) return;
  if (++counter == std::atoi(value)) _exit(9);
}
std::atomic<int> commit_steps{0}, recover_steps{0};
void CommitStep() { Step("NETDSL_TEST_KILL_COMMIT", commit_steps); }
void RecoverStep() { Step("NETDSL_TEST_KILL_RECOVER", recover_steps); }

/// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

bool Fail(std::string* error, const std::string& what, int err) {
  if (error) *error = what + ": " + std::strerror(err);
  return false;
}

/// A directory below `dir`, never through a symbolic link.
Fd OpenDir(int dir, const std::string& name) {
  return Fd(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

bool Sync(int fd, std::string* error, const std::string& what) {
  if (::fsync(fd) != 0 && errno != EINVAL) return Fail(error, what, errno);
  return true;
}

/// Creates `name` in `dir` exclusively (never an existing file or a planted
/// symlink), writes `data` and fsyncs it.
bool WriteNew(int dir, const std::string& name, std::string_view data, std::string* error, const std::string& what) {
  Fd fd(::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return Fail(error, what, errno);
  if (::fchmod(fd.get(), 0644) != 0 || !io::WriteAll(fd.get(), data) || ::fsync(fd.get()) != 0) {
    int err = errno;
    ::unlinkat(dir, name.c_str(), 0);
    return Fail(error, what, err);
  }
  return true;
}

/// The components of a path relative to OUT, or nullopt (with *error) when it
/// is empty, absolute, has an empty, `.` or `..` component, a NUL, or lies in
/// the commit directory.
std::optional<std::vector<std::string>> Components(const std::string& path, std::string* error) {
  std::vector<std::string> parts;
  size_t start = 0;
  bool ok = !path.empty() && path.find('\0') == std::string::npos;
  while (ok) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    ok = !part.empty() && part != "." && part != "..";
    parts.push_back(std::move(part));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (ok && parts.size() >= 2 && parts[0] == kCacheDir && parts[1] == kCommitDir) ok = false;
  if (!ok) {
    if (error)
      *error = "`" + path + "` is not a path inside the output directory (relative, without `.`, `..` or "
               "empty components, not in " + kCacheDir + "/" + kCommitDir + ")";
    return std::nullopt;
  }
  return parts;
}

/// The directory holding parts.back(), opened component by component below
/// `root` without following symbolic links; missing ones are created when
/// `create` (each new one made durable in its parent). An invalid Fd with
/// errno ENOENT when a component is missing and !create.
Fd OpenParent(int root, const std::vector<std::string>& parts, bool create, std::string* error,
              const std::string& what) {
  Fd dir(::dup(root));
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    Fd next = OpenDir(dir.get(), parts[i]);
    if (!next && errno == ENOENT && create) {
      if (::mkdirat(dir.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
        Fail(error, what, errno);
        return Fd();
      }
      if (!Sync(dir.get(), error, what)) return Fd();
      next = OpenDir(dir.get(), parts[i]);
    }
    if (!next) {
      int err = errno;
      if (err == ELOOP || err == ENOTDIR)
        *error = what + ": `" + parts[i] + "` is a symbolic link or not a directory; refusing to write through it";
      else
        Fail(error, what, err);
      errno = err;
      return Fd();
    }
    dir = std::move(next);
  }
  return dir;
}

/// `%XX` for bytes that would break a journal line (controls, space, `%`, DEL).
std::string Encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '%') {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> Decode(std::string_view s) {
  std::string out;
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return std::nullopt;
    out += char(hex(s[i + 1]) * 16 + hex(s[i + 2]));
    i += 2;
  }
  return out;
}

struct Entry {
  std::string relative_path;
  std::string temporary;  ///< empty = delete
};

/// The journal's text: magic, `W TEMP PATH` / `D PATH` lines in apply order,
/// `end SHA256` of everything before it.
std::string JournalText(const std::vector<Entry>& entries) {
  std::string text(kMagic);
  for (const Entry& e : entries)
    text += e.temporary.empty() ? "D " + Encode(e.relative_path) + "\n"
                                : "W " + e.temporary + " " + Encode(e.relative_path) + "\n";
  text += std::string(kEnd) + io::Sha256Hex(text) + "\n";
  return text;
}

std::optional<std::vector<Entry>> ParseJournal(std::string_view text) {
  if (text.substr(0, kMagic.size()) != kMagic || text.size() < kEnd.size() + 65 || text.back() != '\n')
    return std::nullopt;
  size_t end_line = text.rfind('\n', text.size() - 2) + 1;
  std::string_view body = text.substr(0, end_line);
  if (text.substr(end_line) != std::string(kEnd) + io::Sha256Hex(body) + "\n") return std::nullopt;
  std::vector<Entry> entries;
  for (size_t pos = kMagic.size(); pos < end_line;) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    Entry e;
    std::string_view path;
    if (line.substr(0, 2) == "D ") {
      path = line.substr(2);
    } else if (line.substr(0, 2) == "W ") {
      size_t space = line.find(' ', 2);
      if (space == std::string_view::npos) return std::nullopt;
      e.temporary = std::string(line.substr(2, space - 2));
      // Temporaries are `t<N>` (JournaledOutput::WriteFile).
      if (e.temporary.size() < 2 || e.temporary[0] != 't' ||
          e.temporary.find_first_not_of("0123456789", 1) != std::string::npos)
        return std::nullopt;
      path = line.substr(space + 1);
    } else {
      return std::nullopt;
    }
    auto decoded = Decode(path);
    if (!decoded) return std::nullopt;
    e.relative_path = std::move(*decoded);
    entries.push_back(std::move(e));
  }
  return entries;
}

/// Removes the directories of `parts` that the deletion left empty, deepest
/// first, never OUT itself.
void PruneEmptyParents(int root, std::vector<std::string> parts) {
  while (parts.size() > 1) {
    parts.pop_back();
    std::string dummy;
    Fd parent = OpenParent(root, parts, false, &dummy, "");
    if (!parent || ::unlinkat(parent.get(), parts.back().c_str(), AT_REMOVEDIR) != 0) return;
    ::fsync(parent.get());
  }
}

/// Puts every entry in place, in order; idempotent (a temporary already
/// renamed is gone, a deleted file is missing), so a killed roll-forward is
/// finished by the next one. `step` is the test hook.
bool Apply(int root, int commit, const std::vector<Entry>& entries, const std::string& out, void (*step)(),
           std::string* error) {
  for (const Entry& e : entries) {
    const std::string what = out + "/" + e.relative_path;
    auto parts = Components(e.relative_path, error);
    if (!parts) return false;
    Fd parent = OpenParent(root, *parts, !e.temporary.empty(), error, what);
    if (!parent) {
      if (e.temporary.empty() && errno == ENOENT) continue;  // nothing to delete
      return false;
    }
    if (!e.temporary.empty()) {
      if (::renameat(commit, e.temporary.c_str(), parent.get(), parts->back().c_str()) != 0) {
        if (errno != ENOENT) return Fail(error, what, errno);
        // Renamed by the run that was killed: only then is the temporary gone.
      }
    } else if (::unlinkat(parent.get(), parts->back().c_str(), 0) != 0 && errno != ENOENT) {
      return Fail(error, what, errno);
    }
    if (!Sync(parent.get(), error, what)) return false;
    if (e.temporary.empty()) PruneEmptyParents(root, *parts);
    step();
  }
  return true;
}

/// Removes everything in the commit directory and the directory itself.
bool RemoveCommitDirectory(int cache, int commit, const std::string& out, std::string* error) {
  Fd copy(::dup(commit));
  DIR* d = copy ? ::fdopendir(copy.get()) : nullptr;
  if (!d) return Fail(error, out + "/" + kCacheDir + "/" + kCommitDir, errno);
  copy.release();
  std::vector<std::string> names;
  while (dirent* ent = ::readdir(d))
    if (std::strcmp(ent->d_name, ".") != 0 && std::strcmp(ent->d_name, "..") != 0) names.emplace_back(ent->d_name);
  ::closedir(d);
  for (const std::string& name : names)
    if (::unlinkat(commit, name.c_str(), 0) != 0 && errno != ENOENT)
      return Fail(error, out + "/" + kCacheDir + "/" + kCommitDir + "/" + name, errno);
  if (::unlinkat(cache, kCommitDir, AT_REMOVEDIR) != 0 && errno != ENOENT)
    return Fail(error, out + "/" + kCacheDir + "/" + kCommitDir, errno);
  return Sync(cache, error, out + "/" + kCacheDir);
}

/// RecoverCommit with OUT/.netdsl-cache open and locked.
bool RecoverLocked(int root, int cache, const std::string& out, std::string* error) {
  const std::string commit_path = out + "/" + kCacheDir + "/" + kCommitDir;
  Fd commit = OpenDir(cache, kCommitDir);
  if (!commit) {
    if (errno == ENOENT) return true;
    return Fail(error, commit_path + " (not a directory, or a symbolic link)", errno);
  }
  Fd journal(::openat(commit.get(), kJournal, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!journal) {
    if (errno != ENOENT) return Fail(error, commit_path + "/" + kJournal, errno);
    // Killed before the commit point: OUT still has the old files.
    RecoverStep();
    return RemoveCommitDirectory(cache, commit.get(), out, error);
  }
  std::string text;
  char buffer[65536];
  for (ssize_t n; (n = ::read(journal.get(), buffer, sizeof buffer)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(error, commit_path + "/" + kJournal, errno);
    }
    text.append(buffer, size_t(n));
  }
  auto entries = ParseJournal(text);
  if (!entries) {
    *error = commit_path + "/" + kJournal +
             " is damaged (it is written whole and renamed into place, so the disk or someone changed it): "
             "the output may mix two builds; remove " + out + " and build again";
    return false;
  }
  if (!Apply(root, commit.get(), *entries, out, RecoverStep, error)) return false;
  if (::unlinkat(commit.get(), kJournal, 0) != 0) return Fail(error, commit_path + "/" + kJournal, errno);
  RecoverStep();
  return RemoveCommitDirectory(cache, commit.get(), out, error);
}

/// Opens OUT (following a symlink the user named) and OUT/.netdsl-cache (not
/// following one; created when `create`), and locks the latter.
bool OpenAndLock(const std::string& out, bool create, Fd* root, Fd* cache, std::string* error) {
  *root = Fd(::open(out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!*root) return Fail(error, out, errno);
  *cache = OpenDir(root->get(), kCacheDir);
  if (!*cache && errno == ENOENT && create) {
    if (::mkdirat(root->get(), kCacheDir, 0755) != 0 && errno != EEXIST)
      return Fail(error, out + "/" + kCacheDir, errno);
    if (!Sync(root->get(), error, out)) return false;
    *cache = OpenDir(root->get(), kCacheDir);
  }
  if (!*cache) return Fail(error, out + "/" + kCacheDir + " (not a directory, or a symbolic link)", errno);
  while (::flock(cache->get(), LOCK_EX) != 0)
    if (errno != EINTR) return Fail(error, out + "/" + kCacheDir, errno);
  return true;
}

}  // namespace

bool RecoverCommit(const std::string& out, std::string* error) {
  Fd probe(::open(out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!probe) return errno == ENOENT || errno == ENOTDIR ? true : Fail(error, out, errno);
  Fd cache_probe = OpenDir(probe.get(), kCacheDir);
  if (!cache_probe && errno == ENOENT) return true;
  Fd root, cache;
  if (!OpenAndLock(out, false, &root, &cache, error)) return false;
  return RecoverLocked(root.get(), cache.get(), out, error);
}

JournaledOutput::~JournaledOutput() { Abort(); }

bool JournaledOutput::Begin(std::string* error) {
  Fd root, cache;
  if (!OpenAndLock(out_, true, &root, &cache, error)) return false;
  struct stat st;
  if (::fstatat(root.get(), "manifest.json", &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
    *error = out_ + ": not a netdslc build output (no manifest.json); an in-place commit needs one";
    return false;
  }
  if (!RecoverLocked(root.get(), cache.get(), out_, error)) return false;
  const std::string commit_path = out_ + "/" + kCacheDir + "/" + kCommitDir;
  if (::mkdirat(cache.get(), kCommitDir, 0700) != 0) return Fail(error, commit_path, errno);
  Fd commit = OpenDir(cache.get(), kCommitDir);
  if (!commit) return Fail(error, commit_path, errno);
  if (!Sync(cache.get(), error, out_ + "/" + kCacheDir)) return false;
  out_fd_ = root.release();
  cache_fd_ = cache.release();
  commit_fd_ = commit.release();
  return true;
}

bool JournaledOutput::ParentsAreDirectories(const std::string& relative_path, std::string* error) const {
  auto parts = Components(relative_path, error);
  if (!parts) return false;
  // Refused now rather than past the commit point; Apply checks again.
  Fd parent = OpenParent(out_fd_, *parts, false, error, out_ + "/" + relative_path);
  return parent || errno == ENOENT;
}

bool JournaledOutput::Add(Change change, std::string* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Change& c : changes_)
    if (c.relative_path == change.relative_path) {
      *error = out_ + "/" + change.relative_path + ": written or removed twice in one commit";
      return false;
    }
  changes_.push_back(std::move(change));
  return true;
}

bool JournaledOutput::WriteFile(const std::string& relative_path, std::string_view data, ArtifactRecord* record,
                                std::string* error) {
  if (commit_fd_ < 0 || done_) {
    *error = out_ + ": the commit is not open";
    return false;
  }
  if (!ParentsAreDirectories(relative_path, error)) return false;
  std::string temporary;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    temporary = "t" + std::to_string(temporaries_++);
  }
  if (!WriteNew(commit_fd_, temporary, data, error, out_ + "/" + relative_path)) return false;
  if (!Add({relative_path, temporary}, error)) return false;
  if (record) *record = ArtifactRecord{relative_path, io::Sha256Hex(data), data.size()};
  CommitStep();
  return true;
}

bool JournaledOutput::Remove(const std::string& relative_path, std::string* error) {
  if (commit_fd_ < 0 || done_) {
    *error = out_ + ": the commit is not open";
    return false;
  }
  if (!ParentsAreDirectories(relative_path, error)) return false;
  return Add({relative_path, ""}, error);
}

bool JournaledOutput::Commit(std::string* error) {
  if (commit_fd_ < 0 || done_) {
    *error = out_ + ": the commit is not open";
    return false;
  }
  // Apply order: new files, deletions, manifest.json last (readers trust what it lists).
  std::vector<Entry> entries;
  for (int pass = 0; pass < 3; ++pass)
    for (const Change& c : changes_) {
      bool manifest = c.relative_path == "manifest.json";
      int want = manifest ? 2 : c.temporary.empty() ? 1 : 0;
      if (want == pass) entries.push_back({c.relative_path, c.temporary});
    }
  const std::string commit_path = out_ + "/" + kCacheDir + "/" + kCommitDir;
  if (!Sync(commit_fd_, error, commit_path)) return false;
  CommitStep();
  if (!WriteNew(commit_fd_, kJournalTemp, JournalText(entries), error, commit_path + "/" + kJournalTemp))
    return false;
  CommitStep();
  if (::renameat(commit_fd_, kJournalTemp, commit_fd_, kJournal) != 0)
    return Fail(error, commit_path + "/" + kJournal, errno);
  CommitStep();
  if (!Sync(commit_fd_, error, commit_path)) return false;
  CommitStep();
  // Past the commit point: a failure leaves the journal for RecoverCommit.
  done_ = true;
  auto past = [&](std::string* e) {
    *e += " (the commit is recorded: the next build into " + out_ + " finishes it)";
    Abort();  // releases the lock, keeps the journal
    return false;
  };
  if (!Apply(out_fd_, commit_fd_, entries, out_, CommitStep, error)) return past(error);
  if (::unlinkat(commit_fd_, kJournal, 0) != 0) {
    Fail(error, commit_path + "/" + kJournal, errno);
    return past(error);
  }
  CommitStep();
  if (!RemoveCommitDirectory(cache_fd_, commit_fd_, out_, error)) return past(error);
  CommitStep();
  Abort();  // closes the descriptors (nothing left to remove)
  return true;
}

void JournaledOutput::Abort() {
  if (commit_fd_ >= 0 && !done_) {
    std::string ignored;
    RemoveCommitDirectory(cache_fd_, commit_fd_, out_, &ignored);
  }
  done_ = true;
  for (int* fd : {&commit_fd_, &cache_fd_, &out_fd_})
    if (*fd >= 0) ::close(std::exchange(*fd, -1));
}

}  // namespace netdsl::pipeline
