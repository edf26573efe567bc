// Parse stage: loads files and their imports, runs the ANTLR parser over
// top-level chunks (SLL first, LL with error recovery on failure), reports
// lexical and syntax errors as diagnostics, and builds the AST from the parse
// tree. The only translation unit of netdslc that includes ANTLR headers.
#include "compiler/syntax/parse.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <thread>
#include <typeinfo>

#include "NetDslLexer.h"
#include "NetDslParser.h"
#include "antlr4-runtime.h"
#include "common/io/bidi.h"
#include "compiler/syntax/lexer.h"
#include "compiler/syntax/literals.h"
#include "compiler/syntax/source_scan.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

namespace netdsl {
namespace {

using netdsl_antlr::NetDslLexer;
using netdsl_antlr::NetDslParser;
using antlr4::Token;

constexpr unsigned kMaxNesting = 64;
constexpr size_t kChunkBytes = 256 * 1024;

static_assert(int(NetDslParser::IMPORT) == syntax::kImport && int(NetDslParser::IDENT) == syntax::kIdent &&
              int(NetDslParser::NUMBER) == syntax::kNumber && int(NetDslParser::COLON_WORD) == syntax::kColonWord &&
              int(NetDslParser::STRING) == syntax::kString &&
              int(NetDslParser::UNTERMINATED_STRING) == syntax::kUnterminatedString &&
              int(NetDslParser::ASSIGN) == syntax::kAssign && int(NetDslParser::SEMI) == syntax::kSemi &&
              int(NetDslParser::COMMA) == syntax::kComma && int(NetDslParser::LBRACE) == syntax::kLBrace &&
              int(NetDslParser::RBRACE) == syntax::kRBrace && int(NetDslParser::LBRACK) == syntax::kLBrack &&
              int(NetDslParser::RBRACK) == syntax::kRBrack && int(NetDslParser::DOTDOT) == syntax::kDotDot &&
              int(NetDslParser::MINUS) == syntax::kMinus && int(NetDslParser::LINE_COMMENT) == syntax::kLineComment &&
              int(NetDslParser::BLOCK_COMMENT) == syntax::kBlockComment &&
              int(NetDslParser::UNTERMINATED_COMMENT) == syntax::kUnterminatedComment &&
              int(NetDslParser::WS) == syntax::kWs && int(NetDslParser::ERROR_CHAR) == syntax::kErrorChar,
              "compiler/syntax/lexer.h token numbers must match grammar/NetDsl.g4");

/// Feeds the generated parser from the hand-written lexer. Token indices are
/// byte offsets into the chunk; token text is not materialized (the builder
/// slices the source instead).
class FastTokenSource : public antlr4::TokenSource {
 public:
  explicit FastTokenSource(std::string_view text) : text_(text), lexer_(text) {}
  std::unique_ptr<Token> nextToken() override {
    syntax::LexToken t;
    if (!lexer_.Next(t))
      return std::make_unique<antlr4::CommonToken>(Source(), Token::EOF, Token::DEFAULT_CHANNEL, text_.size(),
                                                   text_.size() - 1);
    return std::make_unique<antlr4::CommonToken>(
        Source(), t.type, syntax::IsHidden(t.type) ? Token::HIDDEN_CHANNEL : Token::DEFAULT_CHANNEL, t.begin,
        t.end - 1);
  }
  size_t getLine() const override { return 0; }
  size_t getCharPositionInLine() override { return 0; }
  antlr4::CharStream* getInputStream() override { return nullptr; }
  std::string getSourceName() override { return "netdsl"; }
  antlr4::TokenFactory<antlr4::CommonToken>* getTokenFactory() override {
    return antlr4::CommonTokenFactory::DEFAULT.get();
  }

 private:
  std::pair<antlr4::TokenSource*, antlr4::CharStream*> Source() { return {this, nullptr}; }
  std::string_view text_;
  syntax::Lexer lexer_;
};

enum class NodeKind { Terminal, Error, Rule };

/// Classifies a parse-tree child without dynamic_cast (hot path): the
/// generated context types live in this binary, so their type_info addresses
/// are unique and compare by pointer; anything that is neither one of them nor
/// a plain terminal is an error node and is skipped.
NodeKind KindOf(antlr4::tree::ParseTree* t) {
  const std::type_info* ti = &typeid(*t);
  if (ti == &typeid(NetDslParser::BlockContext) || ti == &typeid(NetDslParser::PropertyContext) ||
      ti == &typeid(NetDslParser::ValueContext) || ti == &typeid(NetDslParser::ScalarContext) ||
      ti == &typeid(NetDslParser::ListContext) || ti == &typeid(NetDslParser::NameRangeContext) ||
      ti == &typeid(NetDslParser::ImportDeclContext) || ti == &typeid(NetDslParser::FileContext))
    return NodeKind::Rule;
  if (*ti == typeid(antlr4::tree::TerminalNodeImpl)) return NodeKind::Terminal;
  return NodeKind::Error;
}
Token* SymbolOf(antlr4::tree::ParseTree* t) { return static_cast<antlr4::tree::TerminalNode*>(t)->getSymbol(); }
size_t RuleOf(antlr4::tree::ParseTree* t) { return static_cast<antlr4::RuleContext*>(t)->getRuleIndex(); }

/// Builds AST pieces from one chunk's parse tree and reports errors in it.
class ChunkBuilder {
 public:
  ChunkBuilder(DiagnosticEngine& diags, const char* chunk_start, std::string_view parse_text, bool at_buffer_end)
      : diags_(diags), chunk_start_(chunk_start), text_(parse_text), at_buffer_end_(at_buffer_end) {}

