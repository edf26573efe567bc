// Stack-buffer text of numbers, MACs and addresses (IPv6 goes through ToString).
#include "backends/linux/short_text.h"

#include <cstring>
#include <string>

namespace netdsl::backends::linux_backend {

namespace {

void Append(ShortText& text, size_t& size, std::string_view part) {
  std::memcpy(text.Data() + size, part.data(), part.size());
  size += part.size();
}

}  // namespace

ShortText Hex(uint32_t value) {
  ShortText text;
  auto [end, ec] = std::to_chars(text.Data(), text.Data() + ShortText::kCapacity, value, 16);
  text.SetSize(static_cast<size_t>(end - text.Data()));
  return text;
}

ShortText MacText(const net::MacAddress& mac) {
  static constexpr char kHex[] = "0123456789abcdef";
  ShortText text;
  char* p = text.Data();
  for (int i = 0; i < 6; ++i) {
    if (i > 0) *p++ = ':';
    *p++ = kHex[mac.bytes[i] >> 4];
    *p++ = kHex[mac.bytes[i] & 0xF];
  }
  text.SetSize(17);
  return text;
}

ShortText IpText(const net::IpAddress& ip) {
  ShortText text;
  size_t size = 0;
  if (ip.IsV4()) {
    for (int i = 12; i < 16; ++i) {
      if (i > 12) Append(text, size, ".");
      Append(text, size, Dec(static_cast<unsigned>(ip.bytes[i])));
    }
  } else {
    Append(text, size, ip.ToString());  // at most 45 bytes
  }
  text.SetSize(size);
  return text;
}

ShortText PrefixText(const net::Prefix& prefix) {
  ShortText text = IpText(prefix.address);
  size_t size = text.View().size();
  Append(text, size, "/");
  Append(text, size, Dec(static_cast<unsigned>(prefix.length)));
  text.SetSize(size);
  return text;
}

}  // namespace netdsl::backends::linux_backend
