// Address text for plan lines and the journal, without snprintf (the diff
// formats 100k of these): MAC, IPv4 fast paths; IPv6 via net::IpAddress.
#pragma once

#include <optional>
#include <string>

#include "common/net/address.h"

namespace netdsl::runtime {

/// `00:1d:d8:b7:1c:05`.
inline std::string MacStr(const net::MacAddress& m) {
  static const char* kHex = "0123456789abcdef";
  std::string s(17, ':');
  for (int i = 0; i < 6; ++i) {
    s[i * 3] = kHex[m.bytes[i] >> 4];
    s[i * 3 + 1] = kHex[m.bytes[i] & 15];
  }
  return s;
}

inline std::string IpStr(const net::IpAddress& a) {
  if (!a.IsV4()) return a.ToString();
  char buf[16];
  char* p = buf;
  for (int i = 12; i < 16; ++i) {
    unsigned v = a.bytes[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    if (i < 15) *p++ = '.';
  }
  return std::string(buf, p);
}

inline std::string PrefixStr(const net::Prefix& p) { return IpStr(p.address) + "/" + std::to_string(p.length); }

inline std::string MacText(const std::optional<net::MacAddress>& m) { return m ? MacStr(*m) : ""; }
inline std::string IpText(const std::optional<net::IpAddress>& a) { return a ? IpStr(*a) : ""; }

}  // namespace netdsl::runtime
