// A stable text dump of the AST (`netdslc check --dump-ast`), for tests of
// the parse stage: value kinds, decoded payloads and source positions.
#pragma once

#include "compiler/syntax/ast.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace netdsl {

/// Prints every file, import, block, property and value with `line:col`.
void DumpAst(const ast::Program& program, const llvm::SourceMgr& sources, llvm::raw_ostream& os);

/// `Address(10.0.0.1)`, `List[Integer(1), Ident(a)]`, ...
std::string DescribeValue(const ast::Value& value);

}  // namespace netdsl
