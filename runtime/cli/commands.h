// Subcommands of the `netdsl` runtime CLI; each lives in its own library.
#pragma once

namespace netdsl::runtime {

/// argv[0] is the subcommand name. Exit codes: 0 ok / in sync, 1 errors,
/// 2 changes pending (plan), 64 usage.
int PlanMain(int argc, char** argv);    // runtime/linux
int ApplyMain(int argc, char** argv);   // runtime/linux
int TablesMain(int argc, char** argv);  // runtime/tables

}  // namespace netdsl::runtime
