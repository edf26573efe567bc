// The formatter (no ANTLR: it uses the hand-written lexer): re-lays out the token stream (comments included) of a file
// that parses cleanly, then checks that the tokens are unchanged.
#include "compiler/syntax/format.h"

#include <algorithm>
#include <vector>

#include "compiler/syntax/lexer.h"

namespace netdsl {
namespace {

namespace NetDslLexer = syntax;

struct Tok {
  size_t type;
  size_t begin, end;  // byte offsets
  size_t line_begin, line_end;  // 0-based source lines of first and last byte
};

/// Every token except whitespace, with byte offsets and line numbers.
std::vector<Tok> Lex(std::string_view text) {
  std::vector<size_t> line_of(text.size() + 1);
  size_t line = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    line_of[i] = line;
    if (text[i] == '\n') ++line;
  }
  line_of[text.size()] = line;
  std::vector<Tok> out;
  syntax::Lexer lexer(text);
  syntax::LexToken t;
  while (lexer.Next(t)) {
    size_t b = t.begin, e = t.end;
    out.push_back({t.type, b, e, line_of[b], line_of[e > b ? e - 1 : b]});
  }
  return out;
}

class Formatter {
 public:
  explicit Formatter(std::string_view text) : text_(text) {}

 private:
  std::string_view Text(const Tok& t) const { return text_.substr(t.begin, t.end - t.begin); }
  static bool IsComment(size_t type) {
    return type == NetDslLexer::kLineComment || type == NetDslLexer::kBlockComment ||
           type == NetDslLexer::kUnterminatedComment;
  }

  void EndLine() {
    if (!at_line_start_) {
      out_ += '\n';
      at_line_start_ = true;
    }
  }
  /// Starts a new line for token `i`, keeping one blank line if the source had one.
  void StartLine(size_t i) {
    EndLine();
    if (i > 0 && toks_[i].line_begin > toks_[i - 1].line_end + 1 && !out_.empty() && !after_open_ &&
        toks_[i].type != NetDslLexer::kRBrace)
      out_ += '\n';
    unsigned width = indent_ * 2 + (continuation_ ? 4 : 0);
    out_.append(width, ' ');
    at_line_start_ = false;
    after_open_ = false;
  }
  void Write(size_t i) {
    out_.append(Text(toks_[i]));
    prev_ = toks_[i].type;
  }

  void Emit(size_t i) {
    const Tok& t = toks_[i];
    if (IsComment(t.type)) {
      bool trailing = i > 0 && toks_[i - 1].line_end == t.line_begin && !out_.empty();
      if (trailing && at_line_start_) {
        // The previous token ended its output line (`;`, `{`, `}`): reattach.
        if (out_.back() == '\n') out_.pop_back();
        at_line_start_ = false;
      }
      if (trailing) {
        out_ += ' ';
      } else {
        StartLine(i);
      }
      out_.append(Text(t));
      at_line_start_ = false;
      bool next_same_line = i + 1 < toks_.size() && toks_[i + 1].line_begin == t.line_end &&
                            t.type == NetDslLexer::kBlockComment;
      if (!next_same_line) {
        EndLine();
        // A statement broken by a comment continues on an indented line.
        continuation_ = in_statement_;
      } else {
        prev_ = NetDslLexer::kBlockComment;
      }
      return;
    }
    switch (t.type) {
      case NetDslLexer::kRBrace:
        if (indent_ > 0) --indent_;
        continuation_ = false;
        StartLine(i);
        Write(i);
        EndLine();
        in_statement_ = false;
        in_property_ = false;
        return;
      default:
        break;
    }
    if (at_line_start_) {
      StartLine(i);
    } else {
      bool space = true;
      size_t ty = t.type;
      if (ty == NetDslLexer::kSemi || ty == NetDslLexer::kComma || ty == NetDslLexer::kRBrack ||
          ty == NetDslLexer::kDotDot)
        space = false;
      if (prev_ == NetDslLexer::kLBrack || prev_ == NetDslLexer::kDotDot) space = false;
      if (ty == NetDslLexer::kLBrack && !in_property_) space = false;  // rack1-h[01..40]
      if (space) out_ += ' ';
    }
    Write(i);
    in_statement_ = true;
    switch (t.type) {
      case NetDslLexer::kAssign:
        in_property_ = true;
        break;
      case NetDslLexer::kLBrace:
        // `kind label {}` stays on one line when the body is empty.
        if (i + 1 < toks_.size() && toks_[i + 1].type == NetDslLexer::kRBrace) {
          out_ += '}';
          ++pending_skip_;
          skip_index_ = i + 1;
          EndLine();
          in_statement_ = in_property_ = continuation_ = false;
          return;
        }
        // A block written on one line (no comment inside) stays on one line.
        if (size_t close = OneLineBlockEnd(i); close != 0 && WriteInline(i + 1, close)) {
          skip_until_ = close;
          EndLine();
          in_statement_ = in_property_ = continuation_ = false;
          return;
        }
        ++indent_;
        EndLine();
        after_open_ = true;
        in_statement_ = in_property_ = continuation_ = false;
        break;
      case NetDslLexer::kSemi:
        EndLine();
        in_statement_ = in_property_ = continuation_ = false;
        break;
      default:
        break;
    }
  }

