// Table image round trip: hand-built IR → WriteTableImage → Image lookups.
#include <doctest/doctest.h>

#include <map>
#include <random>

#include "backends/tables/lpm_builder.h"
#include "backends/tables/table_writer.h"
#include "runtime/tables/image.h"
#include "runtime/tables/render.h"
#include "tests/unit/tables/fixture.h"

using namespace netdsl;
using netdsl::runtime::tables::Image;
using namespace netdsl::testing;

namespace {

std::shared_ptr<const Image> Load(const std::string& bytes) {
  std::string error;
  auto image = Image::FromBytes(bytes, &error);
  INFO(error);
  REQUIRE(image);
  return image;
}

const ndt::CaSlot* Ca(const Image& image, uint32_t vsid, const char* ca) {
  net::IpAddress ip = Ip(ca);
  return image.LookupCa(vsid, ip.IsV4() ? ndt::kFamilyV4 : ndt::kFamilyV6, ip.bytes.data());
}

const ndt::RouteEntry* Route(const Image& image, uint32_t rdid, const char* addr) {
  net::IpAddress ip = Ip(addr);
  return image.LookupRoute(rdid, ip.IsV4() ? ndt::kFamilyV4 : ndt::kFamilyV6, ip.bytes.data());
}

}  // namespace

TEST_CASE("the image is deterministic and 64-byte aligned") {
  std::string a = ImageBytes(SampleHost());
  std::string b = ImageBytes(SampleHost());
  CHECK(a == b);
  CHECK(a.size() % 64 == 0);
  auto image = Load(a);
  for (const ndt::SectionEntry& s : image->directory()) CHECK(s.offset % 64 == 0);
  CHECK(std::memcmp(a.data(), ndt::kMagic, 8) == 0);
}

TEST_CASE("header carries host, generation and source hash") {
  auto image = Load(ImageBytes(SampleHost()));
  CHECK(image->host() == "host01");
  CHECK(image->generation() == 7);
  CHECK(image->SourceHashHex() == SampleHost().source_hash);
  CHECK(image->header().major == 1);
  CHECK(image->directory().size() == 12);
}

TEST_CASE("ports, segments and policies answer by key") {
  auto image = Load(ImageBytes(SampleHost()));
  const ndt::PortEntry* p = image->FindPort(3);
  REQUIRE(p);
  CHECK(image->String(p->vm) == "b-web1");
  CHECK(p->vsid == 7001);
  CHECK(p->rdid == 2);
  CHECK(image->FindPort(4) == nullptr);
  CHECK(image->FindPort(0) == nullptr);
  const ndt::SegmentEntry* s = image->FindSegment(7001);
  REQUIRE(s);
  CHECK(s->rdid == 2);
  CHECK(s->isolation == uint8_t(ndt::Isolation::kVxlan));
  CHECK(runtime::tables::FormatPrefix(s->prefix) == "10.0.1.0/24");
  CHECK(image->FindSegment(6001) == nullptr);  // no local port uses db
  const ndt::PolicyEntry* pol = image->Policy(p->policy);
  REQUIRE(pol);
  CHECK(image->String(pol->profile) == "Tenant");
  CHECK((pol->flags & ndt::kPolicyDhcpGuard));
  CHECK(!(pol->flags & ndt::kPolicyMacSpoofing));
  CHECK(pol->maximum == 1000000000);
  CHECK(pol->minimum_weight == 1);
  CHECK(image->Policy(ndt::kNoIndex) == nullptr);
}

TEST_CASE("lookup records: the same CA in two VSIDs resolves per VSID") {
  auto image = Load(ImageBytes(SampleHost()));
  const ndt::CaSlot* a = Ca(*image, 5001, "10.0.1.10");
  const ndt::CaSlot* b = Ca(*image, 7001, "10.0.1.10");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a != b);
  CHECK(image->String(a->vm) == "web1");
  CHECK(image->String(b->vm) == "b-web1");
  CHECK((a->flags & ndt::kSlotLocal));
  CHECK(a->port_id == 1);
  const ndt::CaSlot* remote = Ca(*image, 5001, "10.0.1.20");
  REQUIRE(remote);
  CHECK(runtime::tables::FormatIp(remote->pa_family, remote->pa) == "192.168.0.11");
  CHECK(!(remote->flags & ndt::kSlotLocal));
  CHECK(Ca(*image, 5001, "10.0.1.30") == nullptr);  // tenant B's address
  CHECK(Ca(*image, 9999, "10.0.1.10") == nullptr);

  net::MacAddress mac = Mac("00:1d:d8:b7:1c:10");
  const ndt::MacSlot* m = image->LookupMac(5001, mac.bytes.data());
  REQUIRE(m);
  CHECK(runtime::tables::FormatIp(m->pa_family, m->pa) == "192.168.0.11");
  CHECK(image->LookupMac(7001, mac.bytes.data()) == nullptr);
}

