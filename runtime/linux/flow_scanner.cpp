// The fast scanner for one-line flow-mapping items of linux.yaml's bulk lists.
#include "runtime/linux/flow_scanner.h"

#include <cctype>

namespace netdsl::runtime {

namespace {

YAML::Mark MarkAt(int line0, int col0) {
  YAML::Mark m;
  m.pos = 0;
  m.line = line0;
  m.column = col0;
  return m;
}

}  // namespace

bool ScanFlowItem(std::string_view line, int line0, FlowNode* out) {
  size_t i = line.find_first_not_of(' ');
  if (i == std::string_view::npos || line.compare(i, 3, "- {") != 0) return false;
  i += 2;
  out->type = FlowNode::Type::Map;
  out->mark = MarkAt(line0, static_cast<int>(i));
  ++i;
  auto skip = [&] {
    while (i < line.size() && line[i] == ' ') ++i;
  };
  skip();
  if (i < line.size() && line[i] == '}') return false;  // empty map: let yaml-cpp decide
  for (;;) {
    skip();
    size_t k = i;
    while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_')) ++i;
    if (i == k || i + 1 >= line.size() || line[i] != ':' || line[i + 1] != ' ') return false;
    FlowNode key;
    key.type = FlowNode::Type::Scalar;
    key.scalar = std::string(line.substr(k, i - k));
    key.mark = MarkAt(line0, static_cast<int>(k));
    i += 2;
    skip();
    FlowNode val;
    val.type = FlowNode::Type::Scalar;
    val.mark = MarkAt(line0, static_cast<int>(i));
    if (i >= line.size()) return false;
    char q = line[i];
    if (q == '"' || q == '\'') {
      size_t close = line.find(q, i + 1);
      if (close == std::string_view::npos) return false;
      val.scalar = std::string(line.substr(i + 1, close - i - 1));
      if ((q == '"' && val.scalar.find('\\') != std::string::npos) ||
          (q == '\'' && close + 1 < line.size() && line[close + 1] == '\''))
        return false;  // escapes: yaml-cpp
      val.quoted = true;
      i = close + 1;
    } else {
      size_t v = i;
      while (i < line.size() && line[i] != ',' && line[i] != '}') ++i;
      std::string_view plain = line.substr(v, i - v);
      while (!plain.empty() && plain.back() == ' ') plain.remove_suffix(1);
      if (plain.empty() || plain.find_first_of("{}[]#&*!|>'\"%@`") != std::string_view::npos ||
          plain.find(": ") != std::string_view::npos || plain == "~" || plain == "null" || plain == "Null" ||
          plain == "NULL")
        return false;
      val.scalar = std::string(plain);
    }
    out->entries.emplace_back(std::move(key), std::move(val));
    skip();
    if (i >= line.size()) return false;
    if (line[i] == ',') {
      ++i;
      continue;
    }
    if (line[i] != '}') return false;
    ++i;
    skip();
    return i == line.size();
  }
}

std::string ExtractBulkSections(const std::string& text, std::map<std::string, std::vector<FlowNode>>* fast) {
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos <= text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(std::string_view(text).substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::vector<bool> blank(lines.size(), false);
  for (size_t h = 0; h < lines.size(); ++h) {
    std::string_view l = lines[h];
    if (l.empty() || l[0] == ' ' || l.back() != ':') continue;
    std::string key;
    for (const char* k : {"fdb", "neighbours", "routes", "addresses"})
      if (l.substr(0, l.size() - 1) == k) key = k;
    if (key.empty() || fast->count(key)) continue;
    std::vector<FlowNode> items;
    size_t e = h + 1;
    bool simple = true;
    for (; e < lines.size(); ++e) {
      std::string_view x = lines[e];
      if (!x.empty() && x[0] != ' ') break;  // next top-level key (or a comment: give up below)
      if (x.find_first_not_of(' ') == std::string_view::npos) continue;
      FlowNode item;
      if (!ScanFlowItem(x, static_cast<int>(e), &item)) {
        simple = false;
        break;
      }
      items.push_back(std::move(item));
    }
    if (!simple || items.empty()) continue;
    for (size_t b = h + 1; b < e; ++b) blank[b] = true;
    (*fast)[key] = std::move(items);
  }
  if (fast->empty()) return text;
  std::string rest;
  rest.reserve(text.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!blank[i]) rest.append(lines[i]);
    if (i + 1 < lines.size()) rest += '\n';
  }
  return rest;
}

}  // namespace netdsl::runtime