  llvm::SMLoc LocOfIndex(size_t byte) const {
    return llvm::SMLoc::getFromPointer(chunk_start_ + std::min(byte, text_.size()));
  }
  static bool Real(const Token* t) {
    return t && t->getStartIndex() != INVALID_INDEX && t->getTokenIndex() != INVALID_INDEX &&
           t->getType() != Token::EOF;
  }
  llvm::SMLoc Start(const Token* t) const { return LocOfIndex(t->getStartIndex()); }
  llvm::SMLoc End(const Token* t) const {
    if (t->getType() == Token::EOF) return LocOfIndex(t->getStartIndex());
    return LocOfIndex(t->getStopIndex() + 1);
  }
  llvm::SMRange Range(const Token* t) const { return {Start(t), End(t)}; }
  /// The token's source text (tokens carry offsets, not text).
  std::string Text(const Token* t) const {
    if (!Real(t)) return {};
    size_t b = std::min(t->getStartIndex(), text_.size()), e = std::min(t->getStopIndex() + 1, text_.size());
    return e > b ? std::string(text_.substr(b, e - b)) : std::string();
  }
  std::string Text(antlr4::tree::TerminalNode* n) const { return n ? Text(n->getSymbol()) : std::string(); }
  llvm::SMRange EndOfFile() const {
    llvm::SMLoc l = llvm::SMLoc::getFromPointer(chunk_start_ + text_.size());
    return {l, l};
  }
  /// The tokens of `ctx` (first to last real token).
  llvm::SMRange Range(antlr4::ParserRuleContext* ctx) const {
    Token* a = ctx->getStart();
    Token* b = ctx->getStop();
    if (!Real(a)) return {};
    if (!Real(b) || b->getTokenIndex() < a->getTokenIndex()) b = a;
    return {Start(a), End(b)};
  }
  static std::string Spelling(llvm::SMRange r) {
    if (!r.Start.isValid() || !r.End.isValid() || r.End.getPointer() < r.Start.getPointer()) return {};
    return std::string(r.Start.getPointer(), r.End.getPointer());
  }

  /// Reports UNTERMINATED_*/ERROR_CHAR tokens (the lexer itself never fails).
  void ReportLexicalErrors(const std::vector<Token*>& tokens) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      Token* t = tokens[i];
      switch (t->getType()) {
        case NetDslLexer::UNTERMINATED_STRING:
          diags_.Report(DiagKind::UnterminatedString, Range(t),
                        "missing closing `\"` at the end of the line; strings cannot span lines");
          break;
        case NetDslLexer::UNTERMINATED_COMMENT: {
          llvm::SMLoc s = Start(t);
          diags_.Report(DiagKind::UnterminatedComment, llvm::SMRange(s, llvm::SMLoc::getFromPointer(s.getPointer() + 2)),
                        "unterminated block comment; add `*/` to close it");
          break;
        }
        case NetDslLexer::ERROR_CHAR: {
          // One diagnostic per run of adjacent bad characters.
          size_t j = i;
          while (j + 1 < tokens.size() && tokens[j + 1]->getType() == NetDslLexer::ERROR_CHAR &&
                 tokens[j + 1]->getStartIndex() == tokens[j]->getStopIndex() + 1)
            ++j;
          llvm::SMRange r(Start(t), End(tokens[j]));
          std::string text = Text(t);
          if (text.size() == 1 && text[0] == '\0') {
            diags_.Report(DiagKind::NulByte, r, "unexpected NUL byte; a .netdsl file is UTF-8 text");
          } else {
            diags_.Report(DiagKind::UnexpectedCharacter, r,
                          "unexpected character " + DescribeChar(text) +
                              (text == ":" ? "; properties are written `key = value;`" : ""));
          }
          i = j;
          break;
        }
        default:
          break;
      }
    }
  }

  static std::string DescribeChar(const std::string& utf8) {
    if (utf8.size() == 1 && utf8[0] > 0x20 && utf8[0] < 0x7F && utf8[0] != '`') return "`" + utf8 + "`";
    // Decode one code point for a U+XXXX spelling.
    uint32_t cp = static_cast<unsigned char>(utf8.empty() ? 0 : utf8[0]);
    if (utf8.size() > 1) {
      int extra = int(utf8.size()) - 1;
      cp &= 0x3Fu >> extra;
      for (size_t k = 1; k < utf8.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[k]) & 0x3F);
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", unsigned(cp));
    return buf;
  }

  std::string Describe(const Token* t) const {
    if (!t || t->getType() == Token::EOF) return "end of file";
    std::string s = Text(t);
    if (s.size() > 24) s.replace(21, std::string::npos, "...");
    if (s.find('`') != std::string::npos) return "'" + s + "'";
    return "`" + s + "`";
  }

  /// ", found `x`" when `offending` follows `prev` on the same line (a
  /// token on the next line is just the next statement).
  std::string FoundOnSameLine(const Token* prev, const Token* offending) const {
    if (!prev || !Real(offending) || offending->getType() == NetDslParser::RBRACE) return {};
    const char* a = End(prev).getPointer();
    const char* b = Start(offending).getPointer();
    for (const char* c = a; c < b; ++c)
      if (*c == '\n') return {};
    return ", found " + Describe(offending);
  }

