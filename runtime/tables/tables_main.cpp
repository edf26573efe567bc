// `netdsl tables verify|dump|diff|trace`: inspect dataplane table images.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/net/address.h"
#include "runtime/cli/commands.h"
#include "runtime/tables/render.h"

namespace netdsl::runtime {
namespace {

using tables::Image;

constexpr int kUsage = 64;

// One usage text per subcommand: `netdsl tables SUB --help` prints its own,
// `netdsl tables --help` (and any usage error) all of them.
struct Subcommand {
  const char* name;
  const char* usage;
};
constexpr Subcommand kSubcommands[] = {
    {"verify",
     "usage: netdsl tables verify IMAGE...\n"
     "  check every offset, length and checksum; one `ok` line per image (exit 0 all ok, 1 any fails)\n"},
    {"dump",
     "usage: netdsl tables dump IMAGE [--json]\n"
     "  header, section directory and every entry, deterministic (exit 0, 1 unreadable)\n"},
    {"diff",
     "usage: netdsl tables diff A B\n"
     "  entry-level changes from A to B (exit 0 same, 2 different, 1 errors)\n"},
    {"trace",
     "usage: netdsl tables trace IMAGE --port ID --dst ADDRESS [--dst-mac MAC] [--src-mac MAC]\n"
     "                           [--packet data|dhcp-offer|router-advertisement]\n"
     "  one packet through the tables, hop by hop (exit 0 delivered or forwarded, 1 dropped or errors)\n"},
};

void Usage(FILE* out) {
  std::fputs("usage: netdsl tables verify|dump|diff|trace ...   (`netdsl tables SUB --help` for one)\n", out);
  for (const Subcommand& sub : kSubcommands) std::fputs(sub.usage, out);
  std::fputs("usage errors exit 64; `--` ends the options (an IMAGE named `-x`)\n", out);
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "netdsl tables: error: %s\n", message.c_str());
  Usage(stderr);
  return kUsage;
}

/// Splits a subcommand's arguments into options and operands: `--` ends the
/// options; `-h`/`--help` anywhere before it asks for help.
struct Args {
  std::vector<std::string> items;   // in order, without the `--`
  std::vector<bool> operand;        // items[i] is an operand (not an option or its value)
  bool help = false;
};

bool IsOption(const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; }

Args Split(int argc, char** argv) {
  Args a;
  bool dashes = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!dashes && arg == "--") {
      dashes = true;
      continue;
    }
    if (!dashes && (arg == "--help" || arg == "-h")) a.help = true;
    a.items.push_back(arg);
    a.operand.push_back(dashes || !IsOption(arg));
  }
  return a;
}

int Help(const char* name) {
  for (const Subcommand& sub : kSubcommands)
    if (!std::strcmp(sub.name, name)) std::fputs(sub.usage, stdout);
  return 0;
}

std::shared_ptr<const Image> Load(const std::string& path) {
  std::string error;
  auto image = Image::Open(path, &error);
  if (!image) std::fprintf(stderr, "%s: error: %s\n", path.c_str(), error.c_str());
  return image;
}

std::string FieldText(const tables::Field& f) {
  return f.kind == tables::Field::Kind::kName ? "`" + f.value + "`" : f.value;
}

std::string EntryText(const tables::Entry& e) {
  std::string line = e.key + ":";
  for (const tables::Field& f : e.fields) line += " " + f.name + " " + FieldText(f);
  return line;
}

std::string EntryJson(const tables::Entry& e) {
  std::string out = "{\"key\": " + tables::JsonString(e.key);
  for (const tables::Field& f : e.fields)
    out += ", " + tables::JsonString(f.name) + ": " +
           (f.kind == tables::Field::Kind::kNumber ? f.value : tables::JsonString(f.value));
  return out + "}";
}

int Verify(int argc, char** argv) {
  Args args = Split(argc, argv);
  if (args.help) return Help("verify");
  std::vector<std::string> paths;
  for (size_t i = 0; i < args.items.size(); ++i) {
    if (!args.operand[i]) return UsageError("unknown option `" + args.items[i] + "`");
    paths.push_back(args.items[i]);
  }
  if (paths.empty()) return UsageError("`verify` needs at least one IMAGE");
  int status = 0;
  for (const std::string& path : paths) {
    auto image = Load(path);
    if (!image) {
      status = 1;
      continue;
    }
    std::printf("%s: ok: host `%s` generation %llu format %u.%u, %zu ports, %zu segments, %u lookup records, %zu routes\n",
                path.c_str(), std::string(image->host()).c_str(), (unsigned long long)image->generation(),
                image->header().major, image->header().minor, image->ports().size(), image->segments().size(),
                [&] {
                  uint32_t n = 0;
                  for (const auto& s : image->directory())
                    if (s.type == uint32_t(ndt::SectionType::kLookupCa)) n = s.count;
                  return n;
                }(),
                image->routes().size());
  }
  return status;
}

