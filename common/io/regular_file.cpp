// Regular files only, within a size limit (see regular_file.h).
#include "common/io/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace netdsl::io {
namespace {

const char* KindOf(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a file";
}

}  // namespace

std::string SizeText(uint64_t bytes) {
  char buf[32];
  if (bytes >= (1ull << 30) && bytes % (1ull << 30))
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  else if (bytes >= (1ull << 30))
    std::snprintf(buf, sizeof buf, "%llu GiB", static_cast<unsigned long long>(bytes >> 30));
  else if (bytes >= (1ull << 20))
    std::snprintf(buf, sizeof buf, "%llu MiB", static_cast<unsigned long long>(bytes >> 20));
  else if (bytes >= (1ull << 10))
    std::snprintf(buf, sizeof buf, "%llu KiB", static_cast<unsigned long long>(bytes >> 10));
  else
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  return buf;
}

int OpenRegularFile(const std::string& path, const OpenOptions& o, uint64_t* size, std::string* error) {
  int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (o.no_follow ? O_NOFOLLOW : 0);
  int fd = ::openat(o.dir_fd >= 0 ? o.dir_fd : AT_FDCWD, path.c_str(), flags);
  if (fd < 0) {
    int e = errno;
    if (e == ELOOP && o.no_follow)
      *error = std::string("a symbolic link; netdsl does not follow links for its ") + o.what;
    else
      *error = std::strerror(e);
    errno = e;
    return -1;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    *error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = std::string("not a regular file (") + KindOf(st.st_mode) + "); a " + o.what + " must be one";
    ::close(fd);
    errno = EINVAL;
    return -1;
  }
  if (o.owned_by_me && (st.st_uid != ::geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
    *error = "owned by uid " + std::to_string(st.st_uid) +
             ((st.st_mode & (S_IWGRP | S_IWOTH)) ? " and writable by others" : "") + "; netdsl trusts its " +
             o.what + " only when only its own user (uid " + std::to_string(::geteuid()) + ") can write it";
    ::close(fd);
    errno = EPERM;
    return -1;
  }
  uint64_t n = static_cast<uint64_t>(st.st_size);
  if (o.max_size && n > o.max_size) {
    *error = SizeText(n) + ", above the limit of " + SizeText(o.max_size) + " for a " + o.what;
    ::close(fd);
    errno = EFBIG;
    return -1;
  }
  // Back to blocking reads (a regular file never blocks, but keep the usual semantics).
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  if (size) *size = n;
  return fd;
}

bool ReadRegularFile(const std::string& path, const OpenOptions& o, std::string* out, std::string* error) {
  uint64_t size = 0;
  int fd = OpenRegularFile(path, o, &size, error);
  if (fd < 0) return false;
  // One buffer of the file's size (and a byte to see the end); a file that
  // grows while read grows it, up to one byte past the limit.
  const uint64_t cap = o.max_size ? o.max_size + 1 : UINT64_MAX;
  out->resize(static_cast<size_t>(size + 1));
  size_t used = 0;
  for (;;) {
    if (used == out->size()) {
      if (used >= cap) {
        *error = "grew above the limit of " + SizeText(o.max_size) + " for a " + o.what + " while it was read";
        ::close(fd);
        return false;
      }
      out->resize(static_cast<size_t>(std::min<uint64_t>(cap, std::max<size_t>(out->size() * 2, 1 << 16))));
    }
    ssize_t got = ::read(fd, out->data() + used, out->size() - used);
    if (got == 0) break;
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      *error = std::strerror(errno);
      ::close(fd);
      return false;
    }
    used += static_cast<size_t>(got);
  }
  ::close(fd);
  out->resize(used);
  return true;
}

}  // namespace netdsl::io
