// What an earlier build left in the output directory (its manifest.json):
// artifacts a new build keeps instead of writing them again — those of
// hosts `--host` did not select, of targets `--target` did not select, and of
// hosts whose IR did not change (issue 14, minimal churn).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compiler/pipeline/output.h"

namespace netdsl::pipeline {

struct PreviousOutput {
  std::string dir;
  /// When its manifest.json was written: the build's last write. An artifact
  /// modified later (or of another size) was changed behind the build's back.
  int64_t manifest_mtime_ns = 0;
  /// sha256 of the netdslc binary that wrote it ("" when unknown).
  std::string compiler_sha256;
  std::vector<InputRecord> inputs;
  InputRecord lock;
  std::map<std::string, HostRecord> hosts;            ///< by name
  std::map<std::string, ArtifactRecord> artifacts;     ///< by path

  /// The artifacts under `hosts/NAME/`.
  std::vector<const ArtifactRecord*> HostArtifacts(const std::string& host) const;
  /// The file is still as the build wrote it: same size, not modified since
  /// the manifest (one stat; a file edited by hand is not reused).
  bool Intact(const ArtifactRecord& artifact) const;
};

/// Reads DIR/manifest.json. Nothing (no reuse) when it is missing or does not
/// parse, or lists a path that is not a plain relative path.
std::optional<PreviousOutput> ReadPreviousOutput(const std::string& dir);

/// sha256 of the running netdslc (/proc/self/exe), computed once: artifacts
/// are reused only from a build by the very same compiler.
const std::string& CompilerSha256();

}  // namespace netdsl::pipeline