int Dump(int argc, char** argv) {
  Args args = Split(argc, argv);
  if (args.help) return Help("dump");
  std::string path;
  bool json = false;
  for (size_t i = 0; i < args.items.size(); ++i) {
    const std::string& arg = args.items[i];
    if (!args.operand[i] && arg == "--json") json = true;
    else if (!args.operand[i]) return UsageError("unknown option `" + arg + "`");
    else if (path.empty()) path = arg;
    else return UsageError("`dump` takes one IMAGE");
  }
  if (path.empty()) return UsageError("`dump` needs an IMAGE");
  auto image = Load(path);
  if (!image) return 1;
  tables::Entry header = tables::RenderHeader(*image);
  std::vector<tables::RenderedSection> sections = tables::Render(*image);
  std::string out;
  if (json) {
    out += "{\n  \"header\": " + EntryJson(header) + ",\n  \"directory\": [";
    bool first = true;
    for (const ndt::SectionEntry& s : image->directory()) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "%s\n    {\"section\": \"%s\", \"type\": %u, \"offset\": %llu, \"length\": %llu, \"count\": %u, "
                    "\"checksum\": \"0x%08x\"}",
                    first ? "" : ",", std::string(ndt::SectionName(s.type)).c_str(), s.type,
                    (unsigned long long)s.offset, (unsigned long long)s.length, s.count, s.checksum);
      out += buf;
      first = false;
    }
    out += "\n  ],\n  \"sections\": {";
    for (size_t i = 0; i < sections.size(); ++i) {
      out += (i ? ",\n    " : "\n    ") + tables::JsonString(sections[i].name) + ": [";
      for (size_t k = 0; k < sections[i].entries.size(); ++k)
        out += (k ? ",\n      " : "\n      ") + EntryJson(sections[i].entries[k]);
      out += sections[i].entries.empty() ? "]" : "\n    ]";
    }
    out += "\n  }\n}\n";
  } else {
    out += "image " + EntryText(header) + "\n";
    out += "directory:\n";
    for (const ndt::SectionEntry& s : image->directory()) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "  %-13s offset 0x%06llx length 0x%06llx count %u checksum 0x%08x\n",
                    std::string(ndt::SectionName(s.type)).c_str(), (unsigned long long)s.offset,
                    (unsigned long long)s.length, s.count, s.checksum);
      out += buf;
    }
    for (const tables::RenderedSection& s : sections) {
      out += s.name + " (" + std::to_string(s.entries.size()) + "):\n";
      for (const tables::Entry& e : s.entries) out += "  " + EntryText(e) + "\n";
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int Diff(int argc, char** argv) {
  Args args = Split(argc, argv);
  if (args.help) return Help("diff");
  std::vector<std::string> paths;
  for (size_t i = 0; i < args.items.size(); ++i) {
    if (!args.operand[i]) return UsageError("unknown option `" + args.items[i] + "`");
    paths.push_back(args.items[i]);
  }
  if (paths.size() != 2) return UsageError("`diff` takes two IMAGEs");
  auto a = Load(paths[0]);
  auto b = Load(paths[1]);
  if (!a || !b) return 1;
  std::string out;
  auto compare = [&](const std::string& section, const std::vector<tables::Entry>& xs,
                     const std::vector<tables::Entry>& ys) {
    std::map<std::string, const tables::Entry*> left, right;
    for (const auto& e : xs) left.emplace(e.key, &e);
    for (const auto& e : ys) right.emplace(e.key, &e);
    for (const auto& [key, e] : left) {
      auto it = right.find(key);
      if (it == right.end()) {
        out += "- " + section + ": " + EntryText(*e) + "\n";
        continue;
      }
      std::string changes;
      std::map<std::string, const tables::Field*> rf;
      for (const auto& f : it->second->fields) rf.emplace(f.name, &f);
      for (const auto& f : e->fields) {
        auto g = rf.find(f.name);
        std::string after = g == rf.end() ? "(none)" : FieldText(*g->second);
        if (g == rf.end() || g->second->value != f.value) changes += " " + f.name + " " + FieldText(f) + " -> " + after;
        if (g != rf.end()) rf.erase(g);
      }
      for (const auto& [name, f] : rf) changes += " " + name + " (none) -> " + FieldText(*f);
      if (!changes.empty()) out += "~ " + section + ":" + (key == section ? "" : " " + key + ":") + changes + "\n";
    }
    for (const auto& [key, e] : right)
      if (!left.count(key)) out += "+ " + section + ": " + EntryText(*e) + "\n";
  };
  tables::Entry ha = tables::RenderHeader(*a), hb = tables::RenderHeader(*b);
  ha.key = hb.key = "header";
  compare("header", {ha}, {hb});
  std::vector<tables::RenderedSection> sa = tables::Render(*a), sb = tables::Render(*b);
  for (size_t i = 0; i < sa.size(); ++i)
    if (!sa[i].derived) compare(sa[i].name, sa[i].entries, sb[i].entries);
  // The size follows from the entries; a size-only change would be noise.
  std::string filtered;
  size_t pos = 0;
  int changes = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    std::string line = out.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.rfind("~ header:", 0) == 0) {
      size_t s = line.find(" size ");
      if (s != std::string::npos) line.erase(s);  // size is the last field
      if (line == "~ header:") continue;
    }
    filtered += line + "\n";
    ++changes;
  }
  std::fwrite(filtered.data(), 1, filtered.size(), stdout);
  // Like `netdsl plan` (SPEC §5): 2 = they differ, 1 is kept for errors.
  return changes ? 2 : 0;
}