  /// The header of a block for messages: `host_group Lenovo`.
  std::string BlockTitle(NetDslParser::BlockContext* b) const {
    std::string s = b->IDENT() ? Text(b->IDENT()) : "block";
    if (b->scalar()) {
      std::string l = Spelling(Range(b->scalar()));
      if (l.size() > 40) l.replace(37, std::string::npos, "...");
      s += " " + l;
    }
    return s;
  }

  /// Turns an ANTLR syntax error into one diagnostic with a useful message.
  void SyntaxError(antlr4::Parser* parser, Token* offending, const antlr4::misc::IntervalSet& expected) {
    auto* ctx = dynamic_cast<antlr4::ParserRuleContext*>(parser->getContext());
    Token* prev = parser->getTokenStream()->index() > 0 ? parser->getTokenStream()->LT(-1) : nullptr;
    if (!Real(prev)) prev = nullptr;
    llvm::SMRange at = Real(offending) ? Range(offending) : EndOfFile();
    llvm::SMRange after_prev = prev ? llvm::SMRange(End(prev), End(prev)) : at;
    bool at_eof = !offending || offending->getType() == Token::EOF;
    size_t rule = ctx ? ctx->getRuleIndex() : size_t(NetDslParser::RuleFile);
    // An unterminated string swallowed the rest of its line (`;` included)
    // and has its own diagnostic already.
    if (prev && prev->getType() == NetDslParser::UNTERMINATED_STRING) return;

    // Unclosed block at end of file: point at the end, note the `{`.
    if (at_eof && expected.contains(size_t(NetDslParser::RBRACE))) {
      for (auto* c = ctx; c; c = dynamic_cast<antlr4::ParserRuleContext*>(c->parent)) {
        auto* b = dynamic_cast<NetDslParser::BlockContext*>(c);
        if (b && b->LBRACE() && !b->RBRACE()) {
          std::string msg = at_buffer_end_ ? "expected `}` at end of file" : "expected `}`";
          msg += " to close block `";
          msg += BlockTitle(b);
          msg += '`';
          diags_.Report(DiagKind::UnclosedBlock, EndOfFile(), std::move(msg))
              .Note(Range(b->LBRACE()->getSymbol()), "the block opens here");
          return;
        }
      }
    }
    if (rule == NetDslParser::RuleFile && offending && offending->getType() == NetDslParser::RBRACE) {
      diags_.Report(DiagKind::UnmatchedBrace, at, "`}` does not close any block; remove it or add the missing `{`");
      return;
    }
    if (expected.contains(size_t(NetDslParser::SEMI)) && offending && offending->getType() != NetDslParser::SEMI) {
      if (auto* p = dynamic_cast<NetDslParser::PropertyContext*>(ctx); p && p->value()) {
        diags_.Report(DiagKind::MissingSemicolon, after_prev,
                      "expected `;` after property `" + Text(p->IDENT()) + "`" + FoundOnSameLine(prev, offending))
            .Fix(after_prev, ";");
        return;
      }
      if (auto* b = dynamic_cast<NetDslParser::BlockContext*>(ctx); b && !b->LBRACE()) {
        if (b->scalar() && b->scalar()->getStart() && Text(b->scalar()->getStart()) == ":") {
          ReportColon(b->scalar()->getStart());
          return;
        }
        diags_.Report(DiagKind::MissingSemicolon, after_prev,
                      "expected `;` or `{` after `" + BlockTitle(b) + "`, found " + Describe(offending));
        return;
      }
      if (dynamic_cast<NetDslParser::ImportDeclContext*>(ctx)) {
        diags_.Report(DiagKind::MissingSemicolon, after_prev, "expected `;` after the import").Fix(after_prev, ";");
        return;
      }
    }
    if (rule == NetDslParser::RuleValue || rule == NetDslParser::RuleScalar || rule == NetDslParser::RuleProperty) {
      if (prev && prev->getType() == NetDslParser::ASSIGN) {
        std::string key;
        for (auto* c = ctx; c; c = dynamic_cast<antlr4::ParserRuleContext*>(c->parent))
          if (auto* p = dynamic_cast<NetDslParser::PropertyContext*>(c); p && p->IDENT()) {
            key = Text(p->IDENT());
            break;
          }
        diags_.Report(DiagKind::MissingValue, at_eof || offending->getType() == NetDslParser::SEMI ? after_prev : at,
                      "expected a value after `" + key + " =`, found " + Describe(offending));
        return;
      }
      if (prev && prev->getType() == NetDslParser::MINUS) {
        diags_.Report(DiagKind::UnexpectedToken, at,
                      "expected the last value of the range after `-`, found " + Describe(offending));
        return;
      }
    }
    if (rule == NetDslParser::RuleList || (prev && (prev->getType() == NetDslParser::COMMA ||
                                                     prev->getType() == NetDslParser::LBRACK) &&
                                           rule != NetDslParser::RuleNameRange)) {
      bool want_value = !prev || prev->getType() == NetDslParser::COMMA || prev->getType() == NetDslParser::LBRACK;
      diags_.Report(DiagKind::UnexpectedToken, at,
                    std::string("expected ") + (want_value ? "a value or `]`" : "`,` or `]`") + " in the list, found " +
                        Describe(offending));
      return;
    }
    if (rule == NetDslParser::RuleNameRange) {
      diags_.Report(DiagKind::MalformedNameRange, at,
                    "malformed host name range, found " + Describe(offending) + "; write it like `rack1-h[01..40]`");
      return;
    }
    if (rule == NetDslParser::RuleBlock && offending && offending->getType() == NetDslParser::STRING &&
        parser->getTokenStream()->LA(2) == NetDslParser::ASSIGN) {
      diags_.Report(DiagKind::UnexpectedToken, at,
                    "property keys are names without quotes: write `" +
                        Text(offending).substr(1, Text(offending).size() - 2) + " = ...;`");
      return;
    }
    if (rule == NetDslParser::RuleBlock || rule == NetDslParser::RuleFile) {
      bool top = rule == NetDslParser::RuleFile;
      if (!top) {
        auto* b = dynamic_cast<NetDslParser::BlockContext*>(ctx);
        // Still in the header of a top-level block (`kind label` without `{`)?
        if (b && !b->LBRACE() && dynamic_cast<NetDslParser::FileContext*>(b->parent)) top = true;
      }
      diags_.Report(DiagKind::UnexpectedToken, at,
                    "unexpected " + Describe(offending) +
                        (top ? "; expected a block such as `kind name { ... }` or an `import`"
                             : "; expected a property `key = value;`, a block, or `}`"));
      return;
    }
    diags_.Report(DiagKind::UnexpectedToken, at,
                  "unexpected " + Describe(offending) + "; expected " +
                      DescribeExpected(expected, parser->getVocabulary()));
  }

