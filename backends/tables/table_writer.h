// Table image backend: per-host IR → `hosts/NAME/tables.ndt` bytes (docs/table-image.md).
#pragma once

#include <string>
#include <vector>

#include "backends/backend.h"
#include "compiler/lower/host_ir.h"
#include "llvm/Support/Error.h"

namespace netdsl::backends {

/// The complete image, deterministic for the same IR; or an error naming the
/// host and the value when the IR has duplicate keys the image cannot hold
/// (port ids, segment VSIDs, lookup records per (VSID, CA) and (VSID, MAC)).
/// Lowering guarantees unique keys; a violation is a compiler bug the build
/// reports instead of writing an image that silently drops an entry.
llvm::Expected<std::string> WriteTableImage(const ir::HostIr& host);

/// The backend row's host emitter: `tables.ndt`.
llvm::Expected<std::vector<Artifact>> EmitTablesHost(const ir::HostIr& host);

}  // namespace netdsl::backends
