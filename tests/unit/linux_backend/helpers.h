// Helpers for the Linux backend units: emit or refuse, find links, read lines.
#pragma once

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "backends/linux/linux_backend.h"

namespace netdsl::backends::testing {

inline LinuxArtifacts Emit(const ir::HostIr& h) {
  llvm::Expected<LinuxArtifacts> a = EmitLinux(h);
  if (!a) {
    FAIL("EmitLinux refused: " << llvm::toString(a.takeError()));
    return {};
  }
  return std::move(*a);
}

inline std::string Refusal(const ir::HostIr& h) {
  llvm::Expected<LinuxArtifacts> a = EmitLinux(h);
  if (a) return "";
  return llvm::toString(a.takeError());
}

inline YAML::Node Link(const YAML::Node& root, const std::string& name) {
  for (const YAML::Node& l : root["links"])
    if (l["name"].as<std::string>() == name) return l;
  return YAML::Node(YAML::NodeType::Undefined);
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline bool HasLine(const std::string& batch, const std::string& line) {
  auto lines = Lines(batch);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

inline size_t CountContaining(const std::string& batch, const std::string& part) {
  size_t n = 0;
  for (const std::string& l : Lines(batch)) n += l.find(part) != std::string::npos;
  return n;
}

inline std::vector<std::string> Strings(const YAML::Node& seq) {
  std::vector<std::string> out;
  for (const YAML::Node& n : seq) out.push_back(n.as<std::string>());
  return out;
}

}  // namespace netdsl::backends::testing
