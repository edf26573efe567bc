// netdsl.lock parsing (with source locations for diagnostics) and printing.
#include "compiler/alloc/lock_file.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cctype>
#include <cstring>
#include <set>

#include "common/fabric/names.h"
#include "common/net/address.h"
#include "compiler/diag/diagnostics.h"
#include "llvm/Support/MemoryBuffer.h"

namespace netdsl::alloc {
namespace {

constexpr const char* kSectionNames[kLockSectionCount] = {
    "vsid", "rdid", "provider_address", "customer_address", "mac", "port_id", "switch_ifname", "gateway_address",
    "gateway_customer_address", "released_port_id", "released_mac"};

using ValueType = LockValueType;
ValueType TypeOf(LockSection s) { return LockValueTypeOf(s); }

/// Maps yaml-cpp marks to SMRanges inside the lock's buffer.
class Locator {
 public:
  Locator(const char* begin, size_t size) : begin_(begin), size_(size) {}
  llvm::SMRange At(const YAML::Mark& mark, size_t length) const {
    if (mark.pos < 0 || size_t(mark.pos) > size_) return {};
    size_t start = size_t(mark.pos);
    size_t end = start;
    while (end < size_ && end - start < length && begin_[end] != '\n') ++end;
    return {llvm::SMLoc::getFromPointer(begin_ + start), llvm::SMLoc::getFromPointer(begin_ + end)};
  }
  llvm::SMRange Of(const YAML::Node& node) const {
    size_t length = node.IsScalar() ? std::max<size_t>(node.Scalar().size(), 1) : 1;
    if (node.IsScalar() && node.Tag() == "!") length += 2;  // quoted
    return At(node.Mark(), length);
  }

 private:
  const char* begin_;
  size_t size_;
};

const char* KindName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Null: return "null";
    default: return "nothing";
  }
}

bool ParseId(const YAML::Node& n, uint64_t* out) {
  if (!n.IsScalar() || n.Tag() != "?") return false;
  const std::string& s = n.Scalar();
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  *out = v;
  return true;
}

