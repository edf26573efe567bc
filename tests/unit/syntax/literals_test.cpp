// Classification of literal tokens into AST values, and their errors.
#include "compiler/syntax/literals.h"

#include <doctest/doctest.h>

using namespace netdsl;
using K = ast::Value::Kind;

namespace {
ast::Value Number(std::string_view text) {
  ast::Value v;
  auto err = syntax::ClassifyNumber(text, v);
  REQUIRE_MESSAGE(!err, text);
  return v;
}
syntax::LiteralError NumberError(std::string_view text) {
  ast::Value v;
  auto err = syntax::ClassifyNumber(text, v);
  REQUIRE_MESSAGE(err, text);
  return *err;
}
ast::Value Colon(std::string_view text) {
  ast::Value v;
  auto err = syntax::ClassifyColonWord(text, v);
  REQUIRE_MESSAGE(!err, text);
  return v;
}
syntax::LiteralError ColonError(std::string_view text) {
  ast::Value v;
  auto err = syntax::ClassifyColonWord(text, v);
  REQUIRE_MESSAGE(err, text);
  return *err;
}
}  // namespace

TEST_CASE("integers, with overflow at 2^64") {
  CHECK(Number("0").kind == K::Integer);
  CHECK(Number("6001").integer == 6001);
  CHECK(Number("18446744073709551615").integer == UINT64_MAX);
  auto e = NumberError("18446744073709551616");
  CHECK(e.kind == DiagKind::IntegerOverflow);
  CHECK(e.begin == 0);
  CHECK(e.end == 20);
}

TEST_CASE("IPv4 addresses and the octet that is wrong") {
  ast::Value v = Number("192.168.10.1");
  CHECK(v.kind == K::Address);
  CHECK(v.address.ToString() == "192.168.10.1");
  auto e = NumberError("10.300.1.1");
  CHECK(e.kind == DiagKind::MalformedAddress);
  CHECK(e.begin == 3);
  CHECK(e.end == 6);
  CHECK(NumberError("1.2.3").message.find("found 3") != std::string::npos);
}

TEST_CASE("prefixes of both families") {
  ast::Value v = Number("10.0.0.0/8");
  CHECK(v.kind == K::Prefix);
  CHECK(v.prefix.length == 8);
  CHECK(Number("10.0.0.1/24").prefix.ToString() == "10.0.0.1/24");  // host bits kept as written
  auto e = NumberError("10.0.0.0/33");
  CHECK(e.kind == DiagKind::MalformedPrefix);
  CHECK(e.begin == 9);
  CHECK(e.end == 11);
  CHECK(Colon("2001:db8::/32").kind == K::Prefix);
  CHECK(ColonError("2001:db8::/129").kind == DiagKind::MalformedPrefix);
  CHECK(NumberError("300.0.0.0/8").kind == DiagKind::MalformedAddress);
}

TEST_CASE("bandwidths and unknown units") {
  CHECK(Number("100Mbps").kind == K::Bandwidth);
  CHECK(Number("100Mbps").integer == 100000000);
  CHECK(Number("1Gbps").integer == 1000000000);
  CHECK(Number("64kbps").integer == 64000);
  CHECK(Number("2Tbps").integer == 2000000000000ull);
  auto e = NumberError("1Gbs");
  CHECK(e.kind == DiagKind::UnknownBandwidthUnit);
  CHECK(e.message.find("did you mean `Gbps`?") != std::string::npos);
  CHECK(e.begin == 1);
  CHECK(NumberError("99999999999Gbps").kind == DiagKind::IntegerOverflow);
}

TEST_CASE("MAC addresses vs IPv6") {
  ast::Value m = Colon("00:1D:D8:B7:1C:00");
  CHECK(m.kind == K::Mac);
  CHECK(m.mac.ToString() == "00:1d:d8:b7:1c:00");
  CHECK(Colon("fe80::1").kind == K::Address);
  CHECK(Colon("::1").kind == K::Address);
  CHECK(Colon("1:2:3:4:5:6:7:8").kind == K::Address);
  auto e = ColonError("00:1D:D8:B7:1C:0G");
  CHECK(e.kind == DiagKind::MalformedMac);
  CHECK(e.begin == 15);
  CHECK(e.end == 17);
  CHECK(ColonError("fe80::1::2").message.find("only once") != std::string::npos);
  CHECK(ColonError(":").kind == DiagKind::MalformedAddress);
}

TEST_CASE("strings: only \\\" and \\\\ are escapes") {
  std::string out;
  CHECK(!syntax::UnescapeString(R"("a \"b\" \\ c")", out));
  CHECK(out == R"(a "b" \ c)");
  CHECK(!syntax::UnescapeString(R"("it's $x `y`")", out));
  CHECK(out == "it's $x `y`");
  auto e = syntax::UnescapeString(R"("C:\new")", out);
  REQUIRE(e);
  CHECK(e->kind == DiagKind::InvalidEscape);
  CHECK(e->begin == 3);
  CHECK(e->end == 5);
  CHECK(out == R"(C:\new)");
  CHECK(!syntax::UnescapeString(R"("unterminated)", out));
  CHECK(out == "unterminated");
  CHECK(!syntax::UnescapeString(R"("ends in \")", out));  // escaped quote: unterminated
  CHECK(out == "ends in \"");
}
