// Interface-name checks and comment escaping of the Linux backend.
#include <doctest/doctest.h>

#include "backends/linux/names.h"

using namespace netdsl::backends::linux_backend;

TEST_CASE("safe ifnames: 1..15 bytes of [A-Za-z0-9._-]") {
  CHECK(IsSafeIfname("nd-p1"));
  CHECK(IsSafeIfname("Ethernet"));
  CHECK(IsSafeIfname("eth0.10"));
  CHECK(IsSafeIfname("nd_sw-0123456.a"));  // exactly 15 bytes
  CHECK_FALSE(IsSafeIfname("nd_sw-0123456.ab"));  // 16
  CHECK_FALSE(IsSafeIfname(""));
  CHECK_FALSE(IsSafeIfname("."));
  CHECK_FALSE(IsSafeIfname(".."));
  CHECK_FALSE(IsSafeIfname("-x"));
  CHECK_FALSE(IsSafeIfname("Ethernet 2"));
  CHECK_FALSE(IsSafeIfname("a#b"));
  CHECK_FALSE(IsSafeIfname("a/b"));
  CHECK_FALSE(IsSafeIfname("a:b"));
  CHECK_FALSE(IsSafeIfname("a\nb"));
  CHECK_FALSE(IsSafeIfname("a;b"));
  CHECK_FALSE(IsSafeIfname("a\"b"));
  CHECK_FALSE(IsSafeIfname("a'b"));
  CHECK_FALSE(IsSafeIfname("\xc3\xa9t"));
  CHECK(IfnameProblem("nd_sw-0123456.ab").find("16 bytes") != std::string::npos);
  CHECK(IfnameProblem("a b").find("outside") != std::string::npos);
}

TEST_CASE("comment text escapes everything but [A-Za-z0-9._-]") {
  CHECK(CommentText("winserver10") == "winserver10");
  CHECK(CommentText("a#b\nc; rm -rf /") == "a%23b%0Ac%3B%20rm%20-rf%20%2F");
  CHECK(CommentText("tenant A") == "tenant%20A");
  CHECK(CommentText("it's \"x\"") == "it%27s%20%22x%22");
  CHECK(CommentText("\xe2\x80\x99") == "%E2%80%99");
  CHECK(CommentText("100%") == "100%25");
}

TEST_CASE("short hashes are stable and sized") {
  CHECK(ShortHash("nd-sw-3f2a", 4).size() == 4);
  CHECK(ShortHash("nd-sw-3f2a", 4) == ShortHash("nd-sw-3f2a", 4));
  CHECK(ShortHash("nd-sw-3f2a", 4) != ShortHash("nd-sw-3f2b", 4));
  CHECK(ShortHash("", 8) == "811c9dc5");  // FNV-1a offset basis: no input bytes
}

TEST_CASE("messages quote non-printable bytes") {
  CHECK(QuoteForMessage("a\nb") == "`a\\x0ab`");
  CHECK(QuoteForMessage("x`y") == "`x\\x60y`");
}
