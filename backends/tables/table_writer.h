// Table image backend: per-host IR → `hosts/NAME/tables.ndt` bytes (docs/table-image.md).
#pragma once

#include <string>

#include "compiler/lower/host_ir.h"

namespace netdsl::backends {

/// Empty when `host` can be written; otherwise why not, naming the host and
/// the value: the image's binary searches and hash tables need unique keys
/// (port ids, segment VSIDs, lookup records per (VSID, CA) and (VSID, MAC)).
/// Lowering guarantees them; a violation is a compiler bug the build reports
/// instead of writing an image that silently drops an entry.
std::string CheckTableHostIr(const ir::HostIr& host);

/// The complete image, deterministic for the same IR; "" when
/// CheckTableHostIr refuses (drivers check first and report its message).
std::string WriteTableImage(const ir::HostIr& host);

}  // namespace netdsl::backends
