// JSON string literals for the hand-written JSON that compiler and runtime print.
#pragma once

#include <string>
#include <string_view>

namespace netdsl::io {

/// `s` as a quoted JSON string: `"` and `\` escaped, control characters and DEL
/// as \n \t \r or \u00XX; other bytes (UTF-8 included) pass through.
std::string JsonString(std::string_view s);

}  // namespace netdsl::io
