// What verify reads of manifest.json, without building a JSON tree: the
// artifacts' paths and the hosts' names (at 10 000 hosts llvm::json's tree
// cost most of an incremental verify). verify-internal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace netdsl::verify {

struct ManifestNames {
  std::vector<std::string> artifact_paths;  ///< `artifacts[].path` that are strings, in order
  std::vector<std::string> host_names;      ///< `hosts[].name` that are strings, in order
  bool has_hosts = false;                   ///< `hosts` is an array
};

/// Scans `text` as strict JSON. True and `out` filled when the text is a JSON
/// object whose `artifacts` is an array and nothing in it needs more than
/// this scanner knows (no `\u` escape, no byte above 0x7f in a string, no
/// repeated or escaped key, at most 32 keys an object): exactly what
/// llvm::json would give.
/// False otherwise: the caller then parses with llvm::json (and its errors).
bool ScanManifest(std::string_view text, ManifestNames* out);

}  // namespace netdsl::verify