  static std::string DescribeExpected(const antlr4::misc::IntervalSet& set, const antlr4::dfa::Vocabulary& vocab) {
    std::vector<std::string> names;
    for (ssize_t t : set.toList()) {
      switch (t) {
        case NetDslParser::IDENT: names.push_back("a name"); break;
        case NetDslParser::STRING: names.push_back("a string"); break;
        case NetDslParser::NUMBER: names.push_back("a number or address"); break;
        case -1: names.push_back("end of file"); break;
        default: {
          std::string lit = vocab.getLiteralName(size_t(t));
          if (lit.size() >= 2 && lit.front() == '\'') names.push_back("`" + lit.substr(1, lit.size() - 2) + "`");
        }
      }
    }
    if (names.empty()) return "something else";
    std::string s;
    for (size_t i = 0; i < names.size(); ++i) {
      if (i) s += i + 1 == names.size() ? " or " : ", ";
      s += names[i];
    }
    return s;
  }

  // ---- AST building (walks children directly: no generated accessors, which
  // dynamic_cast every child on every call) ----------------------------------

  void TopLevel(NetDslParser::FileContext* file, std::vector<ast::Block>& blocks, std::vector<ast::Import>& imports) {
    size_t nblocks = 0;
    for (auto* c : file->children)
      if (KindOf(c) == NodeKind::Rule && RuleOf(c) == NetDslParser::RuleBlock) ++nblocks;
    blocks.reserve(blocks.size() + nblocks);
    for (auto* c : file->children) {
      if (KindOf(c) != NodeKind::Rule) continue;
      switch (RuleOf(c)) {
        case NetDslParser::RuleImportDecl:
          BuildImport(static_cast<NetDslParser::ImportDeclContext*>(c), imports);
          break;
        case NetDslParser::RuleProperty: {
          auto* p = static_cast<NetDslParser::PropertyContext*>(c);
          Token* key = p->getStart();
          if (Real(key) && key->getType() == NetDslParser::IDENT)
            diags_.Report(DiagKind::UnexpectedToken, Range(p),
                          "property `" + Text(key) + "` must be inside a block such as `kind name { ... }`");
          break;
        }
        case NetDslParser::RuleBlock: {
          ast::Block out;
          if (BuildBlock(static_cast<NetDslParser::BlockContext*>(c), out)) blocks.push_back(std::move(out));
          break;
        }
        default:
          break;
      }
    }
  }

  void BuildImport(NetDslParser::ImportDeclContext* imp, std::vector<ast::Import>& imports) {
    for (auto* c : imp->children) {
      if (KindOf(c) != NodeKind::Terminal) continue;
      Token* t = SymbolOf(c);
      if (!Real(t) || (t->getType() != NetDslParser::STRING && t->getType() != NetDslParser::UNTERMINATED_STRING))
        continue;
      ast::Import i;
      UnescapeAt(t, i.path);
      i.range = Range(t);
      i.statement = Range(static_cast<antlr4::ParserRuleContext*>(imp));
      imports.push_back(std::move(i));
      return;
    }
  }

