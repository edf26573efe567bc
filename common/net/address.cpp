// Parsing and formatting of the network value types in address.h.
#include "common/net/address.h"

#include <cstdio>
#include <numeric>

namespace netdsl::net {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<uint32_t> ParseV4(std::string_view s) {
  uint32_t value = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return std::nullopt;
    unsigned octet = 0;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      octet = octet * 10 + unsigned(s[i] - '0');
      if (octet > 255 || i - start >= 3) return std::nullopt;
      ++i;
    }
    value = (value << 8) | octet;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != s.size()) return std::nullopt;
  return value;
}

}  // namespace

IpAddress IpAddress::V4(uint32_t v) {
  IpAddress a;
  a.family = Family::V4;
  a.bytes[12] = uint8_t(v >> 24);
  a.bytes[13] = uint8_t(v >> 16);
  a.bytes[14] = uint8_t(v >> 8);
  a.bytes[15] = uint8_t(v);
  return a;
}

uint32_t IpAddress::V4Value() const {
  return (uint32_t(bytes[12]) << 24) | (uint32_t(bytes[13]) << 16) | (uint32_t(bytes[14]) << 8) |
         uint32_t(bytes[15]);
}

IpAddress IpAddress::Plus(uint64_t n) const {
  IpAddress r = *this;
  unsigned first = IsV4() ? 12 : 0;
  unsigned carry = 0;
  for (int i = 15; i >= int(first); --i) {
    unsigned sum = unsigned(r.bytes[i]) + unsigned(n & 0xff) + carry;
    r.bytes[i] = uint8_t(sum);
    carry = sum >> 8;
    n >>= 8;
  }
  return r;
}

std::string IpAddress::ToString() const {
  char buf[64];
  if (IsV4()) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
    return buf;
  }
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  bool mapped = bytes[10] == 0xff && bytes[11] == 0xff;
  for (int i = 0; i < 10 && mapped; ++i) mapped = bytes[i] == 0;
  if (mapped) {
    std::snprintf(buf, sizeof buf, "::ffff:%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
    return buf;
  }
  uint16_t w[8];
  for (int i = 0; i < 8; ++i) w[i] = uint16_t(bytes[2 * i] << 8 | bytes[2 * i + 1]);
  // RFC 5952: compress the longest run (>= 2) of zero groups, leftmost on ties.
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (w[i] != 0) { ++i; continue; }
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) { best = i; best_len = j - i; }
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", w[i]);
    out += buf;
  }
  return out;
}

std::optional<IpAddress> ParseIp(std::string_view s) {
  if (s.find(':') == std::string_view::npos) {
    auto v = ParseV4(s);
    if (!v) return std::nullopt;
    return IpAddress::V4(*v);
  }
  // IPv6: up to 8 groups, one optional "::", optional trailing dotted quad.
  IpAddress a;
  a.family = IpAddress::Family::V6;
  uint16_t head[8], tail[8];
  int nhead = 0, ntail = 0;
  bool compressed = false;
  size_t i = 0;
  if (s.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return std::nullopt;
  }
  auto push = [&](uint16_t g) -> bool {
    if (nhead + ntail >= 8) return false;
    if (compressed) tail[ntail++] = g; else head[nhead++] = g;
    return true;
  };
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] != ':') ++j;
    std::string_view group = s.substr(i, j - i);
    if (group.find('.') != std::string_view::npos) {
      if (j != s.size()) return std::nullopt;
      auto v4 = ParseV4(group);
      if (!v4) return std::nullopt;
      if (!push(uint16_t(*v4 >> 16)) || !push(uint16_t(*v4))) return std::nullopt;
      i = j;
      break;
    }
    if (group.empty() || group.size() > 4) return std::nullopt;
    unsigned g = 0;
    for (char c : group) {
      int d = HexDigit(c);
      if (d < 0) return std::nullopt;
      g = g * 16 + unsigned(d);
    }
    if (!push(uint16_t(g))) return std::nullopt;
    if (j == s.size()) { i = j; break; }
    // s[j] == ':'
    if (j + 1 < s.size() && s[j + 1] == ':') {
      if (compressed) return std::nullopt;
      compressed = true;
      i = j + 2;
      if (i == s.size()) break;
    } else {
      i = j + 1;
      if (i == s.size()) return std::nullopt;
    }
  }
  int total = nhead + ntail;
  if (compressed ? total > 7 : total != 8) return std::nullopt;
  uint16_t w[8] = {};
  for (int k = 0; k < nhead; ++k) w[k] = head[k];
  for (int k = 0; k < ntail; ++k) w[8 - ntail + k] = tail[k];
  for (int k = 0; k < 8; ++k) {
    a.bytes[2 * k] = uint8_t(w[k] >> 8);
    a.bytes[2 * k + 1] = uint8_t(w[k]);
  }
  return a;
}

