// ndt-fixture KIND OUT: writes a test table image built from the hand-made IR
// in fixture.h (for lit tests of `netdsl tables` before/without netdslc).
// Kinds: sample, gateway, sample-next (a changed generation of sample),
// and corrupt ones: truncated, bad-magic, major-2, overlap, bad-policy, bad-checksum.
#include <cstdio>
#include <cstring>
#include <string>

#include "backends/tables/table_writer.h"
#include "tests/unit/tables/corrupt.h"
#include "tests/unit/tables/fixture.h"

using namespace netdsl;
using namespace netdsl::testing;

static ir::HostIr SampleNext() {
  ir::HostIr h = SampleHost();
  h.generation = 8;
  h.ports[1].mtu = 9000;                    // changed port
  h.lookup_records.erase(h.lookup_records.begin() + 2);  // host02's web3 left
  h.lookup_records.push_back(Record(5001, "10.0.1.21", "00:1d:d8:b7:1c:20", "192.168.0.12", "host03", "web4"));
  ir::CustomerRoute r{2, Pfx("0.0.0.0/0"), ir::CustomerRoute::Kind::Gateway, 0, Ip("192.168.0.6"), "gateway2"};
  h.customer_routes.push_back(r);
  return h;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ndt-fixture KIND OUT\n");
    return 64;
  }
  std::string kind = argv[1];
  std::string bytes;
  auto dir = [&](ndt::SectionType t) { return DirEntry(DirIndex(t)); };
  if (kind == "sample") bytes = ImageBytes(SampleHost());
  else if (kind == "gateway") bytes = ImageBytes(GatewayHost());
  else if (kind == "sample-next") bytes = ImageBytes(SampleNext());
  else {
    bytes = ImageBytes(SampleHost());
    if (kind == "truncated") {
      bytes.resize(bytes.size() - 200);
      Poke<uint64_t>(bytes, offsetof(ndt::Header, total_size), bytes.size());
    } else if (kind == "bad-magic") {
      bytes[1] = 'X';
    } else if (kind == "major-2") {
      Poke<uint16_t>(bytes, offsetof(ndt::Header, major), 2);
    } else if (kind == "overlap") {
      Poke<uint64_t>(bytes, dir(ndt::SectionType::kSegments) + 8,
                     Peek<uint64_t>(bytes, dir(ndt::SectionType::kPorts) + 8));
    } else if (kind == "bad-policy") {
      Poke<uint32_t>(bytes, Peek<uint64_t>(bytes, dir(ndt::SectionType::kPorts) + 8) + offsetof(ndt::PortEntry, policy), 5);
    } else if (kind == "bad-checksum") {
      bytes[Peek<uint64_t>(bytes, dir(ndt::SectionType::kRoutes) + 8)] ^= 1;
      FixChecksums(bytes);
      bytes[Peek<uint64_t>(bytes, dir(ndt::SectionType::kRoutes) + 8)] ^= 1;
      ndt::Header h = Peek<ndt::Header>(bytes, 0);
      h.body_checksum = ndt::Crc32c(bytes.data() + h.header_size, bytes.size() - h.header_size);
      Poke(bytes, 0, h);
      Poke<uint32_t>(bytes, offsetof(ndt::Header, header_checksum), ndt::Crc32c(bytes.data(), 124));
    } else {
      std::fprintf(stderr, "ndt-fixture: unknown kind `%s`\n", kind.c_str());
      return 64;
    }
    if (kind != "bad-magic" && kind != "bad-checksum") FixChecksums(bytes);
  }
  FILE* f = std::fopen(argv[2], "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
    std::perror(argv[2]);
    return 1;
  }
  return 0;
}
