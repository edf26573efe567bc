// Object names as the source spells them, for text every stage shares: lock
// keys (netdsl.lock) and port identities (linux.yaml). Header-only, std only.
#pragma once

#include <string>
#include <string_view>

namespace netdsl::fabric {

/// An identifier of the language: `[A-Za-z_][A-Za-z0-9_.-]*`.
inline bool IsIdentifier(std::string_view s) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || !alpha(s[0])) return false;
  for (char c : s)
    if (!(alpha(c) || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  return true;
}

/// Spells an object name as in the source: bare when it is an identifier,
/// otherwise double-quoted with `"` and `\` escaped.
inline std::string QuoteName(std::string_view name) {
  if (IsIdentifier(name)) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

/// The identity of a VM NIC: `vm VM/NIC`, its key in netdsl.lock. linux.yaml
/// records it on the NIC's port so that a port reused by another NIC is
/// recreated, never moved (docs/lock.md).
inline std::string VmNicIdentity(std::string_view vm, std::string_view nic) {
  return "vm " + QuoteName(vm) + "/" + QuoteName(nic);
}

}  // namespace netdsl::fabric
