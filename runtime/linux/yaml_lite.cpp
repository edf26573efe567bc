// The linux.yaml subset parser (yaml_lite.h): one pass over the lines, no
// allocation per scalar (views into the text; escaped scalars decoded once).
#include "runtime/linux/yaml_lite.h"

#include <cstring>

namespace netdsl::runtime::lite {

namespace {

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// The characters the writer leaves plain (backends/linux/yaml_text.h); a
/// scalar with any other character is left to yaml-cpp.
bool IsPlainChar(char c) {
  return IsKeyChar(c) || c == '.' || c == '/' || c == '+' || c == ':' || c == '-';
}

bool IsNullText(std::string_view s) { return s == "~" || s == "null" || s == "Null" || s == "NULL"; }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3f));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

class Parser {
 public:
  struct Line {
    std::string_view text;  ///< without the indentation
    int indent = 0;
    int line0 = 0;
  };
  /// Working storage, kept between parses on one thread.
  struct Scratch {
    std::vector<Line> lines;
    std::vector<int32_t> stack;
    std::string decoded;
  };

  Parser(std::string_view text, Document& doc, Scratch& scratch)
      : text_(text), doc_(doc), lines_(scratch.lines), stack_(scratch.stack), scratch_(scratch.decoded) {
    lines_.clear();
    stack_.clear();
  }

  bool Run() {
    if (!SplitLines()) return false;
    doc_.nodes_.reserve(lines_.size() * 4 + 1);
    doc_.kids_.reserve(lines_.size() * 6);
    // Node 0 is the root; its children are filled in at the end.
    doc_.nodes_.push_back({});
    if (lines_.empty() || lines_[0].indent != 0) return false;
    int32_t root = ParseBlockMap(0);
    if (root < 0 || pos_ != lines_.size()) return false;
    doc_.nodes_[0] = doc_.nodes_[size_t(root)];
    return true;
  }

 private:
  bool SplitLines() {
    if (text_.size() >= 3 && (unsigned char)text_[0] == 0xef) return false;  // a BOM
    int line0 = 0;
    for (size_t start = 0; start < text_.size(); ++line0) {
      size_t nl = text_.find('\n', start);
      size_t end = nl == std::string_view::npos ? text_.size() : nl;
      std::string_view line = text_.substr(start, end - start);
      start = end + 1;
      size_t indent = line.find_first_not_of(' ');
      if (indent == std::string_view::npos) continue;  // blank
      std::string_view rest = line.substr(indent);
      for (char c : rest)  // (find_first_of calls memchr once per character)
        if (c == '\t' || c == '\r') return false;
      if (rest[0] == '#' || (indent == 0 && (rest.rfind("---", 0) == 0 || rest.rfind("...", 0) == 0))) return false;
      if (rest.back() == ' ') return false;  // trailing spaces: not the writer's
      lines_.push_back({rest, int(indent), line0});
    }
    return true;
  }

  int32_t NewNode(Document::Kind kind, int line0, int col0) {
    Document::Data d;
    d.kind = kind;
    d.line0 = line0;
    d.col0 = col0;
    doc_.nodes_.push_back(d);
    return int32_t(doc_.nodes_.size() - 1);
  }

  /// A collection's children are collected on one stack (no vector per
  /// node), then moved to `kids_` in one piece when the collection ends.
  size_t Mark() const { return stack_.size(); }
  void SetKids(int32_t node, size_t mark) {
    Document::Data& d = doc_.nodes_[size_t(node)];
    d.first = uint32_t(doc_.kids_.size());
    d.count = uint32_t(stack_.size() - mark);
    doc_.kids_.insert(doc_.kids_.end(), stack_.begin() + long(mark), stack_.end());
    stack_.resize(mark);
  }

  /// `key:` at the start of `s`; returns the key's length, 0 when it is not one.
  static size_t KeyLength(std::string_view s) {
    size_t i = 0;
    while (i < s.size() && IsKeyChar(s[i])) ++i;
    if (i == 0 || i >= s.size() || s[i] != ':') return 0;
    if (i + 1 < s.size() && s[i + 1] != ' ') return 0;
    return i;
  }

  /// A block map whose keys are at `indent`, starting at the current line.
  int32_t ParseBlockMap(int indent) {
    const Line& first = lines_[pos_];
    int32_t map = NewNode(Document::Kind::kMap, first.line0, indent);
    size_t kids = Mark();
    while (pos_ < lines_.size() && lines_[pos_].indent == indent) {
      Line line = lines_[pos_];
      if (line.text.rfind("- ", 0) == 0 || line.text == "-") break;  // a list at the map's own indent: not ours
      size_t k = KeyLength(line.text);
      if (k == 0) return -1;
      int32_t key = NewNode(Document::Kind::kScalar, line.line0, line.indent);
      doc_.nodes_[size_t(key)].scalar = line.text.substr(0, k);
      std::string_view rest = k + 1 < line.text.size() ? line.text.substr(k + 2) : std::string_view();
      ++pos_;
      int32_t value;
      if (rest.empty()) {
        if (pos_ < lines_.size() && lines_[pos_].indent > indent) {
          int child = lines_[pos_].indent;
          value = lines_[pos_].text.rfind("- ", 0) == 0 ? ParseBlockSeq(child) : ParseBlockMap(child);
        } else {
          value = NewNode(Document::Kind::kNull, line.line0, line.indent + int(k) + 1);
        }
      } else {
        int col = line.indent + int(k) + 2;
        size_t used = 0;
        value = ParseInline(rest, line.line0, col, false, &used);
        if (value >= 0 && used != rest.size()) value = -1;
      }
      if (value < 0) return -1;
      stack_.push_back(key);
      stack_.push_back(value);
    }
    if (pos_ < lines_.size() && lines_[pos_].indent > indent) return -1;
    SetKids(map, kids);
    return map;
  }

