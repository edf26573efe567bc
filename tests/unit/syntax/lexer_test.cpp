// The hand-written lexer must produce exactly the tokens of the lexer rules
// in grammar/NetDsl.g4, as the generated ANTLR lexer does.
#include "compiler/syntax/lexer.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "NetDslLexer.h"
#include "antlr4-runtime.h"

using namespace netdsl::syntax;

namespace {

struct Tok {
  size_t type, begin, end;
  bool operator==(const Tok&) const = default;
};

std::vector<Tok> Hand(std::string_view text) {
  std::vector<Tok> out;
  Lexer lexer(text);
  LexToken t;
  while (lexer.Next(t)) out.push_back({t.type, t.begin, t.end});
  return out;
}

std::vector<Tok> Generated(const std::string& text) {
  // ANTLRInputStream drops a leading UTF-8 byte order mark; index from after it.
  size_t bom = text.compare(0, 3, "\xef\xbb\xbf") == 0 ? 3 : 0;
  std::vector<size_t> cp_to_byte;
  for (size_t i = bom; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) cp_to_byte.push_back(i);
  cp_to_byte.push_back(text.size());
  antlr4::ANTLRInputStream input(text);
  netdsl_antlr::NetDslLexer lexer(&input);
  lexer.removeErrorListeners();
  std::vector<Tok> out;
  for (;;) {
    auto t = lexer.nextToken();
    if (t->getType() == antlr4::Token::EOF) break;
    out.push_back({t->getType(), cp_to_byte[t->getStartIndex()], cp_to_byte[t->getStopIndex() + 1]});
  }
  return out;
}

void Same(const std::string& text) {
  auto a = Hand(text), b = Generated(text);
  INFO("input: ", text);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("token ", i, ": hand type ", a[i].type, " [", a[i].begin, ",", a[i].end, ") generated type ", b[i].type,
         " [", b[i].begin, ",", b[i].end, ")");
    CHECK(a[i] == b[i]);
  }
}

}  // namespace

TEST_CASE("hand lexer agrees with the grammar on hand-picked inputs") {
  for (const char* s : {
           "", "   \n\t", "import \"a.netdsl\";", "imports importx import.x import",
           "host rack1-h[01..40] { }", "a = 192.168.10.40 - 192.168.10.50;", "a=10.0.0.1-10.0.0.2;",
           "r = 00:1D:D8:B7:1C:00 - 00:1D:D8:F4:1F:FF;", "v6 = fe80::1; lo = ::1; m = ::ffff:1.2.3.4; p = 2001:db8::/32;",
           "bw = 1Gbps; x = 10.5Gbps; y = 1.; z = 1..; w = ..5; q = 1...2", "vlan: 5; dead:beef; x:y; :",
           "s = \"a \\\" b \\\\ c\"; t = \"unterminated\nnext", "u = \"ends with backslash\\", "\"\\",
           "// line\n/* block */ /* unterminated", "/**/ /*/ */ //", "\xef\xbb\xbf site x { }",
           "caf\xc3\xa9 = \"\xe2\x80\x99\"; @ # $ ` ' \x01 \x7f", "a.b-c_d e-.f _x 9abc 0x1F 1e5 1_000",
           "[[1], [], [a,],]", "x = -1; y = a - b; z = 1-2-3", "10.0.0.0/8/8 1/ /2 a/b ::/0 1:/",
       })
    Same(s);
}

TEST_CASE("hand lexer agrees with the grammar on random inputs") {
  std::mt19937 rng(20261125);
  const std::vector<std::string> pieces = {
      "a", "Z", "_", "0", "9", "f", "x", ".", "..", ":", "::", "-", "/", "/*", "*/", "//", "*", "\"", "\\",
      "{", "}", "[", "]", ";", ",", "=", " ", "\n", "\r", "\t", "import", "Gbps", "1.2.3.4", "\xc3\xa9",
      "\xe2\x80\x99", "@", "#", "'", "\x00", "\xef\xbb\xbf"};
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    int n = int(rng() % 24);
    for (int i = 0; i < n; ++i) text += pieces[rng() % pieces.size()];
    Same(text);
  }
}
