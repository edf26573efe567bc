// io::TerminalText: nothing that a terminal interprets passes through.
#include <doctest/doctest.h>

#include "common/io/terminal_text.h"

using netdsl::io::TerminalText;

TEST_CASE("printable text and UTF-8 letters are unchanged") {
  CHECK(TerminalText("host `hv1` (netns `a b`)") == "host `hv1` (netns `a b`)");
  CHECK(TerminalText("Zürich – 東京 🙂") == "Zürich – 東京 🙂");
}

TEST_CASE("C0 controls, DEL, C1 controls and broken UTF-8 are escaped") {
  CHECK(TerminalText("\x1b]2;pwned\a\x1b[2J") == "\\x1b]2;pwned\\x07\\x1b[2J");
  CHECK(TerminalText("a\nb\rc\td") == "a\\x0ab\\x0dc\\x09d");
  CHECK(TerminalText("\x7f") == "\\x7f");
  CHECK(TerminalText("\xc2\x9b" "31m") == "\\xc2\\x9b31m");  // U+009B, CSI
  CHECK(TerminalText("\x9b" "31m") == "\\x9b31m");           // a lone 8-bit CSI
  CHECK(TerminalText("\xe2\x82") == "\\xe2\\x82");             // truncated sequence
  CHECK(TerminalText("\xc0\xaf") == "\\xc0\\xaf");             // overlong
  CHECK(TerminalText("\xed\xa0\x80") == "\\xed\\xa0\\x80");    // surrogate
  CHECK(TerminalText(std::string_view("a\0b", 3)) == "a\\x00b");
}
