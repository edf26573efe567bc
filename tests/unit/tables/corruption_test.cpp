// Corrupted table images: every header field, truncation at every section
// boundary, flipped bytes, overlapping sections, huge counts — each rejected
// with a message naming the broken field, never a crash.
#include <doctest/doctest.h>

#include <functional>

#include "backends/tables/table_writer.h"
#include "runtime/tables/image.h"
#include "tests/unit/tables/corrupt.h"
#include "tests/unit/tables/fixture.h"

using namespace netdsl;
using namespace netdsl::testing;
using netdsl::runtime::tables::Image;
using ndt::SectionType;

namespace {

std::string Good() { return ImageBytes(GatewayHost()); }

/// Opens `bytes`; returns the error ("" when accepted).
std::string Error(const std::string& bytes) {
  std::string error;
  auto image = Image::FromBytes(bytes, &error);
  if (image) return "";
  CHECK(!error.empty());
  return error;
}

void ExpectRejected(const std::string& bytes, const std::string& fragment) {
  std::string error = Error(bytes);
  INFO("error: " << error);
  CHECK_MESSAGE(error.find(fragment) != std::string::npos, "expected `" << fragment << "`");
}

size_t Field(SectionType t, size_t member_offset) { return DirEntry(DirIndex(t)) + member_offset; }

}  // namespace

TEST_CASE("the untouched image is accepted") { CHECK(Error(Good()) == ""); }

TEST_CASE("every header field, checksums recomputed, names the field") {
  struct Case {
    const char* field;
    size_t offset;
    uint64_t value;
    size_t width;
    const char* expect;
  };
  const Case cases[] = {
      {"magic", offsetof(ndt::Header, magic), 0x4e44543100000000ull, 8, "magic"},
      {"major", offsetof(ndt::Header, major), 2, 2, "major version 2.0 is not supported"},
      {"header_size small", offsetof(ndt::Header, header_size), 64, 4, "header header_size 0x40"},
      {"header_size odd", offsetof(ndt::Header, header_size), 131, 4, "header header_size"},
      {"header_size huge", offsetof(ndt::Header, header_size), 0xffffff00u, 4, "header header_size"},
      {"total_size", offsetof(ndt::Header, total_size), 0x10000000, 8, "header total_size 0x10000000"},
      {"flags", offsetof(ndt::Header, flags), 1, 4, "header flags 0x1"},
      {"host_name", offsetof(ndt::Header, host_name), 0xfffffff0u, 4, "header host_name"},
      {"directory_offset odd", offsetof(ndt::Header, directory_offset), 132, 4, "header directory_offset"},
      {"directory_offset low", offsetof(ndt::Header, directory_offset), 8, 4, "header directory_offset"},
      {"section_count huge", offsetof(ndt::Header, section_count), 0xffffffffu, 4, "header section_count"},
      {"section_count short", offsetof(ndt::Header, section_count), 11, 4, "required section `nat_prefixes` is missing"},
      {"reserved", offsetof(ndt::Header, reserved), 1, 1, "header reserved"},
  };
  for (const Case& c : cases) {
    INFO(c.field);
    std::string bytes = Good();
    std::memcpy(bytes.data() + c.offset, &c.value, c.width);
    FixChecksums(bytes);
    ExpectRejected(bytes, c.expect);
  }
}

TEST_CASE("every header byte changed without fixing checksums is rejected") {
  std::string good = Good();
  for (size_t i = 0; i < sizeof(ndt::Header); ++i) {
    std::string bytes = good;
    bytes[i] = static_cast<char>(bytes[i] ^ 0x20);
    INFO("byte " << i);
    CHECK(Error(bytes) != "");
  }
  std::string bytes = good;
  Poke<uint32_t>(bytes, offsetof(ndt::Header, body_checksum), 0x12345678);
  Poke<uint32_t>(bytes, offsetof(ndt::Header, header_checksum),
                 ndt::Crc32c(bytes.data(), offsetof(ndt::Header, header_checksum)));
  ExpectRejected(bytes, "header body_checksum 0x12345678 does not match computed");
  bytes = good;
  Poke<uint64_t>(bytes, offsetof(ndt::Header, generation), 99);
  ExpectRejected(bytes, "header checksum");
}

