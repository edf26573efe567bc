// The diagnostics engine: registry lookups, collection, sorting, and text /
// JSON / SARIF 2.1.0 output.
#include "compiler/diag/diagnostics.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <tuple>

#include "common/io/bidi.h"
#include "llvm/Support/FormatVariadic.h"

#include "llvm/Support/JSON.h"

#ifndef NETDSL_VERSION_STRING
#define NETDSL_VERSION_STRING "0.1.0"
#endif

namespace netdsl {
namespace {

const DiagKindInfo kInfos[] = {
#define NETDSL_DIAG(NAME, CODE, SEVERITY, SUMMARY) {#NAME, CODE, Severity::SEVERITY, SUMMARY},
#include "compiler/diag/kinds.def"
#undef NETDSL_DIAG
};

const char* SeverityWord(Severity s) {
  switch (s) {
    case Severity::Note: return "note";
    case Severity::Warning: return "warning";
    case Severity::Error: return "error";
  }
  return "error";
}

llvm::SourceMgr::DiagKind ToSourceMgrKind(Severity s) {
  switch (s) {
    case Severity::Note: return llvm::SourceMgr::DK_Note;
    case Severity::Warning: return llvm::SourceMgr::DK_Warning;
    case Severity::Error: return llvm::SourceMgr::DK_Error;
  }
  return llvm::SourceMgr::DK_Error;
}

/// Position of a location: buffer index in load order and byte offset.
struct Position {
  unsigned buffer = 0;  // 0: no location
  size_t offset = 0;
};

Position PositionOf(const llvm::SourceMgr& sm, llvm::SMLoc loc) {
  if (!loc.isValid()) return {};
  unsigned id = sm.FindBufferContainingLoc(loc);
  if (!id) return {};
  return {id, size_t(loc.getPointer() - sm.getMemoryBuffer(id)->getBufferStart())};
}

struct LineCol {
  std::string file;
  unsigned line = 0, column = 0, end_line = 0, end_column = 0;
};

LineCol Locate(const llvm::SourceMgr& sm, llvm::SMRange range) {
  LineCol lc;
  if (!range.Start.isValid()) return lc;
  unsigned id = sm.FindBufferContainingLoc(range.Start);
  if (!id) return lc;
  lc.file = sm.getMemoryBuffer(id)->getBufferIdentifier().str();
  std::tie(lc.line, lc.column) = sm.getLineAndColumn(range.Start, id);
  llvm::SMLoc end = range.End.isValid() && sm.FindBufferContainingLoc(range.End) == id ? range.End : range.Start;
  std::tie(lc.end_line, lc.end_column) = sm.getLineAndColumn(end, id);
  return lc;
}

/// A SARIF artifactLocation.uri: percent-encoded, `file://` for absolute
/// paths, a relative reference otherwise.
std::string UriEscape(llvm::StringRef path) {
  std::string out = path.startswith("/") ? "file://" : "";
  for (unsigned char c : path) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~' || c == '/') {
      out += char(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

/// `text` with every Unicode bidi control replaced by its visible code
/// (`<U+202E>`): a message naming a hostile object must not reorder on a
/// terminal or in a CI annotation.
std::string WithoutBidiControls(std::string text) {
  size_t at = io::FindBidiControl(text);
  if (at == std::string::npos) return text;
  std::string out;
  size_t from = 0;
  for (; at != std::string::npos; at = io::FindBidiControl(text, from)) {
    char code[16];
    std::snprintf(code, sizeof code, "<U+%04X>", unsigned(io::BidiControlAt(text, at)));
    out.append(text, from, at - from);
    out += code;
    from = at + 3;
  }
  out.append(text, from, std::string::npos);
  return out;
}

/// The source line of a text diagnostic with each bidi control shown as `???`
/// (three bytes for three, so that columns, carets and ranges stay aligned).
llvm::SMDiagnostic WithPrintableLine(const llvm::SourceMgr& sm, const llvm::SMDiagnostic& d) {
  std::string line = d.getLineContents().str();
  size_t at = io::FindBidiControl(line);
  if (at == std::string::npos) return d;
  for (; at != std::string::npos; at = io::FindBidiControl(line, at + 3)) line.replace(at, 3, "???");
  return llvm::SMDiagnostic(sm, d.getLoc(), d.getFilename(), d.getLineNo(), d.getColumnNo(), d.getKind(),
                            d.getMessage(), line, d.getRanges(), d.getFixIts());
}

}  // namespace

const DiagKindInfo& Info(DiagKind kind) { return kInfos[size_t(kind)]; }

const std::vector<DiagKind>& AllDiagKinds() {
  static const std::vector<DiagKind> all = [] {
    std::vector<DiagKind> v;
    for (size_t i = 0; i < std::size(kInfos); ++i) v.push_back(DiagKind(i));
    std::sort(v.begin(), v.end(), [](DiagKind a, DiagKind b) { return Info(a).code < Info(b).code; });
    return v;
  }();
  return all;
}

std::string CodeString(DiagKind kind) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "ND%04u", Info(kind).code);
  return buf;
}

DiagBuilder::~DiagBuilder() {
  if (engine_) engine_->Commit(std::move(d_));
}

DiagBuilder DiagnosticEngine::Report(DiagKind kind, llvm::SMRange range, std::string message) {
  return DiagBuilder(this, Diagnostic{kind, Info(kind).severity, range, std::move(message), {}, {}, {}});
}

void DiagnosticEngine::Commit(Diagnostic d) {
  d.message = WithoutBidiControls(std::move(d.message));
  for (auto& n : d.notes) n.message = WithoutBidiControls(std::move(n.message));
  std::lock_guard<std::mutex> lock(mu_);
  diags_.push_back(std::move(d));
}

unsigned DiagnosticEngine::ErrorCount() const {
  unsigned n = 0;
  for (const auto& d : Sorted()) n += d.severity == Severity::Error;
  return n;
}

unsigned DiagnosticEngine::WarningCount() const {
  unsigned n = 0;
  for (const auto& d : Sorted()) n += d.severity == Severity::Warning;
  return n;
}

bool DiagnosticEngine::HasErrors() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& d : diags_)
    if (d.severity == Severity::Error || (werror_ && d.severity == Severity::Warning)) return true;
  return false;
}

