// The host record (host_record.h).
#include "runtime/linux/host_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/io/terminal_text.h"
#include "common/linux_yaml/schema.h"
#include "runtime/linux/journal.h"

namespace netdsl::runtime {

bool LoadHostRecord(const std::string& path, std::string* host, std::string* error) {
  host->clear();
  const std::string way_out = "remove it if this machine is to be another fabric host";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return true;
    *error = fmt::format("cannot read the host record `{}`: {}; {}", path, std::strerror(errno), way_out);
    return false;
  }
  struct stat st;
  char buf[512];
  ssize_t n = -1;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
      st.st_size >= static_cast<off_t>(sizeof buf) || (n = read(fd, buf, sizeof buf)) < 0) {
    close(fd);
    *error = fmt::format("the host record `{}` is not netdsl's own small regular file; {}", path, way_out);
    return false;
  }
  close(fd);
  std::string text(buf, static_cast<size_t>(n));
  if (text.rfind("host ", 0) != 0 || text.empty() || text.back() != '\n' ||
      !linux_yaml::IsValidHostName(std::string_view(text).substr(5, text.size() - 6))) {
    *error = fmt::format("the host record `{}` is damaged; {}", path, way_out);
    return false;
  }
  *host = text.substr(5, text.size() - 6);
  return true;
}

bool SaveHostRecord(const std::string& path, const std::string& host, std::string* error) {
  return WriteStateFile(path, "host " + host + "\n", error);
}

std::string WrongHostProblem(const std::string& recorded, const std::string& plan_host,
                             const std::string& override_host, const std::string& record_path) {
  if (!override_host.empty() && override_host != plan_host)
    return fmt::format("--host-override `{}` does not name the plan's host `{}`", io::TerminalText(override_host),
                       io::TerminalText(plan_host));
  if (recorded.empty() || recorded == plan_host || override_host == plan_host) return "";
  return fmt::format("this machine is fabric host `{0}` (the last plan applied here, recorded in `{2}`), and the "
                     "plan is for `{1}`: another host's plan would move its VM ports here. If this machine is now "
                     "`{1}`, run again with `--host-override {1}`",
                     io::TerminalText(recorded), io::TerminalText(plan_host), record_path);
}

}  // namespace netdsl::runtime
