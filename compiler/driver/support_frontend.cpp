// Shared frontend for netdslc commands: option parsing, Parse + Check, and
// diagnostics output or `--verify-diagnostics` matching.
#include "compiler/driver/support_frontend.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <regex>

#include "compiler/driver/command.h"
#include "llvm/Support/raw_ostream.h"

namespace netdsl::driver {

std::optional<int> ParseFrontendOptions(int argc, char** argv, std::string_view usage, FrontendOptions& out,
                                        const ExtraOptionHandler& extra) {
  std::string command = argc > 0 ? argv[0] : "netdslc";
  auto fail = [&](const std::string& message) {
    llvm::errs() << "netdslc " << command << ": error: " << message << "\n" << usage;
    if (!usage.empty() && usage.back() != '\n') llvm::errs() << "\n";
    return std::optional<int>(kExitUsage);
  };
  bool only_files = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (only_files || arg.empty() || arg[0] != '-' || arg == "-") {
      out.files.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_files = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      llvm::outs() << usage;
      if (!usage.empty() && usage.back() != '\n') llvm::outs() << "\n";
      return kExitOk;
    }
    std::string format_value;
    bool has_format = false;
    if (arg.substr(0, 14) == "--diagnostics=") {
      format_value = std::string(arg.substr(14));
      has_format = true;
    } else if (arg == "--diagnostics") {
      if (i + 1 >= argc) return fail("`--diagnostics` needs a value: text, json or sarif");
      format_value = argv[++i];
      has_format = true;
    }
    if (has_format) {
      if (format_value == "text") out.format = DiagFormat::Text;
      else if (format_value == "json") out.format = DiagFormat::Json;
      else if (format_value == "sarif") out.format = DiagFormat::Sarif;
      else return fail("unknown diagnostics format `" + format_value + "`; use text, json or sarif");
      continue;
    }
    if (arg == "-Werror") {
      out.werror = true;
      continue;
    }
    if (arg == "--verify-diagnostics") {
      out.verify_diagnostics = true;
      continue;
    }
    if (arg == "--parse-only") {
      out.parse_only = true;
      continue;
    }
    if (arg == "--imports-anywhere") {
      out.imports_anywhere = true;
      continue;
    }
    if (extra) {
      std::string error;
      int before = i;
      if (extra(argc, argv, i, error)) {
        if (!error.empty()) return fail(error);
        continue;
      }
      if (!error.empty()) return fail(error);
      i = before;
    }
    return fail("unknown option `" + std::string(arg) + "`");
  }
  if (out.files.empty()) return fail("no input files; give at least one .netdsl file");
  return std::nullopt;
}

bool TakeLockOption(int argc, char** argv, int& i, FrontendOptions& out, std::string& error) {
  std::string_view arg = argv[i];
  if (arg.rfind("--lock=", 0) == 0) {
    out.lock_path = std::string(arg.substr(7));
  } else if (arg == "--lock") {
    if (i + 1 >= argc) {
      error = "`--lock` needs a path";
      return true;
    }
    out.lock_path = argv[++i];
  } else {
    return false;
  }
  if (out.lock_path.empty()) error = "`--lock` needs a path";
  return true;
}

void NoteLegacyLock(std::string_view command, const pipeline::Compiled& compiled, bool moved) {
  if (compiled.legacy_lock_path.empty()) return;
  llvm::errs() << "netdslc " << command << ": note: ";
  if (moved)
    llvm::errs() << "moved " << compiled.legacy_lock_path << " to " << compiled.lock_path
                 << ": each root file has its own lock now; commit the rename\n";
  else
    llvm::errs() << "read " << compiled.legacy_lock_path << ", this fabric's lock from before each root file had "
                 << "its own; `netdslc build` without --locked moves it to " << compiled.lock_path << "\n";
}

pipeline::CompileOptions CompileOptionsFor(const FrontendOptions& options) {
  pipeline::CompileOptions compile;
  compile.files = options.files;
  compile.lock_path = options.lock_path;
  compile.imports_anywhere = options.imports_anywhere;
  return compile;
}

ast::Program ParseFiles(const FrontendOptions& options, DiagnosticEngine& diags) {
  diags.SetWarningsAsErrors(options.werror);
  return pipeline::ParseSources(CompileOptionsFor(options), diags);
}

std::optional<model::Fabric> RunFrontend(const FrontendOptions& options, DiagnosticEngine& diags) {
  diags.SetWarningsAsErrors(options.werror);
  if (options.parse_only) {
    ParseFiles(options, diags);
    return std::nullopt;
  }
  return pipeline::Frontend(CompileOptionsFor(options), diags);
}

std::optional<pipeline::Compiled> RunCompile(const FrontendOptions& options, DiagnosticEngine& diags) {
  diags.SetWarningsAsErrors(options.werror);
  return pipeline::Compile(CompileOptionsFor(options), diags);
}

namespace {

bool UseColor() {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  return isatty(STDERR_FILENO);
}

struct Expectation {
  unsigned buffer = 0;
  unsigned line = 0;        ///< line the diagnostic must be on
  unsigned comment_line = 0;
  Severity severity = Severity::Error;
  std::string code;         ///< "" or "ND1234"
  std::string text;
  bool matched = false;
};

struct Seen {
  unsigned buffer = 0;
  unsigned line = 0, column = 0;
  Severity severity = Severity::Error;
  std::string code;  ///< "" for notes
  std::string message;
  bool matched = false;
};

const char* SeverityName(Severity s) {
  return s == Severity::Error ? "error" : s == Severity::Warning ? "warning" : "note";
}

std::string BufferName(const llvm::SourceMgr& sm, unsigned id) {
  return id ? sm.getMemoryBuffer(id)->getBufferIdentifier().str() : std::string("<no file>");
}

}  // namespace

