// Parse stage: source text → AST. The only place that includes ANTLR headers.
#pragma once

#include <string>
#include <vector>

#include "compiler/diag/diagnostics.h"
#include "compiler/syntax/ast.h"

namespace netdsl {

struct ParseOptions {
  /// False (the default): an import must resolve (symbolic links followed)
  /// inside the directory tree of the root file it descends from; one that
  /// leaves it is ND0062 and is never read, so that a build of an untrusted
  /// change cannot print the machine's files in its diagnostics.
  bool imports_anywhere = false;
};

/// Loads `root_paths` and everything they import into `diags.sources()`, parses
/// them, and reports syntax errors, missing imports and import cycles. Returns
/// every file that could be read; check diags.HasErrors() before trusting it.
ast::Program Parse(const std::vector<std::string>& root_paths, DiagnosticEngine& diags,
                   const ParseOptions& options = {});

/// Parses bytes [begin, end) of a buffer already in `diags.sources()`, which
/// begin and end at top-level statement boundaries, without following
/// imports: what the incremental build re-parses after an edit. Reports what
/// parsing the whole buffer would report about those bytes.
ast::File ParseRegion(unsigned buffer_id, size_t begin, size_t end, DiagnosticEngine& diags);

/// Parses one buffer already in `diags.sources()` without following its
/// imports (for `netdslc fmt`, which formats files one by one).
ast::File ParseBuffer(unsigned buffer_id, DiagnosticEngine& diags);

}  // namespace netdsl
