// `netdslc verify DIR`: proves isolation, reachability, loop-freedom and
// agreement on a build's artifacts (compiler/verify, docs/verify.md).
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "compiler/driver/command.h"
#include "compiler/driver/support_frontend.h"
#include "compiler/verify/verify.h"

namespace netdsl::driver {
namespace {

constexpr const char* kUsage =
    "usage: netdslc verify DIR [--previous DIR] [-j N] [--diagnostics=text|json|sarif]\n"
    "\n"
    "Reads the artifacts `netdslc build` wrote into DIR (manifest.json, hosts/NAME/tables.ndt,\n"
    "hosts/NAME/linux.yaml) and proves, on them and not on the compiler's view:\n"
    "  (a) isolation: nothing a port of one routing domain sends reaches a port of another\n"
    "  (b) reachability: what the fabric says can talk is delivered (same subnet, routed,\n"
    "      the gateway address, out through NAT)\n"
    "  (c) loop-freedom: a VSID's broadcast reaches each carrier exactly once\n"
    "  (d) agreement: each host's tables.ndt and linux.yaml hold the same ports, lookup\n"
    "      records and routes\n"
    "Each violation is a diagnostic (ND4000-ND4007) with a counterexample, hop by hop.\n"
    "\n"
    "  --previous DIR   an earlier build of the fabric: no port may pass between VM NICs\n"
    "  -j N             check hosts on N threads (default: number of CPUs)\n"
    "exit status: 0 proven, 1 violations or unreadable artifacts, 64 usage error\n";

int VerifyMain(int argc, char** argv) {
  FrontendOptions options;
  verify::VerifyOptions verify_options;
  bool stats = false;
  auto extra = [&](int ac, char** av, int& i, std::string& error) {
    std::string_view arg = av[i];
    if (arg == "--previous" || arg.rfind("--previous=", 0) == 0) {
      if (arg == "--previous" && i + 1 >= ac) error = "`--previous` needs a directory";
      else verify_options.previous = arg == "--previous" ? av[++i] : std::string(arg.substr(11));
      return true;
    }
    // Hidden (tests, benchmarks): the incremental verify `build` runs on its fast path.
    for (const char* name : {"--state-in", "--state-out", "--changed-hosts", "--base-dir"}) {
      std::string_view option(name);
      if (arg != option && !(arg.rfind(option, 0) == 0 && arg.size() > option.size() && arg[option.size()] == '='))
        continue;
      std::string value;
      if (arg == option) {
        if (i + 1 >= ac) {
          error = "`" + std::string(option) + "` needs a value";
          return true;
        }
        value = av[++i];
      } else {
        value = std::string(arg.substr(option.size() + 1));
      }
      if (option == "--state-in") verify_options.state_in = value;
      if (option == "--state-out") verify_options.state_out = value;
      if (option == "--base-dir") verify_options.base_dir = value;
      if (option == "--changed-hosts") {  // comma-separated, may be empty
        std::set<std::string> hosts;
        for (size_t b = 0; b < value.size();) {
          size_t e = value.find(',', b);
          if (e == std::string::npos) e = value.size();
          if (e > b) hosts.insert(value.substr(b, e - b));
          b = e + 1;
        }
        verify_options.changed_hosts = std::move(hosts);
      }
      return true;
    }
    if (arg == "--verify-stats") {
      stats = true;
      return true;
    }
    if (arg == "-j" || (arg.rfind("-j", 0) == 0 && arg.size() > 2)) {
      std::string value = arg == "-j" ? (i + 1 < ac ? av[++i] : "") : std::string(arg.substr(2));
      char* end = nullptr;
      unsigned long n = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end || n == 0 || n > 1024) error = "`-j` takes a number of threads from 1 to 1024";
      verify_options.jobs = unsigned(n);
      return true;
    }
    return false;
  };
  if (auto exit = ParseFrontendOptions(argc, argv, kUsage, options, extra)) {
    return *exit;
  }
  if (options.files.size() != 1) {
    std::fprintf(stderr, "netdslc verify: error: give exactly one build directory\n\n%s", kUsage);
    return kExitUsage;
  }
  llvm::SourceMgr sources;
  DiagnosticEngine diags(sources);
  verify::VerifyStats verify_stats;
  verify::Verify(options.files.front(), verify_options, diags, &verify_stats);
  if (stats)
    std::fprintf(stderr, "netdslc verify: %s, %zu of %zu hosts read\n",
                 verify_stats.incremental ? "incremental"
                                          : ("full" + (verify_stats.full_because.empty()
                                                           ? std::string()
                                                           : " (" + verify_stats.full_because + ")"))
                                                .c_str(),
                 verify_stats.hosts_checked, verify_stats.hosts);
  if (stats && std::getenv("NETDSL_VERIFY_PHASES"))  // profiling: the phases' wall times
    for (const auto& [phase, seconds] : verify_stats.phases) std::fprintf(stderr, "  %-32s %8.4f s\n", phase.c_str(), seconds);
  return FinishDiagnostics(options, diags);
}

}  // namespace

NETDSL_COMMAND("verify", "prove isolation, reachability, loop-freedom and agreement on built artifacts", VerifyMain);

}  // namespace netdsl::driver
