// Opening files that must be regular files of bounded size (plans, journals,
// table images): a FIFO, a device or an oversized file is refused at once
// instead of blocking in open() or read() or filling memory. POSIX + std only.
#pragma once

#include <cstdint>
#include <string>

namespace netdsl::io {

struct OpenOptions {
  uint64_t max_size = 0;   ///< 0 = no limit
  const char* what = "file";  ///< for messages: "plan", "journal", "table image"
  bool no_follow = false;  ///< refuse a symlink as the last component (O_NOFOLLOW)
  int dir_fd = -1;         ///< open relative to this directory (openat); -1 = the cwd
  /// Refuse unless owned by this process's effective user and not writable
  /// by group or others (files in a state directory root relies on).
  bool owned_by_me = false;
};

/// Opens `path` read-only (O_NONBLOCK while opening, so a FIFO cannot block,
/// then cleared) and checks that it is a regular file within the limit.
/// Returns the descriptor (close-on-exec), or -1 with `*error` saying what is
/// wrong, as a clause for "`PATH`: ..." ("No such file or directory", "not a
/// regular file (a FIFO); a plan must be one", "2.0 GiB, above the limit of
/// 256 MiB for a plan"). `*size` receives the file's size.
int OpenRegularFile(const std::string& path, const OpenOptions& options, uint64_t* size, std::string* error);

/// Reads a whole file opened with OpenRegularFile (up to the size fstat gave
/// plus whatever it grew by, still within `max_size`).
bool ReadRegularFile(const std::string& path, const OpenOptions& options, std::string* out, std::string* error);

/// "2.0 GiB", "256 MiB", "12 KiB", "100 bytes".
std::string SizeText(uint64_t bytes);

}  // namespace netdsl::io
