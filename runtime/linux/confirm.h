// Confirm or revert (docs/runtime.md "Confirm or revert"): `netdsl apply
// --confirm-within D` keeps the journal of the apply as its checkpoint and
// leaves a watchdog behind that rolls the change back at the deadline unless
// `netdsl confirm` came first. The watchdog is a process of its own (a
// systemd unit where systemd runs, else double-forked into its own session),
// so it outlives the apply, its shell and the SSH session.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "runtime/linux/netlink.h"

namespace netdsl::runtime {

/// `<state dir>/<scope>.confirm`, written whole (temporary file, rename).
struct ConfirmState {
  enum class Phase : uint8_t {
    Applying,   ///< the apply runs; the watchdog reverts at once if it dies
    Pending,    ///< applied; rolled back at the deadline unless confirmed
    Confirmed,  ///< kept (`netdsl confirm`)
    Reverted,   ///< rolled back (`reason` says by whom and why)
    Failed,     ///< the apply failed and rolled itself back; nothing was pending
  };
  Phase phase = Phase::Applying;
  std::string id;        ///< of this apply, 16 hex digits
  std::string host;      ///< linux.yaml `host:`
  std::string netns;     ///< `--netns` ("" = the namespace apply ran in)
  std::string boot_id;   ///< a state from before a reboot is void
  int64_t window_ms = 0;          ///< `--confirm-within`
  int64_t deadline_boot_ms = 0;   ///< CLOCK_BOOTTIME; 0 while applying
  int64_t deadline_unix = 0;      ///< the same moment, for people
  int64_t started_unix = 0;
  int64_t changed_unix = 0;       ///< when `phase` was last set
  int apply_pid = 0;
  uint64_t apply_start = 0;       ///< its start time (/proc/PID/stat), against pid reuse
  std::string reason;             ///< Reverted / Failed: what happened
};

const char* PhaseName(ConfirmState::Phase p);

std::string ConfirmPath(const std::string& scope);
/// False with an empty `error` when there is none (or it is from an earlier boot).
bool LoadConfirm(const std::string& scope, ConfirmState* out, std::string* error);
bool SaveConfirm(const std::string& scope, const ConfirmState& state, std::string* error);

/// CLOCK_BOOTTIME in milliseconds: one clock for every process, across suspend.
int64_t BootMs();
int64_t UnixNow();
/// Start time of a process (clock ticks since boot) or 0 when it is gone.
uint64_t ProcessStart(int pid);
/// Whether `pid` is still the process that started at `start`.
bool ProcessAlive(int pid, uint64_t start);
/// `2026-12-06 04:31:07 UTC`.
std::string UnixText(int64_t t);

/// The watchdog of one apply, as `<scope>.watchdog` records it.
struct WatchdogInfo {
  int pid = 0;
  uint64_t start = 0;
  std::string id;
  std::string how;  ///< "detached" or "systemd unit NAME"
};
bool LoadWatchdog(const std::string& scope, WatchdogInfo* out);

/// Starts the watchdog for `state` (systemd-run where systemd runs, or when
/// NETDSL_WATCHDOG=systemd; else a detached process) and waits until it
/// reports for duty. `netns`: the namespace name a systemd unit must enter.
bool StartWatchdog(const std::string& scope, const ConfirmState& state, std::string* how, std::string* error);

/// Rolls back the steps of `<scope>.journal` (newest first) and removes it,
/// with the record of moved settings as it was before that apply. `steps` =
/// how many were undone. True when there was nothing to roll back.
bool RollBackJournal(Netlink& nl, const std::string& scope, size_t* steps, std::string* error);

/// Called by apply right after it took the lock: settles a confirm-or-revert
/// state left by an earlier apply. Refuses (false, `error`) while a change
/// awaits confirmation; rolls back one whose deadline passed or whose apply
/// died, and says so on stderr.
bool SettleEarlierApply(Netlink& nl, const std::string& scope, std::string* error);

}  // namespace netdsl::runtime