TEST_CASE("batched lookups agree with single lookups") {
  ir::HostIr h = SampleHost();
  h.lookup_records.clear();
  for (uint32_t i = 0; i < 5000; ++i) {
    ir::LookupRecord r;
    r.vsid = 5000 + i % 7;
    r.ca = net::IpAddress::V4(0x0a000000 + i);
    r.mac = net::MacAddress::FromValue(0x001dd8000000ull + i);
    r.pa = net::IpAddress::V4(0xc0a80000 + i % 100);
    r.host = "h" + std::to_string(i % 100);
    h.lookup_records.push_back(r);
  }
  auto image = Load(ImageBytes(h));
  std::vector<runtime::tables::CaKey> keys;
  for (uint32_t i = 0; i < 6000; ++i) {  // the last 1000 miss
    runtime::tables::CaKey k;
    k.vsid = 5000 + i % 7;
    net::IpAddress ip = net::IpAddress::V4(0x0a000000 + i);
    std::memcpy(k.bytes, ip.bytes.data(), 16);
    keys.push_back(k);
  }
  std::vector<const ndt::CaSlot*> out(keys.size());
  image->LookupCaBatch(keys.data(), keys.size(), out.data());
  size_t hits = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    CHECK(out[i] == image->LookupCa(keys[i].vsid, keys[i].family, keys[i].bytes));
    hits += out[i] != nullptr;
  }
  CHECK(hits == 5000);
  std::vector<uint32_t> vsids;
  std::vector<std::array<uint8_t, 6>> macs;
  for (uint32_t i = 0; i < 6000; ++i) {
    vsids.push_back(5000 + i % 7);
    macs.push_back(net::MacAddress::FromValue(0x001dd8000000ull + i).bytes);
  }
  std::vector<const ndt::MacSlot*> mout(vsids.size());
  image->LookupMacBatch(vsids.data(), reinterpret_cast<const uint8_t(*)[6]>(macs.data()), vsids.size(), mout.data());
  hits = 0;
  for (size_t i = 0; i < vsids.size(); ++i) {
    CHECK(mout[i] == image->LookupMac(vsids[i], macs[i].data()));
    hits += mout[i] != nullptr;
  }
  CHECK(hits == 5000);
  // Load ≤ 1/2 as documented.
  CHECK(image->ca_slots().size() >= 2 * 5000);
}

TEST_CASE("longest-prefix match per routing domain") {
  auto image = Load(ImageBytes(SampleHost()));
  const ndt::RouteEntry* r = Route(*image, 1, "10.0.2.7");
  REQUIRE(r);
  CHECK(runtime::tables::FormatPrefix(r->prefix) == "10.0.2.0/24");
  CHECK(r->vsid == 6001);
  r = Route(*image, 1, "8.8.8.8");
  REQUIRE(r);
  CHECK(r->kind == uint8_t(ndt::RouteKind::kGateway));
  CHECK(image->String(r->via_host) == "gateway");
  r = Route(*image, 1, "fd00:1::5");
  REQUIRE(r);
  CHECK(r->vsid == 5001);
  CHECK(Route(*image, 1, "fd00:2::5") == nullptr);  // no v6 default
  CHECK(Route(*image, 2, "8.8.8.8") == nullptr);    // tenant B has no default
  CHECK(Route(*image, 2, "10.0.1.99")->vsid == 7001);
  CHECK(Route(*image, 3, "10.0.1.99") == nullptr);
}

