// Allocation-free text for both Linux emitters: numbers, MACs, addresses and
// prefixes appended to one output string, the same text as net::*::ToString.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <type_traits>

#include "common/net/address.h"

namespace netdsl::backends::linux_backend {

/// Decimal (or, with `base` 16, lowercase hex) text of an integer.
template <typename Int>
void AppendInt(std::string& out, Int value, int base = 10) {
  static_assert(std::is_integral_v<Int> && !std::is_same_v<Int, bool>);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, base);
  out.append(buf, end);
}

/// `00:1d:d8:b7:1c:00`, as MacAddress::ToString.
void AppendMac(std::string& out, const net::MacAddress& mac);
/// Dotted quad or RFC 5952 IPv6, as IpAddress::ToString.
void AppendIp(std::string& out, const net::IpAddress& ip);
/// `address/length`, as Prefix::ToString.
void AppendPrefix(std::string& out, const net::Prefix& prefix);

}  // namespace netdsl::backends::linux_backend
