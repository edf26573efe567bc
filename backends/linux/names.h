// Name checks and text escaping for the Linux backend: what may reach an
// iproute2/nft line or a comment, and short stable hashes for derived names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netdsl::backends::linux_backend {

/// Kernel limit on interface names (IFNAMSIZ - 1).
inline constexpr size_t kMaxIfnameBytes = 15;

/// True when `name` can appear unquoted in an ip/bridge/tc/nft command and
/// exists as a Linux interface: 1..15 bytes of [A-Za-z0-9._-], not `.`/`..`,
/// not starting with `-` (it would read as an option).
bool IsSafeIfname(std::string_view name);

/// Why `name` is not a safe ifname ("" when it is), lowercase, for messages.
std::string IfnameProblem(std::string_view name);

/// User text (VM, NIC, host names) made safe for a batch `#` comment, an nft
/// `comment "..."` and a YAML scalar: bytes outside [A-Za-z0-9._-] become
/// `%XX`, so `#`, quotes, `;`, spaces and newlines never survive.
std::string CommentText(std::string_view text);

/// `text` quoted for a diagnostic: printable ASCII kept, others `\xNN`.
std::string QuoteForMessage(std::string_view text);

/// `digits` lowercase hex digits of FNV-1a 32 over `text`: stable derived-name suffixes.
std::string ShortHash(std::string_view text, int digits);

}  // namespace netdsl::backends::linux_backend