bool ValidIfname(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

/// A key that YAML reads back as the same plain scalar in block context.
bool SafePlainKey(std::string_view k) { return LockKeyIsPlain(k); }

/// A YAML double-quoted scalar: `"` and `\` escaped, control characters as \xNN.
std::string QuoteYaml(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

/// The canonical text of a lock value, or nullopt when it has the wrong type.
/// `plain` tells whether the scalar was unquoted (ids must be).
std::optional<std::string> Canonical(ValueType type, const std::string& s, bool plain, std::string* expected) {
  switch (type) {
    case ValueType::Id: {
      bool digits = plain && !s.empty() && s.size() <= 19;
      for (char c : s) digits = digits && c >= '0' && c <= '9';
      if (digits) return std::to_string(std::stoull(s));
      *expected = "an unsigned integer";
      return std::nullopt;
    }
    case ValueType::Ip:
      if (auto ip = net::ParseIp(s)) return ip->ToString();
      *expected = "an IPv4 or IPv6 address";
      return std::nullopt;
    case ValueType::Mac:
      if (auto mac = net::ParseMac(s)) return mac->ToString();
      *expected = "a MAC address";
      return std::nullopt;
    case ValueType::Ifname:
      if (ValidIfname(s)) return s;
      *expected = "a Linux interface name (at most 15 bytes of letters, digits, `-`, `_`, `.`)";
      return std::nullopt;
  }
  return std::nullopt;
}

/// Parses the exact layout PrintLockFile writes, line by line, without
/// building a YAML tree. Returns nullopt on anything else (hand edits, errors,
/// duplicates), and the caller then parses with yaml-cpp, which reports
/// precise diagnostics.
std::optional<LockFile> FastParse(const char* begin, size_t size) {
  LockFile lock;
  std::string_view text(begin, size);
  int section = -2;  // -2 none, -1 hosts, else allocation section
  bool saw_format = false, saw_revision = false;
  auto range = [&](size_t offset, size_t length) {
    return llvm::SMRange(llvm::SMLoc::getFromPointer(begin + offset),
                         llvm::SMLoc::getFromPointer(begin + offset + length));
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    size_t line_start = pos;
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    if (line[0] != ' ') {
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) return std::nullopt;
      std::string_view name = line.substr(0, colon), rest = line.substr(colon + 1);
      if (name == "format") {
        if ((rest != " 1" && rest != " 2") || saw_format) return std::nullopt;
        saw_format = true;
        section = -2;
        continue;
      }
      if (name == "revision") {
        std::string ignored;
        auto r = rest.size() > 1 && rest[0] == ' ' ? Canonical(ValueType::Id, std::string(rest.substr(1)), true, &ignored)
                                                   : std::nullopt;
        if (!r || saw_revision) return std::nullopt;
        lock.revision = std::stoull(*r);
        saw_revision = true;
        section = -2;
        continue;
      }
      if (!rest.empty() && rest != " {}") return std::nullopt;
      if (name == "hosts") section = -1;
      else {
        section = -3;
        for (size_t s = 0; s < kLockSectionCount; ++s)
          if (name == kSectionNames[s]) section = int(s);
        if (section == -3) return std::nullopt;
      }
      if (!rest.empty()) section = -2;
      continue;
    }
    if (section == -2 || line.size() < 3 || line[1] != ' ' || line[2] == ' ') return std::nullopt;
    size_t k = 2;
    std::string key;
    if (line[k] == '"') {
      for (++k; k < line.size() && line[k] != '"'; ++k) {
        if (line[k] == '\\') {
          if (++k >= line.size() || (line[k] != '"' && line[k] != '\\')) return std::nullopt;
        }
        key.push_back(line[k]);
      }
      if (k >= line.size()) return std::nullopt;
      ++k;
      if (line.substr(k, 2) != ": ") return std::nullopt;
    } else {
      size_t sep = line.find(": ", k);
      if (sep == std::string_view::npos) return std::nullopt;
      key = std::string(line.substr(k, sep - k));
      if (!SafePlainKey(key)) return std::nullopt;
      k = sep;
    }
    llvm::SMRange key_range = range(line_start + 2, k - 2);
    k += 2;
    std::string_view value = line.substr(k);
    if (section == -1) {
      // {generation: N, ir_hash: HEX}
      constexpr std::string_view kGen = "{generation: ", kHash = ", ir_hash: ";
      if (value.substr(0, kGen.size()) != kGen || value.back() != '}') return std::nullopt;
      size_t comma = value.find(kHash);
      if (comma == std::string_view::npos) return std::nullopt;
      std::string gen(value.substr(kGen.size(), comma - kGen.size()));
      std::string hash(value.substr(comma + kHash.size(), value.size() - 1 - comma - kHash.size()));
      std::string ignored;
      auto g = Canonical(ValueType::Id, gen, true, &ignored);
      bool hex = hash.size() == 64;
      for (char c : hash) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
      if (!g || *g == "0" || !hex) return std::nullopt;
      LockHost host;
      host.generation = std::stoull(*g);
      host.ir_hash = std::move(hash);
      host.range = key_range;
      if (!lock.hosts.emplace(std::move(key), std::move(host)).second) return std::nullopt;
      continue;
    }
    bool plain = value.empty() || value[0] != '"';
    std::string scalar;
    if (plain) {
      scalar = std::string(value);
    } else {
      if (value.size() < 2 || value.back() != '"') return std::nullopt;
      scalar = std::string(value.substr(1, value.size() - 2));
      if (scalar.find_first_of("\"\\") != std::string::npos) return std::nullopt;
    }
    std::string ignored;
    auto canonical = Canonical(TypeOf(LockSection(section)), scalar, plain, &ignored);
    if (!canonical) return std::nullopt;
    LockEntry entry{std::move(*canonical), key_range, range(line_start + k, value.size())};
    if (!lock.sections[size_t(section)].emplace(std::move(key), std::move(entry)).second) return std::nullopt;
  }
  if (!saw_format) return std::nullopt;
  return lock;
}

}  // namespace

