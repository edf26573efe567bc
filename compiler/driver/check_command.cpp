// `netdslc check`: every validation `build` runs, without writing anything:
// parse, sema, the lock (when present) and allocation, and the backends'
// own rules; print diagnostics (text, JSON, SARIF).
#include <cstring>

#include "compiler/driver/command.h"
#include "compiler/driver/support_frontend.h"
#include "compiler/pipeline/pipeline.h"
#include "compiler/syntax/ast_dump.h"
#include "compiler/syntax/parse.h"
#include "llvm/Support/raw_ostream.h"

namespace netdsl::driver {
namespace {

constexpr const char* kUsage =
    "usage: netdslc check FILE... [--lock PATH] [--diagnostics=text|json|sarif] [-Werror]\n"
    "                     [--verify-diagnostics]\n"
    "       netdslc check --list-diagnostics\n"
    "\n"
    "Parses and validates FILEs and everything they import, with every check `build`\n"
    "runs: the lock (when present) against the source, allocation from the pools,\n"
    "and what a backend would refuse. Writes nothing.\n"
    "  --lock PATH             the lock to read (default: NAME.lock beside the first FILE\n"
    "                          NAME.netdsl, or a legacy netdsl.lock there; docs/lock.md)\n"
    "  --diagnostics=FORMAT    text (default, on stderr), json or sarif (SARIF 2.1.0, on stdout)\n"
    "  -Werror                 treat warnings as errors\n"
    "  --imports-anywhere      let imports leave the root file's directory tree (trusted sources only)\n"
    "  --verify-diagnostics    compare diagnostics with `// expected-error {{...}}` comments\n"
    "  --list-diagnostics      print every diagnostic code, name and summary\n"
    "  --parse-only            stop after parsing (no semantic checks)\n"
    "  --dump-ast              parse only and print the syntax tree\n"
    "exit status: 0 no errors, 1 errors, 64 usage error\n";

int ListDiagnostics() {
  for (DiagKind kind : AllDiagKinds()) {
    const DiagKindInfo& info = Info(kind);
    const char* sev = info.severity == Severity::Error ? "error" : info.severity == Severity::Warning ? "warning" : "note";
    llvm::outs() << CodeString(kind) << " " << info.name << " " << sev << " " << info.summary << "\n";
  }
  return kExitOk;
}

int CheckMain(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--list-diagnostics")) {
      if (argc != 2) {
        llvm::errs() << "netdslc check: error: `--list-diagnostics` takes no other arguments\n" << kUsage;
        return kExitUsage;
      }
      return ListDiagnostics();
    }
  FrontendOptions options;
  bool dump_ast = false;
  auto extra = [&](int ac, char** av, int& i, std::string& error) {
    if (!std::strcmp(av[i], "--dump-ast")) {
      dump_ast = true;
      return true;
    }
    return TakeLockOption(ac, av, i, options, error);
  };
  if (auto exit = ParseFrontendOptions(argc, argv, kUsage, options, extra)) return *exit;
  if (dump_ast) options.parse_only = true;

  llvm::SourceMgr sources;
  DiagnosticEngine diags(sources);
  if (dump_ast) {
    ast::Program program = ParseFiles(options, diags);
    DumpAst(program, sources, llvm::outs());
    llvm::outs().flush();
  } else if (options.parse_only) {
    RunFrontend(options, diags);
  } else if (auto compiled = RunCompile(options, diags)) {
    NoteLegacyLock("check", *compiled, false);
    pipeline::ValidateBackends(*compiled, diags);
  }
  return FinishDiagnostics(options, diags);
}

}  // namespace

NETDSL_COMMAND("check", "parse and validate .netdsl files", CheckMain);

}  // namespace netdsl::driver
