// netdsl.lock parsing (with source locations for diagnostics) and printing.
#include "compiler/alloc/lock_file.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <set>

#include "common/net/address.h"
#include "compiler/diag/diagnostics.h"
#include "llvm/Support/MemoryBuffer.h"

namespace netdsl::alloc {
namespace {

constexpr const char* kSectionNames[kLockSectionCount] = {
    "vsid", "rdid", "provider_address", "customer_address",
    "mac",  "port_id", "switch_ifname", "gateway_address"};

enum class ValueType { Id, Ip, Mac, Ifname };

ValueType TypeOf(LockSection s) {
  switch (s) {
    case LockSection::Vsid:
    case LockSection::Rdid:
    case LockSection::PortId:
      return ValueType::Id;
    case LockSection::ProviderAddress:
    case LockSection::CustomerAddress:
    case LockSection::GatewayAddress:
      return ValueType::Ip;
    case LockSection::Mac:
      return ValueType::Mac;
    case LockSection::SwitchIfname:
      return ValueType::Ifname;
  }
  return ValueType::Id;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

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

}  // namespace

const char* LockSectionName(LockSection section) { return kSectionNames[size_t(section)]; }

std::string QuoteName(std::string_view name) {
  if (IsIdentifier(name)) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::optional<LockFile> ParseLockFile(std::string_view text, const std::string& path,
                                      DiagnosticEngine& diags) {
  auto& sm = diags.sources();
  unsigned id = sm.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(text.data(), text.size()), path), llvm::SMLoc());
  const llvm::MemoryBuffer* buffer = sm.getMemoryBuffer(id);
  Locator loc(buffer->getBufferStart(), buffer->getBufferSize());
  llvm::SMRange file_start = loc.At(YAML::Mark(), 1);

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
                 std::string("netdsl.lock must be a map with `format: 1` and allocation sections, found ") +
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
                 "key `" + key.Scalar() + "` appears twice in " + where + " of netdsl.lock")
        .Note(it->second, "first given here");
    ok = false;
    return true;
  };

  std::map<std::string, llvm::SMRange> top_seen;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node& key = it->first;
    const YAML::Node& value = it->second;
    if (!key.IsScalar()) {
      diags.Report(DiagKind::LockSchema, loc.Of(key), "netdsl.lock keys must be plain names");
      ok = false;
      continue;
    }
    if (check_duplicate(top_seen, key, "the top level")) continue;
    const std::string& name = key.Scalar();
    if (name == "format") {
      uint64_t format = 0;
      if (!ParseId(value, &format) || format != 1) {
        diags.Report(DiagKind::LockSchema, loc.Of(value),
                     "netdsl.lock has format `" + (value.IsScalar() ? value.Scalar() : std::string("?")) +
                         "`; this netdslc reads format 1");
        ok = false;
      }
      saw_format = true;
      continue;
    }
    if (value.IsNull()) continue;  // an empty section
    if (!value.IsMap()) {
      diags.Report(DiagKind::LockSchema, loc.Of(value),
                   "section `" + name + "` of netdsl.lock must be a map, found " + KindName(value));
      ok = false;
      continue;
    }
    std::map<std::string, llvm::SMRange> seen;
    if (name == "hosts") {
      for (auto h = value.begin(); h != value.end(); ++h) {
        if (!h->first.IsScalar()) {
          diags.Report(DiagKind::LockSchema, loc.Of(h->first), "netdsl.lock keys must be plain names");
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
                               "` of netdsl.lock (expected `generation` and `ir_hash`)");
              ok = false;
            }
          }
        }
        if (!host_ok || !saw_generation || !saw_hash) {
          diags.Report(DiagKind::LockSchema, body.IsMap() ? host.range : loc.Of(body),
                       "host entry `" + h->first.Scalar() +
                           "` of netdsl.lock must be a map with `generation` and `ir_hash`");
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
                   "unknown section `" + name + "` in netdsl.lock (expected format, hosts, vsid, rdid, "
                   "provider_address, customer_address, mac, port_id, switch_ifname, gateway_address)");
      ok = false;
      continue;
    }
    auto type = TypeOf(LockSection(section));
    for (auto e = value.begin(); e != value.end(); ++e) {
      if (!e->first.IsScalar()) {
        diags.Report(DiagKind::LockSchema, loc.Of(e->first), "netdsl.lock keys must be plain names");
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
        const std::string& s = v.Scalar();
        switch (type) {
          case ValueType::Id: {
            uint64_t id = 0;
            if (ParseId(v, &id)) entry.value = std::to_string(id);
            else expected = "an unsigned integer";
            break;
          }
          case ValueType::Ip:
            if (auto ip = net::ParseIp(s)) entry.value = ip->ToString();
            else expected = "an IPv4 or IPv6 address";
            break;
          case ValueType::Mac:
            if (auto mac = net::ParseMac(s)) entry.value = mac->ToString();
            else expected = "a MAC address";
            break;
          case ValueType::Ifname:
            if (ValidIfname(s)) entry.value = s;
            else expected = "a Linux interface name (at most 15 bytes of letters, digits, `-`, `_`, `.`)";
            break;
        }
      } else {
        expected = std::string("a scalar, found ") + KindName(v);
      }
      if (!expected.empty()) {
        diags.Report(DiagKind::LockSchema, entry.value_range,
                     "`" + e->first.Scalar() + "` in section `" + name + "` of netdsl.lock must be " + expected);
        ok = false;
        continue;
      }
      lock.sections[section][e->first.Scalar()] = std::move(entry);
    }
  }
  if (!saw_format && ok) {
    diags.Report(DiagKind::LockSchema, file_start, "netdsl.lock lacks `format: 1`");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return lock;
}

