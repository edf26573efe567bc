// A verified, read-only `.ndt` table image (docs/table-image.md) and the
// lookups a virtual switch makes on it, answered in place without copying.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/ndt/format.h"

namespace netdsl::runtime::tables {

/// How much to check when opening an image.
enum class Verify {
  /// Everything: header, directory, bounds, checksums, every entry and index (the default).
  kFull,
  /// Header, directory and section bounds only; trusts the entries (benchmarks, trusted images).
  kStructure,
};

/// A (vsid, CA) key for batched lookups.
struct CaKey {
  uint32_t vsid = 0;
  uint8_t family = ndt::kFamilyV4;
  uint8_t bytes[16] = {};
};

/// The largest image Open maps (a regular file only: a FIFO or a device is refused).
inline constexpr uint64_t kMaxImageBytes = 4ull << 30;

/// A mapped or owned image. Immutable; share it through std::shared_ptr.
class Image {
 public:
  ~Image();
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;

  /// Maps `path` read-only and verifies it. On failure returns null and sets `error`
  /// to a message naming the broken field (`section \`ports\` offset 0x40 ...`).
  static std::shared_ptr<const Image> Open(const std::string& path, std::string* error,
                                           Verify verify = Verify::kFull);
  /// Copies `bytes` into an aligned buffer and verifies it (tests, fuzzing).
  static std::shared_ptr<const Image> FromBytes(std::string_view bytes, std::string* error,
                                                Verify verify = Verify::kFull);

  const ndt::Header& header() const { return *header_; }
  uint64_t generation() const { return header_->generation; }
  std::string_view host() const { return String(header_->host_name); }
  /// Lowercase hex of the 32-byte source hash.
  std::string SourceHashHex() const;
  std::span<const ndt::SectionEntry> directory() const { return directory_; }
  std::span<const unsigned char> bytes() const { return {base_, size_}; }

  /// NUL-terminated string at `offset` of the string table ("" when out of range).
  std::string_view String(uint32_t offset) const;

  std::span<const ndt::PortEntry> ports() const { return ports_; }
  std::span<const ndt::SegmentEntry> segments() const { return segments_; }
  std::span<const ndt::PolicyEntry> policies() const { return policies_; }
  std::span<const ndt::CaSlot> ca_slots() const { return ca_slots_; }
  std::span<const ndt::MacSlot> mac_slots() const { return mac_slots_; }
  std::span<const ndt::RouteEntry> routes() const { return routes_; }
  std::span<const ndt::RouteDomainEntry> route_domains() const { return route_domains_; }
  std::span<const ndt::LpmV4Range> lpm_v4() const { return lpm_v4_; }
  std::span<const ndt::LpmV6Range> lpm_v6() const { return lpm_v6_; }
  std::span<const ndt::NatEntry> nat() const { return nat_; }
  std::span<const ndt::Prefix> nat_prefixes() const { return nat_prefixes_; }

  /// Port by id (binary search), or null.
  const ndt::PortEntry* FindPort(uint32_t id) const;
  /// Segment (VSID → RDID, prefix, isolation) by VSID, or null.
  const ndt::SegmentEntry* FindSegment(uint32_t vsid) const;
  /// Routing domain by RDID, or null.
  const ndt::RouteDomainEntry* FindRouteDomain(uint32_t rdid) const;
  /// (VSID, CA) → lookup record, or null. `family` is ndt::kFamilyV4/V6, v4 in bytes[12..16).
  const ndt::CaSlot* LookupCa(uint32_t vsid, uint8_t family, const uint8_t ca[16]) const;
  /// Looks up `n` keys, prefetching ahead; out[i] is the record or null.
  void LookupCaBatch(const CaKey* keys, size_t n, const ndt::CaSlot** out) const;
  /// (VSID, MAC) → record, or null.
  const ndt::MacSlot* LookupMac(uint32_t vsid, const uint8_t mac[6]) const;
  void LookupMacBatch(const uint32_t* vsids, const uint8_t (*macs)[6], size_t n,
                      const ndt::MacSlot** out) const;
  /// Longest-prefix customer route for `addr` in routing domain `rdid`, or null.
  const ndt::RouteEntry* LookupRoute(uint32_t rdid, uint8_t family, const uint8_t addr[16]) const;
  /// Port policy by index, or null for kNoIndex.
  const ndt::PolicyEntry* Policy(uint32_t index) const;
  /// NAT duty for a routing domain, or null.
  const ndt::NatEntry* FindNat(uint32_t rdid) const;
  std::span<const ndt::Prefix> NatInside(const ndt::NatEntry& nat) const;

 private:
  Image() = default;
  static std::shared_ptr<const Image> Adopt(std::unique_ptr<Image> image, std::string* error,
                                            Verify verify);
  bool Check(std::string* error, Verify verify);
  bool CheckEntries(std::string* error) const;

  const unsigned char* base_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;  // munmap on destruction
  size_t mapping_size_ = 0;
  std::unique_ptr<unsigned char[], void (*)(unsigned char*)> owned_{nullptr, nullptr};

  const ndt::Header* header_ = nullptr;
  std::span<const ndt::SectionEntry> directory_;
  std::string_view strings_;
  std::span<const ndt::PortEntry> ports_;
  std::span<const ndt::SegmentEntry> segments_;
  std::span<const ndt::PolicyEntry> policies_;
  std::span<const ndt::CaSlot> ca_slots_;
  std::span<const ndt::MacSlot> mac_slots_;
  std::span<const ndt::RouteEntry> routes_;
  std::span<const ndt::RouteDomainEntry> route_domains_;
  std::span<const ndt::LpmV4Range> lpm_v4_;
  std::span<const ndt::LpmV6Range> lpm_v6_;
  std::span<const ndt::NatEntry> nat_;
  std::span<const ndt::Prefix> nat_prefixes_;
};

}  // namespace netdsl::runtime::tables
