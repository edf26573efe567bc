// Linux backend: per-host IR → desired state (`linux.yaml`, docs/linux-yaml.md)
// and the same as iproute2/bridge/tc/nft batch commands (`linux.batch`).
#pragma once

#include <string>

#include "compiler/lower/host_ir.h"

namespace netdsl::backends {

std::string EmitLinuxYaml(const ir::HostIr& host);
std::string EmitLinuxBatch(const ir::HostIr& host);

}  // namespace netdsl::backends
