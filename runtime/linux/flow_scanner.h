// A fast path for linux.yaml's bulk lists: one-line flow mappings scanned by
// hand into nodes with the part of yaml-cpp's Node interface the reader uses.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace netdsl::runtime {

/// A one-line flow mapping of plain or double/single-quoted scalars, e.g.
/// `  - {dev: nd-vx1, mac: "00:1d:d8:b7:1c:05", dst: 192.168.0.11}`, with the
/// subset of yaml-cpp's Node interface the Reader uses. yaml-cpp needs ~30 us
/// per such line; the bulk lists (fdb, neighbours, routes, addresses) of a
/// large host have 100k of them, so they take this path when every item of
/// the list has this simple shape (anything else falls back to yaml-cpp).
class FlowNode {
 public:
  enum class Type { Undefined, Scalar, Map };
  Type type = Type::Undefined;
  std::string scalar;
  bool quoted = false;
  YAML::Mark mark = YAML::Mark::null_mark();
  std::vector<std::pair<FlowNode, FlowNode>> entries;

  bool IsDefined() const { return type != Type::Undefined; }
  bool IsNull() const { return false; }
  bool IsScalar() const { return type == Type::Scalar; }
  bool IsMap() const { return type == Type::Map; }
  bool IsSequence() const { return false; }
  const std::string& Scalar() const { return scalar; }
  std::string Tag() const { return quoted ? "!" : "?"; }
  YAML::Mark Mark() const { return mark; }
  FlowNode operator[](const char* key) const {
    for (const auto& e : entries)
      if (e.first.scalar == key) return e.second;
    return FlowNode();
  }
  auto begin() const { return entries.begin(); }
  auto end() const { return entries.end(); }
};

/// Scans `- {k: v, ...}` on one line (0-based `line0`); false when the line
/// needs full YAML.
bool ScanFlowItem(std::string_view line, int line0, FlowNode* out);

/// Moves the simple bulk lists (fdb, neighbours, routes, addresses) out of
/// `text` into `fast`; their lines become empty, so yaml-cpp sees `key:` with
/// no value and line numbers stay right. Returns the rest of the text.
std::string ExtractBulkSections(const std::string& text, std::map<std::string, std::vector<FlowNode>>* fast);

}  // namespace netdsl::runtime