int TraceCommand(int argc, char** argv) {
  Args args = Split(argc, argv);
  if (args.help) return Help("trace");
  std::string path, port, dst, dst_mac, src_mac, kind = "data";
  for (size_t i = 0; i < args.items.size(); ++i) {
    const std::string& arg = args.items[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= args.items.size()) return false;
      into = args.items[++i];
      return true;
    };
    if (args.operand[i]) {
      if (!path.empty()) return UsageError("`trace` takes one IMAGE");
      path = arg;
      continue;
    }
    if (arg == "--port") {
      if (!value(port)) return UsageError("`--port` needs a value");
    } else if (arg == "--dst") {
      if (!value(dst)) return UsageError("`--dst` needs a value");
    } else if (arg == "--dst-mac") {
      if (!value(dst_mac)) return UsageError("`--dst-mac` needs a value");
    } else if (arg == "--src-mac") {
      if (!value(src_mac)) return UsageError("`--src-mac` needs a value");
    } else if (arg == "--packet") {
      if (!value(kind)) return UsageError("`--packet` needs a value");
    } else {
      return UsageError("unknown option `" + arg + "`");
    }
  }
  if (path.empty() || port.empty() || dst.empty()) return UsageError("`trace` needs IMAGE, --port and --dst");
  char* end = nullptr;
  errno = 0;
  unsigned long id = std::strtoul(port.c_str(), &end, 10);
  if (port[0] == '-' || *end || errno || id > UINT32_MAX) return UsageError("`--port` must be a port id, not `" + port + "`");
  if (!net::ParseIp(dst)) return UsageError("`--dst` must be an IPv4 or IPv6 address, not `" + dst + "`");
  if (!dst_mac.empty() && !net::ParseMac(dst_mac))
    return UsageError("`--dst-mac` must be a MAC address, not `" + dst_mac + "`");
  if (!src_mac.empty() && !net::ParseMac(src_mac))
    return UsageError("`--src-mac` must be a MAC address, not `" + src_mac + "`");
  tables::TracePacket packet;
  packet.dst = dst;
  packet.dst_mac = dst_mac;
  packet.src_mac = src_mac;
  if (kind == "dhcp-offer") packet.kind = tables::TracePacket::Kind::kDhcpOffer;
  else if (kind == "router-advertisement") packet.kind = tables::TracePacket::Kind::kRouterAdvertisement;
  else if (kind != "data")
    return UsageError("`--packet` must be `data`, `dhcp-offer` or `router-advertisement`, not `" + kind + "`");
  auto image = Load(path);
  if (!image) return 1;
  std::string out;
  int status = tables::Trace(*image, static_cast<uint32_t>(id), packet, &out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return status;
}

}  // namespace

int TablesMain(int argc, char** argv) {
  if (argc < 2) return UsageError("missing subcommand");
  std::string sub = argv[1];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    Usage(stdout);
    return 0;
  }
  if (sub == "verify") return Verify(argc - 1, argv + 1);
  if (sub == "dump") return Dump(argc - 1, argv + 1);
  if (sub == "diff") return Diff(argc - 1, argv + 1);
  if (sub == "trace") return TraceCommand(argc - 1, argv + 1);
  return UsageError("unknown subcommand `" + sub + "`");
}

}  // namespace netdsl::runtime
