// Address, prefix, MAC and bandwidth parsing and arithmetic.
#include <doctest/doctest.h>

#include "common/net/address.h"

using namespace netdsl::net;

TEST_CASE("ipv4 parse and format") {
  auto a = ParseIp("192.168.10.40");
  REQUIRE(a);
  CHECK(a->IsV4());
  CHECK(a->V4Value() == 0xC0A80A28u);
  CHECK(a->ToString() == "192.168.10.40");
  CHECK_FALSE(ParseIp("256.1.1.1"));
  CHECK_FALSE(ParseIp("1.2.3"));
  CHECK_FALSE(ParseIp("1.2.3.4.5"));
  CHECK_FALSE(ParseIp("1..2.3"));
  CHECK_FALSE(ParseIp("01234.1.1.1"));
  CHECK_FALSE(ParseIp(""));
}

TEST_CASE("ipv6 parse and RFC 5952 format") {
  CHECK(ParseIp("2001:db8::1")->ToString() == "2001:db8::1");
  CHECK(ParseIp("2001:0DB8:0:0:0:0:0:1")->ToString() == "2001:db8::1");
  CHECK(ParseIp("::")->ToString() == "::");
  CHECK(ParseIp("::1")->ToString() == "::1");
  CHECK(ParseIp("fe80::")->ToString() == "fe80::");
  CHECK(ParseIp("1:0:0:2:0:0:0:3")->ToString() == "1:0:0:2::3");
  CHECK(ParseIp("::ffff:1.2.3.4")->ToString() == "::ffff:1.2.3.4");
  CHECK(ParseIp("::1:ffff:102:304")->ToString() == "::1:ffff:102:304");
  CHECK_FALSE(ParseIp("1::2::3"));
  CHECK_FALSE(ParseIp("1:2:3:4:5:6:7:8:9"));
  CHECK_FALSE(ParseIp("12345::"));
  CHECK_FALSE(ParseIp(":1"));
  CHECK_FALSE(ParseIp("1:"));
  CHECK_FALSE(ParseIp("1:2:3:4:5:6:7::8"));
}

TEST_CASE("prefix containment and canonical form") {
  auto p = ParsePrefix("192.168.10.0/24");
  REQUIRE(p);
  CHECK(p->Contains(*ParseIp("192.168.10.255")));
  CHECK_FALSE(p->Contains(*ParseIp("192.168.11.0")));
  CHECK_FALSE(p->Contains(*ParseIp("::1")));
  CHECK(p->Last().ToString() == "192.168.10.255");
  CHECK(p->IsCanonical());
  auto q = ParsePrefix("10.0.1.7/24");
  REQUIRE(q);
  CHECK_FALSE(q->IsCanonical());
  CHECK(q->Canonical().ToString() == "10.0.1.0/24");
  CHECK(ParsePrefix("0.0.0.0/0")->Contains(*ParseIp("8.8.8.8")));
  CHECK(ParsePrefix("10.0.0.0/8")->Overlaps(*ParsePrefix("10.1.0.0/16")));
  CHECK_FALSE(ParsePrefix("10.0.0.0/16")->Overlaps(*ParsePrefix("10.1.0.0/16")));
  CHECK_FALSE(ParsePrefix("10.0.0.0/33"));
  CHECK(ParsePrefix("2001:db8::/32")->Contains(*ParseIp("2001:db8:ffff::1")));
}

TEST_CASE("range arithmetic") {
  CHECK(RangeSize(*ParseIp("192.168.10.40"), *ParseIp("192.168.10.50")) == 11);
  CHECK(RangeSize(*ParseIp("10.0.0.5"), *ParseIp("10.0.0.4")) == 0);
  CHECK(RangeSize(*ParseIp("::"), *ParseIp("ffff::")) == UINT64_MAX);
  CHECK(ParseIp("10.0.0.255")->Plus(1).ToString() == "10.0.1.0");
  CHECK(ParseIp("::ffff")->Plus(1).ToString() == "::1:0");
}

TEST_CASE("mac addresses") {
  auto m = ParseMac("00:1D:D8:B7:1C:00");
  REQUIRE(m);
  CHECK(m->ToString() == "00:1d:d8:b7:1c:00");
  CHECK(m->ToWindowsString() == "00-1D-D8-B7-1C-00");
  CHECK(MacAddress::FromValue(m->Value() + 1).ToString() == "00:1d:d8:b7:1c:01");
  CHECK(ParseMac("00-1d-d8-b7-1c-00") == m);
  CHECK_FALSE(ParseMac("00:1D:D8:B7:1C"));
  CHECK_FALSE(ParseMac("00:1D-D8:B7:1C:00"));
  CHECK_FALSE(ParseMac("g0:1D:D8:B7:1C:00"));
  CHECK(ParseMac("01:00:5e:00:00:01")->IsMulticast());
}

TEST_CASE("bandwidth units") {
  CHECK(ParseBandwidth("1Gbps") == 1000000000ull);
  CHECK(ParseBandwidth("100Mbps") == 100000000ull);
  CHECK(ParseBandwidth("10kbps") == 10000ull);
  CHECK_FALSE(ParseBandwidth("10mbps"));
  CHECK_FALSE(ParseBandwidth("Gbps"));
  CHECK_FALSE(ParseBandwidth("99999999999999999999Gbps"));
  CHECK(ParseBandwidth("1.5Gbps") == 1500000000ull);
  CHECK(ParseBandwidth("0.25kbps") == 250ull);
  CHECK(ParseBandwidth("2.000001Mbps") == 2000001ull);
  CHECK_FALSE(ParseBandwidth("1.5bps"));       // not a whole number of bits per second
  CHECK_FALSE(ParseBandwidth("0.0000001Mbps"));
  CHECK_FALSE(ParseBandwidth("1.Gbps"));
  CHECK_FALSE(ParseBandwidth("1.5.1Gbps"));
  CHECK(FormatBandwidth(1000000000) == "1Gbps");
  CHECK(FormatBandwidth(1500000) == "1500kbps");
  CHECK(FormatBandwidth(7) == "7bps");
}
