// Build: a compiled fabric → every selected host lowered and emitted by the
// selected backends (in parallel), the fabric artifacts, the manifest and the
// next netdsl.lock, written all or nothing.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/pipeline/pipeline.h"
#include "llvm/Support/Error.h"

namespace netdsl::pipeline {

struct BuildOptions {
  /// Output directory; "" writes nothing (no artifacts, no lock), e.g. for --dump=ir.
  std::string output;
  /// Backends to run, in AllBackends() order.
  std::vector<const backends::Backend*> backends;
  /// Hosts to lower; empty = all. Names must exist (the caller checks).
  std::vector<std::string> hosts;
  /// Fail with ND2021 instead of writing a changed lock.
  bool locked = false;
  unsigned jobs = 1;
  /// Collect every selected host's IR dump (lower::DumpHostIr) in host order.
  bool dump_ir = false;
  /// Called after each host, under a lock (progress output).
  std::function<void(size_t done, size_t total)> on_host_done;
  /// Called at the end of each phase with its name (`--stats`).
  std::function<void(const char* phase)> on_phase;
  /// Runs once every artifact is in the staging directory, before the lock is
  /// written and the output swapped in (`netdslc verify` on the artifacts);
  /// returning false (after reporting diagnostics) fails the build.
  std::function<bool(const std::string& staging_dir, DiagnosticEngine& diags)> before_commit;
  /// The options that shape the output, as one string (the driver's): a build
  /// that reports no diagnostic leaves the build cache (build_cache.h) under
  /// this key, and the next build with the same key may be incremental
  /// (incremental.h). "" = leave no cache.
  std::string cache_key;
};

struct BuildResult {
  std::string ir_dump;  ///< with BuildOptions::dump_ir
  /// The legacy netdsl.lock this build moved to Compiled::lock_path ("" = none).
  std::string migrated_lock_from;
};

/// Validates the backends, lowers and emits the selected hosts, then writes
/// the fabric artifacts, the manifest and the lock, and swaps the output in.
/// A user-facing failure (a backend refusal ND3001, `--locked` ND2021) is
/// reported into `diags`; an I/O failure is the returned error. Either way
/// nothing is written: the output and the lock stay as they were.
llvm::Error Build(Compiled& compiled, const BuildOptions& options, DiagnosticEngine& diags, BuildResult& result);

}  // namespace netdsl::pipeline
