// Crash-safe file output (see atomic_file.h).
#include "common/io/atomic_file.h"


#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

namespace netdsl::io {
namespace {

bool Fail(std::string* error, const std::string& path, int err) {
  if (error) *error = path + ": " + std::strerror(err);
  return false;
}

std::string ParentOf(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(size_t(n));
  }
  return true;
}

bool FsyncDirectory(const std::string& dir, std::string* error) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Fail(error, dir, errno);
  if (::fsync(fd) != 0 && errno != EINVAL) {
    int err = errno;
    ::close(fd);
    return Fail(error, dir, err);
  }
  ::close(fd);
  return true;
}

bool WriteFileAtomic(const std::string& path, std::string_view data, std::string* error,
                     const AtomicWriteOptions& options) {
  const std::string dir = ParentOf(path);
  const std::string name = std::filesystem::path(path).filename().string();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (options.no_follow ? O_NOFOLLOW : 0));
  if (dfd < 0) {
    int err = errno;
    Fail(error, path, err);
    errno = err;
    return false;
  }
  auto fail = [&](int err, const std::string& tmp) {
    if (!tmp.empty()) ::unlinkat(dfd, tmp.c_str(), 0);
    ::close(dfd);
    errno = err;
    Fail(error, path, err);
    errno = err;
    return false;
  };
  // One rule for every caller: a fresh name, created exclusively, never
  // through a symlink; a name taken (a leftover, or planted) is skipped.
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
    uint64_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
      r = (static_cast<uint64_t>(::getpid()) << 32) ^ static_cast<uint64_t>(attempt) ^ reinterpret_cast<uintptr_t>(&r);
    static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    tmp = "." + name + ".tmp.";
    for (int i = 0; i < 6; ++i, r /= 62) tmp += kChars[r % 62];
    fd = ::openat(dfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, options.mode & 07777);
    if (fd < 0 && errno != EEXIST) return fail(errno, "");
  }
  if (fd < 0) return fail(EEXIST, "");
  auto abandon = [&](int err) {
    ::close(fd);
    return fail(err, tmp);
  };
  if (::fchmod(fd, options.mode & 07777) != 0) return abandon(errno);
  if (!WriteAll(fd, data)) return abandon(errno);
  if (::fsync(fd) != 0) return abandon(errno);
  if (::close(fd) != 0) return fail(errno, tmp);
  if (::renameat(dfd, tmp.c_str(), dfd, name.c_str()) != 0) return fail(errno, tmp);
  if (::fsync(dfd) != 0 && errno != EINVAL) return fail(errno, "");
  ::close(dfd);
  return true;
}

bool WriteFileUnsynced(const std::string& path, std::string_view data, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(error, path, errno);
  if (!WriteAll(fd, data)) {
    int err = errno;
    ::close(fd);
    return Fail(error, path, err);
  }
  if (::close(fd) != 0) return Fail(error, path, errno);
  return true;
}

bool SyncFilesystem(const std::string& path, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(error, path, errno);
  if (::syncfs(fd) != 0) {
    int err = errno;
    ::close(fd);
    return Fail(error, path, err);
  }
  ::close(fd);
  return true;
}

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(error, path, errno);
  // Straight into the string, sized by fstat (a 100 MB lock or source is one
  // read, not 1,600 appends); a file that grows meanwhile is read to its end.
  struct stat st;
  size_t have = 0;
  out->clear();
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) out->resize(size_t(st.st_size) + 1);
  for (;;) {
    if (have == out->size()) out->resize(std::max<size_t>(2 * out->size(), size_t(1) << 16));
    ssize_t n = ::read(fd, out->data() + have, out->size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      out->clear();
      return Fail(error, path, err);
    }
    if (n == 0) break;
    have += size_t(n);
  }
  out->resize(have);
  ::close(fd);
  return true;
}

bool MakeTempDirectory(const std::string& parent, const std::string& prefix, std::string* path,
                       std::string* error) {
  std::string tmpl = parent + "/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) return Fail(error, tmpl, errno);
  *path = buf.data();
  return true;
}

bool ReplaceDirectory(const std::string& staging, const std::string& target, bool* exchanged,
                      std::string* error) {
  *exchanged = false;
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0) {
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
      *exchanged = true;
    } else if (errno == EINVAL || errno == ENOSYS) {
      // Filesystem without RENAME_EXCHANGE: move the old tree aside, then rename.
      std::string aside = staging + ".old";
      if (::rename(target.c_str(), aside.c_str()) != 0) return Fail(error, target, errno);
      if (::rename(staging.c_str(), target.c_str()) != 0) {
        int err = errno;
        ::rename(aside.c_str(), target.c_str());
        return Fail(error, target, err);
      }
      if (::rename(aside.c_str(), staging.c_str()) != 0) return Fail(error, staging, errno);
      *exchanged = true;
    } else {
      return Fail(error, target, errno);
    }
  } else if (::rename(staging.c_str(), target.c_str()) != 0) {
    return Fail(error, target, errno);
  }
  return FsyncDirectory(ParentOf(target), error);
}

bool RemoveTree(const std::string& path, std::string* error) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    if (error) *error = path + ": " + ec.message();
    return false;
  }
  return true;
}

}  // namespace netdsl::io