std::string PrintLockFile(const LockFile& lock) {
  YAML::Emitter out;
  out << YAML::Comment("generated by netdslc; commit this file") << YAML::Newline;
  out << YAML::Comment("format: docs/lock.md; values here are kept across builds so that") << YAML::Newline;
  out << YAML::Comment("adding or removing objects never renumbers others") << YAML::Newline;
  out << YAML::BeginMap;
  out << YAML::Key << "format" << YAML::Value << 1;
  out << YAML::Key << "hosts" << YAML::Value;
  if (lock.hosts.empty()) {
    out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
  } else {
    out << YAML::BeginMap;
    for (const auto& [name, host] : lock.hosts) {
      out << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "generation" << YAML::Value << host.generation;
      out << YAML::Key << "ir_hash" << YAML::Value << host.ir_hash;
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  for (size_t s = 0; s < kLockSectionCount; ++s) {
    out << YAML::Key << kSectionNames[s] << YAML::Value;
    const auto& section = lock.sections[s];
    if (section.empty()) {
      out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
      continue;
    }
    out << YAML::BeginMap;
    bool numeric = TypeOf(LockSection(s)) == ValueType::Id;
    for (const auto& [key, entry] : section) {
      out << YAML::Key << key << YAML::Value;
      if (numeric) out << std::stoull(entry.value);
      else out << YAML::DoubleQuoted << entry.value;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  std::string text = out.c_str();
  text.push_back('\n');
  return text;
}

LockDiff DiffLockFiles(const LockFile& before, const LockFile& after) {
  LockDiff diff;
  auto count = [&](const auto& a, const auto& b, auto same) {
    for (const auto& [key, value] : a) {
      auto it = b.find(key);
      if (it == b.end() || !same(value, it->second)) ++diff.removed;
    }
    for (const auto& [key, value] : b) {
      auto it = a.find(key);
      if (it == a.end() || !same(it->second, value)) ++diff.added;
    }
  };
  for (size_t s = 0; s < kLockSectionCount; ++s)
    count(before.sections[s], after.sections[s],
          [](const LockEntry& x, const LockEntry& y) { return x.value == y.value; });
  count(before.hosts, after.hosts, [](const LockHost& x, const LockHost& y) {
    return x.generation == y.generation && x.ir_hash == y.ir_hash;
  });
  return diff;
}

}  // namespace netdsl::alloc
