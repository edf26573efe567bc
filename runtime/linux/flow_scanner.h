// A fast path for linux.yaml's bulk lists (fdb, neighbours, routes,
// addresses): their items are one-line flow mappings, scanned by hand into
// views of the plan text instead of through yaml-cpp.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "runtime/linux/host_state.h"

namespace netdsl::runtime {

/// One `key: value` of a scanned item: views into the plan text, 0-based columns.
struct FlowEntry {
  std::string_view key;
  std::string_view value;  ///< without the quotes of a quoted scalar
  int key_col = 0;
  int value_col = 0;  ///< of the opening quote for a quoted scalar, as yaml-cpp marks it
  bool quoted = false;
};

/// `- {k: v, ...}` on one line. yaml-cpp needs ~30 us per such line; a large
/// host has 100k of them, so they are scanned into this fixed-size,
/// allocation-free form when every item of the list has this simple shape.
struct FlowItem {
  static constexpr int kMaxEntries = 8;  // bulk items have at most 4 keys; more is an error yaml-cpp reports
  int line0 = 0;
  int col0 = 0;  ///< of `{`, where yaml-cpp marks the mapping
  int size = 0;
  FlowEntry entries[kMaxEntries];
};

/// Scans `- {k: v, ...}` on one line (0-based `line0`). Keys are
/// [A-Za-z0-9_]+; values are plain scalars of [A-Za-z0-9._/:+-] starting with
/// a letter or digit, or quoted scalars without escapes. False when the line
/// needs full YAML (comments, escapes, other characters, nested collections,
/// null, more than kMaxEntries keys...), so that the fast path never has to
/// decide anything yaml-cpp might decide differently.
bool ScanFlowItem(std::string_view line, int line0, FlowItem* out);

/// A view of one key or value of a FlowItem, or of the whole item, with the
/// part of yaml-cpp's Node interface the reader uses (Scalar() is a view, Tag()
/// is "!" for quoted scalars as in yaml-cpp), so that one reader serves both.
class FlowNode {
 public:
  FlowNode() = default;  ///< undefined, like a missing key
  static FlowNode Map(const FlowItem& item) { return FlowNode(&item, nullptr, Part::kMap); }

  bool IsDefined() const { return part_ != Part::kUndefined; }
  bool IsNull() const { return false; }
  bool IsScalar() const { return part_ == Part::kKey || part_ == Part::kValue; }
  bool IsMap() const { return part_ == Part::kMap; }
  bool IsSequence() const { return false; }
  std::string_view Scalar() const;
  std::string_view Tag() const { return part_ == Part::kValue && entry_->quoted ? "!" : "?"; }
  SourceLoc Loc() const;
  /// The value of the first entry with this key, or an undefined node.
  FlowNode operator[](std::string_view key) const;

  struct KeyValue;  ///< a map entry, like yaml-cpp's: `.first` the key, `.second` the value
  class Iterator {
   public:
    Iterator(const FlowItem* item, int index) : item_(item), index_(index) {}
    KeyValue operator*() const;
    Iterator& operator++() { ++index_; return *this; }
    bool operator!=(const Iterator& other) const { return index_ != other.index_; }

   private:
    const FlowItem* item_;
    int index_;
  };
  Iterator begin() const { return Iterator(item_, 0); }
  Iterator end() const { return Iterator(item_, IsMap() ? item_->size : 0); }

 private:
  enum class Part { kUndefined, kMap, kKey, kValue };
  FlowNode(const FlowItem* item, const FlowEntry* entry, Part part) : item_(item), entry_(entry), part_(part) {}

  const FlowItem* item_ = nullptr;
  const FlowEntry* entry_ = nullptr;
  Part part_ = Part::kUndefined;
};

struct FlowNode::KeyValue {
  FlowNode first, second;
};

/// A top-level bulk list (`fdb:` alone on its line, then only indented lines
/// up to the next top-level key) that the fast path may take.
struct BulkSection {
  std::string_view key;  ///< "fdb", "neighbours", "routes" or "addresses"
  int header_line0 = 0;
  std::string_view body;  ///< the lines after the header, each with its '\n'
  size_t lines = 0;       ///< '\n's in `body`: the lines removed when the section is cut out
};

/// The first section of each bulk key in `text`, in file order. A candidate
/// only: whether its items all scan is decided by ScanSection.
std::vector<BulkSection> FindBulkSections(std::string_view text);

/// Scans the items of `section` in order, calling `on_item(const FlowItem&)`
/// for each. False as soon as a line does not scan or is indented unlike the
/// first item (a YAML block sequence is aligned): the section needs yaml-cpp.
template <typename OnItem>
bool ScanSection(const BulkSection& section, OnItem on_item) {
  FlowItem item;
  int indent = -1;
  int line0 = section.header_line0 + 1;
  for (std::string_view body = section.body; !body.empty(); ++line0) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
    if (line.find_first_not_of(' ') == std::string_view::npos) continue;
    if (!ScanFlowItem(line, line0, &item) || (indent >= 0 && item.col0 != indent)) return false;
    indent = item.col0;
    on_item(item);
  }
  return true;
}

}  // namespace netdsl::runtime