  bool BuildBlock(NetDslParser::BlockContext* b, ast::Block& out) {
    Token* kind = b->getStart();
    if (!Real(kind) || kind->getType() != NetDslParser::IDENT) return false;
    out.kind = Text(kind);
    out.kind_range = Range(kind);
    Token* last = nullptr;
    size_t nprops = 0, nblocks = 0;
    for (auto* c : b->children) {
      if (KindOf(c) != NodeKind::Rule) continue;
      size_t r = RuleOf(c);
      nprops += r == NetDslParser::RuleProperty;
      nblocks += r == NetDslParser::RuleBlock;
    }
    out.properties.reserve(nprops);
    out.blocks.reserve(nblocks);
    bool first = true;
    for (auto* c : b->children) {
      NodeKind k = KindOf(c);
      if (k == NodeKind::Error) continue;
      if (k == NodeKind::Terminal) {
        Token* t = SymbolOf(c);
        if (first) {
          first = false;
          continue;  // the kind
        }
        if (!Real(t)) continue;
        if (t->getType() == NetDslParser::LBRACE) out.has_body = true;
        if (t->getType() == NetDslParser::RBRACE || t->getType() == NetDslParser::SEMI) last = t;
        continue;
      }
      first = false;
      switch (RuleOf(c)) {
        case NetDslParser::RuleScalar: {
          ast::Value v;
          if (BuildScalar(static_cast<NetDslParser::ScalarContext*>(c), v)) out.label = std::move(v);
          break;
        }
        case NetDslParser::RuleNameRange:
          BuildNameRange(static_cast<NetDslParser::NameRangeContext*>(c), out);
          break;
        case NetDslParser::RuleProperty: {
          ast::Property prop;
          if (BuildProperty(static_cast<NetDslParser::PropertyContext*>(c), prop))
            out.properties.push_back(std::move(prop));
          break;
        }
        case NetDslParser::RuleBlock: {
          ast::Block child;
          if (BuildBlock(static_cast<NetDslParser::BlockContext*>(c), child)) out.blocks.push_back(std::move(child));
          break;
        }
        case NetDslParser::RuleImportDecl:
          diags_.Report(DiagKind::MisplacedImport, Range(static_cast<antlr4::ParserRuleContext*>(c)),
                        "`import` is only allowed at the top level of a file, not inside block `" + BlockTitle(b) +
                            "`");
          break;
        default:
          break;
      }
    }
    out.range = last ? llvm::SMRange(Start(kind), End(last)) : Range(b);
    return true;
  }

  void BuildNameRange(NetDslParser::NameRangeContext* nr, ast::Block& out) {
    std::vector<Token*> nums;
    for (auto* c : nr->children)
      if (KindOf(c) == NodeKind::Terminal && SymbolOf(c)->getType() == NetDslParser::NUMBER && Real(SymbolOf(c)))
        nums.push_back(SymbolOf(c));
    if (nums.size() != 2) return;
    llvm::SMRange range = Range(nr);
    std::string a = Text(nums[0]), b = Text(nums[1]);
    auto first = syntax::ParseDecimal(a), last = syntax::ParseDecimal(b);
    if (!first || !last) {
      diags_.Report(DiagKind::MalformedNameRange, range,
                    "host name range bounds must be decimal numbers, like `[01..40]`");
      return;
    }
    if (*first > *last) {
      diags_.Report(DiagKind::MalformedNameRange, range,
                    "host name range `[" + a + ".." + b + "]` is empty: the first bound is greater than the last");
      return;
    }
    if (!out.label || !out.label->IsName()) {
      diags_.Report(DiagKind::MalformedNameRange, range,
                    "a host name range needs a name before it, like `rack1-h[01..40]`");
      return;
    }
    out.name_range = ast::Block::NameRange{*first, *last, unsigned(a.size()), range};
  }

  bool BuildProperty(NetDslParser::PropertyContext* p, ast::Property& out) {
    Token* key = nullptr;
    Token* semi = nullptr;
    NetDslParser::ValueContext* value = nullptr;
    for (auto* c : p->children) {
      NodeKind k = KindOf(c);
      if (k == NodeKind::Terminal) {
        Token* t = SymbolOf(c);
        if (t->getType() == NetDslParser::IDENT && !key) key = t;
        if (t->getType() == NetDslParser::SEMI) semi = t;
      } else if (k == NodeKind::Rule && RuleOf(c) == NetDslParser::RuleValue) {
        value = static_cast<NetDslParser::ValueContext*>(c);
      }
    }
    if (!Real(key) || !value) return false;
    out.key = Text(key);
    out.key_range = Range(key);
    if (!BuildValue(value, out.value)) return false;
    out.range = llvm::SMRange(out.key_range.Start, Real(semi) ? End(semi) : out.value.range.End);
    return true;
  }

  bool BuildValue(NetDslParser::ValueContext* v, ast::Value& out) {
    NetDslParser::ScalarContext* scalars[2] = {nullptr, nullptr};
    int nscalars = 0;
    for (auto* c : v->children) {
      if (KindOf(c) != NodeKind::Rule) continue;
      size_t r = RuleOf(c);
      if (r == NetDslParser::RuleList) return BuildList(static_cast<NetDslParser::ListContext*>(c), out);
      if (r == NetDslParser::RuleScalar && nscalars < 2) scalars[nscalars++] = static_cast<NetDslParser::ScalarContext*>(c);
    }
    if (nscalars == 0) return false;
    if (nscalars == 1) return BuildScalar(scalars[0], out);
    ast::Value lo, hi;
    if (!BuildScalar(scalars[0], lo) || !BuildScalar(scalars[1], hi)) return false;
    out.kind = ast::Value::Kind::Range;
    out.range = llvm::SMRange(lo.range.Start, hi.range.End);
    out.text = Spelling(out.range);
    out.items.reserve(2);
    out.items.push_back(std::move(lo));
    out.items.push_back(std::move(hi));
    return true;
  }