const char* LockSectionName(LockSection section) { return kSectionNames[size_t(section)]; }

LockValueType LockValueTypeOf(LockSection section) {
  switch (section) {
    case LockSection::Vsid:
    case LockSection::Rdid:
    case LockSection::PortId:
    case LockSection::ReleasedPortId:
    case LockSection::ReleasedMac:
      return LockValueType::Id;
    case LockSection::ProviderAddress:
    case LockSection::CustomerAddress:
    case LockSection::GatewayAddress:
    case LockSection::GatewayCustomerAddress:
      return LockValueType::Ip;
    case LockSection::Mac:
      return LockValueType::Mac;
    case LockSection::SwitchIfname:
      return LockValueType::Ifname;
  }
  return LockValueType::Id;
}

std::string QuoteName(std::string_view name) { return fabric::QuoteName(name); }

std::string LockQuoted(std::string_view s) { return QuoteYaml(s); }

std::optional<LockFile> ParseLockFile(std::string_view text, const std::string& path,
                                      DiagnosticEngine& diags) {
  auto& sm = diags.sources();
  unsigned id = sm.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(text.data(), text.size()), path), llvm::SMLoc());
  const llvm::MemoryBuffer* buffer = sm.getMemoryBuffer(id);
  Locator loc(buffer->getBufferStart(), buffer->getBufferSize());
  llvm::SMRange file_start = loc.At(YAML::Mark(), 1);
  if (auto fast = FastParse(buffer->getBufferStart(), buffer->getBufferSize())) {
    fast->path = path;
    return fast;
  }

  YAML::Node root;
  try {
    root = YAML::Load(std::string(buffer->getBuffer()));
  } catch (const YAML::Exception& e) {
    diags.Report(DiagKind::LockSyntax, loc.At(e.mark, 1),
                 "`" + path + "` is not valid YAML: " + e.msg +
                     "; restore it from version control or delete it to allocate everything anew");
    return std::nullopt;
  }
  if (!root.IsMap()) {
    diags.Report(DiagKind::LockSchema, root.IsDefined() && !root.IsNull() ? loc.Of(root) : file_start,
                 std::string(path + " must be a map with `format: 1` and allocation sections, found ") +
                     KindName(root));
    return std::nullopt;
  }

  bool ok = true;
  LockFile lock;
  bool saw_format = false;
  // Duplicate keys: yaml-cpp keeps every pair of a map, so detect them here.
  auto check_duplicate = [&](std::map<std::string, llvm::SMRange>& seen, const YAML::Node& key,
                             const std::string& where) {
    auto range = loc.Of(key);
    auto [it, inserted] = seen.emplace(key.Scalar(), range);
    if (inserted) return false;
    diags.Report(DiagKind::LockDuplicateKey, range,
                 "key `" + key.Scalar() + "` appears twice in " + where + " of " + path)
        .Note(it->second, "first given here");
    ok = false;
    return true;
  };

  std::map<std::string, llvm::SMRange> top_seen;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node& key = it->first;
    const YAML::Node& value = it->second;
    if (!key.IsScalar()) {
      diags.Report(DiagKind::LockSchema, loc.Of(key), path + " keys must be plain names");
      ok = false;
      continue;
    }
    if (check_duplicate(top_seen, key, "the top level")) continue;
    const std::string& name = key.Scalar();
    if (name == "format") {
      uint64_t format = 0;
      if (!ParseId(value, &format) || format < 1 || format > kLockFormat) {
        diags.Report(DiagKind::LockSchema, loc.Of(value),
                     path + " has format `" + (value.IsScalar() ? value.Scalar() : std::string("?")) +
                         "`; this netdslc reads formats 1 and 2");
        ok = false;
      }
      saw_format = true;
      continue;
    }
    if (name == "revision") {
      if (!ParseId(value, &lock.revision)) {
        diags.Report(DiagKind::LockSchema, loc.Of(value), "`revision` of " + path + " must be an unsigned integer");
        ok = false;
      }
      continue;
    }
    if (value.IsNull()) continue;  // an empty section
    if (!value.IsMap()) {
      diags.Report(DiagKind::LockSchema, loc.Of(value),
                   "section `" + name + "` of " + path + " must be a map, found " + KindName(value));
      ok = false;
      continue;
    }
    std::map<std::string, llvm::SMRange> seen;
    if (name == "hosts") {
      for (auto h = value.begin(); h != value.end(); ++h) {
        if (!h->first.IsScalar()) {
          diags.Report(DiagKind::LockSchema, loc.Of(h->first), path + " keys must be plain names");
          ok = false;
          continue;
        }
        if (check_duplicate(seen, h->first, "`hosts`")) continue;
        const YAML::Node& body = h->second;
        LockHost host;
        host.range = loc.Of(h->first);
        bool host_ok = body.IsMap();
        bool saw_generation = false, saw_hash = false;
        std::map<std::string, llvm::SMRange> fields;
        if (host_ok) {
          for (auto f = body.begin(); f != body.end(); ++f) {
            if (!f->first.IsScalar()) { host_ok = false; break; }
            if (check_duplicate(fields, f->first, "`" + h->first.Scalar() + "`")) continue;
            const std::string& field = f->first.Scalar();
            if (field == "generation") {
              uint64_t g = 0;
              if (!ParseId(f->second, &g) || g == 0) {
                diags.Report(DiagKind::LockSchema, loc.Of(f->second),
                             "`generation` of `" + h->first.Scalar() + "` must be a positive integer");
                ok = false;
              }
              host.generation = g;
              saw_generation = true;
            } else if (field == "ir_hash") {
              bool hex = f->second.IsScalar() && f->second.Scalar().size() == 64;
              if (hex)
                for (char c : f->second.Scalar()) hex = hex && std::isxdigit(static_cast<unsigned char>(c)) &&
                                                        !std::isupper(static_cast<unsigned char>(c));
              if (!hex) {
                diags.Report(DiagKind::LockSchema, loc.Of(f->second),
                             "`ir_hash` of `" + h->first.Scalar() + "` must be 64 lowercase hex digits");
                ok = false;
              } else {
                host.ir_hash = f->second.Scalar();
              }
              saw_hash = true;
            } else {
              diags.Report(DiagKind::LockSchema, loc.Of(f->first),
                           "unknown key `" + field + "` in host entry `" + h->first.Scalar() +
                               "` of " + path + " (expected `generation` and `ir_hash`)");
              ok = false;
            }
          }
        }
        if (!host_ok || !saw_generation || !saw_hash) {
          diags.Report(DiagKind::LockSchema, body.IsMap() ? host.range : loc.Of(body),
                       "host entry `" + h->first.Scalar() +
                           "` of " + path + " must be a map with `generation` and `ir_hash`");
          ok = false;
          continue;
        }
        lock.hosts[h->first.Scalar()] = host;
      }
      continue;
    }
    size_t section = kLockSectionCount;
    for (size_t s = 0; s < kLockSectionCount; ++s)
      if (name == kSectionNames[s]) section = s;
    if (section == kLockSectionCount) {
      diags.Report(DiagKind::LockSchema, loc.Of(key),
                   "unknown section `" + name + "` in " + path + " (expected format, revision, hosts, vsid, rdid, "
                   "provider_address, customer_address, mac, port_id, switch_ifname, gateway_address, "
                   "gateway_customer_address, released_port_id, released_mac)");
      ok = false;
      continue;
    }
    auto type = TypeOf(LockSection(section));
    for (auto e = value.begin(); e != value.end(); ++e) {
      if (!e->first.IsScalar()) {
        diags.Report(DiagKind::LockSchema, loc.Of(e->first), path + " keys must be plain names");
        ok = false;
        continue;
      }
      if (check_duplicate(seen, e->first, "section `" + name + "`")) continue;
      const YAML::Node& v = e->second;
      LockEntry entry;
      entry.key_range = loc.Of(e->first);
      entry.value_range = loc.Of(v);
      std::string expected;
      if (v.IsScalar()) {
        if (auto canonical = Canonical(type, v.Scalar(), v.Tag() == "?", &expected)) entry.value = *canonical;
      } else {
        expected = std::string("a scalar, found ") + KindName(v);
      }
      if (!expected.empty()) {
        diags.Report(DiagKind::LockSchema, entry.value_range,
                     "`" + e->first.Scalar() + "` in section `" + name + "` of " + path + " must be " + expected);
        ok = false;
        continue;
      }
      lock.sections[section][e->first.Scalar()] = std::move(entry);
    }
  }
  if (!saw_format && ok) {
    diags.Report(DiagKind::LockSchema, file_start, path + " lacks `format: 2`");
    ok = false;
  }
  if (!ok) return std::nullopt;
  lock.path = path;
  return lock;
}

