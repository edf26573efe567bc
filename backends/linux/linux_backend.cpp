// Entry points of the Linux backend: build the state once, format it twice,
// and refuse when a formatted batch line would not be what we meant.
#include "backends/linux/linux_backend.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "backends/linux/linux_state.h"
#include "backends/linux/names.h"

namespace netdsl::backends {

namespace {

/// Last line of defence: every batch line is blank, a comment of safe text,
/// or a known command without `#`, control bytes or unbalanced quotes.
/// One pass over each line's bytes; the checks keep this order of precedence.
std::string CheckBatchLines(std::string_view batch) {
  // Printable ASCII that none of the checks below looks at.
  static constexpr auto kPlainByte = [] {
    std::array<bool, 256> plain{};
    for (int c = 0x20; c < 0x7f; ++c) plain[c] = c != '#' && c != '\'' && c != ';' && c != '\\' && c != '"' && c != '$';
    return plain;
  }();
  size_t line_no = 0;
  while (!batch.empty()) {
    size_t nl = batch.find('\n');
    std::string_view line = batch.substr(0, nl);
    batch.remove_prefix(nl == std::string_view::npos ? batch.size() : nl + 1);
    ++line_no;
    bool control = false, backslash = false, comment_unsafe = false;
    size_t hashes = 0, quotes = 0, first_quote = std::string_view::npos, first_semicolon = std::string_view::npos;
    for (size_t i = 0; i < line.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(line[i]);
      if (kPlainByte[c]) continue;
      switch (c) {
        case '#': ++hashes; break;
        case '\'': ++quotes; first_quote = std::min(first_quote, i); break;
        case ';': first_semicolon = std::min(first_semicolon, i); break;
        case '\\': backslash = true; break;
        case '"':
        case '$': comment_unsafe = true; break;
        default: control |= c < 0x20 || c >= 0x7f;
      }
    }
    if (control) return "batch line " + std::to_string(line_no) + " contains a control or non-ASCII byte";
    if (line.empty()) continue;
    if (line.substr(0, 2) == "# ") {
      if (hashes > 1 || quotes > 0 || first_semicolon != std::string_view::npos || backslash || comment_unsafe)
        return "batch comment line " + std::to_string(line_no) + " contains an unsafe character";
      continue;
    }
    static constexpr std::string_view kCommands[] = {"ip ", "bridge ", "tc ", "nft ", "sysctl -qw net/ipv4/conf/"};
    bool known = false;
    for (std::string_view command : kCommands) known |= line.substr(0, command.size()) == command;
    if (!known) return "batch line " + std::to_string(line_no) + " does not start with a known command";
    if (hashes > 0)
      return "batch line " + std::to_string(line_no) + " contains `#`, which would end it early";
    if (quotes % 2 != 0 || first_semicolon < first_quote || backslash)
      return "batch line " + std::to_string(line_no) + " has an unbalanced quote or a shell metacharacter";
  }
  return "";
}

}  // namespace

llvm::Expected<LinuxArtifacts> EmitLinux(const ir::HostIr& host) {
  llvm::Expected<linux_backend::LinuxState> state = linux_backend::BuildLinuxState(host);
  if (!state) return state.takeError();
  LinuxArtifacts artifacts;
  artifacts.yaml = linux_backend::FormatLinuxYaml(*state);
  artifacts.batch = linux_backend::FormatLinuxBatch(*state);
  if (std::string problem = CheckBatchLines(artifacts.batch); !problem.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "host %s: internal error: %s",
                                   linux_backend::QuoteForMessage(host.host).c_str(), problem.c_str());
  return artifacts;
}

llvm::Expected<std::vector<Artifact>> EmitLinuxHost(const ir::HostIr& host) {
  llvm::Expected<LinuxArtifacts> linux_artifacts = EmitLinux(host);
  if (!linux_artifacts) return linux_artifacts.takeError();
  std::vector<Artifact> artifacts;
  artifacts.push_back({"linux.yaml", std::move(linux_artifacts->yaml)});
  artifacts.push_back({"linux.batch", std::move(linux_artifacts->batch)});
  return artifacts;
}

std::string CheckLinuxHostIr(const ir::HostIr& host) {
  llvm::Expected<LinuxArtifacts> artifacts = EmitLinux(host);
  if (artifacts) return "";
  return llvm::toString(artifacts.takeError());
}

// Each builds the state and formats only its own artifact; EmitLinux does both at once.
std::string EmitLinuxYaml(const ir::HostIr& host) {
  llvm::Expected<linux_backend::LinuxState> state = linux_backend::BuildLinuxState(host);
  if (!state) {
    llvm::consumeError(state.takeError());
    return "";
  }
  return linux_backend::FormatLinuxYaml(*state);
}

std::string EmitLinuxBatch(const ir::HostIr& host) {
  llvm::Expected<linux_backend::LinuxState> state = linux_backend::BuildLinuxState(host);
  if (!state) {
    llvm::consumeError(state.takeError());
    return "";
  }
  std::string batch = linux_backend::FormatLinuxBatch(*state);
  return CheckBatchLines(batch).empty() ? batch : "";
}

}  // namespace netdsl::backends
