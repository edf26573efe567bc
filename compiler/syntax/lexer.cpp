// Hand-written lexer equivalent to the lexer rules of grammar/NetDsl.g4.
#include "compiler/syntax/lexer.h"

namespace netdsl::syntax {
namespace {

bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHex(unsigned char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsAlnum(unsigned char c) { return IsDigit(c) || IsAlpha(c); }

}  // namespace

bool Lexer::Next(LexToken& out) {
  const std::string_view s = text_;
  const size_t n = s.size();
  auto at = [&](size_t i) -> unsigned char { return i < n ? static_cast<unsigned char>(s[i]) : 0; };
  for (;;) {
    if (pos_ >= n) return false;
    unsigned char c = at(pos_);
    // WS : [ \t\r\n\f\uFEFF]+ -> skip
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
      ++pos_;
      continue;
    }
    if (c == 0xEF && at(pos_ + 1) == 0xBB && at(pos_ + 2) == 0xBF) {
      pos_ += 3;
      continue;
    }
    break;
  }
  size_t b = pos_;
  unsigned char c = at(b);
  auto emit = [&](uint8_t type, size_t end) {
    out.type = type;
    out.begin = uint32_t(b);
    out.end = uint32_t(end);
    pos_ = end;
    return true;
  };

  if (c == '/' && at(b + 1) == '/') {
    size_t e = b + 2;
    while (e < n && s[e] != '\r' && s[e] != '\n') ++e;
    return emit(kLineComment, e);
  }
  if (c == '/' && at(b + 1) == '*') {
    size_t close = s.find("*/", b + 2);
    if (close == std::string_view::npos) return emit(kUnterminatedComment, n);
    return emit(kBlockComment, close + 2);
  }
  if (c == '"') {
    size_t e = b + 1;
    for (;;) {
      unsigned char d = at(e);
      if (e >= n || d == '\r' || d == '\n') return emit(kUnterminatedString, e);
      if (d == '"') return emit(kString, e + 1);
      if (d == '\\') {
        unsigned char x = at(e + 1);
        if (e + 1 >= n || x == '\r' || x == '\n') return emit(kUnterminatedString, e + 1);
        e += 2;
        continue;
      }
      ++e;
    }
  }

  // Word-like tokens: the longest of IMPORT/IDENT, NUMBER and COLON_WORD wins;
  // on a tie the rule listed first in the grammar (IMPORT, IDENT, NUMBER, COLON_WORD).
  size_t ident = 0, number = 0, colon = 0;
  if (IsAlpha(c) || c == '_') {
    size_t e = b + 1;
    while (e < n && (IsAlnum(at(e)) || at(e) == '_' || at(e) == '.' || at(e) == '-')) ++e;
    ident = e - b;
  }
  if (IsDigit(c)) {
    size_t e = b + 1;
    for (;;) {
      unsigned char d = at(e);
      if (e < n && (IsAlnum(d) || d == '_' || d == '/')) {
        ++e;
      } else if (d == '.' && e + 1 < n && (IsAlnum(at(e + 1)) || at(e + 1) == '_' || at(e + 1) == '/')) {
        e += 2;
      } else {
        break;
      }
    }
    number = e - b;
  }
  {
    size_t e = b;
    while (e < n && IsHex(at(e))) ++e;
    if (e < n && at(e) == ':') {
      ++e;
      while (e < n && (IsAlnum(at(e)) || at(e) == ':' || at(e) == '.')) ++e;
      if (e < n && at(e) == '/') {
        ++e;
        while (e < n && IsAlnum(at(e))) ++e;
      }
      colon = e - b;
    }
  }
  if (ident || number || colon) {
    if (ident >= number && ident >= colon) {
      bool is_import = ident == 6 && s.substr(b, 6) == "import";
      return emit(is_import ? kImport : kIdent, b + ident);
    }
    if (number >= colon) return emit(kNumber, b + number);
    return emit(kColonWord, b + colon);
  }

  switch (c) {
    case '=': return emit(kAssign, b + 1);
    case ';': return emit(kSemi, b + 1);
    case ',': return emit(kComma, b + 1);
    case '{': return emit(kLBrace, b + 1);
    case '}': return emit(kRBrace, b + 1);
    case '[': return emit(kLBrack, b + 1);
    case ']': return emit(kRBrack, b + 1);
    case '-': return emit(kMinus, b + 1);
    case '.':
      if (at(b + 1) == '.') return emit(kDotDot, b + 2);
      break;
    default:
      break;
  }
  // ERROR_CHAR : . — one code point.
  size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (b + len > n) len = n - b;
  return emit(kErrorChar, b + len);
}

}  // namespace netdsl::syntax
