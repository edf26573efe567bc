// Numbers, MACs and addresses as text in a stack buffer, for both Linux
// emitters: appended to the output without a heap string per value. The text
// is the same as std::to_string and net::*::ToString give.
#pragma once

#include <charconv>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "common/net/address.h"

namespace netdsl::backends::linux_backend {

/// A short text value (at most 63 bytes: an IPv6 prefix is 49).
class ShortText {
 public:
  operator std::string_view() const { return {buf_, size_}; }
  std::string_view View() const { return *this; }

  char* Data() { return buf_; }
  static constexpr size_t kCapacity = 64;
  void SetSize(size_t size) { size_ = size; }

 private:
  char buf_[kCapacity];
  size_t size_ = 0;
};

/// Decimal text of an integer.
template <typename Int>
ShortText Dec(Int value) {
  static_assert(std::is_integral_v<Int> && !std::is_same_v<Int, bool>);
  ShortText text;
  auto [end, ec] = std::to_chars(text.Data(), text.Data() + ShortText::kCapacity, value);
  text.SetSize(static_cast<size_t>(end - text.Data()));
  return text;
}

/// Lowercase hex text, without a prefix.
ShortText Hex(uint32_t value);
/// `00:1d:d8:b7:1c:00`, as MacAddress::ToString.
ShortText MacText(const net::MacAddress& mac);
/// Dotted quad or RFC 5952 IPv6, as IpAddress::ToString.
ShortText IpText(const net::IpAddress& ip);
/// `address/length`, as Prefix::ToString.
ShortText PrefixText(const net::Prefix& prefix);

}  // namespace netdsl::backends::linux_backend