  /// A block list whose `- ` are at `indent`.
  int32_t ParseBlockSeq(int indent) {
    int32_t seq = NewNode(Document::Kind::kSeq, lines_[pos_].line0, indent);
    size_t kids = Mark();
    while (pos_ < lines_.size() && lines_[pos_].indent == indent && lines_[pos_].text.rfind("- ", 0) == 0) {
      Line& line = lines_[pos_];
      std::string_view content = line.text.substr(2);
      int col = indent + 2;
      if (content.empty() || content[0] == ' ') return -1;
      int32_t item;
      if (content[0] != '{' && content[0] != '[' && content[0] != '"' && KeyLength(content) > 0) {
        // `- key: value` starts a block map at the item's column.
        line.text = content;
        line.indent = col;
        item = ParseBlockMap(col);
      } else {
        size_t used = 0;
        item = ParseInline(content, line.line0, col, false, &used);
        if (item >= 0 && used != content.size()) item = -1;
        ++pos_;
      }
      if (item < 0) return -1;
      stack_.push_back(item);
    }
    if (pos_ < lines_.size() && lines_[pos_].indent > indent) return -1;
    SetKids(seq, kids);
    return seq;
  }

  /// A value on one line: a flow map or list, a quoted or plain scalar.
  /// `flow`: inside a flow collection (a plain scalar ends at `,` `]` `}`).
  int32_t ParseInline(std::string_view s, int line0, int col, bool flow, size_t* used) {
    if (s.empty()) return -1;
    if (s[0] == '{') return ParseFlow(s, line0, col, true, used);
    if (s[0] == '[') return ParseFlow(s, line0, col, false, used);
    if (s[0] == '"') return ParseQuoted(s, line0, col, used);
    size_t i = 0;
    while (i < s.size() && !(flow && (s[i] == ',' || s[i] == ']' || s[i] == '}'))) ++i;
    std::string_view text = s.substr(0, i);
    if (text == "~") {
      *used = i;
      return NewNode(Document::Kind::kNull, line0, col);
    }
    for (char c : text)
      if (!IsPlainChar(c)) return -1;
    if (text.empty() || text[0] == '-' || text[0] == ':' || text.back() == ':') {
      // `-1` is a number yaml-cpp reads as the same text; other leading indicators are not the writer's.
      if (text.empty() || text[0] != '-' || text.size() < 2 || text[1] < '0' || text[1] > '9') return -1;
    }
    *used = i;
    if (IsNullText(text)) return NewNode(Document::Kind::kNull, line0, col);
    int32_t n = NewNode(Document::Kind::kScalar, line0, col);
    doc_.nodes_[size_t(n)].scalar = text;
    return n;
  }

  int32_t ParseFlow(std::string_view s, int line0, int col, bool map, size_t* used) {
    int32_t node = NewNode(map ? Document::Kind::kMap : Document::Kind::kSeq, line0, col);
    size_t kids = Mark();
    char close = map ? '}' : ']';
    size_t i = 1;
    if (i < s.size() && s[i] == close) {
      *used = 2;
      SetKids(node, kids);
      return node;
    }
    for (;;) {
      if (map) {
        size_t k = KeyLength(s.substr(i));
        if (k == 0 || i + k + 1 >= s.size() || s[i + k + 1] != ' ') return -1;
        int32_t key = NewNode(Document::Kind::kScalar, line0, col + int(i));
        doc_.nodes_[size_t(key)].scalar = s.substr(i, k);
        stack_.push_back(key);
        i += k + 2;
      }
      size_t n = 0;
      int32_t value = ParseInline(s.substr(i), line0, col + int(i), true, &n);
      if (value < 0) return -1;
      stack_.push_back(value);
      i += n;
      if (i < s.size() && s[i] == close) {
        *used = i + 1;
        SetKids(node, kids);
        return node;
      }
      if (i + 1 >= s.size() || s[i] != ',' || s[i + 1] != ' ') return -1;
      i += 2;
    }
  }

