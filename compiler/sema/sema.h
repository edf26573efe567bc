// Sema stage: AST → checked model. Resolves names per kind and scope, checks
// types and ranges, and enforces every validation rule (SPEC §3).
#pragma once

#include <optional>

#include "compiler/diag/diagnostics.h"
#include "compiler/sema/model.h"
#include "compiler/syntax/ast.h"

namespace netdsl {

/// Reports every independent error; returns the model only when there are none.
std::optional<model::Fabric> Check(const ast::Program& program, DiagnosticEngine& diags);

}  // namespace netdsl