/// Re-lays out `image` with one more section of type `type` holding `payload`.
std::string WithExtraSection(const std::string& image, uint32_t type, const std::string& payload) {
  ndt::Header h = Peek<ndt::Header>(image, 0);
  std::vector<ndt::SectionEntry> dir;
  for (uint32_t i = 0; i < h.section_count; ++i) dir.push_back(Peek<ndt::SectionEntry>(image, DirEntry(i)));
  std::vector<std::string> data;
  for (const auto& s : dir) data.push_back(image.substr(s.offset, s.length));
  ndt::SectionEntry extra{};
  extra.type = type;
  dir.push_back(extra);
  data.push_back(payload);
  auto align = [](uint64_t v) { return (v + 63) / 64 * 64; };
  uint64_t pos = align(ndt::kHeaderSize + dir.size() * sizeof(ndt::SectionEntry));
  for (size_t i = 0; i < dir.size(); ++i) {
    dir[i].offset = pos;
    dir[i].length = data[i].size();
    pos = align(pos + data[i].size());
  }
  std::string out(pos, '\0');
  for (size_t i = 0; i < dir.size(); ++i) {
    std::memcpy(out.data() + dir[i].offset, data[i].data(), data[i].size());
    Poke(out, DirEntry(i), dir[i]);
  }
  h.section_count = static_cast<uint32_t>(dir.size());
  h.total_size = out.size();
  Poke(out, 0, h);
  FixChecksums(out);
  return out;
}

TEST_CASE("a newer minor version is read; its unknown sections are skipped") {
  std::string bytes = Good();
  Poke<uint16_t>(bytes, offsetof(ndt::Header, minor), 7);
  FixChecksums(bytes);
  CHECK(Error(bytes) == "");

  std::string grown = WithExtraSection(Good(), 99, "future data");
  // Same minor as this reader: an unknown section type is an error...
  ExpectRejected(grown, "section 12 has unknown type 99");
  // ...but a newer minor may add sections, which this reader skips.
  Poke<uint16_t>(grown, offsetof(ndt::Header, minor), ndt::kMinorVersion + 1);
  FixChecksums(grown);
  std::string error;
  auto image = Image::FromBytes(grown, &error);
  INFO(error);
  REQUIRE(image);
  CHECK(image->FindPort(1) != nullptr);
  CHECK(image->directory().size() == 13);
}

TEST_CASE("truncation at every section boundary") {
  std::string good = Good();
  ndt::Header h = Peek<ndt::Header>(good, 0);
  std::vector<size_t> cuts = {0, 1, 8, 64, 127, 128, 129, size_t(h.directory_offset) + 31};
  for (uint32_t i = 0; i < h.section_count; ++i) {
    ndt::SectionEntry s = Peek<ndt::SectionEntry>(good, DirEntry(i));
    for (int64_t d : {-1, 0, 1}) {
      if (int64_t(s.offset) + d > 0) cuts.push_back(size_t(int64_t(s.offset) + d));
      if (int64_t(s.offset + s.length) + d > 0) cuts.push_back(size_t(int64_t(s.offset + s.length) + d));
    }
  }
  cuts.push_back(good.size() - 1);
  uint64_t last_end = 0;
  for (uint32_t i = 0; i < h.section_count; ++i) {
    ndt::SectionEntry s = Peek<ndt::SectionEntry>(good, DirEntry(i));
    last_end = std::max<uint64_t>(last_end, s.offset + s.length);
  }
  for (size_t cut : cuts) {
    if (cut >= good.size()) continue;
    INFO("cut at " << cut);
    std::string bytes = good.substr(0, cut);
    CHECK(Error(bytes) != "");
    // A cut in the trailing padding leaves every section whole: that image is fine.
    if (cut >= sizeof(ndt::Header) && cut < last_end) {
      // Make the header agree with the shorter file: the directory must catch it.
      Poke<uint64_t>(bytes, offsetof(ndt::Header, total_size), cut);
      FixChecksums(bytes);
      std::string error = Error(bytes);
      CHECK(error != "");
      bool names_field = error.find("exceeds file size") != std::string::npos ||
                         error.find("section_count") != std::string::npos;
      CHECK_MESSAGE(names_field, error);
    }
  }
}

TEST_CASE("every flipped bit is caught by a checksum") {
  std::string good = Good();
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bytes = good;
    bytes[i] = static_cast<char>(bytes[i] ^ (1 << (i % 8)));
    if (Error(bytes) == "") FAIL("flip at byte " << i << " accepted");
  }
}

