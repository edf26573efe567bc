// Table image backend: per-host IR → `.ndt` bytes (docs/table-image.md).
// Deterministic: the IR's vectors are sorted, strings are interned in first-use
// order, hash tables are filled in IR order with a fixed hash function.
#include "backends/tables/table_writer.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include "backends/tables/lpm_builder.h"
#include "common/ndt/format.h"

namespace netdsl::backends {
namespace {

/// Interns strings; offset 0 is the empty string.
class StringTable {
 public:
  StringTable() { bytes_.push_back('\0'); }
  uint32_t Add(const std::string& s) {
    if (s.empty()) return 0;
    auto [it, inserted] = offsets_.emplace(s, static_cast<uint32_t>(bytes_.size()));
    if (inserted) {
      // A NUL inside a name would truncate it on read; names cannot contain one.
      for (char c : s) bytes_.push_back(c == '\0' ? '?' : c);
      bytes_.push_back('\0');
    }
    return it->second;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
  std::unordered_map<std::string, uint32_t> offsets_;  // lookup only, never iterated
};

template <typename T>
T Zeroed() {
  T t;
  std::memset(&t, 0, sizeof t);
  return t;
}

uint8_t Family(const net::IpAddress& ip) { return ip.IsV4() ? ndt::kFamilyV4 : ndt::kFamilyV6; }

ndt::Ip EncodeIp(const net::IpAddress& ip) {
  auto out = Zeroed<ndt::Ip>();
  out.family = Family(ip);
  std::memcpy(out.bytes, ip.bytes.data(), 16);
  return out;
}

ndt::Ip EncodeIp(const std::optional<net::IpAddress>& ip) {
  return ip ? EncodeIp(*ip) : Zeroed<ndt::Ip>();
}

ndt::Prefix EncodePrefix(const net::Prefix& p) {
  auto out = Zeroed<ndt::Prefix>();
  net::Prefix c = p.Canonical();
  out.family = Family(c.address);
  out.length = c.length;
  std::memcpy(out.bytes, c.address.bytes.data(), 16);
  return out;
}

uint8_t EncodeIsolation(ir::Isolation i) {
  switch (i) {
    case ir::Isolation::None: return uint8_t(ndt::Isolation::kNone);
    case ir::Isolation::Vlan: return uint8_t(ndt::Isolation::kVlan);
    case ir::Isolation::Vxlan: return uint8_t(ndt::Isolation::kVxlan);
    case ir::Isolation::Nvgre: return uint8_t(ndt::Isolation::kNvgre);
  }
  return 0;
}

/// Smallest power of two ≥ 8 holding `n` at load ≤ kWriterMaxLoadPercent (0 for n = 0).
uint64_t HashCapacity(size_t n) {
  if (n == 0) return 0;
  uint64_t cap = 8;
  while (n * 100 > cap * ndt::kWriterMaxLoadPercent) cap *= 2;
  return cap;
}

struct Section {
  ndt::SectionType type;
  std::string bytes;
  uint32_t count = 0;
  /// For sections built in place: their length, and a filler that writes
  /// into zeroed output bytes and returns the entry count.
  uint64_t length = 0;
  std::function<uint32_t(char*)> fill;
};

template <typename T>
Section FromVector(ndt::SectionType type, const std::vector<T>& v) {
  Section s{type, std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)),
            static_cast<uint32_t>(v.size()), 0, {}};
  return s;
}

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

namespace {

/// Why `host` cannot be written ("" when it can): the image's binary searches
/// and hash tables need unique keys.
std::string TableRefusal(const ir::HostIr& host) {
  // Sorted copies of the keys (no node per key: hosts carry 100k records).
  auto first_duplicate = [](std::vector<std::pair<std::tuple<uint32_t, uint8_t, std::array<uint8_t, 16>>, size_t>> keys)
      -> std::optional<size_t> {
    std::sort(keys.begin(), keys.end());
    for (size_t i = 1; i < keys.size(); ++i)
      if (keys[i].first == keys[i - 1].first) return keys[i].second;
    return std::nullopt;
  };
  using Key = std::pair<std::tuple<uint32_t, uint8_t, std::array<uint8_t, 16>>, size_t>;
  std::vector<Key> keys;
  for (size_t i = 0; i < host.ports.size(); ++i) keys.push_back({{host.ports[i].id, 0, {}}, i});
  if (auto d = first_duplicate(keys)) {
    const ir::Port& p = host.ports[*d];
    return fmt::format("host `{}`: two ports with id {} (vm `{}` nic `{}`); the table image needs unique port ids",
                       host.host, p.id, p.vm, p.nic);
  }
  keys.clear();
  for (size_t i = 0; i < host.segments.size(); ++i) keys.push_back({{host.segments[i].vsid, 0, {}}, i});
  if (auto d = first_duplicate(keys))
    return fmt::format("host `{}`: two segments with VSID {}; the table image needs unique VSIDs", host.host,
                       host.segments[*d].vsid);
  const std::vector<ir::LookupRecord>& records = host.lookup_records;
  keys.clear();
  for (size_t i = 0; i < records.size(); ++i)
    keys.push_back({{records[i].vsid, static_cast<uint8_t>(records[i].ca.family), records[i].ca.bytes}, i});
  if (auto d = first_duplicate(keys))
    return fmt::format("host `{}`: two lookup records for CA {} in VSID {} (one is vm `{}` nic `{}`)", host.host,
                       records[*d].ca.ToString(), records[*d].vsid, records[*d].vm, records[*d].nic);
  keys.clear();
  for (size_t i = 0; i < records.size(); ++i) {
    std::array<uint8_t, 16> mac{};
    std::copy(records[i].mac.bytes.begin(), records[i].mac.bytes.end(), mac.begin());
    keys.push_back({{records[i].vsid, 0, mac}, i});
  }
  if (auto d = first_duplicate(keys))
    return fmt::format("host `{}`: two lookup records for MAC {} in VSID {} (one is vm `{}` nic `{}`)", host.host,
                       records[*d].mac.ToString(), records[*d].vsid, records[*d].vm, records[*d].nic);
  return "";
}

}  // namespace

llvm::Expected<std::string> WriteTableImage(const ir::HostIr& host) {
  if (std::string refusal = TableRefusal(host); !refusal.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(), refusal);
  StringTable strings;
  uint32_t host_name = strings.Add(host.host);

  std::vector<ndt::PolicyEntry> policies;
  for (const ir::PortPolicy& p : host.policies) {
    auto e = Zeroed<ndt::PolicyEntry>();
    e.profile = strings.Add(p.profile);
    uint32_t f = 0;
    if (p.vmq) f |= ndt::kPolicyVmq;
    if (p.ipsec_offload) f |= ndt::kPolicyIpsecOffload;
    if (p.sriov) f |= ndt::kPolicySriov;
    if (p.mac_spoofing) f |= ndt::kPolicyMacSpoofing;
    if (p.dhcp_guard) f |= ndt::kPolicyDhcpGuard;
    if (p.router_guard) f |= ndt::kPolicyRouterGuard;
    if (p.guest_specified_ip) f |= ndt::kPolicyGuestSpecifiedIp;
    if (p.ieee_priority_tagging) f |= ndt::kPolicyIeeePriorityTagging;
    if (p.minimum_weight) f |= ndt::kPolicyHasMinimumWeight, e.minimum_weight = *p.minimum_weight;
    if (p.minimum_absolute) f |= ndt::kPolicyHasMinimumAbsolute, e.minimum_absolute = *p.minimum_absolute;
    if (p.maximum) f |= ndt::kPolicyHasMaximum, e.maximum = *p.maximum;
    e.flags = f;
    policies.push_back(e);
  }

  std::vector<ndt::PortEntry> ports;
  for (const ir::Port& p : host.ports) {
    auto e = Zeroed<ndt::PortEntry>();
    e.id = p.id;
    e.vsid = p.vsid;
    e.rdid = p.rdid;
    e.policy = p.policy < host.policies.size() ? p.policy : ndt::kNoIndex;
    e.mtu = p.mtu;
    e.vlan = p.vlan;
    std::memcpy(e.mac, p.mac.bytes.data(), 6);
    e.ca = EncodeIp(p.ca);
    e.prefix_length = p.prefix_length;
    e.gateway = EncodeIp(p.gateway);
    e.vm = strings.Add(p.vm);
    e.nic = strings.Add(p.nic);
    e.ifname = strings.Add(p.ifname);
    e.switch_name = strings.Add(p.switch_name);
    e.classification = strings.Add(p.classification);
    e.vm_network = strings.Add(p.vm_network);
    e.vm_subnet = strings.Add(p.vm_subnet);
    ports.push_back(e);
  }
  // The IR promises id order; the reader binary-searches, so enforce it (ids
  // are unique: CheckTableHostIr).
  std::stable_sort(ports.begin(), ports.end(), [](auto& a, auto& b) { return a.id < b.id; });

  std::vector<ndt::SegmentEntry> segments;
  for (const ir::Segment& s : host.segments) {
    auto e = Zeroed<ndt::SegmentEntry>();
    e.vsid = s.vsid;
    e.rdid = s.rdid;
    e.mtu = s.mtu;
    e.vlan = s.vlan;
    e.isolation = EncodeIsolation(s.isolation);
    e.prefix = EncodePrefix(s.prefix);
    e.gateway = EncodeIp(s.gateway);
    e.local_pa = EncodeIp(s.local_pa);
    e.vm_network = strings.Add(s.vm_network);
    e.vm_subnet = strings.Add(s.vm_subnet);
    e.switch_name = strings.Add(s.switch_name);
    e.bridge_ifname = strings.Add(s.bridge_ifname);
    e.tunnel_ifname = strings.Add(s.tunnel_ifname);
    segments.push_back(e);
  }
  std::stable_sort(segments.begin(), segments.end(), [](auto& a, auto& b) { return a.vsid < b.vsid; });

  // Lookup records: two hash tables, filled in place in the output (they are
  // most of a large image); their strings are interned now, in IR order.
  // Keys are unique (CheckTableHostIr).
  const std::vector<ir::LookupRecord>& records = host.lookup_records;
  std::vector<std::array<uint32_t, 3>> record_strings(records.size());
  for (size_t k = 0; k < records.size(); ++k)
    record_strings[k] = {strings.Add(records[k].host), strings.Add(records[k].vm), strings.Add(records[k].nic)};
  uint64_t hash_cap = HashCapacity(records.size());
  auto fill_ca = [&](char* bytes) {
    auto* slots = reinterpret_cast<ndt::CaSlot*>(bytes);  // zeroed, 64-byte aligned in the image
    uint64_t mask = hash_cap - 1;
    uint32_t count = 0;
    for (size_t k = 0; k < records.size(); ++k) {
      const ir::LookupRecord& r = records[k];
      uint8_t fam = Family(r.ca);
      for (uint64_t i = ndt::HashCa(r.vsid, fam, r.ca.bytes.data()) & mask;; i = (i + 1) & mask) {
        ndt::CaSlot& s = slots[i];
        if (s.flags & ndt::kSlotOccupied) {
          if (s.vsid == r.vsid && s.ca_family == fam && !std::memcmp(s.ca, r.ca.bytes.data(), 16)) break;
          continue;
        }
        s.vsid = r.vsid;
        s.ca_family = fam;
        s.flags = ndt::kSlotOccupied | (r.local ? ndt::kSlotLocal : 0);
        std::memcpy(s.ca, r.ca.bytes.data(), 16);
        std::memcpy(s.pa, r.pa.bytes.data(), 16);
        s.pa_family = Family(r.pa);
        std::memcpy(s.mac, r.mac.bytes.data(), 6);
        s.port_id = r.local ? r.port_id : 0;
        s.host = record_strings[k][0];
        s.vm = record_strings[k][1];
        s.nic = record_strings[k][2];
        ++count;
        break;
      }
    }
    return count;
  };
  auto fill_mac = [&](char* bytes) {
    auto* slots = reinterpret_cast<ndt::MacSlot*>(bytes);
    uint64_t mask = hash_cap - 1;
    uint32_t count = 0;
    for (const ir::LookupRecord& r : records) {
      for (uint64_t i = ndt::HashMac(r.vsid, r.mac.bytes.data()) & mask;; i = (i + 1) & mask) {
        ndt::MacSlot& s = slots[i];
        if (s.flags & ndt::kSlotOccupied) {
          if (s.vsid == r.vsid && !std::memcmp(s.mac, r.mac.bytes.data(), 6)) break;
          continue;
        }
        s.vsid = r.vsid;
        std::memcpy(s.mac, r.mac.bytes.data(), 6);
        s.flags = ndt::kSlotOccupied | (r.local ? ndt::kSlotLocal : 0);
        s.pa_family = Family(r.pa);
        std::memcpy(s.pa, r.pa.bytes.data(), 16);
        s.port_id = r.local ? r.port_id : 0;
        ++count;
        break;
      }
    }
    return count;
  };

  // Customer routes, then per routing domain the LPM range tables.
  std::vector<ndt::RouteEntry> routes;
  for (const ir::CustomerRoute& r : host.customer_routes) {
    auto e = Zeroed<ndt::RouteEntry>();
    e.rdid = r.rdid;
    e.vsid = r.vsid;
    e.kind = uint8_t(r.kind == ir::CustomerRoute::Kind::Gateway ? ndt::RouteKind::kGateway
                                                                  : ndt::RouteKind::kOnLink);
    e.prefix = EncodePrefix(r.prefix);
    e.next_hop = EncodeIp(r.next_hop);
    e.via_host = strings.Add(r.via_host);
    routes.push_back(e);
  }
  std::stable_sort(routes.begin(), routes.end(), [](const auto& a, const auto& b) {
    if (a.rdid != b.rdid) return a.rdid < b.rdid;
    if (a.prefix.family != b.prefix.family) return a.prefix.family < b.prefix.family;
    int c = std::memcmp(a.prefix.bytes, b.prefix.bytes, 16);
    if (c != 0) return c < 0;
    return a.prefix.length < b.prefix.length;
  });

  // Every rdid that has a routing domain, a segment, a port or a route gets an entry.
  std::map<uint32_t, ndt::RouteDomainEntry> domains;
  auto domain = [&](uint32_t rdid) -> ndt::RouteDomainEntry& {
    auto [it, inserted] = domains.emplace(rdid, Zeroed<ndt::RouteDomainEntry>());
    if (inserted) it->second.rdid = rdid;
    return it->second;
  };
  for (const ir::RoutingDomain& d : host.routing_domains) {
    ndt::RouteDomainEntry& e = domain(d.rdid);
    e.vm_network = strings.Add(d.vm_network);
    e.vrf_ifname = strings.Add(d.vrf_ifname);
    e.table = d.table;
  }
  for (const ndt::RouteEntry& r : routes) domain(r.rdid);
  for (const ndt::SegmentEntry& s : segments) domain(s.rdid);

  std::vector<ndt::LpmV4Range> lpm_v4;
  std::vector<ndt::LpmV6Range> lpm_v6;
  std::vector<ndt::RouteDomainEntry> domain_entries;
  for (auto& [rdid, e] : domains) {
    std::vector<tables::LpmInput> v4, v6;
    for (uint32_t i = 0; i < routes.size(); ++i) {
      if (routes[i].rdid != rdid) continue;
      (routes[i].prefix.family == ndt::kFamilyV4 ? v4 : v6).push_back(tables::LpmInputFrom(routes[i].prefix, i));
    }
    e.v4_first = static_cast<uint32_t>(lpm_v4.size());
    for (const tables::LpmRange& r : tables::BuildLpmRanges(v4, 32))
      lpm_v4.push_back({static_cast<uint32_t>(r.start), r.route});
    e.v4_count = static_cast<uint32_t>(lpm_v4.size()) - e.v4_first;
    e.v6_first = static_cast<uint32_t>(lpm_v6.size());
    for (const tables::LpmRange& r : tables::BuildLpmRanges(v6, 128))
      lpm_v6.push_back({static_cast<uint64_t>(r.start >> 64), static_cast<uint64_t>(r.start), r.route, 0});
    e.v6_count = static_cast<uint32_t>(lpm_v6.size()) - e.v6_first;
    domain_entries.push_back(e);
  }

  std::vector<ndt::NatEntry> nat;
  std::vector<ndt::Prefix> nat_prefixes;
  for (const ir::NatRule& n : host.nat_rules) {
    auto e = Zeroed<ndt::NatEntry>();
    e.vm_network = strings.Add(n.vm_network);
    e.rdid = n.rdid;
    e.external_ip = EncodeIp(n.external_ip);
    e.external_pool = strings.Add(n.external_pool);
    e.prefix_first = static_cast<uint32_t>(nat_prefixes.size());
    for (const net::Prefix& p : n.inside_prefixes) nat_prefixes.push_back(EncodePrefix(p));
    e.prefix_count = static_cast<uint32_t>(n.inside_prefixes.size());
    nat.push_back(e);
  }

  std::vector<Section> sections;
  sections.push_back({ndt::SectionType::kStrings, strings.bytes(),
                      static_cast<uint32_t>(strings.bytes().size()), 0, {}});
  sections.push_back(FromVector(ndt::SectionType::kPorts, ports));
  sections.push_back(FromVector(ndt::SectionType::kSegments, segments));
  sections.push_back(FromVector(ndt::SectionType::kPolicies, policies));
  sections.push_back({ndt::SectionType::kLookupCa, {}, 0, hash_cap * sizeof(ndt::CaSlot), fill_ca});
  sections.push_back({ndt::SectionType::kLookupMac, {}, 0, hash_cap * sizeof(ndt::MacSlot), fill_mac});
  sections.push_back(FromVector(ndt::SectionType::kRoutes, routes));
  sections.push_back(FromVector(ndt::SectionType::kRouteDomains, domain_entries));
  sections.push_back(FromVector(ndt::SectionType::kLpmV4, lpm_v4));
  sections.push_back(FromVector(ndt::SectionType::kLpmV6, lpm_v6));
  sections.push_back(FromVector(ndt::SectionType::kNat, nat));
  sections.push_back(FromVector(ndt::SectionType::kNatPrefixes, nat_prefixes));

  // Layout: header, directory, then each section at the next 64-byte boundary.
  uint64_t pos = AlignUp(ndt::kHeaderSize + sections.size() * sizeof(ndt::SectionEntry),
                         ndt::kSectionAlignment);
  std::vector<ndt::SectionEntry> directory;
  for (const Section& s : sections) {
    auto d = Zeroed<ndt::SectionEntry>();
    d.type = static_cast<uint32_t>(s.type);
    d.offset = pos;
    d.length = s.fill ? s.length : s.bytes.size();
    directory.push_back(d);
    pos = AlignUp(pos + d.length, ndt::kSectionAlignment);
  }
  uint64_t total = pos;
  std::string out(total, '\0');
  for (size_t i = 0; i < sections.size(); ++i) {
    ndt::SectionEntry& d = directory[i];
    char* at = out.data() + d.offset;
    if (sections[i].fill) {
      d.count = sections[i].fill(at);
    } else {
      std::memcpy(at, sections[i].bytes.data(), sections[i].bytes.size());
      d.count = sections[i].count;
    }
    d.checksum = ndt::Crc32c(at, d.length);
  }
  std::memcpy(out.data() + ndt::kHeaderSize, directory.data(), directory.size() * sizeof(ndt::SectionEntry));

  auto h = Zeroed<ndt::Header>();
  std::memcpy(h.magic, ndt::kMagic, 8);
  h.major = ndt::kMajorVersion;
  h.minor = ndt::kMinorVersion;
  h.header_size = ndt::kHeaderSize;
  h.total_size = total;
  h.generation = host.generation;
  h.host_name = host_name;
  h.directory_offset = ndt::kHeaderSize;
  h.section_count = static_cast<uint32_t>(sections.size());
  // source_hash is hex; a malformed or short hash leaves the remaining bytes zero.
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32 && 2 * i + 1 < host.source_hash.size(); ++i) {
    int hi = nibble(host.source_hash[2 * i]), lo = nibble(host.source_hash[2 * i + 1]);
    if (hi < 0 || lo < 0) break;
    h.source_hash[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  h.underlay_mtu = host.underlay_mtu;
  h.body_checksum = ndt::Crc32c(out.data() + ndt::kHeaderSize, total - ndt::kHeaderSize);
  std::memcpy(out.data(), &h, sizeof h);
  h.header_checksum = ndt::Crc32c(out.data(), offsetof(ndt::Header, header_checksum));
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

llvm::Expected<std::vector<Artifact>> EmitTablesHost(const ir::HostIr& host) {
  llvm::Expected<std::string> image = WriteTableImage(host);
  if (!image) return image.takeError();
  std::vector<Artifact> artifacts;
  artifacts.push_back({"tables.ndt", std::move(*image)});
  return artifacts;
}

}  // namespace netdsl::backends
