// Table image backend: per-host IR → `hosts/NAME/tables.ndt` bytes (docs/table-image.md).
#pragma once

#include <string>

#include "compiler/lower/host_ir.h"

namespace netdsl::backends {

/// The complete image, deterministic for the same IR.
std::string WriteTableImage(const ir::HostIr& host);

}  // namespace netdsl::backends