TEST_CASE("flipped bytes with recomputed checksums never crash") {
  std::string good = Good();
  size_t accepted = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bytes = good;
    bytes[i] = static_cast<char>(bytes[i] ^ 0xff);
    FixChecksums(bytes);
    std::string error;
    auto image = Image::FromBytes(bytes, &error);
    if (!image) continue;
    ++accepted;
    // Accepted images must still answer every query safely.
    for (const ndt::PortEntry& p : image->ports()) {
      image->FindSegment(p.vsid);
      image->LookupCa(p.vsid, p.ca.family, p.ca.bytes);
      image->LookupMac(p.vsid, p.mac);
      image->LookupRoute(p.rdid, p.ca.family, p.ca.bytes);
      image->Policy(p.policy);
      (void)image->String(p.vm);
    }
  }
  // Flips in names, addresses or padding of string data can be valid images.
  CHECK(accepted < good.size());
}

TEST_CASE("section directory fields name the section") {
  std::string good = Good();
  const ndt::SectionEntry ports = Peek<ndt::SectionEntry>(good, DirEntry(DirIndex(SectionType::kPorts)));
  struct Case {
    const char* what;
    std::function<void(std::string&)> patch;
    const char* expect;
  };
  const Case cases[] = {
      {"offset past end",
       [](std::string& b) { Poke<uint64_t>(b, Field(SectionType::kLookupCa, 8), b.size() + 64); },
       "section `lookup_ca` offset"},
      {"length past end",
       [](std::string& b) { Poke<uint64_t>(b, Field(SectionType::kLookupCa, 16), 0xffffffffffffff00ull); },
       "exceeds file size"},
      {"misaligned", [](std::string& b) { Poke<uint64_t>(b, Field(SectionType::kRoutes, 8), Peek<uint64_t>(b, Field(SectionType::kRoutes, 8)) + 8); },
       "section `routes` offset"},
      {"overlap",
       [&](std::string& b) { Poke<uint64_t>(b, Field(SectionType::kSegments, 8), ports.offset); },
       "section `segments` at offset"},
      {"huge count", [](std::string& b) { Poke<uint32_t>(b, Field(SectionType::kPorts, 24), 0xffffffffu); },
       "section `ports` count 4294967295"},
      {"hash count over load", [](std::string& b) { Poke<uint32_t>(b, Field(SectionType::kLookupCa, 24), 0xffffffffu); },
       "section `lookup_ca` count 4294967295 exceeds 75%"},
      {"hash count wrong", [](std::string& b) { Poke<uint32_t>(b, Field(SectionType::kLookupMac, 24), 1); },
       "section `lookup_mac` count 1 does not match"},
      {"length not multiple", [](std::string& b) { Poke<uint64_t>(b, Field(SectionType::kPorts, 16), Peek<uint64_t>(b, Field(SectionType::kPorts, 16)) - 1); },
       "section `ports` length"},
      {"flags", [](std::string& b) { Poke<uint32_t>(b, Field(SectionType::kNat, 4), 4); }, "section `nat` flags 0x4"},
      {"repeated type", [](std::string& b) { Poke<uint32_t>(b, Field(SectionType::kPolicies, 0), 2); },
       "section `ports` is out of order or repeated"},
      {"unknown type", [](std::string& b) { Poke<uint32_t>(b, Field(SectionType::kNatPrefixes, 0), 77); },
       "section 11 has unknown type 77"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string bytes = good;
    c.patch(bytes);
    FixChecksums(bytes);
    ExpectRejected(bytes, c.expect);
  }
  // A section checksum alone.
  std::string bytes = good;
  Poke<uint32_t>(bytes, Field(SectionType::kRoutes, 28), 0xdeadbeef);
  FixChecksums(bytes);  // recomputes it back — so patch after fixing, then fix only header + body
  Poke<uint32_t>(bytes, Field(SectionType::kRoutes, 28), 0xdeadbeef);
  ndt::Header h = Peek<ndt::Header>(bytes, 0);
  h.body_checksum = ndt::Crc32c(bytes.data() + h.header_size, bytes.size() - h.header_size);
  Poke(bytes, 0, h);
  Poke<uint32_t>(bytes, offsetof(ndt::Header, header_checksum), ndt::Crc32c(bytes.data(), 124));
  ExpectRejected(bytes, "section `routes` checksum 0xdeadbeef does not match computed");
}

TEST_CASE("entry fields: indices and string offsets are checked") {
  std::string good = Good();
  auto section = [&](SectionType t) { return Peek<ndt::SectionEntry>(good, DirEntry(DirIndex(t))); };
  struct Case {
    const char* what;
    SectionType section;
    size_t member;
    uint32_t value;
    const char* expect;
  };
  const Case cases[] = {
      {"port policy", SectionType::kPorts, offsetof(ndt::PortEntry, policy), 9, "section `ports` entry 0 policy index 9"},
      {"port string", SectionType::kPorts, offsetof(ndt::PortEntry, vm), 0x7fffffff, "section `ports` entry 0 vm string offset 0x7fffffff"},
      {"port order", SectionType::kPorts, offsetof(ndt::PortEntry, id), 99, "section `ports` entry 1 id 2 is not above"},
      {"segment isolation", SectionType::kSegments, offsetof(ndt::SegmentEntry, rdid) + 8, 0x00090000, "isolation 9"},
      {"policy flags", SectionType::kPolicies, offsetof(ndt::PolicyEntry, flags), 0x80000000u, "section `policies` entry 0 flags"},
      {"route kind", SectionType::kRoutes, offsetof(ndt::RouteEntry, kind), 5, "section `routes` entry 0 kind 5"},
      {"route domain run", SectionType::kRouteDomains, offsetof(ndt::RouteDomainEntry, v4_count), 0xfffffff0u, "v4 ranges"},
      {"lpm route index", SectionType::kLpmV4, offsetof(ndt::LpmV4Range, route), 1000, "section `lpm_v4` entry 0 route index 1000"},
      {"nat run", SectionType::kNat, offsetof(ndt::NatEntry, prefix_count), 0xffffffffu, "section `nat` entry 0 prefixes 0 + 4294967295"},
      {"nat prefix", SectionType::kNatPrefixes, offsetof(ndt::Prefix, length), 77, "section `nat_prefixes` entry 0"},
      {"strings end", SectionType::kStrings, 0, 0x41414141, "must start and end with a NUL"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string bytes = good;
    Poke<uint32_t>(bytes, section(c.section).offset + c.member, c.value);
    FixChecksums(bytes);
    ExpectRejected(bytes, c.expect);
  }
}

TEST_CASE("a lookup record moved away from its hash slot is refused") {
  std::string bytes = Good();
  ndt::SectionEntry ca = Peek<ndt::SectionEntry>(bytes, DirEntry(DirIndex(SectionType::kLookupCa)));
  size_t slots = ca.length / sizeof(ndt::CaSlot);
  // Find an occupied slot whose successor is empty, and move it there... if the
  // slot is its key's home slot, the move leaves an empty slot in its probe path.
  for (size_t i = 0; i < slots; ++i) {
    auto s = Peek<ndt::CaSlot>(bytes, ca.offset + i * sizeof(ndt::CaSlot));
    size_t next = (i + 1) % slots;
    auto n = Peek<ndt::CaSlot>(bytes, ca.offset + next * sizeof(ndt::CaSlot));
    if (!(s.flags & ndt::kSlotOccupied) || (n.flags & ndt::kSlotOccupied)) continue;
    if ((ndt::HashCa(s.vsid, s.ca_family, s.ca) & (slots - 1)) != i) continue;
    Poke(bytes, ca.offset + next * sizeof(ndt::CaSlot), s);
    Poke(bytes, ca.offset + i * sizeof(ndt::CaSlot), ndt::CaSlot{});
    FixChecksums(bytes);
    ExpectRejected(bytes, "is not where its hash places it");
    return;
  }
  FAIL("no movable slot in the fixture");
}

TEST_CASE("a duplicate lookup key is refused") {
  std::string bytes = Good();
  ndt::SectionEntry ca = Peek<ndt::SectionEntry>(bytes, DirEntry(DirIndex(SectionType::kLookupCa)));
  size_t slots = ca.length / sizeof(ndt::CaSlot);
  // Copy an occupied slot into the empty slot right after its run: a second
  // record with the same key, reachable from the same home slot.
  for (size_t i = 0; i < slots; ++i) {
    auto s = Peek<ndt::CaSlot>(bytes, ca.offset + i * sizeof(ndt::CaSlot));
    size_t next = (i + 1) % slots;
    auto n = Peek<ndt::CaSlot>(bytes, ca.offset + next * sizeof(ndt::CaSlot));
    if (!(s.flags & ndt::kSlotOccupied) || (n.flags & ndt::kSlotOccupied)) continue;
    Poke(bytes, ca.offset + next * sizeof(ndt::CaSlot), s);
    Poke<uint32_t>(bytes, Field(SectionType::kLookupCa, 24), ca.count + 1);
    FixChecksums(bytes);
    ExpectRejected(bytes, "is not where its hash places it (or is a duplicate key)");
    return;
  }
  FAIL("no slot followed by an empty one");
}
