// Classification of the lexer's loose literal tokens (NUMBER, COLON_WORD) and
// of quoted strings into AST values, with precise errors. No ANTLR here, so
// the rules are unit-testable on their own.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "compiler/diag/diagnostics.h"
#include "compiler/syntax/ast.h"

namespace netdsl::syntax {

/// What is wrong with a literal: the kind, a message, and the byte range
/// [begin, end) inside the token text that the diagnostic should point at.
struct LiteralError {
  DiagKind kind;
  std::string message;
  size_t begin = 0, end = 0;
};

/// Classifies a token that starts with a digit (integer, IPv4 address, IPv4
/// prefix, bandwidth) and fills `out`'s kind and payload (not its range or text).
std::optional<LiteralError> ClassifyNumber(std::string_view text, ast::Value& out);

/// Classifies a token that contains a colon (IPv6 address or prefix, MAC).
std::optional<LiteralError> ClassifyColonWord(std::string_view text, ast::Value& out);

/// Resolves the escapes of a quoted string (with its quotes; the closing one
/// may be missing). Only `\"` and `\\` are escapes; reports the first other
/// one and keeps it verbatim in `out`.
std::optional<LiteralError> UnescapeString(std::string_view quoted, std::string& out);

/// Parses an unsigned decimal; nullopt on overflow or a non-digit.
std::optional<uint64_t> ParseDecimal(std::string_view digits);

}  // namespace netdsl::syntax
