// The `.ndt` dataplane table image format (docs/table-image.md), shared by the
// writer (backends/tables) and the reader (runtime/tables). Std only.
//
// Every structure here is the exact on-disk layout: little-endian, naturally
// aligned, no pointers, no implicit padding (each size is checked below).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace netdsl::ndt {

static_assert(std::endian::native == std::endian::little,
              "the .ndt format is little-endian; big-endian hosts need byte swapping");

/// "\x89NDT\r\n\x1a\n": non-ASCII first byte, CR LF and ^Z catch text-mode transfers.
inline constexpr unsigned char kMagic[8] = {0x89, 'N', 'D', 'T', '\r', '\n', 0x1a, '\n'};
inline constexpr uint16_t kMajorVersion = 1;
inline constexpr uint16_t kMinorVersion = 0;
inline constexpr uint32_t kHeaderSize = 128;
inline constexpr uint32_t kSectionAlignment = 64;
inline constexpr uint32_t kNoIndex = 0xffffffffu;
/// Flag bits 0–15 are "required": a reader refuses an image with one it does not know.
inline constexpr uint32_t kRequiredFlagsMask = 0x0000ffffu;
/// Hash tables are built with load ≤ 1/2; readers accept up to 3/4.
inline constexpr uint32_t kWriterMaxLoadPercent = 50;
inline constexpr uint32_t kReaderMaxLoadPercent = 75;

/// Address family byte: 0 = absent, 4 = IPv4 (address in bytes[12..16)), 6 = IPv6.
enum : uint8_t { kFamilyNone = 0, kFamilyV4 = 4, kFamilyV6 = 6 };

struct Header {
  unsigned char magic[8];
  uint16_t major;
  uint16_t minor;
  uint32_t header_size;       ///< ≥ 128; bytes past 128 belong to newer minors
  uint64_t total_size;        ///< exact file size
  uint64_t generation;        ///< HostIr::generation
  uint32_t flags;             ///< none defined in 1.0
  uint32_t host_name;         ///< string offset
  uint32_t directory_offset;  ///< = header_size rounded up to 8
  uint32_t section_count;
  uint8_t source_hash[32];    ///< sha256 of the sources (HostIr::source_hash)
  uint32_t underlay_mtu;
  uint32_t body_checksum;     ///< CRC32C of bytes [header_size, total_size)
  uint8_t reserved[36];       ///< zero
  uint32_t header_checksum;   ///< CRC32C of bytes [0, 124)
};
static_assert(sizeof(Header) == 128);
static_assert(offsetof(Header, header_checksum) == 124);

enum class SectionType : uint32_t {
  kStrings = 1,
  kPorts = 2,
  kSegments = 3,
  kPolicies = 4,
  kLookupCa = 5,
  kLookupMac = 6,
  kRoutes = 7,
  kRouteDomains = 8,
  kLpmV4 = 9,
  kLpmV6 = 10,
  kNat = 11,
  kNatPrefixes = 12,
};
inline constexpr uint32_t kFirstSectionType = 1;
inline constexpr uint32_t kLastSectionType = 12;

struct SectionEntry {
  uint32_t type;
  uint32_t flags;       ///< none defined in 1.0; must be zero
  uint64_t offset;      ///< from the start of the file, multiple of 64
  uint64_t length;      ///< bytes
  uint32_t count;       ///< entries (hash tables: occupied slots)
  uint32_t checksum;    ///< CRC32C of bytes [offset, offset + length)
};
static_assert(sizeof(SectionEntry) == 32);

struct Ip {
  uint8_t family;  ///< kFamilyNone / kFamilyV4 / kFamilyV6
  uint8_t reserved[3];
  uint8_t bytes[16];
};
static_assert(sizeof(Ip) == 20);

struct Prefix {
  uint8_t family;
  uint8_t length;
  uint8_t reserved[2];
  uint8_t bytes[16];  ///< host bits zero
};
static_assert(sizeof(Prefix) == 20);

/// Section `ports`: sorted by id, unique.
struct PortEntry {
  uint32_t id;
  uint32_t vsid;    ///< 0 = not virtualized
  uint32_t rdid;
  uint32_t policy;  ///< index into `policies` or kNoIndex
  uint32_t mtu;
  uint16_t vlan;
  uint8_t mac[6];
  Ip ca;
  uint8_t prefix_length;
  uint8_t reserved[3];
  Ip gateway;       ///< family 0 when none
  uint32_t vm, nic, ifname, switch_name, classification, vm_network, vm_subnet;  ///< strings
};
static_assert(sizeof(PortEntry) == 100);

