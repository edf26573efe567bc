// netdsl: the host-side runtime CLI (plan, apply, tables).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <malloc.h>

#include "runtime/cli/commands.h"

[[noreturn]] static void Exit(int code) {
  std::fflush(nullptr);
  std::_Exit(code);
}

static void Usage(FILE* out) {
  std::fprintf(out,
               "usage: netdsl <command> ...\n\n"
               "commands:\n"
               "  plan   DIR/hosts/NAME/linux.yaml [--netns NS] [--json]   desired vs actual (exit 2: changes pending)\n"
               "  apply  DIR/hosts/NAME/linux.yaml [--netns NS] [--dry-run] converge the host, all or nothing\n"
               "         [--confirm-within DURATION] [--probe ADDR[:PORT]]... [--no-probes]\n"
               "  confirm | rollback | status [--netns NS]                 keep, undo or show a change awaiting confirmation\n"
               "  tables verify|dump|diff|trace IMAGE...                    dataplane table images\n");
}

int main(int argc, char** argv) {
  if (argc < 2) {
    Usage(stderr);
    return 64;
  }
  const char* cmd = argv[1];
  if (!std::strcmp(cmd, "--help") || !std::strcmp(cmd, "-h") || !std::strcmp(cmd, "help")) {
    Usage(stdout);
    return 0;
  }
  if (!std::strcmp(cmd, "--version")) {
    std::printf("netdsl %s\n", NETDSL_VERSION_STRING);
    return 0;
  }
  // plan/apply build and drop large states (100k objects, tens of MB) in
  // phases. Keep freed memory in the heap for the next phase instead of
  // returning it to the kernel (glibc maps blocks over 128 KiB separately and
  // unmaps them on free): each page given back costs a fault and a clear when
  // touched again, a sixth of apply's time at 100k objects.
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // plan/apply hold large states (100k objects); the kernel reclaims them
  // faster than their destructors would, and every file was closed already.
  if (!std::strcmp(cmd, "plan")) Exit(netdsl::runtime::PlanMain(argc - 1, argv + 1));
  if (!std::strcmp(cmd, "apply")) Exit(netdsl::runtime::ApplyMain(argc - 1, argv + 1));
  if (!std::strcmp(cmd, "confirm")) Exit(netdsl::runtime::ConfirmMain(argc - 1, argv + 1));
  if (!std::strcmp(cmd, "rollback")) Exit(netdsl::runtime::RollbackMain(argc - 1, argv + 1));
  if (!std::strcmp(cmd, "status")) Exit(netdsl::runtime::StatusMain(argc - 1, argv + 1));
  if (!std::strcmp(cmd, "confirm-watchdog")) Exit(netdsl::runtime::WatchdogMain(argc - 1, argv + 1));
  if (!std::strcmp(cmd, "tables")) {
#ifdef NETDSL_HAVE_TABLES
    return netdsl::runtime::TablesMain(argc - 1, argv + 1);
#else
    std::fprintf(stderr, "netdsl: error: tables support not built\n");
    return 1;
#endif
  }
  std::fprintf(stderr, "netdsl: error: unknown command '%s'\n\n", cmd);
  Usage(stderr);
  return 64;
}
