// Network value types shared by the compiler and the runtime: IP addresses,
// prefixes, MAC addresses. Dependency-free (std only) so the runtime can use it.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netdsl::net {

/// An IPv4 or IPv6 address. IPv4 is stored in the last 4 bytes, network order.
struct IpAddress {
  enum class Family : uint8_t { V4 = 4, V6 = 6 };
  Family family = Family::V4;
  std::array<uint8_t, 16> bytes{};

  static IpAddress V4(uint32_t host_order);
  bool IsV4() const { return family == Family::V4; }
  unsigned Bits() const { return IsV4() ? 32 : 128; }
  /// IPv4 value in host byte order (only for IsV4()).
  uint32_t V4Value() const;
  /// Adds `n` (may wrap; check with Compare against a range's end).
  IpAddress Plus(uint64_t n) const;
  /// Canonical text: dotted quad, or RFC 5952 IPv6.
  std::string ToString() const;

  auto operator<=>(const IpAddress&) const = default;
};

/// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (no zone, no prefix).
std::optional<IpAddress> ParseIp(std::string_view text);

/// `addr/len`. Canonical form has host bits zero.
struct Prefix {
  IpAddress address;
  uint8_t length = 0;

  bool Contains(const IpAddress& a) const;
  bool Contains(const Prefix& p) const { return p.length >= length && Contains(p.address); }
  bool Overlaps(const Prefix& p) const { return Contains(p.address) || p.Contains(address); }
  /// True when host bits are zero.
  bool IsCanonical() const;
  Prefix Canonical() const;
  IpAddress First() const { return Canonical().address; }
  IpAddress Last() const;
  std::string ToString() const;

  auto operator<=>(const Prefix&) const = default;
};

std::optional<Prefix> ParsePrefix(std::string_view text);

/// Number of addresses from `lo` to `hi` inclusive, saturating at UINT64_MAX.
uint64_t RangeSize(const IpAddress& lo, const IpAddress& hi);

struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  uint64_t Value() const;
  static MacAddress FromValue(uint64_t v);
  bool IsMulticast() const { return bytes[0] & 1; }
  bool IsZero() const { return Value() == 0; }
  /// Lowercase colon form `00:1d:d8:b7:1c:00`.
  std::string ToString() const;
  /// Uppercase dash form `00-1D-D8-B7-1C-00` (Windows / SCVMM).
  std::string ToWindowsString() const;

  auto operator<=>(const MacAddress&) const = default;
};

/// Accepts `aa:bb:cc:dd:ee:ff` and `aa-bb-cc-dd-ee-ff`, any case.
std::optional<MacAddress> ParseMac(std::string_view text);

/// Bandwidth in bits per second.
using BitsPerSecond = uint64_t;
/// Parses `100Mbps`, `1Gbps`, `1.5Gbps`, `10kbps`, `5bps` (case-sensitive units bps kbps Mbps
/// Gbps Tbps); a fraction must come to a whole number of bits per second.
std::optional<BitsPerSecond> ParseBandwidth(std::string_view text);
/// `1Gbps`, `100Mbps`, ... exact, largest unit that divides.
std::string FormatBandwidth(BitsPerSecond bps);

}  // namespace netdsl::net
