// YAML scalars for linux.yaml: the plain-or-quoted decision and the
// double-quoted escaping.
#include "backends/linux/yaml_text.h"

#include <cstdint>

#include "common/io/bidi.h"

namespace netdsl::backends::linux_backend {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsPlainByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '.' || c == '_' || c == '/' ||
         c == '+' || c == ':' || c == '-';
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

/// null and the YAML 1.1 booleans, compared case-insensitively (quoting `tRuE` costs nothing).
bool IsNullOrBoolWord(std::string_view text) {
  static constexpr std::string_view kWords[] = {"null", "y", "n", "yes", "no", "true", "false", "on", "off"};
  for (std::string_view word : kWords) {
    if (word.size() != text.size()) continue;
    bool same = true;
    for (size_t i = 0; i < word.size() && same; ++i) same = Lower(text[i]) == word[i];
    if (same) return true;
  }
  return false;
}

size_t SkipDigits(std::string_view s, size_t i, bool underscores) {
  while (i < s.size() && (IsDigit(s[i]) || (underscores && s[i] == '_'))) ++i;
  return i;
}

/// `[eE][-+]?[0-9]+` exactly from `i` to the end.
bool IsExponentTail(std::string_view s, size_t i) {
  if (i >= s.size() || Lower(s[i]) != 'e') return false;
  ++i;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  return i < s.size() && SkipDigits(s, i, false) == s.size();
}

/// `text` starts with a digit; true when a YAML 1.2 core or YAML 1.1 reader
/// (as libyaml/PyYAML implement it) would resolve it to an int, a float or a
/// timestamp. IPv4 addresses and prefixes (several dots) and `802.3ad` are not.
bool IsNumberOrDate(std::string_view s) {
  if (s.size() >= 2 && s[0] == '0' && (Lower(s[1]) == 'x' || Lower(s[1]) == 'o' || Lower(s[1]) == 'b'))
    return true;  // 0x1F, 0o17, 0b101 (and anything else with such a prefix)
  size_t i = SkipDigits(s, 0, true);
  if (i == s.size()) return true;  // 17, 017, 1_000
  switch (s[i]) {
    case '.': {  // 1.5, 1., 1.5e3
      size_t j = SkipDigits(s, i + 1, true);
      return j == s.size() || IsExponentTail(s, j);
    }
    case 'e':
    case 'E': return IsExponentTail(s, i);  // 1e3
    case ':': {  // sexagesimal 1:20, 1:20:30.5 (YAML 1.1)
      while (i < s.size() && s[i] == ':') {
        size_t j = SkipDigits(s, i + 1, false);
        if (j == i + 1 || j > i + 3 || (j == i + 3 && s[i + 1] > '5')) return false;
        i = j;
      }
      if (i == s.size()) return true;
      return s[i] == '.' && SkipDigits(s, i + 1, true) == s.size();
    }
    case '-': {  // a date, 2024-1-2 and whatever follows it (YAML 1.1 timestamp)
      if (i != 4 || SkipDigits(s, 0, false) != 4) return false;
      size_t month = SkipDigits(s, 5, false);
      if (month == 5 || month > 7 || month >= s.size() || s[month] != '-') return false;
      size_t day = SkipDigits(s, month + 1, false);
      return day > month + 1 && day <= month + 3;
    }
    default: return false;
  }
}

void AppendEscape(std::string& out, uint32_t code_point) {
  static constexpr char kHex[] = "0123456789abcdef";
  int digits = 8;
  out += '\\';
  if (code_point < 0x100) {
    out += 'x';
    digits = 2;
  } else if (code_point < 0x10000) {
    out += 'u';
    digits = 4;
  } else {
    out += 'U';
  }
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += kHex[(code_point >> shift) & 0xF];
}

/// Length of the valid UTF-8 sequence at the start of `s` (shortest form, no
/// surrogates, <= U+10FFFF) and its code point, or 0.
size_t DecodeUtf8(std::string_view s, uint32_t* code_point) {
  auto byte = [&](size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
  auto cont = [&](size_t i) { return (byte(i) & 0xC0) == 0x80; };
  unsigned char lead = byte(0);
  if (lead >= 0xC2 && lead <= 0xDF && cont(1)) {
    *code_point = ((lead & 0x1Fu) << 6) | (byte(1) & 0x3F);
    return 2;
  }
  if (lead >= 0xE0 && lead <= 0xEF && cont(1) && cont(2)) {
    uint32_t cp = ((lead & 0x0Fu) << 12) | ((byte(1) & 0x3Fu) << 6) | (byte(2) & 0x3F);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    *code_point = cp;
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    uint32_t cp = ((lead & 0x07u) << 18) | ((byte(1) & 0x3Fu) << 12) | ((byte(2) & 0x3Fu) << 6) | (byte(3) & 0x3F);
    if (cp < 0x10000 || cp > 0x10FFFF) return 0;
    *code_point = cp;
    return 4;
  }
  return 0;
}

}  // namespace

bool IsPlainYamlSafe(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (!IsPlainByte(c)) return false;
  const char first = text.front();
  if (first == '-' || first == ':' || first == '.' || first == '+' || text.back() == ':') return false;
  if (IsNullOrBoolWord(text)) return false;
  return !(IsDigit(first) && IsNumberOrDate(text));
}

void AppendDoubleQuoted(std::string& out, std::string_view text) {
  out += '"';
  size_t i = 0;
  while (i < text.size()) {
    size_t run = i;
    while (run < text.size() && text[run] >= 0x20 && text[run] < 0x7F && text[run] != '"' && text[run] != '\\')
      ++run;
    out.append(text, i, run - i);
    i = run;
    if (i == text.size()) break;
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default: AppendEscape(out, c);  // other C0 controls and DEL
      }
      ++i;
      continue;
    }
    uint32_t code_point = 0;
    const size_t length = DecodeUtf8(text.substr(i), &code_point);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    // C1 controls and NBSP, line/paragraph separators (line breaks to YAML 1.1),
    // the byte order mark and the two non-characters YAML does not allow raw.
    // Bidi controls too: a reviewer must not see the text reordered (Trojan Source).
    if (code_point <= 0xA0 || code_point == 0x2028 || code_point == 0x2029 || code_point == 0xFEFF ||
        code_point == 0xFFFE || code_point == 0xFFFF || io::IsBidiControl(code_point))
      AppendEscape(out, code_point);
    else
      out.append(text, i, length);
    i += length;
  }
  out += '"';
}

void AppendYamlScalar(std::string& out, std::string_view text) {
  if (IsPlainYamlSafe(text))
    out.append(text);
  else
    AppendDoubleQuoted(out, text);
}

}  // namespace netdsl::backends::linux_backend
