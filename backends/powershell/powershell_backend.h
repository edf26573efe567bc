// PowerShell backend: the allocated fabric → `scvmm/fabric.ps1` (VMM cmdlets),
// and per-host IR → `hosts/NAME/hyperv.ps1` (Hyper-V, NetLbfo, NetVirtualization).
#pragma once

#include <string>
#include <vector>

#include "backends/backend.h"
#include "compiler/alloc/allocation.h"
#include "compiler/lower/host_ir.h"

namespace netdsl::backends {

std::string EmitFabricScript(const alloc::AllocatedFabric& fabric);
std::string EmitHyperVScript(const ir::HostIr& host);

/// The backend row's emitters: `hyperv.ps1` per host, `scvmm/fabric.ps1`.
llvm::Expected<std::vector<Artifact>> EmitPowerShellHost(const ir::HostIr& host);
llvm::Expected<std::vector<Artifact>> EmitPowerShellFabric(const alloc::AllocatedFabric& fabric);

}  // namespace netdsl::backends
