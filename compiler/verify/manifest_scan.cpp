// A strict JSON scanner (RFC 8259 grammar) that keeps two lists of strings.
#include "compiler/verify/manifest_scan.h"


namespace netdsl::verify {
namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  bool Manifest(ManifestNames* out) {
    out_ = out;
    Space();
    bool artifacts = false;
    if (!Object(0, [&](std::string_view key) -> bool {
          if (key == "artifacts") {
            artifacts = true;
            return List([&] { return Item("path", &out_->artifact_paths); }) || Fail();
          }
          if (key == "hosts") {
            Space();
            if (At('[')) out_->has_hosts = true;
            else return Value(1);
            return List([&] { return Item("name", &out_->host_names); }) || Fail();
          }
          return Value(1);
        }))
      return false;
    Space();
    return ok_ && at_ == s_.size() && artifacts;
  }

 private:
  bool Fail() { return ok_ = false; }
  bool At(char c) const { return at_ < s_.size() && s_[at_] == c; }
  void Space() {
    while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) ++at_;
  }
  bool Eat(char c) {
    Space();
    if (!At(c)) return false;
    ++at_;
    return true;
  }

  /// A string of printable ASCII with the short escapes; anything else is
  /// left to llvm::json (false). `raw`: the text between the quotes.
  bool String(std::string* out, std::string_view* raw = nullptr) {
    Space();
    if (!At('"')) return Fail();
    size_t start = ++at_;
    std::string value;
    while (at_ < s_.size()) {
      unsigned char c = uint8_t(s_[at_++]);
      if (c == '"') {
        if (out) *out = std::move(value);
        if (raw) *raw = s_.substr(start, at_ - 1 - start);
        return true;
      }
      if (c < 0x20 || c >= 0x80) return Fail();
      if (c != '\\') {
        if (out) value.push_back(char(c));
        continue;
      }
      if (at_ >= s_.size()) return Fail();
      switch (s_[at_++]) {
        case '"': value.push_back('"'); break;
        case '\\': value.push_back('\\'); break;
        case '/': value.push_back('/'); break;
        case 'b': value.push_back('\b'); break;
        case 'f': value.push_back('\f'); break;
        case 'n': value.push_back('\n'); break;
        case 'r': value.push_back('\r'); break;
        case 't': value.push_back('\t'); break;
        default: return Fail();  // \u and invalid escapes
      }
    }
    return Fail();
  }

  bool Digits() {
    size_t from = at_;
    while (at_ < s_.size() && s_[at_] >= '0' && s_[at_] <= '9') ++at_;
    return at_ > from;
  }
  bool Number() {
    if (At('-')) ++at_;
    if (At('0')) ++at_;
    else if (!Digits()) return Fail();
    if (At('.')) {
      ++at_;
      if (!Digits()) return Fail();
    }
    if (At('e') || At('E')) {
      ++at_;
      if (At('+') || At('-')) ++at_;
      if (!Digits()) return Fail();
    }
    return true;
  }
  bool Word(std::string_view w) {
    if (s_.substr(at_, w.size()) != w) return Fail();
    at_ += w.size();
    return true;
  }

  bool Value(int depth) {
    if (depth > 64) return Fail();
    Space();
    if (at_ >= s_.size()) return Fail();
    switch (s_[at_]) {
      case '{': return Object(depth, [&](std::string_view) { return Value(depth + 1); });
      case '[': return List([&] { return Value(depth + 1); });
      case '"': return String(nullptr);
      case 't': return Word("true");
      case 'f': return Word("false");
      case 'n': return Word("null");
      default: return Number();
    }
  }

  /// `{ "key": value, ... }`, each value read by member(key); a repeated
  /// key, a key with an escape or more than kKeys keys fail.
  template <typename Member>
  bool Object(int depth, const Member& member) {
    static constexpr size_t kKeys = 32;
    if (depth > 64 || !Eat('{')) return Fail();
    std::string_view keys[kKeys];
    size_t n = 0;
    if (Eat('}')) return true;
    do {
      std::string_view key;
      if (!String(nullptr, &key) || key.find('\\') != std::string_view::npos || n == kKeys) return Fail();
      for (size_t i = 0; i < n; ++i)
        if (keys[i] == key) return Fail();
      keys[n++] = key;
      if (!Eat(':') || !member(key)) return Fail();
    } while (Eat(','));
    return Eat('}') || Fail();
  }

  template <typename Element>
  bool List(const Element& element) {
    if (!Eat('[')) return Fail();
    if (Eat(']')) return true;
    do {
      if (!element()) return Fail();
    } while (Eat(','));
    return Eat(']') || Fail();
  }

  /// An element of `artifacts` or `hosts`: keeps its `key` when it is an object with that string.
  bool Item(const char* key, std::vector<std::string>* into) {
    Space();
    if (!At('{')) return Value(2);
    return Object(2, [&](std::string_view k) {
      Space();
      if (k == key && At('"')) {
        std::string value;
        if (!String(&value)) return false;
        into->push_back(std::move(value));
        return true;
      }
      return Value(3);
    });
  }

  std::string_view s_;
  size_t at_ = 0;
  bool ok_ = true;
  ManifestNames* out_ = nullptr;
};

}  // namespace

bool ScanManifest(std::string_view text, ManifestNames* out) {
  ManifestNames names;
  if (!Scanner(text).Manifest(&names)) return false;
  *out = std::move(names);
  return true;
}

}  // namespace netdsl::verify
