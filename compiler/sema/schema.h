// The schema of the language: which block kinds exist inside which parent,
// which label they take, which keys they accept and each key's value type.
// Sema validates every block against this one table, so unknown kinds and keys
// get "did you mean" from the same data the checks read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/syntax/ast.h"

namespace netdsl::sema {

/// The value type a key expects.
enum class ValueType : uint8_t {
  Name,          ///< identifier or string naming another object
  NameList,      ///< `[a, "b c"]`
  Text,          ///< free text (`description`): string or identifier
  Bool,
  Integer,
  Prefix,        ///< CIDR prefix
  Address,       ///< IPv4/IPv6 address
  AddressList,   ///< `[a, b]` of addresses
  AddressRange,  ///< `A - B` of addresses
  MacRange,      ///< `A - B` of MAC addresses
  Mac,
  Bandwidth,
  Enum,          ///< one identifier out of `enum_values`
};

/// One `key = value;` a block accepts.
struct KeySpec {
  const char* key;
  ValueType type;
  bool required = false;
  std::vector<const char*> enum_values = {};
};

/// What a block's label must be.
enum class LabelRule : uint8_t {
  None,          ///< `gateway { ... }`
  Name,          ///< `host host01 { ... }`
  OptionalName,  ///< `nic { ... }` in a VM
  Prefix,        ///< `subnet 10.0.0.0/24;`
};

/// One block kind inside one parent kind ("" = top level).
struct BlockSpec {
  const char* kind;
  const char* parent;
  LabelRule label;
  std::vector<KeySpec> keys;
  bool at_most_once = false;  ///< e.g. `teaming`, `gateway`
  bool allow_name_range = false;  ///< `host rack1-h[01..40]`
  const char* what;  ///< how messages name it: "logical network", "VM subnet"
};

/// Every block kind that may appear directly inside `parent` ("" = top level).
std::vector<const BlockSpec*> ChildSpecs(std::string_view parent);
/// The spec of `kind` directly inside `parent`, or nullptr.
const BlockSpec* FindSpec(std::string_view parent, std::string_view kind);
/// The spec of `key` in `spec`, or nullptr.
const KeySpec* FindKey(const BlockSpec& spec, std::string_view key);

/// "a CIDR prefix", "`true` or `false`", ... for "expected X, found Y".
std::string DescribeExpected(const KeySpec& key);
/// "integer `5`", "name `web`", ... for "expected X, found Y".
std::string DescribeFound(const ast::Value& value);
/// Whether `value` has the shape `type` requires (enum membership is checked separately).
bool HasType(const ast::Value& value, ValueType type);

/// The closest of `candidates` to `word` by edit distance (ties: the
/// lexicographically smallest), or "" when nothing is close enough.
std::string ClosestName(std::string_view word, const std::vector<std::string_view>& candidates);
/// "; did you mean `x`?" or "".
std::string DidYouMean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace netdsl::sema