  bool BuildList(NetDslParser::ListContext* list, ast::Value& out) {
    out.kind = ast::Value::Kind::List;
    out.range = Range(list);
    for (auto* c : list->children) {
      if (KindOf(c) != NodeKind::Rule || RuleOf(c) != NetDslParser::RuleValue) continue;
      ast::Value iv;
      if (BuildValue(static_cast<NetDslParser::ValueContext*>(c), iv)) out.items.push_back(std::move(iv));
    }
    out.text = Spelling(out.range);
    return out.range.Start.isValid();
  }

  bool BuildScalar(NetDslParser::ScalarContext* s, ast::Value& out) {
    if (!s) return false;
    Token* t = s->getStart();
    if (!Real(t)) return false;
    out.range = Range(t);
    switch (t->getType()) {
      case NetDslParser::IDENT:
        out.text = Text(t);
        if (out.text == "true" || out.text == "false") {
          out.kind = ast::Value::Kind::Bool;
          out.boolean = out.text == "true";
        } else {
          out.kind = ast::Value::Kind::Ident;
        }
        return true;
      case NetDslParser::STRING:
      case NetDslParser::UNTERMINATED_STRING:
        out.kind = ast::Value::Kind::String;
        UnescapeAt(t, out.text);
        return true;
      case NetDslParser::NUMBER:
      case NetDslParser::COLON_WORD: {
        out.text = Text(t);
        if (out.text == ":") {
          ReportColon(t);
          return true;
        }
        auto err = t->getType() == NetDslParser::NUMBER ? syntax::ClassifyNumber(out.text, out)
                                                        : syntax::ClassifyColonWord(out.text, out);
        if (err) {
          const char* p = out.range.Start.getPointer();
          diags_.Report(err->kind,
                        llvm::SMRange(llvm::SMLoc::getFromPointer(p + err->begin),
                                      llvm::SMLoc::getFromPointer(p + err->end)),
                        err->message);
        }
        return true;
      }
      default:
        return false;
    }
  }

  /// `vlan: 5;` lexes `:` as a (malformed) address; both the parser and the
  /// builder report it with this one deduplicated message.
  void ReportColon(Token* t) {
    diags_.Report(DiagKind::UnexpectedToken, Range(t), "unexpected `:`; properties are written `key = value;`");
  }

  /// Unescapes a string token and reports a bad escape at its exact place.
  void UnescapeAt(Token* t, std::string& out) {
    llvm::SMRange r = Range(t);
    std::string_view raw(r.Start.getPointer(), size_t(r.End.getPointer() - r.Start.getPointer()));
    if (auto err = syntax::UnescapeString(raw, out)) {
      const char* p = r.Start.getPointer();
      diags_.Report(err->kind,
                    llvm::SMRange(llvm::SMLoc::getFromPointer(p + err->begin), llvm::SMLoc::getFromPointer(p + err->end)),
                    err->message);
    }
  }

 private:
  DiagnosticEngine& diags_;
  const char* chunk_start_;
  std::string_view text_;
  bool at_buffer_end_;  ///< the chunk ends where the file ends
};

/// DefaultErrorStrategy with our own messages.
class ReportingStrategy : public antlr4::DefaultErrorStrategy {
 public:
  explicit ReportingStrategy(ChunkBuilder& b) : b_(b) {}

 protected:
  // Never "recover" by deleting a statement terminator: `vlan = ; mtu = 1;`
  // would otherwise take `mtu` as the value of `vlan` and cascade.
  Token* singleTokenDeletion(antlr4::Parser* p) override {
    size_t t = p->getInputStream()->LA(1);
    if (t == NetDslParser::SEMI || t == NetDslParser::RBRACE || t == NetDslParser::LBRACE) return nullptr;
    return antlr4::DefaultErrorStrategy::singleTokenDeletion(p);
  }
  void reportNoViableAlternative(antlr4::Parser* p, const antlr4::NoViableAltException& e) override {
    b_.SyntaxError(p, e.getOffendingToken(), e.getExpectedTokens());
  }
  void reportInputMismatch(antlr4::Parser* p, const antlr4::InputMismatchException& e) override {
    b_.SyntaxError(p, e.getOffendingToken(), e.getExpectedTokens());
  }
  void reportFailedPredicate(antlr4::Parser* p, const antlr4::FailedPredicateException& e) override {
    b_.SyntaxError(p, e.getOffendingToken(), e.getExpectedTokens());
  }
  void reportUnwantedToken(antlr4::Parser* p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    b_.SyntaxError(p, p->getCurrentToken(), getExpectedTokens(p));
  }
  void reportMissingToken(antlr4::Parser* p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    b_.SyntaxError(p, p->getCurrentToken(), getExpectedTokens(p));
  }

 private:
  ChunkBuilder& b_;
};

struct ChunkResult {
  std::vector<ast::Block> blocks;
  std::vector<ast::Import> imports;
};

void ParseChunk(DiagnosticEngine& diags, const char* sm_start, std::string_view text, bool at_buffer_end,
                ChunkResult& out) {
  ChunkBuilder builder(diags, sm_start, text, at_buffer_end);
  try {
    FastTokenSource lexer(text);
    antlr4::CommonTokenStream tokens(&lexer);
    tokens.fill();
    builder.ReportLexicalErrors(tokens.getTokens());
    NetDslParser parser(&tokens);
    parser.removeErrorListeners();
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    NetDslParser::FileContext* tree = nullptr;
    try {
      tree = parser.file();
    } catch (const antlr4::ParseCancellationException&) {
      // A syntax error: parse again in full LL mode with recovery and reporting.
      tokens.seek(0);
      parser.reset();
      parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
      parser.setErrorHandler(std::make_shared<ReportingStrategy>(builder));
      tree = parser.file();
    }
    if (tree) builder.TopLevel(tree, out.blocks, out.imports);
  } catch (const std::exception& e) {
    // The runtime should not throw past recovery; never crash if it does.
    diags.Report(DiagKind::UnexpectedToken, llvm::SMLoc::getFromPointer(sm_start),
                 std::string("the parser gave up on this part of the file: ") + e.what());
  }
}

