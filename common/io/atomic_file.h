// Crash-safe file output: write a temp file beside the target, fsync, rename
// into place, fsync the directory; plus whole-directory replacement. POSIX +
// std only, so the runtime can use it too.
#pragma once

#include <string>
#include <string_view>

namespace netdsl::io {

struct AtomicWriteOptions {
  unsigned mode = 0644;  ///< the new file's permission bits (not reduced by the umask)
  /// Refuse a parent directory that is a symbolic link (ELOOP): for files in
  /// a directory whose owner and mode the caller checked (the runtime's state).
  bool no_follow = false;
};

/// Replaces `path` atomically with `data`: readers see the old or the new
/// content, never a mix, and the new content survives a crash once this
/// returns true. The temporary file (`.NAME.tmp.XXXXXX` beside `path`) is
/// always created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW: never an existing
/// file or a symlink planted under its name), written, fsynced and renamed
/// over `path`; then the directory is fsynced. On failure returns false,
/// leaves `path` untouched, sets `*error` to "<path>: <strerror>" and leaves
/// the cause in `errno`.
bool WriteFileAtomic(const std::string& path, std::string_view data, std::string* error,
                     const AtomicWriteOptions& options = {});

/// Writes all of `data` to `fd` (retrying short writes and EINTR); false with errno set.
bool WriteAll(int fd, std::string_view data);

/// Creates or truncates `path` and writes `data` without fsync (mode 0644):
/// for files in a staging directory that SyncFilesystem() flushes as a whole.
bool WriteFileUnsynced(const std::string& path, std::string_view data, std::string* error);

/// Flushes every dirty page of the file system holding `path` (syncfs): one
/// call instead of an fsync per file when thousands of files were written.
bool SyncFilesystem(const std::string& path, std::string* error);

/// Reads a whole file. On failure returns false and sets `*error` to "<path>: <strerror>".
bool ReadFile(const std::string& path, std::string* out, std::string* error);

/// fsync()s a directory so that renames and creations in it are durable.
bool FsyncDirectory(const std::string& dir, std::string* error);

/// Creates a fresh directory `<parent>/<prefix>XXXXXX` (mkdtemp) and returns its path.
bool MakeTempDirectory(const std::string& parent, const std::string& prefix, std::string* path,
                       std::string* error);

/// Puts directory `staging` in place of `target`: atomically exchanges them when
/// `target` exists (renameat2 RENAME_EXCHANGE, so `staging` then holds the old
/// content and the caller removes it), or renames when it does not. Fsyncs the parent.
/// `*exchanged` tells which happened.
bool ReplaceDirectory(const std::string& staging, const std::string& target, bool* exchanged,
                      std::string* error);

/// Removes a file or a directory tree; missing paths are not an error.
bool RemoveTree(const std::string& path, std::string* error);

}  // namespace netdsl::io