bool Prefix::Contains(const IpAddress& a) const {
  if (a.family != address.family) return false;
  unsigned first = address.IsV4() ? 12 : 0;
  unsigned bits = length;
  for (unsigned i = first; i < 16 && bits > 0; ++i) {
    unsigned take = bits >= 8 ? 8 : bits;
    uint8_t mask = uint8_t(0xff << (8 - take));
    if ((a.bytes[i] & mask) != (address.bytes[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

Prefix Prefix::Canonical() const {
  Prefix p = *this;
  unsigned first = address.IsV4() ? 12 : 0;
  unsigned bits = length;
  for (unsigned i = first; i < 16; ++i) {
    unsigned take = bits >= 8 ? 8 : bits;
    p.address.bytes[i] &= uint8_t(take == 0 ? 0 : 0xff << (8 - take));
    bits -= take;
  }
  return p;
}

bool Prefix::IsCanonical() const { return Canonical().address == address; }

IpAddress Prefix::Last() const {
  IpAddress a = Canonical().address;
  unsigned first = address.IsV4() ? 12 : 0;
  unsigned bits = length;
  for (unsigned i = first; i < 16; ++i) {
    unsigned take = bits >= 8 ? 8 : bits;
    a.bytes[i] |= uint8_t(~(take == 0 ? 0 : 0xff << (8 - take)));
    bits -= take;
  }
  return a;
}

std::string Prefix::ToString() const { return address.ToString() + "/" + std::to_string(length); }

std::optional<Prefix> ParsePrefix(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto a = ParseIp(s.substr(0, slash));
  if (!a) return std::nullopt;
  std::string_view len = s.substr(slash + 1);
  if (len.empty() || len.size() > 3) return std::nullopt;
  unsigned n = 0;
  for (char c : len) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + unsigned(c - '0');
  }
  if (n > a->Bits()) return std::nullopt;
  return Prefix{*a, uint8_t(n)};
}

uint64_t RangeSize(const IpAddress& lo, const IpAddress& hi) {
  if (lo.family != hi.family || hi < lo) return 0;
  // Difference as 128-bit, saturating.
  unsigned __int128 a = 0, b = 0;
  for (int i = 0; i < 16; ++i) {
    a = (a << 8) | lo.bytes[i];
    b = (b << 8) | hi.bytes[i];
  }
  unsigned __int128 d = b - a;
  if (d >= (unsigned __int128)UINT64_MAX) return UINT64_MAX;
  return uint64_t(d) + 1;
}

uint64_t MacAddress::Value() const {
  uint64_t v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  return v;
}

MacAddress MacAddress::FromValue(uint64_t v) {
  MacAddress m;
  for (int i = 5; i >= 0; --i) {
    m.bytes[i] = uint8_t(v);
    v >>= 8;
  }
  return m;
}

std::string MacAddress::ToString() const {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

std::string MacAddress::ToWindowsString() const {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02X-%02X-%02X-%02X-%02X-%02X", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

std::optional<MacAddress> ParseMac(std::string_view s) {
  if (s.size() != 17) return std::nullopt;
  char sep = s[2];
  if (sep != ':' && sep != '-') return std::nullopt;
  MacAddress m;
  for (int i = 0; i < 6; ++i) {
    int hi = HexDigit(s[3 * i]), lo = HexDigit(s[3 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i < 5 && s[3 * i + 2] != sep) return std::nullopt;
    m.bytes[i] = uint8_t(hi << 4 | lo);
  }
  return m;
}

std::optional<BitsPerSecond> ParseBandwidth(std::string_view s) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (n > UINT64_MAX / 10) return std::nullopt;
    n = n * 10 + uint64_t(s[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  // An optional fraction (`1.5Gbps`), exact in bits per second.
  uint64_t fraction = 0, scale = 1;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (scale >= 1000000000000000000ull) return std::nullopt;  // more digits than any unit resolves
      fraction = fraction * 10 + uint64_t(s[i] - '0');
      scale *= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  std::string_view unit = s.substr(i);
  uint64_t mult;
  if (unit == "bps") mult = 1;
  else if (unit == "kbps") mult = 1000;
  else if (unit == "Mbps") mult = 1000000;
  else if (unit == "Gbps") mult = 1000000000;
  else if (unit == "Tbps") mult = 1000000000000ull;
  else return std::nullopt;
  if (n != 0 && mult > UINT64_MAX / n) return std::nullopt;
  uint64_t bps = n * mult;
  if (fraction != 0) {
    // fraction / scale of one unit must be a whole number of bits per second.
    uint64_t g = std::gcd(mult, scale);
    if (fraction % (scale / g) != 0) return std::nullopt;
    uint64_t extra = fraction / (scale / g) * (mult / g);
    if (extra > UINT64_MAX - bps) return std::nullopt;
    bps += extra;
  }
  return bps;
}

std::string FormatBandwidth(BitsPerSecond bps) {
  static const struct { uint64_t mult; const char* unit; } units[] = {
      {1000000000000ull, "Tbps"}, {1000000000, "Gbps"}, {1000000, "Mbps"}, {1000, "kbps"}};
  for (auto& u : units)
    if (bps != 0 && bps % u.mult == 0) return std::to_string(bps / u.mult) + u.unit;
  return std::to_string(bps) + "bps";
}

}  // namespace netdsl::net
