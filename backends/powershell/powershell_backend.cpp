// The PowerShell backend's row in AllBackends() (backends/backend.h).
#include "backends/powershell/powershell_backend.h"

namespace netdsl::backends {

llvm::Expected<std::vector<Artifact>> EmitPowerShellHost(const ir::HostIr& host) {
  std::vector<Artifact> artifacts;
  artifacts.push_back({"hyperv.ps1", EmitHyperVScript(host)});
  return artifacts;
}

llvm::Expected<std::vector<Artifact>> EmitPowerShellFabric(const alloc::AllocatedFabric& fabric) {
  std::vector<Artifact> artifacts;
  artifacts.push_back({"scvmm/fabric.ps1", EmitFabricScript(fabric)});
  return artifacts;
}

}  // namespace netdsl::backends