TEST_CASE("LPM ranges match a brute-force longest prefix on random prefixes") {
  std::mt19937 rng(42);
  for (unsigned bits : {32u, 128u}) {
    for (int round = 0; round < 20; ++round) {
      std::vector<backends::tables::LpmInput> inputs;
      int n = 1 + rng() % 40;
      for (int i = 0; i < n; ++i) {
        ndt::Prefix p{};
        p.family = bits == 32 ? ndt::kFamilyV4 : ndt::kFamilyV6;
        p.length = rng() % (bits == 32 ? 33 : 129);
        // Cluster the addresses so that prefixes nest.
        for (int k = bits == 32 ? 12 : 0; k < 16; ++k) p.bytes[k] = (k < 14 ? 10 : rng() % 4);
        inputs.push_back(backends::tables::LpmInputFrom(p, i));
      }
      auto ranges = backends::tables::BuildLpmRanges(inputs, bits);
      REQUIRE(!ranges.empty());
      CHECK(ranges.front().start == 0);
      auto probe = [&](backends::tables::U128 addr) {
        uint32_t best = ndt::kNoIndex;
        int best_len = -1;
        for (auto& in : inputs)
          if (addr >= in.start && addr <= in.last && in.length > best_len) best = in.route, best_len = in.length;
        auto it = std::upper_bound(ranges.begin(), ranges.end(), addr,
                                   [](backends::tables::U128 a, const backends::tables::LpmRange& r) { return a < r.start; });
        return std::make_pair(best, std::prev(it)->route);
      };
      for (auto& in : inputs) {
        for (backends::tables::U128 a : {in.start, in.last, in.start ? in.start - 1 : in.start, in.last + 1}) {
          if (bits == 32 && a > 0xffffffffu) continue;
          auto [want, got] = probe(a);
          CHECK(want == got);
        }
      }
      for (size_t i = 1; i < ranges.size(); ++i) {
        CHECK(ranges[i].start > ranges[i - 1].start);
        CHECK(ranges[i].route != ranges[i - 1].route);
      }
    }
  }
}

TEST_CASE("an empty host gives a valid image with empty sections") {
  ir::HostIr h;
  h.host = "empty";
  auto image = Load(ImageBytes(h));
  CHECK(image->ports().empty());
  CHECK(image->ca_slots().empty());
  uint8_t zero[16] = {};
  CHECK(image->LookupCa(1, ndt::kFamilyV4, zero) == nullptr);
  CHECK(image->LookupMac(1, zero) == nullptr);
  CHECK(image->LookupRoute(1, ndt::kFamilyV4, zero) == nullptr);
}

TEST_CASE("NAT entries on the gateway host") {
  auto image = Load(ImageBytes(GatewayHost()));
  const ndt::NatEntry* nat = image->FindNat(1);
  REQUIRE(nat);
  CHECK(image->String(nat->vm_network) == "tenant A");
  CHECK(runtime::tables::FormatIp(nat->external_ip.family, nat->external_ip.bytes) == "192.168.10.40");
  REQUIRE(image->NatInside(*nat).size() == 2);
  CHECK(runtime::tables::FormatPrefix(image->NatInside(*nat)[1]) == "10.0.2.0/24");
  CHECK(image->FindNat(2) == nullptr);
}

TEST_CASE("trace: the four paths") {
  auto image = Load(ImageBytes(SampleHost()));
  std::string out;
  SUBCASE("same subnet, remote host: encapsulate to its PA") {
    CHECK(runtime::tables::Trace(*image, 1, "10.0.1.20", "", &out) == 0);
    CHECK(out.find("verdict: encapsulate nvgre vsid 5001 from pa 192.168.0.10 to pa 192.168.0.11 (host `host02`)") !=
          std::string::npos);
  }
  SUBCASE("same host: deliver locally") {
    CHECK(runtime::tables::Trace(*image, 1, "10.0.1.11", "00:1d:d8:b7:1c:01", &out) == 0);
    CHECK(out.find("verdict: deliver locally to port 2") != std::string::npos);
  }
  SUBCASE("another tenant's address: isolated") {
    CHECK(runtime::tables::Trace(*image, 1, "10.0.1.30", "", &out) == 1);
    CHECK(out.find("verdict: drop: isolated: 10.0.1.30 is vm `b-web2`") != std::string::npos);
  }
  SUBCASE("routed to another subnet on-link") {
    CHECK(runtime::tables::Trace(*image, 1, "10.0.2.20", "", &out) == 0);
    CHECK(out.find("route rdid 1 10.0.2.0/24: on-link vsid 6001") != std::string::npos);
  }
  SUBCASE("routed via the gateway") {
    CHECK(runtime::tables::Trace(*image, 1, "8.8.8.8", "", &out) == 0);
    CHECK(out.find("via gateway 192.168.0.5 on host `gateway`") != std::string::npos);
  }
  SUBCASE("tenant B has no way out") {
    CHECK(runtime::tables::Trace(*image, 3, "8.8.8.8", "", &out) == 1);
    CHECK(out.find("verdict: drop: no route to 8.8.8.8 in rdid 2") != std::string::npos);
  }
  SUBCASE("a MAC that is not the address's") {
    CHECK(runtime::tables::Trace(*image, 1, "10.0.1.20", "00:1d:d8:b7:1c:01", &out) == 1);
  }
  SUBCASE("unknown port") { CHECK(runtime::tables::Trace(*image, 42, "10.0.1.20", "", &out) == 1); }
}