enum class Isolation : uint8_t { kNone = 0, kVlan = 1, kVxlan = 2, kNvgre = 3 };

/// Section `segments` (VSIDs present on the host): sorted by vsid, unique.
struct SegmentEntry {
  uint32_t vsid;
  uint32_t rdid;
  uint32_t mtu;
  uint16_t vlan;
  uint8_t isolation;  ///< Isolation
  uint8_t reserved;
  Prefix prefix;
  Ip gateway;
  Ip local_pa;        ///< tunnel source
  uint32_t vm_network, vm_subnet, switch_name, bridge_ifname, tunnel_ifname;  ///< strings
};
static_assert(sizeof(SegmentEntry) == 96);

enum PolicyFlag : uint32_t {
  kPolicyVmq = 1u << 0,
  kPolicyIpsecOffload = 1u << 1,
  kPolicySriov = 1u << 2,
  kPolicyMacSpoofing = 1u << 3,
  kPolicyDhcpGuard = 1u << 4,
  kPolicyRouterGuard = 1u << 5,
  kPolicyGuestSpecifiedIp = 1u << 6,
  kPolicyIeeePriorityTagging = 1u << 7,
  kPolicyHasMinimumWeight = 1u << 8,
  kPolicyHasMinimumAbsolute = 1u << 9,
  kPolicyHasMaximum = 1u << 10,
};
inline constexpr uint32_t kPolicyKnownFlags = (1u << 11) - 1;

/// Section `policies`: in HostIr order (unique, sorted); ports refer by index.
struct PolicyEntry {
  uint32_t profile;  ///< string
  uint32_t flags;    ///< PolicyFlag
  uint32_t minimum_weight;
  uint32_t reserved;
  uint64_t minimum_absolute;  ///< bits per second
  uint64_t maximum;           ///< bits per second
};
static_assert(sizeof(PolicyEntry) == 32);

enum SlotFlag : uint8_t { kSlotOccupied = 1u << 0, kSlotLocal = 1u << 1 };

/// Section `lookup_ca`: open-addressing hash table of (vsid, CA) → (PA, MAC),
/// one 64-byte slot = one cache line.
struct CaSlot {
  uint32_t vsid;
  uint8_t ca_family;
  uint8_t flags;      ///< SlotFlag; empty slots are all zero
  uint16_t reserved;
  uint8_t ca[16];
  uint8_t pa[16];
  uint8_t mac[6];
  uint8_t pa_family;
  uint8_t reserved2;
  uint32_t port_id;   ///< when local
  uint32_t host, vm, nic;  ///< strings
};
static_assert(sizeof(CaSlot) == 64);

/// Section `lookup_mac`: open-addressing hash table of (vsid, MAC) → PA, 32-byte slots.
struct MacSlot {
  uint32_t vsid;
  uint8_t mac[6];
  uint8_t pa_family;
  uint8_t flags;      ///< SlotFlag
  uint8_t pa[16];
  uint32_t port_id;
};
static_assert(sizeof(MacSlot) == 32);

enum class RouteKind : uint8_t { kOnLink = 0, kGateway = 1 };

/// Section `routes`: customer routes sorted by (rdid, prefix).
struct RouteEntry {
  uint32_t rdid;
  uint32_t vsid;       ///< on-link: the subnet's VSID
  uint8_t kind;        ///< RouteKind
  uint8_t reserved[3];
  Prefix prefix;
  Ip next_hop;         ///< gateway: family 0 when none
  uint32_t via_host;   ///< string
};
static_assert(sizeof(RouteEntry) == 56);

/// Section `route_domains`: sorted by rdid; each owns a run of `lpm_v4` / `lpm_v6` ranges.
struct RouteDomainEntry {
  uint32_t rdid;
  uint32_t vm_network;  ///< string
  uint32_t vrf_ifname;  ///< string
  uint32_t table;
  uint32_t v4_first, v4_count;
  uint32_t v6_first, v6_count;
};
static_assert(sizeof(RouteDomainEntry) == 32);

/// Section `lpm_v4`: per routing domain, ranges covering [0, 2^32) in order;
/// range i spans [start_i, start_{i+1}) and resolves to `route` (kNoIndex = none).
struct LpmV4Range {
  uint32_t start;  ///< host-order address
  uint32_t route;  ///< index into `routes`
};
static_assert(sizeof(LpmV4Range) == 8);

/// Section `lpm_v6`: the same for IPv6; start = (start_hi << 64) | start_lo.
struct LpmV6Range {
  uint64_t start_hi;
  uint64_t start_lo;
  uint32_t route;
  uint32_t reserved;
};
static_assert(sizeof(LpmV6Range) == 24);