std::string PrintLockFile(const LockFile& lock) {
  // Written by hand rather than with YAML::Emitter: the layout is fixed, and a
  // lock of a million-NIC fabric must print (and re-parse, see FastParse) in
  // seconds. Keys that are not safe plain scalars are double-quoted.
  std::string out =
      "# generated by netdslc; commit this file\n"
      "# format: docs/lock.md; values here are kept across builds so that\n"
      "# adding or removing objects never renumbers others\n"
      "\n"
      "format: 2\n"
      "revision: " + std::to_string(lock.revision) + "\n";
  auto key = [&](const std::string& k) {
    out += "  ";
    out += SafePlainKey(k) ? k : QuoteYaml(k);
    out += ": ";
  };
  out += lock.hosts.empty() ? "hosts: {}\n" : "hosts:\n";
  for (const auto& [name, host] : lock.hosts) {
    key(name);
    out += "{generation: " + std::to_string(host.generation) + ", ir_hash: " + host.ir_hash + "}\n";
  }
  for (size_t s = 0; s < kLockSectionCount; ++s) {
    const auto& section = lock.sections[s];
    out += kSectionNames[s];
    out += section.empty() ? ": {}\n" : ":\n";
    bool numeric = TypeOf(LockSection(s)) == ValueType::Id;
    for (const auto& [k, entry] : section) {
      key(k);
      out += numeric ? entry.value : QuoteYaml(entry.value);
      out += '\n';
    }
  }
  return out;
}

