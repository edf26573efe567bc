// `netdslc build`: options and output around pipeline::Compile and
// pipeline::Build (compiler/pipeline/), which check, allocate (netdsl.lock),
// lower every selected host in parallel, run the backends, and replace the
// output directory all or nothing.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

#include "backends/backend.h"
#include "compiler/driver/command.h"
#include "compiler/driver/support_frontend.h"
#include "compiler/pipeline/build.h"
#include "compiler/pipeline/incremental.h"
#include "compiler/pipeline/pipeline.h"
#include "compiler/verify/verify.h"

namespace netdsl::driver {
namespace {

constexpr std::string_view kUsage =
    "usage: netdslc build FILE... -o DIR [--target=all|tables|linux|powershell] [--host=NAME...]\n"
    "                     [--lock PATH] [--locked] [-j N] [--dump=ir] [--diagnostics=text|json|sarif]\n"
    "                     [-Werror]\n"
    "\n"
    "Checks the fabric, allocates what the source leaves open (recorded in the lock,\n"
    "NAME.lock beside the first FILE NAME.netdsl), and writes DIR/manifest.json, DIR/hosts/NAME/{tables.ndt,\n"
    "linux.yaml,linux.batch,hyperv.ps1} and DIR/scvmm/fabric.ps1. DIR is replaced as a\n"
    "whole only when every artifact was produced.\n"
    "\n"
    "  -o DIR           output directory (may be omitted with --dump=ir: nothing is written)\n"
    "  --target=T       all (default), tables, linux or powershell; repeat or comma-separate\n"
    "  --host=NAME      build only these hosts (repeatable)\n"
    "  --lock PATH      the lock to read and write (default: NAME.lock beside NAME.netdsl;\n"
    "                   a legacy netdsl.lock there is moved to it, docs/lock.md)\n"
    "  --locked         fail instead of changing the lock (for CI)\n"
    "  -j N             lower and emit hosts on N threads (default: number of CPUs)\n"
    "  --dump=ir        print every selected host's IR to stdout\n"
    "  --verify         verify strictly: every finding of `netdslc verify` fails the build,\n"
    "                   and so does an output without every host's tables.ndt\n"
    "  --no-verify      do not verify\n"
    "                   (default: when the new output has every host's tables.ndt,\n"
    "                   `netdslc verify` runs on it, against the previous output, before\n"
    "                   DIR is replaced; isolation, loop, agreement and port-handover\n"
    "                   findings fail the build, reachability gaps are warnings\n"
    "                   (-Werror: errors); docs/verify.md)\n"
    "  --stats          print the time each phase took to stderr\n"
    "  --imports-anywhere  let imports leave the first FILE's directory tree (trusted sources only)\n";

/// `build` verifies its artifacts unless `--no-verify` (COORDINATION.md,
/// docs/verify.md "In build").
enum class VerifyMode : uint8_t {
  kDefault,  ///< whole-fabric builds with tables; reachability gaps are warnings
  kStrict,   ///< --verify: every build, every finding an error
  kOff,      ///< --no-verify
};

/// What the default leaves a warning: the artifacts do less than the fabric
/// promises, but nothing they do crosses a tenant, loops or moves a port.
/// Reported, so that CI annotates them, and -Werror fails on them. Bridged
/// uplinks (ND4007) are an error: `check` refuses their source (ND1509).
const std::vector<DiagKind> kWarnByDefault = {DiagKind::VerifyUnreachable, DiagKind::VerifyFloodMissing};

struct BuildFlags {
  std::string output;
  std::vector<std::string> targets;  ///< backend names; empty = all
  std::vector<std::string> hosts;
  bool locked = false;
  FrontendOptions* frontend = nullptr;  ///< where --lock goes
  unsigned jobs = 0;
  bool dump_ir = false;
  bool stats = false;
  VerifyMode verify = VerifyMode::kDefault;
};

/// Wall and process CPU time per phase, for `--stats`.
class PhaseTimer {
 public:
  explicit PhaseTimer(bool on) : on_(on) { Reset(); }
  void Mark(const char* phase) {
    if (!on_) return;
    auto wall = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    std::fprintf(stderr, "netdslc build: %-24s %9.3f s wall %9.3f s cpu\n", phase,
                 std::chrono::duration<double>(wall - wall_).count(), double(cpu - cpu_) / CLOCKS_PER_SEC);
    wall_ = wall;
    cpu_ = cpu;
  }