/// Section `nat`: NAT duty of this (gateway) host, sorted by VM network name.
struct NatEntry {
  uint32_t vm_network;  ///< string
  uint32_t rdid;
  Ip external_ip;
  uint32_t external_pool;  ///< string
  uint32_t prefix_first, prefix_count;  ///< run of `nat_prefixes`
};
static_assert(sizeof(NatEntry) == 40);

/// Fixed entry size per section type (0 = strings, variable).
constexpr uint32_t EntrySize(SectionType type) {
  switch (type) {
    case SectionType::kStrings: return 1;
    case SectionType::kPorts: return sizeof(PortEntry);
    case SectionType::kSegments: return sizeof(SegmentEntry);
    case SectionType::kPolicies: return sizeof(PolicyEntry);
    case SectionType::kLookupCa: return sizeof(CaSlot);
    case SectionType::kLookupMac: return sizeof(MacSlot);
    case SectionType::kRoutes: return sizeof(RouteEntry);
    case SectionType::kRouteDomains: return sizeof(RouteDomainEntry);
    case SectionType::kLpmV4: return sizeof(LpmV4Range);
    case SectionType::kLpmV6: return sizeof(LpmV6Range);
    case SectionType::kNat: return sizeof(NatEntry);
    case SectionType::kNatPrefixes: return sizeof(Prefix);
  }
  return 0;
}

/// Section name as used in docs, dumps and error messages.
constexpr std::string_view SectionName(uint32_t type) {
  switch (static_cast<SectionType>(type)) {
    case SectionType::kStrings: return "strings";
    case SectionType::kPorts: return "ports";
    case SectionType::kSegments: return "segments";
    case SectionType::kPolicies: return "policies";
    case SectionType::kLookupCa: return "lookup_ca";
    case SectionType::kLookupMac: return "lookup_mac";
    case SectionType::kRoutes: return "routes";
    case SectionType::kRouteDomains: return "route_domains";
    case SectionType::kLpmV4: return "lpm_v4";
    case SectionType::kLpmV6: return "lpm_v6";
    case SectionType::kNat: return "nat";
    case SectionType::kNatPrefixes: return "nat_prefixes";
  }
  return "unknown";
}

constexpr bool IsHashSection(uint32_t type) {
  return type == static_cast<uint32_t>(SectionType::kLookupCa) ||
         type == static_cast<uint32_t>(SectionType::kLookupMac);
}

// ---- hashing (part of the format: the writer places, the reader probes) ----

/// One mixing round: h = (h ^ k) * M; h ^= h >> 32.
constexpr uint64_t HashRound(uint64_t h, uint64_t k) {
  h = (h ^ k) * 0xff51afd7ed558ccdull;
  return h ^ (h >> 32);
}
/// murmur3's 64-bit finalizer.
constexpr uint64_t HashFinish(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}
inline constexpr uint64_t kHashSeed = 0x9e3779b97f4a7c15ull;

inline uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

/// Hash of a (vsid, CA) key: rounds over vsid | family << 32, CA bytes 0–7, 8–15 (LE words).
inline uint64_t HashCa(uint32_t vsid, uint8_t family, const uint8_t ca[16]) {
  uint64_t h = HashRound(kHashSeed, uint64_t(vsid) | uint64_t(family) << 32);
  h = HashRound(h, LoadLe64(ca));
  h = HashRound(h, LoadLe64(ca + 8));
  return HashFinish(h);
}

/// Hash of a (vsid, MAC) key: rounds over vsid, then the MAC as a 48-bit big-endian value.
inline uint64_t HashMac(uint32_t vsid, const uint8_t mac[6]) {
  uint64_t m = 0;
  for (int i = 0; i < 6; ++i) m = m << 8 | mac[i];
  return HashFinish(HashRound(HashRound(kHashSeed, vsid), m));
}

// ---- CRC32C (Castagnoli, reflected 0x82F63B78): SSE4.2 or slice-by-8, std only ----

/// CRC32C of `size` bytes, continuing from `crc` (start with 0).
uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);
/// The same with the tables only (what Crc32c does on a CPU without SSE4.2).
uint32_t Crc32cPortable(const void* data, size_t size, uint32_t crc = 0);
/// CRC32C of A followed by B from crc1 = CRC32C(A), crc2 = CRC32C(B) and B's length.
uint32_t Crc32cCombine(uint32_t crc1, uint32_t crc2, uint64_t len2);

}  // namespace netdsl::ndt
