// UTF-8 validation and top-level chunking.
#include "compiler/syntax/source_scan.h"

namespace netdsl::syntax {

namespace {

/// When a string literal or a comment starts at `i`, the offset just past it,
/// scanned the way the lexer does (strings and line comments end at a line
/// break; an unterminated block comment runs to the end); otherwise `i`.
size_t SkipStringOrComment(std::string_view text, size_t i) {
  size_t n = text.size();
  if (text[i] == '"') {
    ++i;
    while (i < n && text[i] != '"' && text[i] != '\n' && text[i] != '\r') {
      if (text[i] == '\\' && i + 1 < n && text[i + 1] != '\n' && text[i + 1] != '\r') ++i;
      ++i;
    }
    if (i < n && text[i] == '"') ++i;
    return i;
  }
  if (text[i] == '/' && i + 1 < n && text[i + 1] == '/') {
    while (i < n && text[i] != '\n' && text[i] != '\r') ++i;
    return i;
  }
  if (text[i] == '/' && i + 1 < n && text[i + 1] == '*') {
    size_t close = text.find("*/", i + 2);
    return close == std::string_view::npos ? n : close + 2;
  }
  return i;
}

/// Calls `bad(i)` for every byte offset that is not part of a valid UTF-8
/// sequence (overlongs, surrogates and code points above U+10FFFF included).
template <typename F>
void ForEachInvalidUtf8Byte(std::string_view text, F bad) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size(), i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07, min = 0x10000;
    bool ok = len != 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      bad(i);
      ++i;
      continue;
    }
    i += len;
  }
}

}  // namespace

std::vector<size_t> FindInvalidUtf8(std::string_view text) {
  std::vector<size_t> runs;
  size_t run_end = SIZE_MAX;
  ForEachInvalidUtf8Byte(text, [&](size_t i) {
    if (i != run_end) runs.push_back(i);  // a new run of bad bytes
    run_end = i + 1;
  });
  return runs;
}

void BlankInvalidUtf8(std::string& text) {
  std::vector<size_t> bad;
  ForEachInvalidUtf8Byte(text, [&](size_t i) { bad.push_back(i); });
  for (size_t i : bad) text[i] = ' ';
}

namespace {

/// Offsets after `from` of lines that start with `[A-Za-z_]`, outside strings
/// and comments (scanned the way the lexer does, from a top-level position).
std::vector<size_t> LineStartsOutsideTokens(std::string_view text, size_t from) {
  std::vector<size_t> out;
  size_t n = text.size(), i = from;
  auto is_name_start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  while (i < n) {
    char c = text[i];
    if (size_t next = SkipStringOrComment(text, i); next != i) {
      i = next;
      continue;
    }
    ++i;
    if (c == '\n' && i < n && is_name_start(text[i])) out.push_back(i);
  }
  return out;
}

}  // namespace

std::vector<Chunk> SplitTopLevel(std::string_view text, size_t target_bytes, unsigned max_depth) {
  std::vector<Chunk> chunks;
  size_t n = text.size(), i = 0, chunk_begin = 0, stmt_begin = 0;
  unsigned depth = 0;
  bool stmt_too_deep = false;
  size_t too_deep_at = 0;
  auto end_statement = [&](size_t end) {
    if (stmt_too_deep) {
      if (stmt_begin > chunk_begin) chunks.push_back({chunk_begin, stmt_begin, false, 0});
      chunks.push_back({stmt_begin, end, true, too_deep_at});
      chunk_begin = end;
      stmt_too_deep = false;
    } else if (end - chunk_begin >= target_bytes) {
      chunks.push_back({chunk_begin, end, false, 0});
      chunk_begin = end;
    }
    stmt_begin = end;
  };
  while (i < n) {
    char c = text[i];
    if (size_t next = SkipStringOrComment(text, i); next != i) {
      i = next;
      continue;
    }
    ++i;
    if (c == '{' || c == '[') {
      if (++depth > max_depth && !stmt_too_deep) {
        stmt_too_deep = true;
        too_deep_at = i - 1;
      }
    } else if (c == '}' || c == ']') {
      if (depth > 0) --depth;
      if (depth == 0 && c == '}') end_statement(i);
    } else if (c == ';' && depth == 0) {
      end_statement(i);
    }
  }
  if (stmt_too_deep) {
    if (stmt_begin > chunk_begin) chunks.push_back({chunk_begin, stmt_begin, false, 0});
    chunks.push_back({stmt_begin, n, true, too_deep_at});
  } else if (depth > 0 && n - stmt_begin > target_bytes / 4) {
    // A block is never closed: the file is wrong anyway, and parsing the whole
    // rest as one chunk would hold all of its tokens at once. Resume at lines
    // that start with a name in column 0 (how top-level blocks are written);
    // this only changes where the error is reported, never a valid parse.
    if (stmt_begin > chunk_begin) chunks.push_back({chunk_begin, stmt_begin, false, 0});
    // The first such line ends the unclosed block's chunk, so the error
    // lands just before it, where the `}` is most likely missing.
    size_t begin = stmt_begin;
    bool first = true;
    for (size_t p : LineStartsOutsideTokens(text, stmt_begin)) {
      if (first || p - begin >= target_bytes) {
        first = false;
        chunks.push_back({begin, p, false, 0});
        begin = p;
      }
    }
    chunks.push_back({begin, n, false, 0});
  } else if (chunk_begin < n || chunks.empty()) {
    chunks.push_back({chunk_begin, n, false, 0});
  }
  return chunks;
}

}  // namespace netdsl::syntax
