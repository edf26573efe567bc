// netdslc: the compiler's command line, a thin dispatcher over the subcommands.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "compiler/driver/command.h"

namespace netdsl::driver {
namespace {
std::vector<Command>& Registry() {
  static std::vector<Command> commands;
  return commands;
}
}  // namespace

int RegisterCommand(Command command) {
  Registry().push_back(command);
  return 0;
}
}  // namespace netdsl::driver

static void Usage(FILE* out) {
  auto commands = netdsl::driver::Registry();
  std::sort(commands.begin(), commands.end(),
            [](const auto& a, const auto& b) { return std::strcmp(a.name, b.name) < 0; });
  std::fprintf(out, "usage: netdslc <command> [options] FILE...\n\ncommands:\n");
  for (const auto& c : commands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out, "\n`netdslc <command> --help` describes a command's options.\n");
}

int main(int argc, char** argv) {
  using namespace netdsl::driver;
  if (argc < 2) {
    Usage(stderr);
    return kExitUsage;
  }
  if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    // `netdslc help build` is `netdslc build --help`.
    if (argc >= 3 && !std::strcmp(argv[1], "help")) {
      for (const auto& c : Registry())
        if (!std::strcmp(c.name, argv[2])) {
          char help[] = "--help";
          char* args[] = {argv[2], help, nullptr};
          return c.main(2, args);
        }
      std::fprintf(stderr, "netdslc: error: unknown command '%s'\n\n", argv[2]);
      Usage(stderr);
      return kExitUsage;
    }
    Usage(stdout);
    return kExitOk;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("netdslc %s\n", NETDSL_VERSION_STRING);
    return kExitOk;
  }
  for (const auto& c : Registry())
    if (!std::strcmp(c.name, argv[1])) return c.main(argc - 1, argv + 1);
  std::fprintf(stderr, "netdslc: error: unknown command '%s'\n\n", argv[1]);
  Usage(stderr);
  return kExitUsage;
}
