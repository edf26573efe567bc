// Literal classification: integers, addresses, prefixes, MACs, bandwidths, strings.
#include "compiler/syntax/literals.h"

#include <algorithm>
#include <vector>

#include "compiler/diag/did_you_mean.h"

namespace netdsl::syntax {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string Quote(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q += '`';
  q += s;
  q += '`';
  return q;
}

/// Explains why `text` (no colon) is not an IPv4 address.
LiteralError ExplainBadIpv4(std::string_view text, size_t base) {
  std::vector<std::pair<size_t, size_t>> parts;  // [begin, end)
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      parts.push_back({start, i});
      start = i + 1;
    }
  }
  for (auto [b, e] : parts) {
    std::string_view part = text.substr(b, e - b);
    if (part.empty()) break;
    if (!std::all_of(part.begin(), part.end(), IsDigit))
      return {DiagKind::MalformedAddress,
              "invalid IPv4 address " + Quote(text) + ": " + Quote(part) + " is not a decimal number", base + b,
              base + e};
    auto v = ParseDecimal(part);
    if (!v || *v > 255)
      return {DiagKind::MalformedAddress,
              "invalid IPv4 address " + Quote(text) + ": " + Quote(part) + " is out of range for an octet (0-255)",
              base + b, base + e};
  }
  if (parts.size() != 4)
    return {DiagKind::MalformedAddress,
            "invalid IPv4 address " + Quote(text) + ": expected 4 dot-separated octets, found " +
                std::to_string(parts.size()),
            base, base + text.size()};
  return {DiagKind::MalformedAddress, "invalid IPv4 address " + Quote(text), base, base + text.size()};
}

/// Shared by both prefix families: `addr/len` at token offset 0.
std::optional<LiteralError> ClassifyPrefix(std::string_view text, ast::Value& out) {
  size_t slash = text.find('/');
  std::string_view addr = text.substr(0, slash), len = text.substr(slash + 1);
  auto ip = net::ParseIp(addr);
  if (!ip) {
    if (addr.find(':') == std::string_view::npos) {
      LiteralError e = ExplainBadIpv4(addr, 0);
      std::string inner = "invalid IPv4 address " + Quote(addr);
      if (e.message.compare(0, inner.size(), inner) == 0) e.message.erase(0, inner.size() + 2);
      e.message = "invalid prefix " + Quote(text) + (e.message.empty() ? "" : ": " + e.message);
      return e;
    }
    return LiteralError{DiagKind::MalformedAddress,
                        "invalid prefix " + Quote(text) + ": " + Quote(addr) + " is not an IPv6 address", 0,
                        addr.size()};
  }
  if (len.empty() || !std::all_of(len.begin(), len.end(), IsDigit))
    return LiteralError{DiagKind::MalformedPrefix,
                        "invalid prefix " + Quote(text) + ": the length after `/` must be a decimal number",
                        slash + 1, text.size()};
  auto n = ParseDecimal(len);
  if (!n || *n > ip->Bits())
    return LiteralError{DiagKind::MalformedPrefix,
                        "invalid prefix " + Quote(text) + ": length " + std::string(len) + " is too long for an " +
                            (ip->IsV4() ? "IPv4 address (at most 32)" : "IPv6 address (at most 128)"),
                        slash + 1, text.size()};
  auto p = net::ParsePrefix(text);
  if (!p) return LiteralError{DiagKind::MalformedPrefix, "invalid prefix " + Quote(text), 0, text.size()};
  out.kind = ast::Value::Kind::Prefix;
  out.prefix = *p;
  return std::nullopt;
}

/// `1.5Gbps`: digits, one `.`, digits, then letters — a bandwidth with a
/// fraction, which must not be read (and reported) as an IPv4 address.
bool IsFractionalBandwidth(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && IsDigit(text[i])) ++i;
  if (i == 0 || i == text.size() || text[i] != '.') return false;
  size_t start = ++i;
  while (i < text.size() && IsDigit(text[i])) ++i;
  if (i == start || i == text.size()) return false;
  for (size_t j = i; j < text.size(); ++j)
    if (!((text[j] >= 'a' && text[j] <= 'z') || (text[j] >= 'A' && text[j] <= 'Z'))) return false;
  return true;
}

}  // namespace

std::optional<uint64_t> ParseDecimal(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  uint64_t n = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return std::nullopt;
    uint64_t d = uint64_t(c - '0');
    if (n > (UINT64_MAX - d) / 10) return std::nullopt;
    n = n * 10 + d;
  }
  return n;
}

