// NetlinkKernel: the Kernel of apply over rtnetlink, libnftables and the
// throwaway-namespace feature probes.
#include "runtime/linux/executor.h"
#include "runtime/linux/kernel.h"
#include "runtime/linux/kernel_env.h"

namespace netdsl::runtime {
namespace {

struct NetlinkPrepared : PreparedStep {
  PreparedOps requests;
};

}  // namespace

std::vector<std::pair<std::string, std::string>> NetlinkKernel::MissingFeatures(
    const std::vector<std::string>& features) {
  return runtime::MissingFeatures(features);
}

bool NetlinkKernel::Read(const HostState& desired, HostState* actual, std::string* error, const ReadScope& scope) {
  return ReadActualState(nl_, desired, actual, error, scope);
}

bool NetlinkKernel::Execute(const std::vector<Op>& ops, bool tolerant, std::string* error) {
  return ExecuteOps(nl_, ops, tolerant, error);
}

std::unique_ptr<PreparedStep> NetlinkKernel::Prepare(const std::vector<Op>& ops) {
  if (!IsBulkStep(ops)) return nullptr;
  auto p = std::make_unique<NetlinkPrepared>();
  std::string ignored;  // a missing device: Execute reports it when the step runs
  if (!PrepareOps(ops, &p->requests, &ignored)) return nullptr;
  return p;
}

bool NetlinkKernel::RunPrepared(const std::vector<Op>& ops, PreparedStep& prepared, std::string* error) {
  return runtime::RunPrepared(nl_, ops, static_cast<NetlinkPrepared&>(prepared).requests, error);
}

bool NetlinkKernel::ReplayNotifications(const HostState& desired, HostState* state) {
  return runtime::ReplayNotifications(monitor_, desired, state);
}

}  // namespace netdsl::runtime
