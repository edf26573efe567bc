// Subcommand registry of `netdslc`: each *_command.cpp registers one
// subcommand with NETDSL_COMMAND; main() dispatches on argv[1].
#pragma once

#include <string_view>

namespace netdsl::driver {

/// argv[0] is the subcommand name (`check`), the rest its arguments.
using CommandMain = int (*)(int argc, char** argv);

struct Command {
  const char* name;
  const char* summary;
  CommandMain main;
};

/// Registers at static-initialization time; returns a dummy for the macro.
int RegisterCommand(Command command);

/// Exit codes (SPEC §5).
inline constexpr int kExitOk = 0;
inline constexpr int kExitErrors = 1;
inline constexpr int kExitUsage = 64;

}  // namespace netdsl::driver

#define NETDSL_COMMAND(NAME, SUMMARY, MAIN) \
  static const int netdsl_command_registered_ = ::netdsl::driver::RegisterCommand({NAME, SUMMARY, MAIN})
