// The pipeline every netdslc command runs, as a library: source → checked
// model (Frontend), + netdsl.lock → allocated model with its source hash
// (Compile), then per host lower → backends (build.h), and the next lock
// (NextLock). Commands in compiler/driver/ only parse options and print.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/alloc/allocation.h"
#include "compiler/alloc/lock_file.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/pipeline/build_cache.h"
#include "compiler/pipeline/output.h"
#include "compiler/sema/model.h"
#include "compiler/syntax/ast.h"

namespace netdsl::pipeline {

struct CompileOptions {
  std::vector<std::string> files;  ///< root first; imports are followed
  /// The lock to read (and for `build`, write): `--lock PATH`; "" = the root
  /// file's own lock, DefaultLockPath (migrating a legacy netdsl.lock, see Compile).
  std::string lock_path;
  /// Imports may leave the root file's directory tree (`--imports-anywhere`).
  bool imports_anywhere = false;
};

/// The root file's lock: `DIR/NAME.lock` for `DIR/NAME.netdsl` (for a root
/// file not ending in `.netdsl`, its whole name + `.lock`).
std::string DefaultLockPath(const std::string& root_file);

/// Where netdslc before the per-root lock kept it: `DIR/netdsl.lock`.
std::string LegacyLockPath(const std::string& root_file);

/// An input's path as the manifest names it: relative to the root file's directory.
std::string InputPath(const std::string& file, const std::string& root_file);

/// `file` with symbolic links resolved, relative to the resolved directory of
/// the root file ("" when either cannot be resolved): the build cache's
/// check that an import still names the same file.
std::string RealPathUnderRoot(const std::string& file, const std::string& root_file);

/// A top-level statement of a loaded buffer, as the build cache records it.
CachedStatement StatementAt(llvm::SMRange range, const char* buffer_start, CachedStatement::Kind kind);

/// Parses every file (and its imports) into `diags.sources()`; returns the AST
/// even when there were errors (check diags.HasErrors()).
ast::Program ParseSources(const CompileOptions& options, DiagnosticEngine& diags);

/// Parse + Check: the checked model, only when no errors were reported.
std::optional<model::Fabric> Frontend(const CompileOptions& options, DiagnosticEngine& diags);

/// A compiled fabric: what `build` lowers and emits, `check` validates and
/// `explain` walks.
struct Compiled {
  alloc::AllocatedFabric fabric;  ///< `fabric.lock`: the allocation sections of the next lock
  /// sha256 hex over the inputs and the allocations (not the per-host generations).
  std::string source_hash;
  std::vector<InputRecord> inputs;  ///< for the manifest, paths relative to the root's directory
  std::string root_dir;   ///< the root file's directory ("" = the working directory)
  std::string lock_path;  ///< the lock `build` writes
  /// Set when the previous lock was read from the directory's legacy
  /// netdsl.lock (no NAME.lock yet, no --lock): `build` writes `lock_path`
  /// and then removes this file (unless --locked, which writes nothing).
  std::string legacy_lock_path;
  /// The lock read from `lock_path` (or `legacy_lock_path`); absent when there was none.
  std::optional<alloc::LockFile> previous_lock;
  std::string previous_lock_text;
  /// Each input's top-level statements (input_files order), for the build cache.
  std::vector<CachedFile> sources;
};

/// Frontend, then reads the lock (when present; a legacy netdsl.lock only
/// when every host it records is declared by this source, else ND2006),
/// hashes the inputs and allocates. Reports everything into `diags` (an unreadable lock is ND0001)
/// and returns nothing after any error.
std::optional<Compiled> Compile(const CompileOptions& options, DiagnosticEngine& diags);

/// Runs every backend's `validate` over the compiled fabric (what a backend
/// would refuse, with codes and locations). `check` and `build` both call it.
void ValidateBackends(const Compiled& compiled, DiagnosticEngine& diags);

/// A host's generation for an IR hashing to `ir_hash`: the previous lock's,
/// bumped when the hash changed; 1 for a host the lock does not know.
uint64_t NextGeneration(const Compiled& compiled, std::string_view host, std::string_view ir_hash);

/// What one build recorded about a host it lowered.
struct HostProvenance {
  std::string host;
  uint64_t generation = 1;
  std::string ir_hash;
};

/// The lock a build writes: the allocations, plus the provenance of `built`
/// hosts; other hosts of the fabric keep their previous entry and hosts that
/// are gone lose theirs. Moves the allocation sections out of `compiled`.
alloc::LockFile NextLock(Compiled& compiled, const std::vector<HostProvenance>& built);

}  // namespace netdsl::pipeline
