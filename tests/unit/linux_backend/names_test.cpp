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

TEST_CASE("port identity: `vm VM/NIC`, controls and `%` as %XX, long ones cut with a sha256 suffix") {
  CHECK(PortIdentity("web01", "nic0") == "vm web01/nic0");
  CHECK(PortIdentity("web 01", "nic0") == "vm \"web 01\"/nic0");  // netdsl.lock's key (fabric::VmNicIdentity)
  CHECK(PortIdentity("a\tb", "n") == "vm \"a%09b\"/n");
  CHECK(PortIdentity("a\x7f", "n") == "vm \"a%7F\"/n");
  CHECK(PortIdentity("100%", "n") == "vm \"100%25\"/n");
  CHECK(PortIdentity("a\xc2\x85z", "n") == "vm \"a%C2%85z\"/n");  // U+0085 NEL (C1)
  CHECK(PortIdentity("\xc3\xa9t\xc3\xa9", "n") == "vm \"\xc3\xa9t\xc3\xa9\"/n");  // other UTF-8 kept
  // A `%` of the input and an escaped control stay distinct.
  CHECK(PortIdentity("a%09b", "n") != PortIdentity("a\tb", "n"));
  // Long: 240 bytes + `~` + 12 hex; two names that share the first 240 bytes differ.
  std::string long_vm(300, 'v');
  std::string a = PortIdentity(long_vm + "a", "n"), b = PortIdentity(long_vm + "b", "n");
  CHECK(a.size() == 253);
  CHECK(a.substr(0, 240) == ("vm " + long_vm).substr(0, 240));
  CHECK(a[240] == '~');
  CHECK(a.find_first_not_of("0123456789abcdef", 241) == std::string::npos);
  CHECK(a != b);
  CHECK(a == PortIdentity(long_vm + "a", "n"));  // deterministic
  // Never cut inside a %XX or a UTF-8 sequence.
  std::string tabs(200, '\t');
  std::string t = PortIdentity(tabs, "n");
  CHECK(t.size() <= 253);
  CHECK(t.substr(t.find('~') - 3, 1) == "%");
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xc3\xa9";
  std::string u = PortIdentity("x" + accents, "n");
  size_t cut = u.find('~');
  CHECK((static_cast<unsigned char>(u[cut - 1]) == 0xa9));
  // Exactly 256 bytes is kept whole.
  std::string fits(256 - std::string("vm /n").size(), 'w');
  CHECK(PortIdentity(fits, "n").size() == 256);
  CHECK(PortIdentity(fits, "n").find('~') == std::string::npos);
}
