// Name checks and text escaping for the Linux backend.
#include "backends/linux/names.h"

#include <cstdio>

#include "common/fabric/names.h"
#include "common/io/sha256.h"

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

std::string PortIdentity(std::string_view vm, std::string_view nic) {
  const std::string raw = fabric::VmNicIdentity(vm, nic);
  std::string id;
  id.reserve(raw.size());
  auto hex = [&](unsigned char c) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%%%02X", c);
    id += buf;
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    auto c = static_cast<unsigned char>(raw[i]);
    auto next = i + 1 < raw.size() ? static_cast<unsigned char>(raw[i + 1]) : 0;
    if (c < 0x20 || c == 0x7f || c == '%') {
      hex(c);
    } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {  // U+0080..U+009F (C1)
      hex(c);
      hex(next);
      ++i;
    } else {
      id += static_cast<char>(c);
    }
  }
  constexpr size_t kMax = 256, kKeep = 240;
  if (id.size() <= kMax) return id;
  size_t cut = kKeep;
  for (size_t back = 1; back <= 2 && back <= cut; ++back)  // not inside a %XX
    if (id[cut - back] == '%') cut -= back;
  while (cut > 0 && (static_cast<unsigned char>(id[cut]) & 0xc0) == 0x80) --cut;  // not inside a UTF-8 sequence
  return id.substr(0, cut) + "~" + io::Sha256Hex(id).substr(0, 12);
}

}  // namespace netdsl::backends::linux_backend
