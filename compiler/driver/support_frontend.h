// The front half every netdslc command shares: common options, Parse + Check,
// and printing (or verifying) the diagnostics in the chosen format.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/diagnostics.h"
#include "compiler/pipeline/pipeline.h"
#include "compiler/sema/model.h"
#include "compiler/syntax/ast.h"

namespace netdsl::driver {

/// Options every command that reads `.netdsl` files accepts.
struct FrontendOptions {
  std::vector<std::string> files;          ///< positional FILE… (at least one)
  DiagFormat format = DiagFormat::Text;    ///< --diagnostics=text|json|sarif
  bool werror = false;                     ///< -Werror
  bool verify_diagnostics = false;         ///< --verify-diagnostics (see VerifyDiagnostics)
  bool parse_only = false;                 ///< --parse-only: stop after the parse stage (tests)
  bool imports_anywhere = false;           ///< --imports-anywhere (ND0062 off)
  std::string lock_path;                   ///< --lock PATH (commands that read the lock)
};

/// Handles a command-specific option at argv[i] (e.g. `-o DIR`); may advance `i`
/// past a value it consumed. Returns true when argv[i] was its option; sets
/// `error` (a lowercase message) for a malformed one.
using ExtraOptionHandler = std::function<bool(int argc, char** argv, int& i, std::string& error)>;

/// Parses the common options plus whatever `extra` accepts. argv[0] is the
/// command name. `--help` prints `usage` to stdout and yields kExitOk; unknown
/// options, bad values and a missing FILE print
/// `netdslc <command>: error: …` and the usage to stderr and yield kExitUsage.
/// Returns std::nullopt when the command should go on.
std::optional<int> ParseFrontendOptions(int argc, char** argv, std::string_view usage, FrontendOptions& out,
                                        const ExtraOptionHandler& extra = {});

/// `--lock PATH` / `--lock=PATH` at argv[i], for the commands that read the
/// lock (check, build, explain): call it from their ExtraOptionHandler.
bool TakeLockOption(int argc, char** argv, int& i, FrontendOptions& out, std::string& error);

/// Tells the user, on stderr, that `compiled` read the directory's legacy
/// netdsl.lock, and whether it was moved to the root file's own lock.
void NoteLegacyLock(std::string_view command, const pipeline::Compiled& compiled, bool moved);

/// The pipeline's options for these command-line options.
pipeline::CompileOptions CompileOptionsFor(const FrontendOptions& options);

/// Parses every file (and its imports) into `diags.sources()`; returns the AST
/// even when there were errors (check diags.HasErrors()).
ast::Program ParseFiles(const FrontendOptions& options, DiagnosticEngine& diags);

/// Parse + Check. Returns the checked model only when no errors were reported
/// (and not with `parse_only`, which stops after parsing).
std::optional<model::Fabric> RunFrontend(const FrontendOptions& options, DiagnosticEngine& diags);

/// pipeline::Compile (frontend, the lock, allocation) with these options.
std::optional<pipeline::Compiled> RunCompile(const FrontendOptions& options, DiagnosticEngine& diags);

/// Prints the diagnostics in `options.format` (text to stderr with a summary
/// line, colored only on a terminal without NO_COLOR; JSON/SARIF to stdout), or,
/// with `verify_diagnostics`, compares them with the `// expected-…` comments
/// in the sources and prints mismatches. Returns the exit code: kExitOk or
/// kExitErrors.
int FinishDiagnostics(const FrontendOptions& options, DiagnosticEngine& diags);

/// `--verify-diagnostics`: `// expected-error {{substr}}` (same line),
/// `// expected-warning@+1 {{…}}`, `// expected-note@-2 [ND1234] {{…}}`.
/// Returns true iff produced and expected diagnostics match one to one;
/// otherwise prints what was expected but not seen / seen but not expected.
bool VerifyDiagnostics(DiagnosticEngine& diags, llvm::raw_ostream& os);

}  // namespace netdsl::driver
