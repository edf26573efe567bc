// Name checks and text escaping for the Linux backend.
#include "backends/linux/names.h"

#include <cstdio>

namespace netdsl::backends::linux_backend {

namespace {
bool IsNameByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}
}  // namespace

std::string IfnameProblem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxIfnameBytes)
    return "is " + std::to_string(name.size()) + " bytes long, more than the kernel's " +
           std::to_string(kMaxIfnameBytes);
  if (name == "." || name == "..") return "is a path component";
  if (name.front() == '-') return "starts with `-`";
  for (unsigned char c : name)
    if (!IsNameByte(c)) return "contains a byte outside [A-Za-z0-9._-]";
  return "";
}

bool IsSafeIfname(std::string_view name) { return IfnameProblem(name).empty(); }

std::string CommentText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (IsNameByte(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      const char escape[3] = {'%', kHex[c >> 4], kHex[c & 0xF]};
      out.append(escape, sizeof escape);
    }
  }
  return out;
}

std::string QuoteForMessage(std::string_view text) {
  std::string out = "`";
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f && c != '`' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "`";
}

std::string ShortHash(std::string_view text, int digits) {
  uint32_t h = 2166136261u;
  for (unsigned char c : text) {
    h ^= c;
    h *= 16777619u;
  }
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", h);
  return std::string(buf + 8 - digits, buf + 8);
}

}  // namespace netdsl::backends::linux_backend
