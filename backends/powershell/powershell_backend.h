// PowerShell backend: the allocated fabric → `scvmm/fabric.ps1` (VMM cmdlets),
// and per-host IR → `hosts/NAME/hyperv.ps1` (Hyper-V, NetLbfo, NetVirtualization).
#pragma once

#include <string>

#include "compiler/alloc/allocation.h"
#include "compiler/lower/host_ir.h"

namespace netdsl::backends {

std::string EmitFabricScript(const alloc::AllocatedFabric& fabric);
std::string EmitHyperVScript(const ir::HostIr& host);

}  // namespace netdsl::backends
