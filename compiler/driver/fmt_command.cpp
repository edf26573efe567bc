// `netdslc fmt`: rewrite .netdsl files in the canonical layout, or `--check` them.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "compiler/driver/command.h"
#include "compiler/syntax/format.h"
#include "compiler/syntax/parse.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace netdsl::driver {
namespace {

constexpr const char* kUsage =
    "usage: netdslc fmt [--check] FILE...\n"
    "       netdslc fmt [--check] -\n"
    "\n"
    "Rewrites FILEs in the canonical layout (2-space indent, one property per line\n"
    "except in blocks written on one line, comments kept, LF line endings). Files\n"
    "with syntax errors are left alone and reported. `-` reads the standard input\n"
    "and writes the formatted text to the standard output (for editors); on errors\n"
    "it writes nothing there.\n"
    "  --check    change nothing; list the files that would change and exit 1 if any\n"
    "exit status: 0 ok, 1 errors or (with --check) files that would change, 64 usage error\n";

/// Writes `data` to `path` atomically: temp file in the same directory, fsync, rename.
std::string WriteAtomically(const std::string& path, const std::string& data) {
  struct stat st;
  mode_t mode = 0644;
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  std::string tmp = path + ".fmt-XXXXXX";
  std::vector<char> name(tmp.begin(), tmp.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) return std::string("cannot create a temporary file next to it: ") + std::strerror(errno);
  auto fail = [&](const char* what) {
    std::string msg = what;
    msg += ": ";
    msg += std::strerror(errno);
    ::close(fd);
    ::unlink(name.data());
    return msg;
  };
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write the temporary file");
    }
    done += size_t(n);
  }
  if (::fchmod(fd, mode) != 0) return fail("cannot set the file mode");
  if (::fsync(fd) != 0) return fail("cannot sync the temporary file");
  if (::close(fd) != 0) {
    ::unlink(name.data());
    return std::string("cannot close the temporary file: ") + std::strerror(errno);
  }
  if (::rename(name.data(), path.c_str()) != 0) {
    std::string msg = std::string("cannot replace the file: ") + std::strerror(errno);
    ::unlink(name.data());
    return msg;
  }
  // Make the rename durable.
  llvm::StringRef parent = llvm::sys::path::parent_path(path);
  std::string dir = parent.empty() ? std::string(".") : parent.str();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

int FmtMain(int argc, char** argv) {
  bool check = false, only_files = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!only_files && arg == "--") {
      only_files = true;
    } else if (!only_files && (arg == "--help" || arg == "-h")) {
      llvm::outs() << kUsage;
      return kExitOk;
    } else if (!only_files && arg == "--check") {
      check = true;
    } else if (!only_files && arg == "-") {
      files.push_back(arg);
    } else if (!only_files && arg.size() > 1 && arg[0] == '-') {
      llvm::errs() << "netdslc fmt: error: unknown option `" << arg << "`\n" << kUsage;
      return kExitUsage;
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    llvm::errs() << "netdslc fmt: error: no input files; give at least one .netdsl file\n" << kUsage;
    return kExitUsage;
  }
  const bool from_stdin = std::find(files.begin(), files.end(), "-") != files.end() && !only_files;
  if (from_stdin && files.size() > 1) {
    llvm::errs() << "netdslc fmt: error: `-` (the standard input) cannot be combined with files\n" << kUsage;
    return kExitUsage;
  }

  int status = kExitOk;
  for (const auto& path : files) {
    llvm::SourceMgr sources;
    DiagnosticEngine diags(sources);
    auto buffer = from_stdin ? llvm::MemoryBuffer::getSTDIN()
                             : llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/true);
    std::error_code ec = buffer ? std::error_code() : buffer.getError();
    if (!ec && !from_stdin && llvm::sys::fs::is_directory(path)) ec = std::make_error_code(std::errc::is_a_directory);
    if (ec) {
      diags.Report(DiagKind::FileNotReadable, llvm::SMRange(),
                   "cannot read `" + std::string(from_stdin ? "<stdin>" : path) + "`: " + ec.message());
      diags.Emit(DiagFormat::Text, llvm::errs(), false);
      status = kExitErrors;
      continue;
    }
    std::string original = (*buffer)->getBuffer().str();
    unsigned id = sources.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
    ParseBuffer(id, diags);
    if (diags.HasErrors()) {
      diags.Emit(DiagFormat::Text, llvm::errs(), false);
      llvm::errs() << "netdslc fmt: `" << (from_stdin ? "<stdin>" : path) << "` has syntax errors; not formatted\n";
      status = kExitErrors;
      continue;
    }
    std::optional<std::string> formatted = FormatSource(original);
    if (!formatted) {
      llvm::errs() << "netdslc fmt: internal error: formatting `" << path
                   << "` would change its tokens; the file was left alone (please report this)\n";
      status = kExitErrors;
      continue;
    }
    if (from_stdin && !check) {
      llvm::outs() << *formatted;
      continue;
    }
    if (*formatted == original) continue;
    if (check) {
      llvm::outs() << path << "\n";
      status = kExitErrors;
      continue;
    }
    std::string error = WriteAtomically(path, *formatted);
    if (!error.empty()) {
      llvm::errs() << "netdslc fmt: error: cannot write `" << path << "`: " << error << "\n";
      status = kExitErrors;
    }
  }
  llvm::outs().flush();
  return status;
}

}  // namespace

NETDSL_COMMAND("fmt", "rewrite .netdsl files in the canonical layout", FmtMain);

}  // namespace netdsl::driver