TEST_CASE("trace: guards drop what the VM may not send") {
  auto image = Load(ImageBytes(SampleHost()));
  runtime::tables::TracePacket packet;
  packet.dst = "10.0.1.20";
  std::string out;
  SUBCASE("spoofed source mac, mac_spoofing off") {
    packet.src_mac = "02:00:00:00:00:01";
    CHECK(runtime::tables::Trace(*image, 1, packet, &out) == 1);
    CHECK(out.find("verdict: drop: guard: mac_spoofing is off and source mac 02:00:00:00:00:01 is not port 1's mac "
                   "00:1d:d8:b7:1c:00") != std::string::npos);
  }
  SUBCASE("own source mac passes") {
    packet.src_mac = "00:1d:d8:b7:1c:00";
    CHECK(runtime::tables::Trace(*image, 1, packet, &out) == 0);
  }
  SUBCASE("dhcp offer with dhcp_guard on") {
    packet.kind = runtime::tables::TracePacket::Kind::kDhcpOffer;
    CHECK(runtime::tables::Trace(*image, 1, packet, &out) == 1);
    CHECK(out.find("guard: dhcp_guard") != std::string::npos);
  }
  SUBCASE("router advertisement with router_guard on") {
    packet.kind = runtime::tables::TracePacket::Kind::kRouterAdvertisement;
    CHECK(runtime::tables::Trace(*image, 1, packet, &out) == 1);
  }
  SUBCASE("mac_spoofing on lets it through") {
    ir::HostIr h = SampleHost();
    h.policies[0].mac_spoofing = true;
    auto relaxed = Load(ImageBytes(h));
    packet.src_mac = "02:00:00:00:00:01";
    CHECK(runtime::tables::Trace(*relaxed, 1, packet, &out) == 0);
    CHECK(out.find("allowed by mac_spoofing on") != std::string::npos);
  }
}

TEST_CASE("trace on the gateway host applies NAT") {
  auto image = Load(ImageBytes(GatewayHost()));
  std::string out;
  CHECK(runtime::tables::Trace(*image, 1, "8.8.8.8", "", &out) == 0);
  CHECK(out.find("verdict: nat to 192.168.10.40") != std::string::npos);
}

TEST_CASE("CRC32C check value and incremental use") {
  CHECK(ndt::Crc32c("123456789", 9) == 0xe3069283u);
  CHECK(ndt::Crc32c("", 0) == 0);
  std::string long_text(1000, 'x');
  CHECK(ndt::Crc32c(long_text.data() + 500, 500, ndt::Crc32c(long_text.data(), 500)) ==
        ndt::Crc32c(long_text.data(), 1000));
  std::mt19937 rng(5);
  std::string random(5000, '\0');
  for (char& c : random) c = char(rng());
  for (size_t cut : {0, 1, 7, 8, 64, 999, 4999, 5000}) {
    uint32_t a = ndt::Crc32c(random.data(), cut), b = ndt::Crc32c(random.data() + cut, random.size() - cut);
    CHECK(ndt::Crc32cCombine(a, b, random.size() - cut) == ndt::Crc32c(random.data(), random.size()));
  }
  // The table-driven path (CPUs without SSE4.2) computes the same values.
  CHECK(ndt::Crc32cPortable("123456789", 9) == 0xe3069283u);
  for (size_t cut : {0, 1, 7, 8, 9, 63, 4999, 5000})
    CHECK(ndt::Crc32cPortable(random.data(), cut, 0x1234u) == ndt::Crc32c(random.data(), cut, 0x1234u));
  CHECK(ndt::Crc32cCombine(0xffffffffu, 0, uint64_t(1) << 40) ==
        ndt::Crc32cCombine(ndt::Crc32cCombine(0xffffffffu, 0, uint64_t(1) << 39), 0, uint64_t(1) << 39));
}

