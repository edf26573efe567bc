// Allocation-free text for both Linux emitters (IPv6 falls back to ToString).
#include "backends/linux/append_text.h"

namespace netdsl::backends::linux_backend {

void AppendMac(std::string& out, const net::MacAddress& mac) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[17];
  for (int i = 0; i < 6; ++i) {
    buf[3 * i] = kHex[mac.bytes[i] >> 4];
    buf[3 * i + 1] = kHex[mac.bytes[i] & 0xF];
    if (i < 5) buf[3 * i + 2] = ':';
  }
  out.append(buf, sizeof buf);
}

void AppendIp(std::string& out, const net::IpAddress& ip) {
  if (!ip.IsV4()) {
    out += ip.ToString();
    return;
  }
  for (int i = 12; i < 16; ++i) {
    if (i > 12) out += '.';
    AppendInt(out, static_cast<unsigned>(ip.bytes[i]));
  }
}

void AppendPrefix(std::string& out, const net::Prefix& prefix) {
  AppendIp(out, prefix.address);
  out += '/';
  AppendInt(out, static_cast<unsigned>(prefix.length));
}

}  // namespace netdsl::backends::linux_backend