std::optional<LiteralError> ClassifyNumber(std::string_view text, ast::Value& out) {
  if (text.find('/') != std::string_view::npos) {
    if (text.find('/') != text.rfind('/'))
      return LiteralError{DiagKind::MalformedPrefix, "invalid prefix " + Quote(text) + ": more than one `/`", 0,
                          text.size()};
    return ClassifyPrefix(text, out);
  }
  if (text.find('.') != std::string_view::npos && !IsFractionalBandwidth(text)) {
    auto ip = net::ParseIp(text);
    if (!ip) return ExplainBadIpv4(text, 0);
    out.kind = ast::Value::Kind::Address;
    out.address = *ip;
    return std::nullopt;
  }
  size_t digits = 0;
  while (digits < text.size() && IsDigit(text[digits])) ++digits;
  if (digits < text.size() && text[digits] == '.') {  // `1.5Gbps`
    ++digits;
    while (digits < text.size() && IsDigit(text[digits])) ++digits;
  }
  if (digits == text.size()) {
    auto n = ParseDecimal(text);
    if (!n)
      return LiteralError{DiagKind::IntegerOverflow,
                          "integer " + Quote(text) + " does not fit in 64 bits (at most 18446744073709551615)", 0,
                          text.size()};
    out.kind = ast::Value::Kind::Integer;
    out.integer = *n;
    return std::nullopt;
  }
  std::string_view unit = text.substr(digits);
  static const std::vector<std::string_view> kUnits = {"bps", "kbps", "Mbps", "Gbps", "Tbps"};
  if (std::find(kUnits.begin(), kUnits.end(), unit) == kUnits.end()) {
    std::string msg = "unknown bandwidth unit " + Quote(unit) + " in " + Quote(text);
    if (auto s = DidYouMean(unit, kUnits))
      msg += ", did you mean " + Quote(*s) + "?";
    else
      msg += "; units are `bps`, `kbps`, `Mbps`, `Gbps` and `Tbps`";
    return LiteralError{DiagKind::UnknownBandwidthUnit, msg, digits, text.size()};
  }
  std::string_view number = text.substr(0, digits);
  bool fractional = number.find('.') != std::string_view::npos;
  auto n = ParseDecimal(number.substr(0, number.find('.')));
  auto bps = n ? net::ParseBandwidth(text) : std::nullopt;
  if (!bps && fractional && n && net::ParseBandwidth(std::string(number.substr(0, number.find('.'))) + std::string(unit)))
    return LiteralError{DiagKind::IntegerOverflow,
                        "bandwidth " + Quote(text) + " is not a whole number of bits per second", 0, text.size()};
  if (!bps)
    return LiteralError{DiagKind::IntegerOverflow,
                        "bandwidth " + Quote(text) + " does not fit in 64 bits of bits per second", 0, text.size()};
  out.kind = ast::Value::Kind::Bandwidth;
  out.integer = *bps;
  return std::nullopt;
}

std::optional<LiteralError> ClassifyColonWord(std::string_view text, ast::Value& out) {
  if (text.find('/') != std::string_view::npos) {
    if (text.find('/') != text.rfind('/'))
      return LiteralError{DiagKind::MalformedPrefix, "invalid prefix " + Quote(text) + ": more than one `/`", 0,
                          text.size()};
    return ClassifyPrefix(text, out);
  }
  bool compressed = text.find("::") != std::string_view::npos;
  size_t colons = size_t(std::count(text.begin(), text.end(), ':'));
  if (!compressed && colons == 5 && text.find('.') == std::string_view::npos) {
    auto mac = net::ParseMac(text);
    if (!mac) {
      // Point at the first group that is not two hex digits.
      size_t b = 0;
      for (int g = 0; g < 6; ++g) {
        size_t e = text.find(':', b);
        if (e == std::string_view::npos) e = text.size();
        std::string_view group = text.substr(b, e - b);
        if (group.size() != 2 || !IsHex(group[0]) || !IsHex(group[1]))
          return LiteralError{DiagKind::MalformedMac,
                              "invalid MAC address " + Quote(text) + ": group " + Quote(group) +
                                  " is not two hexadecimal digits",
                              b, e};
        b = e + 1;
      }
      return LiteralError{DiagKind::MalformedMac, "invalid MAC address " + Quote(text), 0, text.size()};
    }
    out.kind = ast::Value::Kind::Mac;
    out.mac = *mac;
    return std::nullopt;
  }
  auto ip = net::ParseIp(text);
  if (!ip || ip->IsV4()) {
    std::string why;
    if (std::count(text.begin(), text.end(), ':') && text.find("::") != text.rfind("::"))
      why = ": `::` may appear only once";
    else if (!compressed && colons != 7 && text.find('.') == std::string_view::npos)
      why = ": expected 8 colon-separated groups or `::`, found " + std::to_string(colons + 1) + " groups";
    return LiteralError{DiagKind::MalformedAddress, "invalid IPv6 address " + Quote(text) + why, 0, text.size()};
  }
  out.kind = ast::Value::Kind::Address;
  out.address = *ip;
  return std::nullopt;
}

std::optional<LiteralError> UnescapeString(std::string_view quoted, std::string& out) {
  out.clear();
  std::optional<LiteralError> error;
  size_t end = quoted.size();
  if (end >= 2 && quoted.back() == '"') {
    // The closing quote, unless it is itself escaped (an unterminated string).
    size_t backslashes = 0;
    for (size_t i = end - 1; i > 1 && quoted[i - 1] == '\\'; --i) ++backslashes;
    if (backslashes % 2 == 0) --end;
  }
  for (size_t i = 1; i < end; ++i) {
    char c = quoted[i];
    if (c != '\\' || i + 1 >= end) {
      out += c;
      continue;
    }
    char n = quoted[i + 1];
    if (n == '"' || n == '\\') {
      out += n;
      ++i;
      continue;
    }
    if (!error) {
      // The escaped character may be a multi-byte UTF-8 sequence.
      size_t len = 1;
      unsigned char u = static_cast<unsigned char>(n);
      if (u >= 0xF0) len = 4;
      else if (u >= 0xE0) len = 3;
      else if (u >= 0xC0) len = 2;
      len = std::min(len, end - (i + 1));
      std::string seq(quoted.substr(i, 1 + len));
      error = LiteralError{DiagKind::InvalidEscape,
                           "unknown escape sequence `" + seq +
                               "` in a string; only `\\\"` and `\\\\` are escapes (write `\\\\` for a backslash)",
                           i, i + 1 + len};
    }
    out += c;
  }
  return error;
}

}  // namespace netdsl::syntax
