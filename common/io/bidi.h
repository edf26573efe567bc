// Unicode bidirectional controls (U+202A–U+202E, U+2066–U+2069): characters
// that make text display in another order than it is stored ("Trojan Source",
// CVE-2021-42574). The front end refuses them in source files and every
// backend escapes them in what it writes, so a reviewer never reads one thing
// while another runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace netdsl::io {

/// LRE, RLE, PDF, LRO, RLO (U+202A–U+202E) and LRI, RLI, FSI, PDI (U+2066–U+2069).
constexpr bool IsBidiControl(uint32_t code_point) {
  return (code_point >= 0x202A && code_point <= 0x202E) || (code_point >= 0x2066 && code_point <= 0x2069);
}

/// The bidi control whose UTF-8 encoding (3 bytes: E2 80 AA–AE, E2 81 A6–A9)
/// starts at `text[i]`, or 0.
constexpr uint32_t BidiControlAt(std::string_view text, size_t i) {
  if (i + 2 >= text.size() || static_cast<unsigned char>(text[i]) != 0xE2) return 0;
  const unsigned char b1 = static_cast<unsigned char>(text[i + 1]);
  const unsigned char b2 = static_cast<unsigned char>(text[i + 2]);
  if (b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE) return 0x2000u + (b2 - 0x80u);
  if (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9) return 0x2040u + (b2 - 0x80u);
  return 0;
}

/// Byte offset of the first bidi control in `text`, or npos.
constexpr size_t FindBidiControl(std::string_view text, size_t from = 0) {
  for (size_t i = text.find('\xE2', from); i != std::string_view::npos; i = text.find('\xE2', i + 1))
    if (BidiControlAt(text, i)) return i;
  return std::string_view::npos;
}

/// The control's Unicode name, for messages (`RIGHT-TO-LEFT OVERRIDE`).
constexpr std::string_view BidiControlName(uint32_t code_point) {
  switch (code_point) {
    case 0x202A: return "LEFT-TO-RIGHT EMBEDDING";
    case 0x202B: return "RIGHT-TO-LEFT EMBEDDING";
    case 0x202C: return "POP DIRECTIONAL FORMATTING";
    case 0x202D: return "LEFT-TO-RIGHT OVERRIDE";
    case 0x202E: return "RIGHT-TO-LEFT OVERRIDE";
    case 0x2066: return "LEFT-TO-RIGHT ISOLATE";
    case 0x2067: return "RIGHT-TO-LEFT ISOLATE";
    case 0x2068: return "FIRST STRONG ISOLATE";
    case 0x2069: return "POP DIRECTIONAL ISOLATE";
    default: return "";
  }
}

}  // namespace netdsl::io
