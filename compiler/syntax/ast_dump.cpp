// AST dump for tests.
#include "compiler/syntax/ast_dump.h"

namespace netdsl {
namespace {

std::string Pos(const llvm::SourceMgr& sm, llvm::SMLoc loc) {
  if (!loc.isValid()) return "?";
  unsigned id = sm.FindBufferContainingLoc(loc);
  if (!id) return "?";
  auto [line, col] = sm.getLineAndColumn(loc, id);
  return std::to_string(line) + ":" + std::to_string(col);
}

std::string RangeText(const llvm::SourceMgr& sm, llvm::SMRange r) {
  return Pos(sm, r.Start) + "-" + Pos(sm, r.End);
}

void DumpBlock(const ast::Block& b, const llvm::SourceMgr& sm, llvm::raw_ostream& os, unsigned indent) {
  os.indent(indent) << "block " << b.kind;
  if (b.label) os << " label=" << DescribeValue(*b.label);
  if (b.name_range)
    os << " range=[" << b.name_range->first << ".." << b.name_range->last << " width " << b.name_range->width << "]";
  os << (b.has_body ? " body" : " nobody") << " @" << RangeText(sm, b.range) << "\n";
  for (const auto& p : b.properties)
    os.indent(indent + 2) << "property " << p.key << " = " << DescribeValue(p.value) << " @"
                          << RangeText(sm, p.range) << " value@" << RangeText(sm, p.value.range) << "\n";
  for (const auto& c : b.blocks) DumpBlock(c, sm, os, indent + 2);
}

}  // namespace

std::string DescribeValue(const ast::Value& v) {
  using K = ast::Value::Kind;
  switch (v.kind) {
    case K::Ident: return "Ident(" + v.text + ")";
    case K::String: return "String(\"" + v.text + "\")";
    case K::Integer: return "Integer(" + std::to_string(v.integer) + ")";
    case K::Bool: return std::string("Bool(") + (v.boolean ? "true" : "false") + ")";
    case K::Address: return "Address(" + v.address.ToString() + ")";
    case K::Prefix: return "Prefix(" + v.prefix.ToString() + ")";
    case K::Mac: return "Mac(" + v.mac.ToString() + ")";
    case K::Bandwidth: return "Bandwidth(" + std::to_string(v.integer) + ")";
    case K::Range:
      return "Range(" + (v.items.size() == 2 ? DescribeValue(v.items[0]) + " - " + DescribeValue(v.items[1]) : "?") +
             ")";
    case K::List: {
      std::string s = "List[";
      for (size_t i = 0; i < v.items.size(); ++i) s += (i ? ", " : "") + DescribeValue(v.items[i]);
      return s + "]";
    }
  }
  return "?";
}

void DumpAst(const ast::Program& program, const llvm::SourceMgr& sources, llvm::raw_ostream& os) {
  for (const auto& f : program.files) {
    os << "file " << f.path << "\n";
    for (const auto& i : f.imports) os << "  import \"" << i.path << "\" @" << RangeText(sources, i.range) << "\n";
    for (const auto& b : f.blocks) DumpBlock(b, sources, os, 2);
  }
}

}  // namespace netdsl
