// Subcommands of the `netdsl` runtime CLI: argument parsing and output over
// the runtime libraries (runtime/linux/apply.h, runtime/tables).
#pragma once

namespace netdsl::runtime {

/// argv[0] is the subcommand name. Exit codes: 0 ok / in sync, 1 errors,
/// 2 changes pending (plan), 64 usage.
int PlanMain(int argc, char** argv);    // plan_apply.cpp
int ApplyMain(int argc, char** argv);   // plan_apply.cpp
int TablesMain(int argc, char** argv);  // runtime/tables
/// Confirm or revert (runtime/linux/confirm_commands.cpp): keep, undo or
/// show an apply made with `--confirm-within`.
int ConfirmMain(int argc, char** argv);
int RollbackMain(int argc, char** argv);
int StatusMain(int argc, char** argv);
/// The watchdog `apply --confirm-within` leaves behind (not for people).
int WatchdogMain(int argc, char** argv);

}  // namespace netdsl::runtime
