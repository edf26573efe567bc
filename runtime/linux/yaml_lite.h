// A fast parser for the YAML subset linux.yaml is written in (block maps and
// lists, one-line flow maps and lists, plain and double-quoted scalars), with
// the part of yaml-cpp's Node interface the plan reader uses, so one reader
// serves both. Anything outside the subset (comments, multi-line flow or
// quoted scalars, anchors, tags, single quotes, tabs, compact lists...) makes
// Parse fail, and the reader falls back to yaml-cpp: the fast path never has
// to decide something yaml-cpp might decide differently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netdsl::runtime::lite {

class Document;

/// A node of a parsed Document (or an undefined node, like a missing key).
class Node {
 public:
  Node() = default;
  Node(const Document* doc, int32_t index) : doc_(doc), index_(index) {}

  bool IsDefined() const { return index_ >= 0; }
  bool IsNull() const;
  bool IsScalar() const;
  bool IsMap() const;
  bool IsSequence() const;
  /// The scalar's text (a view into the document, which outlives the read).
  std::string_view Scalar() const;
  /// yaml-cpp's non-specific tags: "!" for a quoted scalar, "?" otherwise.
  std::string_view Tag() const;
  /// 0-based line and column, where yaml-cpp marks the node.
  int Line0() const;
  int Col0() const;
  /// The value of the first entry with this key, or an undefined node.
  Node operator[](std::string_view key) const;
  size_t size() const;

  /// A map entry (`.first` key, `.second` value) or, in a list, the item itself.
  struct Item;
  class Iterator {
   public:
    Iterator(const Document* doc, const int32_t* at, bool map) : doc_(doc), at_(at), map_(map) {}
    Item operator*() const;
    Iterator& operator++() {
      at_ += map_ ? 2 : 1;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return at_ != other.at_; }

   private:
    const Document* doc_;
    const int32_t* at_;
    bool map_;
  };
  Iterator begin() const;
  Iterator end() const;

 private:
  const Document* doc_ = nullptr;
  int32_t index_ = -1;
};

struct Node::Item : Node {
  Item(const Node& self, const Node& first, const Node& second) : Node(self), first(first), second(second) {}
  Node first, second;
};

/// A parsed document: the nodes and the decoded text of escaped scalars.
class Document {
 public:
  /// Parses `text` (which must outlive the document), or nothing when it is
  /// outside the subset.
  static std::optional<Document> Parse(std::string_view text);
  /// The same into this document, reusing its storage (a reader of many
  /// plans keeps one per thread); false outside the subset.
  bool Assign(std::string_view text);
  Node Root() const { return Node(this, 0); }

 private:
  friend class Node;
  friend class Parser;
  enum class Kind : uint8_t { kNull, kScalar, kMap, kSeq };
  struct Data {
    Kind kind = Kind::kNull;
    bool quoted = false;
    int32_t line0 = 0, col0 = 0;
    std::string_view scalar;
    uint32_t first = 0, count = 0;  ///< children in `kids_` (maps: key, value pairs)
  };
  std::vector<Data> nodes_;
  std::vector<int32_t> kids_;
  std::unique_ptr<std::string> decoded_;  ///< escaped scalars, decoded (reserved: never reallocates)
};

}  // namespace netdsl::runtime::lite
