// The incremental build: a build into an output directory that holds the
// cache of an earlier build (build_cache.h) redoes only what an edit of `vm`
// declarations reaches, and writes what a full build would write, byte for
// byte (docs/build.md, "Incremental builds"):
//
//   1. each input is diffed against its cached copy; the top-level statements
//      the edit touched are parsed again (syntax::ParseRegion);
//   2. the infrastructure (every statement that is not a `vm`) and the edited
//      VMs are checked and allocated as a model of their own, every other NIC's
//      values held (alloc::RetainedValues) and its lock entries left alone;
//   3. the hosts that carry an edited VM's subnets are lowered from that model
//      plus the cached facts of every VM they need; hosts whose IR did not
//      change keep their files;
//   4. the lock is patched, the manifest updated and the cache rewritten.
//
// Anything else — an edit outside `vm` declarations, a diagnostic of any
// kind, a contested address or MAC, another compiler or other options, a lock
// or an artifact changed since, a damaged cache — takes the full path, which
// then reports what there is to report: the incremental path never prints a
// diagnostic of its own.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>

#include "compiler/pipeline/build.h"
#include "compiler/pipeline/pipeline.h"

namespace netdsl::pipeline {

/// How an incremental build is verified (the driver's `netdslc verify`):
/// `staging` holds the new manifest and the changed hosts' artifacts, `base`
/// (the output directory) every other host's; nullopt = cannot verify that
/// way (the build takes the full path); false = failed (diagnostics reported).
using VerifyIncrementally = std::function<std::optional<bool>(
    const std::string& staging, const std::string& base, const std::set<std::string>& changed_hosts,
    DiagnosticEngine& diags)>;

struct IncrementalResult {
  bool built = false;   ///< false: take the full path
  std::string reason;   ///< why not (for `--stats`), or what was done
};

/// Tries the incremental path for `options` (an output directory, a cache
/// key, no --host, no --locked, no --dump). On `built`, the output and the
/// lock are written; otherwise nothing was.
IncrementalResult BuildIncrementally(const CompileOptions& compile, const BuildOptions& options,
                                     const VerifyIncrementally& verify);

}  // namespace netdsl::pipeline