TEST_CASE("IPv6 customer addresses and provider addresses") {
  ir::HostIr h = SampleHost();
  h.lookup_records.push_back(Record(5001, "fd00:1::20", "00:1d:d8:b7:1c:30", "2001:db8::11", "host02", "web6"));
  h.lookup_records.push_back(Record(7001, "fd00:1::20", "00:1d:d8:b7:1c:31", "2001:db8::12", "host03", "b-web6"));
  auto image = Load(ImageBytes(h));
  const ndt::CaSlot* a = Ca(*image, 5001, "fd00:1::20");
  const ndt::CaSlot* b = Ca(*image, 7001, "fd00:1::20");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(runtime::tables::FormatIp(a->pa_family, a->pa) == "2001:db8::11");
  CHECK(runtime::tables::FormatIp(b->pa_family, b->pa) == "2001:db8::12");
  // The IPv4 address with the same last four bytes is a different key.
  CHECK(Ca(*image, 5001, "0.0.0.32") == nullptr);
  std::string out;
  CHECK(runtime::tables::Trace(*image, 1, "fd00:1::20", "", &out) == 0);
  CHECK(out.find("route rdid 1 fd00:1::/64: on-link vsid 5001") != std::string::npos);
  CHECK(out.find("to pa 2001:db8::11 (host `host02`)") != std::string::npos);
}

TEST_CASE("trace: unvirtualized ports and VLAN-isolated segments are not encapsulated") {
  ir::HostIr h = SampleHost();
  ir::Port flat = h.ports[0];
  flat.id = 9;
  flat.vsid = 0;
  flat.rdid = 0;
  flat.vm = "infra";
  flat.vm_network = "Virtual Switch";
  flat.vlan = 10;
  h.ports.push_back(flat);
  h.segments[0].isolation = ir::Isolation::Vlan;
  h.segments[0].vlan = 120;
  auto image = Load(ImageBytes(h));
  std::string out;
  CHECK(runtime::tables::Trace(*image, 9, "192.168.10.1", "", &out) == 0);
  CHECK(out.find("verdict: not virtualized: bridged onto switch `test logical switch` vlan 10") != std::string::npos);
  out.clear();
  CHECK(runtime::tables::Trace(*image, 1, "10.0.1.20", "", &out) == 0);
  CHECK(out.find("verdict: forward unencapsulated on vlan 120 to host `host02` (pa 192.168.0.11)") != std::string::npos);
}

TEST_CASE("an IR with duplicate keys is refused, not written with an entry dropped") {
  CHECK(ImageRefusal(SampleHost()).empty());
  {
    ir::HostIr h = SampleHost();
    REQUIRE(h.ports.size() >= 2);
    h.ports[1].id = h.ports[0].id;
    std::string why = ImageRefusal(h);
    CHECK(why.find("two ports with id " + std::to_string(h.ports[0].id)) != std::string::npos);
    CHECK(why.find("host `host01`") != std::string::npos);
    CHECK(ImageBytes(h).empty());
  }
  {
    ir::HostIr h = SampleHost();
    REQUIRE(!h.segments.empty());
    h.segments.push_back(h.segments[0]);
    CHECK(ImageRefusal(h).find("two segments with VSID") != std::string::npos);
    CHECK(ImageBytes(h).empty());
  }
  {
    ir::HostIr h = SampleHost();
    REQUIRE(h.lookup_records.size() >= 2);
    ir::LookupRecord twin = h.lookup_records[0];
    twin.mac = h.lookup_records[1].mac;  // same CA, another MAC
    h.lookup_records.push_back(twin);
    CHECK(ImageRefusal(h).find("two lookup records for CA") != std::string::npos);
  }
  {
    ir::HostIr h = SampleHost();
    ir::LookupRecord twin = h.lookup_records[0];
    twin.ca = Ip("10.99.99.99");  // same MAC in the same VSID, another CA
    h.lookup_records.push_back(twin);
    CHECK(ImageRefusal(h).find("two lookup records for MAC") != std::string::npos);
  }
}
