// Text for a terminal: user text (host names, YAML values echoed in errors,
// kernel messages) must not carry escape sequences to the operator's screen.
#pragma once

#include <string>
#include <string_view>

namespace netdsl::io {

/// `text` with every control character written as `\xNN`: C0 (including
/// line breaks: one message is one line), DEL, the C1 controls U+0080..U+009F
/// (CSI is U+009B), and bytes that are not valid UTF-8. Printable text,
/// UTF-8 letters included, is unchanged.
std::string TerminalText(std::string_view text);

}  // namespace netdsl::io