/// Parses one loaded buffer into `file`.
void ParseTextInto(DiagnosticEngine& diags, const char* sm_start, std::string_view text, bool ends_buffer,
                   ast::File& file);

void ParseBufferInto(DiagnosticEngine& diags, unsigned buffer_id, ast::File& file) {
  const llvm::MemoryBuffer* buf = diags.sources().getMemoryBuffer(buffer_id);
  ParseTextInto(diags, buf->getBufferStart(), std::string_view(buf->getBufferStart(), buf->getBufferSize()), true,
                file);
}

/// Parses `text`, which starts at `sm_start` in a loaded buffer and begins
/// and ends at top-level statement boundaries (`ends_buffer`: it ends where
/// the buffer ends).
void ParseTextInto(DiagnosticEngine& diags, const char* sm_start, std::string_view text, bool ends_buffer,
                   ast::File& file) {

  // Invalid UTF-8: report, then parse a copy with the bad bytes blanked so
  // that byte offsets stay the same.
  std::string sanitized;
  std::vector<size_t> bad = syntax::FindInvalidUtf8(text);
  if (!bad.empty()) {
    llvm::SMLoc l = llvm::SMLoc::getFromPointer(sm_start + bad[0]);
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", unsigned(static_cast<unsigned char>(text[bad[0]])));
    std::string msg = std::string("invalid UTF-8 byte ") + hex + "; .netdsl files must be UTF-8 text";
    if (bad.size() > 1) msg += " (" + std::to_string(bad.size()) + " invalid sequences in this file)";
    diags.Report(DiagKind::InvalidUtf8, llvm::SMRange(l, llvm::SMLoc::getFromPointer(l.getPointer() + 1)), msg);
    sanitized.assign(text);
    syntax::BlankInvalidUtf8(sanitized);
    text = sanitized;
  }

  // Bidi controls anywhere (strings, comments): a reader of the source, and of
  // every artifact a name reaches, would see text reordered (Trojan Source,
  // CVE-2021-42574). Refused like rustc's `text_direction_codepoint_*` lints.
  for (size_t at = io::FindBidiControl(text); at != std::string_view::npos; at = io::FindBidiControl(text, at + 3)) {
    uint32_t code_point = io::BidiControlAt(text, at);
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", unsigned(code_point));
    llvm::SMLoc l = llvm::SMLoc::getFromPointer(sm_start + at);
    diags.Report(DiagKind::BidiControl, llvm::SMRange(l, llvm::SMLoc::getFromPointer(l.getPointer() + 3)),
                 std::string("Unicode bidirectional control ") + code + " (" +
                     std::string(io::BidiControlName(code_point)) +
                     ") makes this line display in another order than it is read; remove it");
  }

  std::vector<syntax::Chunk> chunks = syntax::SplitTopLevel(text, kChunkBytes, kMaxNesting);
  std::vector<ChunkResult> results(chunks.size());
  auto work = [&](size_t i) {
    const syntax::Chunk& c = chunks[i];
    if (c.too_deep) {
      llvm::SMLoc l = llvm::SMLoc::getFromPointer(sm_start + c.too_deep_at);
      diags.Report(DiagKind::NestingTooDeep, llvm::SMRange(l, llvm::SMLoc::getFromPointer(l.getPointer() + 1)),
                   "blocks and lists are nested more than " + std::to_string(kMaxNesting) +
                       " levels deep; this statement is not parsed");
      return;
    }
    ParseChunk(diags, sm_start + c.begin, text.substr(c.begin, c.end - c.begin), ends_buffer && c.end == text.size(),
               results[i]);
  };
  unsigned threads = std::min<size_t>(chunks.size(), std::max(1u, std::min(2u, std::thread::hardware_concurrency())));
  if (threads <= 1) {
    for (size_t i = 0; i < chunks.size(); ++i) work(i);
  } else {
    // The first chunk alone warms ANTLR's shared DFA cache, so that the
    // threads afterwards mostly read it (the 4.9 runtime locks it, but keeping
    // concurrent DFA construction rare is cheap insurance).
    work(0);
    std::atomic<size_t> next{1};
    auto loop = [&] {
      for (size_t i; (i = next.fetch_add(1)) < chunks.size();) work(i);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(loop);
    loop();
    for (auto& t : pool) t.join();
  }
  size_t nblocks = 0;
  for (auto& r : results) nblocks += r.blocks.size();
  file.blocks.reserve(nblocks);
  for (auto& r : results) {
    for (auto& b : r.blocks) file.blocks.push_back(std::move(b));
    for (auto& i : r.imports) file.imports.push_back(std::move(i));
    r = ChunkResult();  // free the moved-from shells now: keeps the peak low
  }
}

/// Loads files depth-first, detecting import cycles.
class Loader {
 public:
  Loader(DiagnosticEngine& diags, const ParseOptions& options) : diags_(diags), options_(options) {}

  void Load(const std::string& path, const ast::Import* from) {
    llvm::SmallString<256> key;
    if (llvm::sys::fs::real_path(path, key)) {
      key = path;
      llvm::sys::fs::make_absolute(key);
      llvm::sys::path::remove_dots(key, /*remove_dot_dot=*/true);
    }
    std::string id(key.str());
    if (!from) {
      // A root file: its directory (symbolic links resolved) confines its imports.
      llvm::SmallString<256> dir(llvm::sys::path::parent_path(id));
      root_dir_ = std::string(dir.str());
      root_path_ = path;
    } else if (!options_.imports_anywhere && !Within(id, root_dir_)) {
      diags_.Report(DiagKind::ImportOutsideRoot, from->range,
                    "import `" + from->path + "` resolves to `" + id + "`, outside `" + root_dir_ +
                        "`, the directory of the root file `" + root_path_ +
                        "`; imports stay within the root file's directory tree (pass `--imports-anywhere` to allow "
                        "this one, for sources you trust)");
      return;
    }
    for (size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i].id != id) continue;
      // `from` closes a cycle that starts at stack_[i].
      std::string chain;
      for (size_t k = i; k < stack_.size(); ++k) chain += "`" + stack_[k].path + "` -> ";
      auto d = diags_.Report(DiagKind::ImportCycle, from ? from->range : llvm::SMRange(),
                             "import cycle: " + chain + "`" + path + "`; remove one of these imports");
      for (size_t k = i + 1; k < stack_.size(); ++k)
        d.Note(stack_[k].imported_at, "`" + stack_[k - 1].path + "` imports `" + stack_[k].path + "` here");
      return;
    }
    if (done_.count(id)) return;
    done_.insert(id);

    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/true);
    std::error_code ec = buffer ? std::error_code() : buffer.getError();
    if (!ec && llvm::sys::fs::is_directory(path)) ec = std::make_error_code(std::errc::is_a_directory);
    if (ec) {
      if (from)
        diags_.Report(DiagKind::ImportNotFound, from->range,
                      "cannot read imported file `" + path + "`: " + ec.message());
      else
        diags_.Report(DiagKind::FileNotReadable, llvm::SMRange(), "cannot read `" + path + "`: " + ec.message());
      return;
    }
    unsigned id_buf = diags_.sources().AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
    size_t index = program_.files.size();
    program_.files.emplace_back();
    program_.files[index].path = path;
    program_.files[index].buffer_id = id_buf;
    ast::File parsed;
    ParseBufferInto(diags_, id_buf, parsed);
    parsed.path = path;
    parsed.buffer_id = id_buf;
    std::vector<ast::Import> imports = parsed.imports;
    program_.files[index] = std::move(parsed);

    stack_.push_back({id, path, from ? from->range : llvm::SMRange()});
    llvm::StringRef dir = llvm::sys::path::parent_path(path);
    for (const auto& imp : imports) {
      std::string target = imp.path;
      if (!llvm::sys::path::is_absolute(target) && !dir.empty()) {
        llvm::SmallString<256> joined(dir);
        llvm::sys::path::append(joined, target);
        target = std::string(joined.str());
      }
      if (imp.path.empty()) {
        diags_.Report(DiagKind::ImportNotFound, imp.range, "`import` needs a file name");
        continue;
      }
      Load(target, &imp);
    }
    stack_.pop_back();
  }

  ast::Program Take() { return std::move(program_); }

 private:
  /// True when `path` is `dir` or below it (both absolute, without dots).
  static bool Within(llvm::StringRef path, llvm::StringRef dir) {
    if (dir.empty() || !path.startswith(dir)) return false;
    return path.size() == dir.size() || dir.endswith("/") || path[dir.size()] == '/';
  }

  struct Frame {
    std::string id;
    std::string path;
    llvm::SMRange imported_at;  ///< the import string that brought this file in
  };
  DiagnosticEngine& diags_;
  const ParseOptions& options_;
  std::string root_dir_, root_path_;  ///< of the root file being loaded
  std::vector<Frame> stack_;
  std::set<std::string> done_;
  ast::Program program_;
};

}  // namespace

ast::Program Parse(const std::vector<std::string>& root_paths, DiagnosticEngine& diags,
                   const ParseOptions& options) {
  Loader loader(diags, options);
  for (const auto& p : root_paths) loader.Load(p, nullptr);
  return loader.Take();
}

ast::File ParseRegion(unsigned buffer_id, size_t begin, size_t end, DiagnosticEngine& diags) {
  ast::File file;
  file.buffer_id = buffer_id;
  const llvm::MemoryBuffer* buf = diags.sources().getMemoryBuffer(buffer_id);
  file.path = buf->getBufferIdentifier().str();
  end = std::min(end, buf->getBufferSize());
  begin = std::min(begin, end);
  ParseTextInto(diags, buf->getBufferStart() + begin, std::string_view(buf->getBufferStart() + begin, end - begin),
                end == buf->getBufferSize(), file);
  return file;
}

ast::File ParseBuffer(unsigned buffer_id, DiagnosticEngine& diags) {
  ast::File file;
  file.buffer_id = buffer_id;
  file.path = diags.sources().getMemoryBuffer(buffer_id)->getBufferIdentifier().str();
  ParseBufferInto(diags, buffer_id, file);
  return file;
}

}  // namespace netdsl