  /// The index of the `}` closing the `{` at `open` when both are on one
  /// source line with no comment between them; 0 otherwise.
  size_t OneLineBlockEnd(size_t open) const {
    int depth = 0;
    for (size_t k = open; k < toks_.size(); ++k) {
      const Tok& t = toks_[k];
      if (t.line_begin != toks_[open].line_begin || IsComment(t.type)) return 0;
      if (t.type == NetDslLexer::kLBrace) ++depth;
      if (t.type == NetDslLexer::kRBrace && --depth == 0) return k;
    }
    return 0;
  }
  /// Writes tokens [first, close] (the body and its `}`) on the current line:
  /// `{ a = 1; b { c = 2; } }`, with the usual spacing inside, unless the
  /// line would grow beyond kMaxInlineColumns (a minified file is laid out).
  bool WriteInline(size_t first, size_t close) {
    constexpr size_t kMaxInlineColumns = 160;
    size_t line_start = out_.rfind('\n');
    size_t column = out_.size() - (line_start == std::string::npos ? 0 : line_start + 1);
    size_t width = 0;
    for (size_t k = first; k <= close; ++k) width += toks_[k].end - toks_[k].begin + 1;
    if (column + width > kMaxInlineColumns) return false;
    bool property = false;
    for (size_t k = first; k <= close; ++k) {
      size_t ty = toks_[k].type;
      bool space = true;
      if (ty == NetDslLexer::kSemi || ty == NetDslLexer::kComma || ty == NetDslLexer::kRBrack ||
          ty == NetDslLexer::kDotDot)
        space = false;
      if (prev_ == NetDslLexer::kLBrack || prev_ == NetDslLexer::kDotDot) space = false;
      if (ty == NetDslLexer::kLBrack && !property) space = false;  // rack1-h[01..40]
      if (ty == NetDslLexer::kRBrace && prev_ == NetDslLexer::kLBrace) space = false;  // `{}`
      if (space) out_ += ' ';
      Write(k);
      if (ty == NetDslLexer::kAssign) property = true;
      if (ty == NetDslLexer::kSemi || ty == NetDslLexer::kLBrace || ty == NetDslLexer::kRBrace) property = false;
    }
    return true;
  }

 public:
  /// Tokens consumed by lookahead (the `}` of `{}`, a one-line block's body)
  /// are skipped by the driver loop.
  bool Skip(size_t i) {
    if (pending_skip_ && i == skip_index_) {
      --pending_skip_;
      return true;
    }
    return skip_until_ != 0 && i <= skip_until_;
  }

  std::string Format() {
    toks_ = Lex(text_);
    for (size_t i = 0; i < toks_.size(); ++i)
      if (!Skip(i)) Emit(i);
    EndLine();
    while (out_.size() >= 2 && out_[out_.size() - 1] == '\n' && out_[out_.size() - 2] == '\n') out_.pop_back();
    return out_;
  }

 private:
  std::string_view text_;
  std::vector<Tok> toks_;
  std::string out_;
  unsigned indent_ = 0;
  bool at_line_start_ = true;
  bool after_open_ = false;
  bool in_statement_ = false;
  bool in_property_ = false;
  bool continuation_ = false;
  size_t prev_ = 0;
  unsigned pending_skip_ = 0;
  size_t skip_index_ = 0;
  size_t skip_until_ = 0;  ///< last token of the one-line block just written
};

}  // namespace

std::optional<std::string> FormatSource(std::string_view input) {
  // Line endings become LF: CRLF and a lone CR (old Mac files, which the
  // parser accepts) both end a line, and the layout below counts LFs.
  std::string normalized;
  normalized.reserve(input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    if (input[i] != '\r') {
      normalized += input[i];
      continue;
    }
    normalized += '\n';
    if (i + 1 < input.size() && input[i + 1] == '\n') ++i;
  }
  std::string_view text = normalized;
  // A UTF-8 byte order mark is dropped; the lexer treats it as whitespace.
  Formatter f(text);
  std::string out = f.Format();
  // Safety net: the formatted file must have exactly the same tokens.
  std::vector<Tok> a = Lex(text), b = Lex(out);
  if (a.size() != b.size()) return std::nullopt;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type) return std::nullopt;
    std::string_view ta = text.substr(a[i].begin, a[i].end - a[i].begin);
    std::string_view tb = std::string_view(out).substr(b[i].begin, b[i].end - b[i].begin);
    if (ta != tb) return std::nullopt;
  }
  return out;
}

}  // namespace netdsl