bool VerifyDiagnostics(DiagnosticEngine& diags, llvm::raw_ostream& os) {
  llvm::SourceMgr& sm = diags.sources();
  std::vector<Expectation> expected;
  std::vector<std::string> malformed;
  static const std::regex kExpect(
      R"(expected-(error|warning|note)(@([+-]?)([0-9]+))?\s*(\[(ND[0-9]{4})\])?\s*\{\{(.*?)\}\})");
  for (unsigned id = 1; id <= sm.getNumBuffers(); ++id) {
    llvm::StringRef text = sm.getMemoryBuffer(id)->getBuffer();
    unsigned line_no = 0;
    while (!text.empty()) {
      ++line_no;
      auto [line, rest] = text.split('\n');
      text = rest;
      size_t comment = line.find("//");
      size_t block = line.find("/*");
      size_t start = std::min(comment, block);
      if (start == llvm::StringRef::npos) continue;
      std::string tail = line.substr(start).str();
      if (tail.find("expected-") == std::string::npos) continue;
      bool any = false;
      for (std::sregex_iterator it(tail.begin(), tail.end(), kExpect), end; it != end; ++it) {
        const std::smatch& m = *it;
        any = true;
        Expectation e;
        e.buffer = id;
        e.comment_line = line_no;
        e.severity = m[1] == "error" ? Severity::Error : m[1] == "warning" ? Severity::Warning : Severity::Note;
        long line = line_no;
        if (m[2].matched) {
          long n = std::strtol(m[4].str().c_str(), nullptr, 10);
          if (m[3] == "+") line += n;
          else if (m[3] == "-") line -= n;
          else line = n;
        }
        if (line < 1) line = 0;
        e.line = unsigned(line);
        e.code = m[6].matched ? m[6].str() : "";
        e.text = m[7].str();
        expected.push_back(std::move(e));
      }
      if (!any)
        malformed.push_back(BufferName(sm, id) + ":" + std::to_string(line_no) +
                            ": cannot parse the expectation; write `// expected-error@+1 [ND1234] {{text}}`");
    }
  }

  std::vector<Seen> seen;
  auto add = [&](llvm::SMRange range, Severity sev, std::string code, const std::string& message) {
    Seen s;
    s.severity = sev;
    s.code = std::move(code);
    s.message = message;
    if (range.Start.isValid()) {
      s.buffer = sm.FindBufferContainingLoc(range.Start);
      if (s.buffer) std::tie(s.line, s.column) = sm.getLineAndColumn(range.Start, s.buffer);
    }
    seen.push_back(std::move(s));
  };
  for (const auto& d : diags.Sorted()) {
    add(d.range, d.severity, CodeString(d.kind), d.message);
    for (const auto& n : d.notes) add(n.range, Severity::Note, "", n.message);
  }

  for (auto& e : expected) {
    for (auto& s : seen) {
      if (s.matched || s.buffer != e.buffer || s.line != e.line || s.severity != e.severity) continue;
      if (!e.code.empty() && s.code != e.code) continue;
      if (s.message.find(e.text) == std::string::npos) continue;
      s.matched = e.matched = true;
      break;
    }
  }
  bool ok = malformed.empty();
  for (const auto& m : malformed) os << "error: " << m << "\n";
  bool header = false;
  for (const auto& e : expected) {
    if (e.matched) continue;
    if (!header) os << "error: expected but not seen:\n";
    header = true;
    ok = false;
    os << "  " << BufferName(sm, e.buffer) << ":" << e.line << ": " << SeverityName(e.severity)
       << (e.code.empty() ? "" : " [" + e.code + "]") << " {{" << e.text << "}}"
       << (e.line != e.comment_line ? " (from the comment on line " + std::to_string(e.comment_line) + ")" : "") << "\n";
  }
  header = false;
  for (const auto& s : seen) {
    if (s.matched) continue;
    if (!header) os << "error: seen but not expected:\n";
    header = true;
    ok = false;
    os << "  " << BufferName(sm, s.buffer) << ":" << s.line << ":" << s.column << ": " << SeverityName(s.severity)
       << (s.code.empty() ? "" : "[" + s.code + "]") << ": " << s.message << "\n";
  }
  os.flush();
  return ok;
}

int FinishDiagnostics(const FrontendOptions& options, DiagnosticEngine& diags) {
  if (options.verify_diagnostics) return VerifyDiagnostics(diags, llvm::errs()) ? kExitOk : kExitErrors;
  if (options.format == DiagFormat::Text) {
    diags.Emit(DiagFormat::Text, llvm::errs(), UseColor());
  } else {
    diags.Emit(options.format, llvm::outs(), false);
    unsigned errors = diags.ErrorCount();
    if (errors) llvm::errs() << errors << (errors == 1 ? " error" : " errors") << " generated.\n";
  }
  return diags.HasErrors() ? kExitErrors : kExitOk;
}

}  // namespace netdsl::driver