std::vector<Diagnostic> DiagnosticEngine::Sorted() const {
  std::vector<Diagnostic> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out = diags_;
  }
  for (auto& d : out)
    if (werror_ && d.severity == Severity::Warning) d.severity = Severity::Error;
  // Keys computed once (finding a location's buffer is not free).
  struct Key {
    unsigned buffer;
    size_t start, end;
    unsigned code;
    size_t index;
  };
  std::vector<Key> keys;
  keys.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    Position start = PositionOf(sources_, out[i].range.Start);
    Position end = PositionOf(sources_, out[i].range.End);
    keys.push_back({start.buffer, start.offset, end.offset, Info(out[i].kind).code, i});
  }
  std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
    if (a.buffer != b.buffer) return a.buffer < b.buffer;
    if (a.start != b.start) return a.start < b.start;
    if (a.end != b.end) return a.end < b.end;
    if (a.code != b.code) return a.code < b.code;
    if (int c = out[a.index].message.compare(out[b.index].message)) return c < 0;
    return a.index < b.index;  // stable: report order breaks remaining ties
  });
  std::vector<Diagnostic> ordered;
  ordered.reserve(out.size());
  for (const Key& k : keys) ordered.push_back(std::move(out[k.index]));
  out = std::move(ordered);
  auto same = [&](const Diagnostic& a, const Diagnostic& b) {
    if (a.kind != b.kind || a.message != b.message || a.range.Start != b.range.Start || a.range.End != b.range.End ||
        a.notes.size() != b.notes.size())
      return false;
    for (size_t i = 0; i < a.notes.size(); ++i)
      if (a.notes[i].message != b.notes[i].message || a.notes[i].range.Start != b.notes[i].range.Start) return false;
    return true;
  };
  out.erase(std::unique(out.begin(), out.end(), same), out.end());
  return out;
}