LockDiff DiffLockFiles(const LockFile& before, const LockFile& after) {
  LockDiff diff;
  auto compare = [&](const char* section, const auto& a, const auto& b, auto same, auto text, auto range) {
    // Both maps are ordered by key: one merge pass in file order.
    auto x = a.begin(), y = b.begin();
    while (x != a.end() || y != b.end()) {
      if (y == b.end() || (x != a.end() && x->first < y->first)) {
        ++diff.removed;
        diff.changes.push_back({section, x->first, text(x->second), "", range(x->second)});
        ++x;
      } else if (x == a.end() || y->first < x->first) {
        ++diff.added;
        diff.changes.push_back({section, y->first, "", text(y->second), {}});
        ++y;
      } else {
        if (!same(x->second, y->second)) {
          ++diff.removed, ++diff.added;
          diff.changes.push_back({section, x->first, text(x->second), text(y->second), range(x->second)});
        }
        ++x, ++y;
      }
    }
  };
  for (size_t s = 0; s < kLockSectionCount; ++s)
    compare(kSectionNames[s], before.sections[s], after.sections[s],
            [](const LockEntry& x, const LockEntry& y) { return x.value == y.value; },
            [](const LockEntry& e) { return e.value; }, [](const LockEntry& e) { return e.value_range; });
  compare("hosts", before.hosts, after.hosts,
          [](const LockHost& x, const LockHost& y) { return x.generation == y.generation && x.ir_hash == y.ir_hash; },
          [](const LockHost& h) { return "generation " + std::to_string(h.generation); },
          [](const LockHost& h) { return h.range; });
  return diff;
}

}  // namespace netdsl::alloc
