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

/// The identity of VM `vm`'s NIC `nic` on its port (linux.yaml
/// `links[].identity`, recorded by the runtime in the port's ownership
/// marker): `vm VM/NIC` as netdsl.lock keys it (fabric::VmNicIdentity), with
/// C0 and C1 controls, DEL and `%` as `%XX` (C1 as the %XX of both UTF-8
/// bytes), and anything longer than 256 bytes cut to 240 bytes (never inside
/// a `%XX` or a UTF-8 sequence) + `~` + 12 hex digits of the whole
/// identity's sha256. Deterministic; distinct NICs get distinct identities
/// unless sha256 collides on 48 bits.
std::string PortIdentity(std::string_view vm, std::string_view nic);

/// `digits` lowercase hex digits of FNV-1a 32 over `text`: stable derived-name suffixes.
std::string ShortHash(std::string_view text, int digits);

}  // namespace netdsl::backends::linux_backend
