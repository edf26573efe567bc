// verify's state file (compiler/verify/state.h): what it encodes decodes to
// the same state and encodes to the same bytes; anything torn, flipped or of
// another version is refused (the incremental verify then runs in full).
#include <doctest/doctest.h>

#include "compiler/verify/state.h"

namespace netdsl::verify {
namespace {

VerifyState Sample() {
  VerifyState s;
  HostSummary a;
  a.name = "h1";
  a.flags = HostSummary::kHasTables | HostSummary::kHasLinux | HostSummary::kImageOk | HostSummary::kLinuxOk;
  a.segments = {{5001, 1001, *net::ParseIp("172.16.0.11"), true}, {6001, 1001, net::IpAddress{}, false}};
  a.vsids = {5001, 6001};
  a.rdids = {1001};
  a.gateways = {"gw"};
  a.pas = {*net::ParseIp("172.16.0.12"), *net::ParseIp("2001:db8::1")};
  L2Domain d;
  d.bridge = "nd-br5001";
  d.ports.push_back({3, 5001, 1001, "web", "nic0", "nd-p3", 40, "nd-br5001"});
  a.domains.push_back(d);
  L2Exit e;
  e.kind = L2Exit::Kind::kVxlan;
  e.device = "nd-vx5001";
  e.id = 5001;
  e.local = *net::ParseIp("172.16.0.11");
  e.dsts = {*net::ParseIp("172.16.0.12")};
  e.line = 33;
  a.exits.push_back(e);
  a.findings.push_back({DiagKind::VerifyDisagreement, "hosts/h1/linux.yaml", 22, 3, "a finding", {"1. hop", "verdict: drop"}});
  HostSummary b;
  b.name = "h2";
  s.hosts = {a, b};
  s.rdid_findings[1001].push_back({DiagKind::VerifyUnreachable, "", 0, 0, "no route", {}});
  return s;
}

TEST_CASE("a state decodes to what was encoded, and encodes to the same bytes") {
  std::string bytes = EncodeState(Sample());
  VerifyState back;
  REQUIRE(DecodeState(bytes, &back));
  CHECK(EncodeState(back) == bytes);
  REQUIRE(back.hosts.size() == 2);
  CHECK(back.hosts[0].segments == Sample().hosts[0].segments);
  CHECK(back.hosts[0].pas == Sample().hosts[0].pas);
  CHECK(back.hosts[0].findings == Sample().hosts[0].findings);
  CHECK(back.hosts[0].exits.at(0).dsts == Sample().hosts[0].exits.at(0).dsts);
  CHECK(back.rdid_findings.at(1001).at(0).message == "no route");
}

TEST_CASE("a torn, flipped or foreign state is refused") {
  std::string bytes = EncodeState(Sample());
  VerifyState s;
  for (size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(DecodeState(bytes.substr(0, n), &s));
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = char(flipped[i] ^ 0x20);
    CHECK_FALSE(DecodeState(flipped, &s));
  }
  CHECK_FALSE(DecodeState(bytes + "x", &s));
  std::string other_version = bytes;
  other_version[8] = 2;
  CHECK_FALSE(DecodeState(other_version, &s));
}

}  // namespace
}  // namespace netdsl::verify