void DiagnosticEngine::Emit(DiagFormat format, llvm::raw_ostream& os, bool color) const {
  std::vector<Diagnostic> diags = Sorted();
  switch (format) {
    case DiagFormat::Text: {
      auto print = [&](llvm::SMRange range, Severity sev, const std::string& label, const std::string& message,
                       llvm::ArrayRef<llvm::SMFixIt> fixits) {
        if (!range.Start.isValid() || !sources_.FindBufferContainingLoc(range.Start)) {
          if (color) os.changeColor(llvm::raw_ostream::SAVEDCOLOR, true);
          os << "netdslc: " << label << ": " << message << "\n";
          if (color) os.resetColor();
          return;
        }
        std::vector<llvm::SMRange> ranges;
        if (range.End.isValid() && range.End != range.Start) ranges.push_back(range);
        llvm::SMDiagnostic diag =
            sources_.GetMessage(range.Start, ToSourceMgrKind(sev), label + ": " + message, ranges, fixits);
        WithPrintableLine(sources_, diag).print(nullptr, os, color, /*ShowKindLabel=*/false);
      };
      for (const auto& d : diags) {
        std::vector<llvm::SMFixIt> fixits;
        for (const auto& f : d.fixits)
          if (f.range.Start.isValid()) fixits.emplace_back(f.range, f.replacement);
        print(d.range, d.severity, std::string(SeverityWord(d.severity)) + "[" + CodeString(d.kind) + "]",
              d.message, fixits);
        for (const auto& n : d.notes) print(n.range, Severity::Note, "note", n.message, {});
        if (!d.path.empty()) {
          os << "  counterexample:\n";
          for (const auto& hop : d.path) os << "    " << hop << "\n";
        }
      }
      unsigned errors = 0, warnings = 0;
      for (const auto& d : diags) {
        errors += d.severity == Severity::Error;
        warnings += d.severity == Severity::Warning;
      }
      if (errors || warnings) {
        std::string summary;
        if (warnings) summary += std::to_string(warnings) + (warnings == 1 ? " warning" : " warnings");
        if (warnings && errors) summary += " and ";
        if (errors) summary += std::to_string(errors) + (errors == 1 ? " error" : " errors");
        os << summary << " generated.\n";
      }
      break;
    }
    case DiagFormat::Json: {
      llvm::json::Array array;
      auto located = [&](llvm::json::Object& o, llvm::SMRange range) {
        LineCol lc = Locate(sources_, range);
        o["file"] = lc.file;
        o["line"] = int64_t(lc.line);
        o["column"] = int64_t(lc.column);
        o["end_line"] = int64_t(lc.end_line);
        o["end_column"] = int64_t(lc.end_column);
      };
      for (const auto& d : diags) {
        llvm::json::Object o;
        o["code"] = CodeString(d.kind);
        o["severity"] = SeverityWord(d.severity);
        o["message"] = d.message;
        located(o, d.range);
        llvm::json::Array notes;
        for (const auto& n : d.notes) {
          llvm::json::Object no;
          no["message"] = n.message;
          located(no, n.range);
          notes.push_back(std::move(no));
        }
        o["notes"] = std::move(notes);
        if (!d.path.empty()) {
          llvm::json::Array path;
          for (const auto& hop : d.path) path.push_back(hop);
          o["path"] = std::move(path);
        }
        array.push_back(std::move(o));
      }
      os << llvm::formatv("{0:2}", llvm::json::Value(std::move(array))) << "\n";
      break;
    }
    case DiagFormat::Sarif: {
      std::map<unsigned, DiagKind> used;
      for (const auto& d : diags) used.emplace(Info(d.kind).code, d.kind);
      llvm::json::Array rules;
      std::map<unsigned, int64_t> rule_index;
      for (const auto& [code, kind] : used) {
        rule_index[code] = int64_t(rules.size());
        rules.push_back(llvm::json::Object{
            {"id", CodeString(kind)},
            {"name", Info(kind).name},
            {"shortDescription", llvm::json::Object{{"text", Info(kind).summary}}},
            {"defaultConfiguration", llvm::json::Object{{"level", SeverityWord(Info(kind).severity)}}},
        });
      }
      auto location = [&](llvm::SMRange range, const std::string* message) -> std::optional<llvm::json::Object> {
        LineCol lc = Locate(sources_, range);
        if (lc.file.empty()) return std::nullopt;
        llvm::json::Object loc{
            {"physicalLocation",
             llvm::json::Object{
                 {"artifactLocation", llvm::json::Object{{"uri", UriEscape(lc.file)}}},
                 {"region", llvm::json::Object{{"startLine", int64_t(lc.line)},
                                               {"startColumn", int64_t(lc.column)},
                                               {"endLine", int64_t(lc.end_line)},
                                               {"endColumn", int64_t(lc.end_column)}}},
             }},
        };
        if (message) loc["message"] = llvm::json::Object{{"text", *message}};
        return loc;
      };
      llvm::json::Array results;
      for (const auto& d : diags) {
        llvm::json::Object r{
            {"ruleId", CodeString(d.kind)},
            {"ruleIndex", rule_index[Info(d.kind).code]},
            {"level", SeverityWord(d.severity)},
            {"message", llvm::json::Object{{"text", d.message}}},
        };
        llvm::json::Array locations;
        if (auto l = location(d.range, nullptr)) locations.push_back(std::move(*l));
        r["locations"] = std::move(locations);
        llvm::json::Array related;
        int64_t id = 0;
        for (const auto& n : d.notes) {
          auto l = location(n.range, &n.message);
          if (!l) l = llvm::json::Object{{"message", llvm::json::Object{{"text", n.message}}}};
          (*l)["id"] = id++;
          related.push_back(std::move(*l));
        }
        if (!related.empty()) r["relatedLocations"] = std::move(related);
        if (!d.path.empty()) {
          // The counterexample as a SARIF code flow: one thread-flow location per hop.
          llvm::json::Array hops;
          for (const auto& hop : d.path)
            hops.push_back(llvm::json::Object{
                {"location", llvm::json::Object{{"message", llvm::json::Object{{"text", hop}}}}}});
          r["codeFlows"] = llvm::json::Array{llvm::json::Object{
              {"threadFlows", llvm::json::Array{llvm::json::Object{{"locations", std::move(hops)}}}}}};
        }
        results.push_back(std::move(r));
      }
      llvm::json::Object sarif{
          {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs",
           llvm::json::Array{llvm::json::Object{
               {"tool", llvm::json::Object{{"driver", llvm::json::Object{
                                                          {"name", "netdslc"},
                                                          {"version", NETDSL_VERSION_STRING},
                                                          {"rules", std::move(rules)},
                                                      }}}},
               {"results", std::move(results)},
           }}},
      };
      os << llvm::formatv("{0:2}", llvm::json::Value(std::move(sarif))) << "\n";
      break;
    }
  }
  os.flush();
}

}  // namespace netdsl
