// CheckHost: one host's image against the fabric, then its linux.yaml (the
// fields verify uses, checked as `netdsl apply` checks them: read_linux.h)
// against the image.
#include "compiler/verify/check_host.h"

#include "compiler/verify/read_linux.h"

namespace netdsl::verify {

void CheckHost(Fabric& fabric, uint32_t h) {
  CheckImage(fabric, h);
  Host& host = fabric.hosts[h];
  if (host.linux_path.empty()) return;
  runtime::HostState state;
  std::vector<std::string> errors;
  thread_local std::string buffer;  // one per thread, reused for every host
  // An incremental verify reads an unchanged host from the base directory; it is named as in `dir`.
  std::string read = fabric.ReadPath(host, host.linux_path);
  if (!ReadLinuxFile(read, buffer, &state, &errors)) {
    std::string text = errors.empty() ? host.linux_path + ": error: unreadable" : errors.front();
    text = ReplaceAll(std::move(text), read, host.linux_path);
    if (errors.size() > 1) text += " (and " + std::to_string(errors.size() - 1) + " more)";
    fabric.findings.Add({DiagKind::VerifyArtifact, "", 0, 0, text, {}});
    return;
  }
  if (state.host != host.name)
    fabric.findings.Add({DiagKind::VerifyDisagreement, host.linux_path, 0, 0,
                         "linux.yaml is for host " + Q(state.host) + ", but it is in the directory of host " +
                             Q(host.name),
                         {}});
  CheckLinux(fabric, h, state);
  host.linux_ok = true;
}

}  // namespace netdsl::verify
