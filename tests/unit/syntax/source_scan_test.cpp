// UTF-8 validation and top-level chunking.
#include "compiler/syntax/source_scan.h"

#include <doctest/doctest.h>

#include <string>

using namespace netdsl::syntax;

TEST_CASE("valid UTF-8 has no invalid offsets") {
  CHECK(FindInvalidUtf8("plain ascii").empty());
  CHECK(FindInvalidUtf8("caf\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x98\x80").empty());
}

TEST_CASE("invalid UTF-8: stray bytes, overlongs, surrogates, truncation") {
  CHECK(FindInvalidUtf8("a\xffz") == std::vector<size_t>{1});
  CHECK(FindInvalidUtf8("\xc0\xaf") == std::vector<size_t>{0});          // overlong '/'
  CHECK(FindInvalidUtf8("x\xed\xa0\x80") == std::vector<size_t>{1});     // UTF-16 surrogate
  CHECK(FindInvalidUtf8("ab\xe2\x80") == std::vector<size_t>{2});        // truncated
  CHECK(FindInvalidUtf8("\xf4\x90\x80\x80").size() == 1);               // above U+10FFFF
  CHECK(FindInvalidUtf8("\xff\xfe ok \xff") == std::vector<size_t>{0, 6});  // runs
}

TEST_CASE("chunks end at top-level statement boundaries only") {
  std::string text = "a { b = \"}\"; /* } */ c { } } // }\nd 1;\ne { f = [1, 2]; }\n";
  auto chunks = SplitTopLevel(text, 1, 64);
  REQUIRE(chunks.size() == 4);
  CHECK(text.substr(chunks[0].begin, chunks[0].end - chunks[0].begin) ==
        "a { b = \"}\"; /* } */ c { } }");
  CHECK(text.substr(chunks[1].begin, chunks[1].end - chunks[1].begin) == " // }\nd 1;");
  CHECK(text.substr(chunks[2].begin, chunks[2].end - chunks[2].begin) == "\ne { f = [1, 2]; }");
  CHECK(chunks[3].end == text.size());
  for (size_t i = 1; i < chunks.size(); ++i) CHECK(chunks[i].begin == chunks[i - 1].end);
}

TEST_CASE("chunks group statements up to the target size") {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "vm v { host = h; }\n";
  auto chunks = SplitTopLevel(text, 200, 64);
  CHECK(chunks.size() > 5);
  CHECK(chunks.front().begin == 0);
  CHECK(chunks.back().end == text.size());
  CHECK(SplitTopLevel(text, 1 << 20, 64).size() == 1);
  CHECK(SplitTopLevel("", 10, 64).size() == 1);
}

TEST_CASE("too deep statements get their own chunk") {
  std::string deep = "x = 1;\n a " + std::string(70, '{') + std::string(70, '}') + "\ny;";
  auto chunks = SplitTopLevel(deep, 1 << 20, 64);
  REQUIRE(chunks.size() == 3);
  CHECK(!chunks[0].too_deep);
  CHECK(chunks[1].too_deep);
  CHECK(deep[chunks[1].too_deep_at] == '{');
  CHECK(!chunks[2].too_deep);
  auto unclosed = SplitTopLevel("a " + std::string(100, '['), 1 << 20, 64);
  CHECK(unclosed.back().too_deep);
  CHECK(unclosed.back().end == 102);
}

TEST_CASE("an unterminated comment or string runs to its end") {
  auto c = SplitTopLevel("a; /* } ; ", 1, 64);
  REQUIRE(c.size() == 2);
  CHECK(c[1].end == 10);
  auto s = SplitTopLevel("a = \"x;\nb;", 1, 64);  // the string ends at the newline
  REQUIRE(s.size() == 1);
  CHECK(s[0].end == 10);
}

TEST_CASE("an unclosed block does not make the rest of the file one chunk") {
  std::string text = "a {\n  b { c = 1; }\n";  // `a` never closes
  for (int i = 0; i < 200; ++i) text += "vm v { host = \"h } // {\"; } // x {\n/* {\nzz */\n";
  auto chunks = SplitTopLevel(text, 1000, 64);
  REQUIRE(chunks.size() > 3);
  CHECK(chunks[0].begin == 0);
  CHECK(text.substr(chunks[0].begin, chunks[0].end) == "a {\n  b { c = 1; }\n");  // ends before the next block
  for (size_t i = 1; i < chunks.size(); ++i) {
    CHECK(chunks[i].begin == chunks[i - 1].end);
    CHECK(text.compare(chunks[i].begin, 2, "vm") == 0);  // never inside a string or comment
  }
  CHECK(chunks.back().end == text.size());
  // Balanced text with names in column 0 inside blocks is not split there.
  std::string valid = "a {\nb = 1;\n}\n";
  CHECK(SplitTopLevel(valid, 1, 64).size() == 2);
  CHECK(SplitTopLevel(valid, 1, 64)[0].end == 12);
}

TEST_CASE("blanking invalid UTF-8 keeps offsets and valid sequences") {
  std::string s = "a\xff\xfe b \xc3\xa9 \xe2\x80 c";
  BlankInvalidUtf8(s);
  CHECK(s == "a   b \xc3\xa9    c");
  CHECK(FindInvalidUtf8(s).empty());
}
