// Strict reader for linux.yaml (docs/linux-yaml.md): unknown keys, wrong
// types and invalid values are errors naming the key path and line:col.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/linux/host_state.h"

namespace netdsl::runtime {

/// Parses and validates linux.yaml text. On failure returns false and appends
/// `path:line:col: error: message` lines to `errors` (sorted by position).
bool ReadPlan(const std::string& text, const std::string& path, HostState* out,
              std::vector<std::string>* errors);

/// The largest plan read: a host with 100k objects writes about 10 MB.
inline constexpr uint64_t kMaxPlanBytes = 256ull << 20;

/// Reads the file first (a regular file of at most kMaxPlanBytes); I/O errors
/// are reported as `path: error: ...`.
bool ReadPlanFile(const std::string& path, HostState* out, std::vector<std::string>* errors);

/// Checks a linux interface name: 1..15 bytes of [A-Za-z0-9._-].
bool IsValidIfname(const std::string& name);

}  // namespace netdsl::runtime
