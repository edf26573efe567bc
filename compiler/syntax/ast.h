// The AST: what the parser produces and sema reads. Deliberately generic —
// blocks of `key = value;` properties and nested blocks — so that the schema
// (which block kinds exist where, which keys they take, value types) lives in
// one place, sema, with "did you mean" for misspelled kinds and keys.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/net/address.h"
#include "llvm/Support/SMLoc.h"

namespace netdsl::ast {

/// A literal or name, with the source range it came from.
struct Value {
  enum class Kind : uint8_t {
    Ident,      ///< `web`, `switch_independent`, `true`/`false` are Bool
    String,     ///< `"test logical switch"` (escapes resolved)
    Integer,    ///< `6001`
    Bool,       ///< `true`, `false`
    Address,    ///< `192.168.10.1`, `fe80::1`
    Prefix,     ///< `192.168.10.0/24` (as written; may have host bits set)
    Mac,        ///< `00:1D:D8:B7:1C:00`
    Bandwidth,  ///< `1Gbps` (bits/s)
    Range,      ///< `A - B`: items[0], items[1]
    List,       ///< `[a, b]`: items
  };
  Kind kind = Kind::Ident;
  llvm::SMRange range;
  std::string text;      ///< Ident/String: the name; others: the source spelling
  uint64_t integer = 0;  ///< Integer; Bandwidth in bits/s
  bool boolean = false;
  net::IpAddress address;  ///< Address
  net::Prefix prefix;      ///< Prefix
  net::MacAddress mac;     ///< Mac
  std::vector<Value> items;  ///< Range (2), List (n)

  bool IsName() const { return kind == Kind::Ident || kind == Kind::String; }
};

/// `key = value;`
struct Property {
  std::string key;
  llvm::SMRange key_range;
  Value value;
  llvm::SMRange range;  ///< key through `;`
};

/// `kind label { ... }` or `kind label;` — label is optional and is a name
/// (Ident/String) or a value such as a prefix (`subnet 10.0.0.0/24 { ... }`).
struct Block {
  std::string kind;  ///< `host`, `logical_network`, `nic`, ...
  llvm::SMRange kind_range;
  std::optional<Value> label;
  /// `host rack1-h[01..40]`: the label is the stem (`rack1-h`), expanded by sema
  /// into `rack1-h01` ... `rack1-h40` (width = digits of the first bound).
  struct NameRange {
    uint64_t first = 0, last = 0;
    unsigned width = 0;
    llvm::SMRange range;
  };
  std::optional<NameRange> name_range;
  std::vector<Property> properties;
  std::vector<Block> blocks;
  bool has_body = false;  ///< `{ ... }` rather than `;`
  llvm::SMRange range;    ///< whole block
};

/// `import "other.netdsl";`
struct Import {
  std::string path;  ///< as written
  llvm::SMRange range;
  llvm::SMRange statement;  ///< `import "...";` whole (the build cache's statement)
};

/// One parsed file.
struct File {
  std::string path;  ///< as opened (relative to cwd or the importing file)
  unsigned buffer_id = 0;  ///< in the SourceMgr
  std::vector<Import> imports;
  std::vector<Block> blocks;
};

/// The root file and everything it imports, in deterministic order (root first,
/// then imports depth-first in source order, each file once).
struct Program {
  std::vector<File> files;
};

}  // namespace netdsl::ast