 private:
  void Reset() {
    wall_ = std::chrono::steady_clock::now();
    cpu_ = std::clock();
  }
  bool on_;
  std::chrono::steady_clock::time_point wall_;
  std::clock_t cpu_;
};

std::string TargetNames() {
  std::string names = "all";
  for (const backends::Backend& b : backends::AllBackends()) names += ", " + std::string(b.name);
  return names;
}

/// `--opt=value` or `--opt value` / `-o DIR` / `-oDIR`.
bool TakeValue(int argc, char** argv, int& i, std::string_view name, std::string& value, std::string& error) {
  std::string_view arg = argv[i];
  if (arg == name) {
    if (i + 1 >= argc) {
      error = "option `" + std::string(name) + "` needs a value";
      return true;
    }
    value = argv[++i];
    return true;
  }
  if (arg.size() > name.size() && arg.substr(0, name.size()) == name) {
    std::string_view rest = arg.substr(name.size());
    if (rest[0] == '=') rest.remove_prefix(1);
    else if (name.size() != 2) return false;  // `--hostX` is not `--host`
    value = std::string(rest);
    return true;
  }
  return false;
}

bool HandleOption(BuildFlags& b, int argc, char** argv, int& i, std::string& error) {
  std::string_view arg = argv[i];
  std::string value;
  if (arg == "--locked") {
    b.locked = true;
    return true;
  }
  if (TakeLockOption(argc, argv, i, *b.frontend, error)) return true;
  if (arg == "--stats") {
    b.stats = true;
    return true;
  }
  if (arg == "--verify" || arg == "--no-verify") {
    b.verify = arg == "--verify" ? VerifyMode::kStrict : VerifyMode::kOff;
    return true;
  }
  if (TakeValue(argc, argv, i, "-o", value, error) || TakeValue(argc, argv, i, "--output", value, error)) {
    if (error.empty() && value.empty()) error = "`-o` needs a directory";
    b.output = value;
    return true;
  }
  if (TakeValue(argc, argv, i, "--target", value, error)) {
    if (!error.empty()) return true;
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      std::string t = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (t == "all") {
        for (const backends::Backend& backend : backends::AllBackends()) b.targets.emplace_back(backend.name);
      } else if (backends::FindBackend(t)) {
        b.targets.push_back(t);
      } else {
        error = "unknown target `" + t + "` (expected " + TargetNames() + ")";
        return true;
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return true;
  }
  if (TakeValue(argc, argv, i, "--host", value, error)) {
    if (error.empty() && value.empty()) error = "`--host` needs a host name";
    b.hosts.push_back(value);
    return true;
  }
  if (TakeValue(argc, argv, i, "-j", value, error) || TakeValue(argc, argv, i, "--jobs", value, error)) {
    if (!error.empty()) return true;
    char* end = nullptr;
    unsigned long n = std::strtoul(value.c_str(), &end, 10);
    if (value.empty() || *end || n == 0 || n > 1024) error = "`-j` takes a number of threads from 1 to 1024";
    b.jobs = unsigned(n);
    return true;
  }
  if (TakeValue(argc, argv, i, "--dump", value, error)) {
    if (!error.empty()) return true;
    if (value != "ir") error = "unknown dump `" + value + "` (expected ir)";
    b.dump_ir = true;
    return true;
  }
  return false;
}

int BuildMain(int argc, char** argv) {
  FrontendOptions options;
  BuildFlags b;
  b.frontend = &options;
  if (auto exit = ParseFrontendOptions(argc, argv, kUsage, options,
                                       [&](int ac, char** av, int& i, std::string& error) {
                                         return HandleOption(b, ac, av, i, error);
                                       }))
    return *exit;
  if (b.output.empty() && !b.dump_ir) {
    std::fprintf(stderr, "netdslc build: error: missing `-o DIR`\n\n%.*s", int(kUsage.size()), kUsage.data());
    return kExitUsage;
  }
  pipeline::BuildOptions build;
  build.output = b.output;
  build.hosts = b.hosts;
  build.locked = b.locked;
  build.jobs = b.jobs ? b.jobs : std::max(1u, std::thread::hardware_concurrency());
  build.dump_ir = b.dump_ir;
  for (const backends::Backend& backend : backends::AllBackends())
    if (b.targets.empty() || std::count(b.targets.begin(), b.targets.end(), backend.name))
      build.backends.push_back(&backend);
  PhaseTimer timer(b.stats);
  build.on_phase = [&](const char* phase) { timer.Mark(phase); };
  if (!b.output.empty() && isatty(STDERR_FILENO))
    build.on_host_done = [](size_t done, size_t total) {
      if (total < 2) return;
      std::fprintf(stderr, "\rnetdslc build: %zu/%zu hosts", done, total);
      if (done == total) std::fprintf(stderr, "\n");
    };

  pipeline::VerifyIncrementally verify_incrementally;
  if (b.verify != VerifyMode::kOff && !b.output.empty()) {
    // The artifacts as the hosts will read them, before they replace DIR; a
    // previous output is the build they change from (ports must not change hands).
    verify::VerifyOptions v;
    v.jobs = build.jobs;
    v.shown_as = b.output;
    if (b.verify == VerifyMode::kDefault) {
      // verify proves properties of the whole fabric from every host's table
      // image: by default only an output that has them all (a `--host` or
      // `--target` build into a complete output keeps the rest) is verified.
      v.only_if_complete = true;
      if (!options.werror) v.as_warnings = kWarnByDefault;
    }
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(b.output) / "manifest.json", ec)) v.previous = b.output;
    build.before_commit = [v, &timer](const std::string& staging, DiagnosticEngine& d) {
      // The state an incremental build's verify starts from (docs/verify.md).
      verify::VerifyOptions full = v;
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(staging) / pipeline::kCacheDir, ec);
      if (!ec) full.state_out = staging + "/" + pipeline::kCacheDir + "/verify.state";
      bool ok = verify::Verify(staging, full, d);
      timer.Mark("verify");
      return ok;
    };
    verify_incrementally = [v, &timer](const std::string& staging, const std::string& base,
                                       const std::set<std::string>& changed, DiagnosticEngine& d) -> std::optional<bool> {
      verify::VerifyOptions inc = v;
      inc.state_in = base + "/" + pipeline::kCacheDir + "/verify.state";
      inc.state_out = staging + "/verify.state";
      inc.changed_hosts = changed;
      inc.base_dir = base;
      inc.previous = base;
      verify::VerifyStats stats;
      bool ok = verify::Verify(staging, inc, d, &stats);
      timer.Mark(stats.incremental ? "verify (incremental)" : "verify (in full)");
      return ok;
    };
  }