  /// A double-quoted scalar on one line; escapes decoded into the document.
  int32_t ParseQuoted(std::string_view s, int line0, int col, size_t* used) {
    size_t i = 1;
    bool escaped = false;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        escaped = true;
        if (i + 1 >= s.size()) return -1;
        i += 2;
      } else {
        ++i;
      }
    }
    if (i >= s.size()) return -1;  // continues on the next line: yaml-cpp's business
    std::string_view body = s.substr(1, i - 1);
    *used = i + 1;
    int32_t n = NewNode(Document::Kind::kScalar, line0, col);
    Document::Data& d = doc_.nodes_[size_t(n)];
    d.quoted = true;
    if (!escaped) {
      d.scalar = body;
      return n;
    }
    std::string& out = scratch_;
    out.clear();
    for (size_t j = 0; j < body.size(); ++j) {
      char c = body[j];
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = body[++j];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        case 'x':
        case 'u':
        case 'U': {
          size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (j + digits >= body.size()) return -1;
          uint32_t cp = 0;
          for (size_t k = 1; k <= digits; ++k) {
            int h = HexValue(body[j + k]);
            if (h < 0) return -1;
            cp = cp << 4 | uint32_t(h);
          }
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
          AppendUtf8(out, cp);
          j += digits;
          break;
        }
        default:
          return -1;  // other escapes: yaml-cpp's business
      }
    }
    // Decoded text is never longer than the text: one buffer of that size
    // never reallocates, so views into it stay valid.
    if (!doc_.decoded_) doc_.decoded_ = std::make_unique<std::string>();
    if (doc_.decoded_->empty()) doc_.decoded_->reserve(text_.size());  // before the first view of this parse
    size_t at = doc_.decoded_->size();
    doc_.decoded_->append(out);
    doc_.nodes_[size_t(n)].scalar = std::string_view(doc_.decoded_->data() + at, out.size());
    return n;
  }

  std::string_view text_;
  Document& doc_;
  std::vector<Line>& lines_;
  size_t pos_ = 0;
  std::vector<int32_t>& stack_;
  std::string& scratch_;
};

std::optional<Document> Document::Parse(std::string_view text) {
  Document doc;
  if (!doc.Assign(text)) return std::nullopt;
  return doc;
}

bool Document::Assign(std::string_view text) {
  thread_local Parser::Scratch scratch;
  nodes_.clear();
  kids_.clear();
  if (decoded_) decoded_->clear();
  if (Parser(text, *this, scratch).Run()) return true;
  nodes_.clear();
  kids_.clear();
  return false;
}

bool Node::IsNull() const { return IsDefined() && doc_->nodes_[size_t(index_)].kind == Document::Kind::kNull; }
bool Node::IsScalar() const { return IsDefined() && doc_->nodes_[size_t(index_)].kind == Document::Kind::kScalar; }
bool Node::IsMap() const { return IsDefined() && doc_->nodes_[size_t(index_)].kind == Document::Kind::kMap; }
bool Node::IsSequence() const { return IsDefined() && doc_->nodes_[size_t(index_)].kind == Document::Kind::kSeq; }
std::string_view Node::Scalar() const { return IsScalar() ? doc_->nodes_[size_t(index_)].scalar : std::string_view(); }
std::string_view Node::Tag() const { return IsScalar() && doc_->nodes_[size_t(index_)].quoted ? "!" : "?"; }
int Node::Line0() const { return IsDefined() ? doc_->nodes_[size_t(index_)].line0 : -1; }
int Node::Col0() const { return IsDefined() ? doc_->nodes_[size_t(index_)].col0 : -1; }

size_t Node::size() const {
  if (!IsMap() && !IsSequence()) return 0;
  const Document::Data& d = doc_->nodes_[size_t(index_)];
  return IsMap() ? d.count / 2 : d.count;
}

Node Node::operator[](std::string_view key) const {
  if (!IsMap()) return Node();
  const Document::Data& d = doc_->nodes_[size_t(index_)];
  for (uint32_t i = 0; i < d.count; i += 2) {
    int32_t k = doc_->kids_[d.first + i];
    if (doc_->nodes_[size_t(k)].kind == Document::Kind::kScalar && doc_->nodes_[size_t(k)].scalar == key)
      return Node(doc_, doc_->kids_[d.first + i + 1]);
  }
  return Node();
}

Node::Iterator Node::begin() const {
  if (!IsMap() && !IsSequence()) return Iterator(doc_, nullptr, false);
  const Document::Data& d = doc_->nodes_[size_t(index_)];
  return Iterator(doc_, doc_->kids_.data() + d.first, IsMap());
}

Node::Iterator Node::end() const {
  if (!IsMap() && !IsSequence()) return Iterator(doc_, nullptr, false);
  const Document::Data& d = doc_->nodes_[size_t(index_)];
  return Iterator(doc_, doc_->kids_.data() + d.first + d.count, IsMap());
}

Node::Item Node::Iterator::operator*() const {
  if (map_) return Item(Node(), Node(doc_, at_[0]), Node(doc_, at_[1]));
  return Item(Node(doc_, at_[0]), Node(), Node());
}

}  // namespace netdsl::runtime::lite
