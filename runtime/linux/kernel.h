// The kernel as apply sees it: feature probes, state reads, step execution,
// the neighbour/FDB notification log. `NetlinkKernel` is the real one; unit
// tests drive apply (runtime/linux/apply.h) against an in-memory one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/linux/change_set.h"
#include "runtime/linux/netlink.h"
#include "runtime/linux/state_reader.h"

namespace netdsl::runtime {

/// Requests of a bulk step built ahead of running it (Kernel::Prepare).
class PreparedStep {
 public:
  virtual ~PreparedStep() = default;
};

/// Counters for messages and `--stats`.
struct KernelCounters {
  uint64_t dumps = 0;
  uint64_t get_requests = 0;
  uint64_t notifications = 0;
};

class Kernel {
 public:
  virtual ~Kernel() = default;

  /// The features of `features` this kernel lacks, each with the kernel's reason.
  virtual std::vector<std::pair<std::string, std::string>> MissingFeatures(
      const std::vector<std::string>& features) = 0;
  /// Reads the actual state (state_reader.h's ReadActualState).
  virtual bool Read(const HostState& desired, HostState* actual, std::string* error,
                    const ReadScope& scope = ReadScope()) = 0;
  /// Runs the operations of one step (executor.h's ExecuteOps).
  virtual bool Execute(const std::vector<Op>& ops, bool tolerant, std::string* error) = 0;

  /// Builds a bulk step's requests ahead (may run on a second thread while
  /// the previous bulk step runs); null when this kernel does not.
  virtual std::unique_ptr<PreparedStep> Prepare(const std::vector<Op>& /*ops*/) { return nullptr; }
  /// Runs a step built by Prepare (not tolerant).
  virtual bool RunPrepared(const std::vector<Op>& ops, PreparedStep& /*prepared*/, std::string* error) {
    return Execute(ops, false, error);
  }

  /// Starts logging neighbour and FDB notifications; called before the
  /// first read. False (with why) when this kernel cannot: verification
  /// then reads everything back.
  virtual bool Subscribe(std::string* error) {
    *error = "no notification log";
    return false;
  }
  /// Moves queued notifications into the log (apply's second thread).
  virtual void Drain() {}
  /// Whether the log holds every notification since Subscribe.
  virtual bool NotificationsComplete() const { return false; }
  /// state_reader.h's ReplayNotifications over the log.
  virtual bool ReplayNotifications(const HostState& /*desired*/, HostState* /*state*/) { return false; }

  virtual KernelCounters counters() const { return {}; }
};

/// The running kernel through rtnetlink (and libnftables), in the network
/// namespace the process is in when `Open` runs.
class NetlinkKernel : public Kernel {
 public:
  bool Open(std::string* error) { return nl_.Open(error); }
  Netlink& netlink() { return nl_; }

  std::vector<std::pair<std::string, std::string>> MissingFeatures(const std::vector<std::string>& features) override;
  bool Read(const HostState& desired, HostState* actual, std::string* error, const ReadScope& scope) override;
  bool Execute(const std::vector<Op>& ops, bool tolerant, std::string* error) override;
  std::unique_ptr<PreparedStep> Prepare(const std::vector<Op>& ops) override;
  bool RunPrepared(const std::vector<Op>& ops, PreparedStep& prepared, std::string* error) override;
  bool Subscribe(std::string* error) override { return monitor_.Open(error); }
  void Drain() override { monitor_.Drain(); }
  bool NotificationsComplete() const override { return monitor_.complete(); }
  bool ReplayNotifications(const HostState& desired, HostState* state) override;
  KernelCounters counters() const override {
    return {nl_.dumps(), nl_.get_requests(), monitor_.notifications()};
  }

 private:
  Netlink nl_;
  NlMonitor monitor_;
};

}  // namespace netdsl::runtime
