// Cheap byte-level passes over a source buffer before ANTLR sees it: UTF-8
// validation and splitting at top-level statement boundaries so that large
// files are parsed in independent chunks (ANTLR keeps every token of a
// stream). No ANTLR here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netdsl::syntax {

/// Byte offsets of invalid UTF-8 sequences (overlongs, surrogates and code
/// points above U+10FFFF included), each the start of one bad byte run.
std::vector<size_t> FindInvalidUtf8(std::string_view text);

/// Replaces every byte of an invalid UTF-8 sequence by a space (byte offsets
/// stay the same), so the rest of the file can still be lexed.
void BlankInvalidUtf8(std::string& text);

/// A run of whole top-level statements: [begin, end) byte offsets.
struct Chunk {
  size_t begin = 0, end = 0;
  /// Nesting of `{`/`[` exceeds the limit inside: do not hand it to the parser.
  bool too_deep = false;
  /// Offset of the first bracket beyond the limit (when too_deep).
  size_t too_deep_at = 0;
};

/// Splits `text` at top-level statement ends (`;` or a `}` back at depth 0),
/// respecting strings and comments the way the lexer does, into chunks of at
/// least `target_bytes` (except the last). Statements whose `{`/`[` nesting
/// exceeds `max_depth` get a chunk of their own marked too_deep. When a block
/// is never closed, the rest of the file is still split (at lines starting
/// with a name in column 0) so that memory stays bounded.
std::vector<Chunk> SplitTopLevel(std::string_view text, size_t target_bytes, unsigned max_depth);

}  // namespace netdsl::syntax