  // The options that shape the output; a build with the same key may be
  // incremental (compiler/pipeline/incremental.h).
  if (options.format == DiagFormat::Text && !options.verify_diagnostics && !options.parse_only) {
    std::string key = "targets";
    for (const backends::Backend* backend : build.backends) key += " " + std::string(backend->name);
    key += "; verify " + std::to_string(int(b.verify)) + (options.werror ? " -Werror" : "") +
           (options.imports_anywhere ? "; imports anywhere" : "");
    build.cache_key = key;
  }
  if (!build.cache_key.empty() && !b.output.empty() && b.hosts.empty() && !b.dump_ir) {
    pipeline::IncrementalResult incremental =
        pipeline::BuildIncrementally(CompileOptionsFor(options), build, verify_incrementally);
    if (incremental.built) {
      if (b.stats) std::fprintf(stderr, "netdslc build: path: incremental (%s)\n", incremental.reason.c_str());
      return kExitOk;
    }
    if (b.stats) std::fprintf(stderr, "netdslc build: path: full (%s)\n", incremental.reason.c_str());
  }

  llvm::SourceMgr sources;
  DiagnosticEngine diags(sources);
  auto compiled = RunCompile(options, diags);
  if (!compiled) return FinishDiagnostics(options, diags), kExitErrors;
  timer.Mark("parse + check + allocate");
  // Failures outside the sources are diagnostics too, so that --diagnostics=json|sarif carry them.
  bool unknown = false;
  for (const auto& wanted : b.hosts)
    if (std::none_of(compiled->fabric.fabric.hosts.begin(), compiled->fabric.fabric.hosts.end(),
                     [&](const model::Host& h) { return h.name == wanted; }))
      diags.Report(DiagKind::UnknownHost, llvm::SMRange(), "host `" + wanted + "` is not in the fabric"), unknown = true;
  if (unknown) return FinishDiagnostics(options, diags), kExitErrors;

  pipeline::BuildResult result;
  llvm::Error error = pipeline::Build(*compiled, build, diags, result);
  if (!error && !diags.HasErrors() && !b.output.empty()) NoteLegacyLock("build", *compiled, !result.migrated_lock_from.empty());
  std::fwrite(result.ir_dump.data(), 1, result.ir_dump.size(), stdout);
  std::fflush(stdout);
  if (error) diags.Report(DiagKind::OutputNotWritable, llvm::SMRange(), llvm::toString(std::move(error)));
  return FinishDiagnostics(options, diags);
}

}  // namespace
}  // namespace netdsl::driver

NETDSL_COMMAND("build", "check, allocate (the lock) and write every host's artifacts",
               netdsl::driver::BuildMain);
