// YAML scalars for the hand-written linux.yaml writer: the one place that
// decides whether a string may be written plain or must be double-quoted.
#pragma once

#include <string>
#include <string_view>

namespace netdsl::backends::linux_backend {

/// True when `text` written as a plain scalar, in a block or a flow context,
/// reads back as this very string in YAML 1.2 and in YAML 1.1 readers
/// (yaml-cpp, libyaml/PyYAML). Deliberately narrow: non-empty, only bytes of
/// [A-Za-z0-9._/+:-], not starting with `-`, `:`, `.` or `+`, not ending with
/// `:`, and not something a reader resolves to another type — null, a YAML 1.1
/// boolean (`yes`, `off`, `y`, ... in any case), an integer or float in either
/// version (`0x1F`, `0o17`, `017`, `1_000`, `1e3`, `1:20` sexagesimal) or a
/// date (`2024-01-02...`). Interface names, IP addresses and prefixes, and
/// keywords such as `802.3ad` or `layer3+4` stay plain.
bool IsPlainYamlSafe(std::string_view text);

/// Appends `text` as a double-quoted YAML scalar: `\"`, `\\`, `\n` `\t` `\r`
/// `\b` `\f`, other C0 controls, DEL and U+0080..U+00A0 as `\xNN`, U+2028,
/// U+2029, U+FEFF, bidi controls and non-characters as `\uNNNN`/`\UNNNNNNNN`, other valid
/// UTF-8 as is; a byte that is not part of valid UTF-8 becomes U+FFFD (a YAML
/// stream is Unicode text, so such a byte cannot be carried).
void AppendDoubleQuoted(std::string& out, std::string_view text);

/// Appends `text` plain when IsPlainYamlSafe, double-quoted otherwise.
void AppendYamlScalar(std::string& out, std::string_view text);

}  // namespace netdsl::backends::linux_backend
