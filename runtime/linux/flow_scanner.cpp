// The fast scanner for one-line flow-mapping items of linux.yaml's bulk lists.
#include "runtime/linux/flow_scanner.h"

#include <algorithm>
#include <cstring>

namespace netdsl::runtime {

namespace {

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsKeyChar(char c) { return IsAlnum(c) || c == '_'; }
/// Characters a plain value may continue with: what names, numbers, addresses
/// and prefixes use, and nothing yaml-cpp treats specially inside a flow
/// mapping (`:` only between two of them, checked by the caller).
bool IsPlainChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '/' || c == ':' || c == '+' || c == '-';
}
/// Scalars yaml-cpp reads as null (a type error the reader reports from yaml-cpp's nodes).
bool IsNullWord(std::string_view s) { return s == "null" || s == "Null" || s == "NULL"; }

}  // namespace

bool ScanFlowItem(std::string_view line, int line0, FlowItem* out) {
  // Printable ASCII only: yaml-cpp treats tabs, control characters and
  // non-UTF-8 bytes in its own ways.
  for (char c : line)
    if (c < 0x20 || c > 0x7e) return false;
  size_t i = line.find_first_not_of(' ');
  if (i == std::string_view::npos || line.compare(i, 3, "- {") != 0) return false;
  i += 2;
  out->line0 = line0;
  out->col0 = static_cast<int>(i);
  out->size = 0;
  ++i;
  auto skip_spaces = [&] {
    while (i < line.size() && line[i] == ' ') ++i;
  };
  for (;;) {
    if (out->size == FlowItem::kMaxEntries) return false;
    FlowEntry& e = out->entries[out->size++];
    skip_spaces();
    size_t k = i;
    while (i < line.size() && IsKeyChar(line[i])) ++i;
    if (i == k || i + 1 >= line.size() || line[i] != ':' || line[i + 1] != ' ') return false;
    e.key = line.substr(k, i - k);
    e.key_col = static_cast<int>(k);
    if (IsNullWord(e.key)) return false;
    i += 2;
    skip_spaces();
    if (i >= line.size()) return false;
    e.value_col = static_cast<int>(i);
    char quote = line[i];
    if (quote == '"' || quote == '\'') {
      size_t close = line.find(quote, i + 1);
      if (close == std::string_view::npos) return false;
      e.value = line.substr(i + 1, close - i - 1);
      // Escapes (`\` in double quotes; `''` in single quotes fails below, at
      // the second quote) are left to yaml-cpp.
      if (quote == '"' && e.value.find('\\') != std::string_view::npos) return false;
      e.quoted = true;
      i = close + 1;
    } else {
      if (!IsAlnum(quote)) return false;  // indicators, `-`/`:`-led scalars, `~`
      size_t v = i;
      while (i < line.size() && IsPlainChar(line[i])) ++i;
      e.value = line.substr(v, i - v);
      if (e.value.back() == ':' || IsNullWord(e.value)) return false;  // `a:` ends a flow key in yaml-cpp
      e.quoted = false;
    }
    skip_spaces();
    if (i >= line.size()) return false;
    if (line[i] == ',') {
      ++i;
      continue;
    }
    if (line[i] != '}') return false;
    ++i;
    skip_spaces();
    return i == line.size();
  }
}

std::string_view FlowNode::Scalar() const {
  if (part_ == Part::kKey) return entry_->key;
  if (part_ == Part::kValue) return entry_->value;
  return {};
}

SourceLoc FlowNode::Loc() const {
  switch (part_) {
    case Part::kMap: return {item_->line0 + 1, item_->col0 + 1};
    case Part::kKey: return {item_->line0 + 1, entry_->key_col + 1};
    case Part::kValue: return {item_->line0 + 1, entry_->value_col + 1};
    case Part::kUndefined: break;
  }
  return {};
}

FlowNode FlowNode::operator[](std::string_view key) const {
  if (!IsMap()) return FlowNode();
  for (int i = 0; i < item_->size; ++i)
    if (item_->entries[i].key == key) return FlowNode(item_, &item_->entries[i], Part::kValue);
  return FlowNode();
}

FlowNode::KeyValue FlowNode::Iterator::operator*() const {
  const FlowEntry* e = &item_->entries[index_];
  return {FlowNode(item_, e, Part::kKey), FlowNode(item_, e, Part::kValue)};
}

std::vector<BulkSection> FindBulkSections(std::string_view text) {
  static constexpr std::string_view kKeys[] = {"fdb", "neighbours", "routes", "addresses"};
  std::vector<BulkSection> sections;
  bool taken[std::size(kKeys)] = {};
  // A header is a whole line at column 0; its body runs to the next line that starts at column 0.
  auto line_end = [&](size_t pos) {
    const void* nl = std::memchr(text.data() + pos, '\n', text.size() - pos);
    return nl ? static_cast<size_t>(static_cast<const char*>(nl) - text.data()) : text.size();
  };
  int line0 = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = line_end(pos);
    std::string_view line = text.substr(pos, end - pos);
    size_t next = end + 1;
    int next_line0 = line0 + 1;
    if (!line.empty() && line.back() == ':') {
      for (size_t k = 0; k < std::size(kKeys); ++k) {
        if (taken[k] || line.substr(0, line.size() - 1) != kKeys[k]) continue;
        taken[k] = true;
        BulkSection s;
        s.key = kKeys[k];
        s.header_line0 = line0;
        size_t body_begin = std::min(next, text.size()), body_end = body_begin;
        bool has_item = false;
        while (body_end < text.size() && (text[body_end] == ' ' || text[body_end] == '\n')) {
          size_t e = line_end(body_end);
          has_item = has_item || text.find_first_not_of(' ', body_end) < e;
          if (e == text.size()) {
            body_end = e;
            break;
          }
          body_end = e + 1;
          ++s.lines;
        }
        // The next top-level line must be a key: a `-` item, comment or
        // document marker there belongs to yaml-cpp, with the whole list.
        bool ends_at_key = body_end == text.size() || IsKeyChar(text[body_end]);
        if (has_item && ends_at_key) {
          s.body = text.substr(body_begin, body_end - body_begin);
          sections.push_back(s);
        }
        next = body_end;
        next_line0 = line0 + 1 + static_cast<int>(s.lines);
      }
    }
    pos = next;
    line0 = next_line0;
  }
  return sections;
}

}  // namespace netdsl::runtime
