// The verify stage: proves isolation, reachability, loop-freedom and agreement
// on a build's artifacts (tables.ndt and linux.yaml of every host), never on
// the compiler's own view (docs/verify.md).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "compiler/diag/diagnostics.h"

namespace netdsl::verify {

struct VerifyOptions {
  /// An earlier build of the same fabric (its output directory), or "": a
  /// port that passes from one VM NIC to another between the two is an error.
  std::string previous;
  /// Threads for reading and checking hosts (0 = number of CPUs).
  unsigned jobs = 0;
  /// The name `dir` is shown as in diagnostics ("" = `dir`): `build` verifies
  /// its staging directory and names the output directory.
  std::string shown_as;
  /// Findings of these kinds are reported as warnings and do not fail the
  /// proof (`build`'s default: a reachability gap is reported, a safety
  /// violation fails the build). Empty for `netdslc verify`.
  std::vector<DiagKind> as_warnings;
  /// Verify only a build of the whole fabric with every host's table image
  /// (the manifest's `hosts` against its artifacts); otherwise say nothing
  /// and return true (`build`'s default, COORDINATION.md).
  bool only_if_complete = false;

  // Incremental verify (docs/verify.md "Incremental").
  /// verify's own state file as a verify of the build that `changed_hosts`
  /// is relative to wrote it ("" = none: a full verify).
  std::string state_in;
  /// Where to write this verify's state ("" = nowhere). The same build gives
  /// the same bytes, from a full or an incremental verify.
  std::string state_out;
  /// Hosts whose artifacts changed, were added or were removed since the
  /// build `state_in` describes; nullopt = all of them (a full verify).
  std::optional<std::set<std::string>> changed_hosts;
  /// Where the other hosts' artifacts are ("" = `dir`): the previous output,
  /// when `dir` holds only the changed hosts' files and the new manifest.
  std::string base_dir;
};

/// What a verify did (`build --stats`, tests).
struct VerifyStats {
  bool incremental = false;  ///< findings of unchanged parts were taken from state_in
  std::string full_because;  ///< why an incremental verify ran in full ("" when it did not)
  size_t hosts_checked = 0;  ///< hosts whose artifacts were read and checked
  size_t hosts = 0;
  std::vector<std::pair<std::string, double>> phases;  ///< wall seconds per phase, in order
};

/// Reads `dir` (manifest.json, hosts/NAME/tables.ndt, hosts/NAME/linux.yaml)
/// and reports every violation into `diags`, each with a counterexample.
/// Returns true when the artifacts prove (a)-(d) of docs/verify.md (but for
/// the findings `options.as_warnings` demotes).
bool Verify(const std::string& dir, const VerifyOptions& options, DiagnosticEngine& diags,
            VerifyStats* stats = nullptr);

}  // namespace netdsl::verify
