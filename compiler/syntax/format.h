// `netdslc fmt`: the canonical layout of a .netdsl file (2-space indent, one
// property or block header per line, canonical spacing, comments kept in
// place, at most one blank line between statements). Idempotent.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace netdsl {

/// Formats `text`, which must parse without errors; the result ends lines
/// with LF whatever `text` used (CRLF, CR). Returns std::nullopt only
/// if the formatted tokens would differ from the input's (a bug; the caller
/// must then leave the file alone).
std::optional<std::string> FormatSource(std::string_view text);

}  // namespace netdsl
