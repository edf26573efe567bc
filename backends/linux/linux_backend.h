// Linux backend: per-host IR → desired state (`linux.yaml`, docs/linux-yaml.md)
// and the same as iproute2/bridge/tc/nft batch commands (`linux.batch`).
// docs/linux-backend.md says how the model maps to Linux objects.
#pragma once

#include <string>
#include <vector>

#include "backends/backend.h"
#include "compiler/lower/host_ir.h"
#include "llvm/Support/Error.h"

namespace netdsl {
class DiagnosticEngine;
namespace alloc {
struct AllocatedFabric;
}
}  // namespace netdsl

namespace netdsl::backends {

/// Both Linux artifacts of one host.
struct LinuxArtifacts {
  std::string yaml;   ///< hosts/NAME/linux.yaml
  std::string batch;  ///< hosts/NAME/linux.batch
};

/// Emits both artifacts, or refuses with an error naming the host and the
/// offending value (an interface name that is not 1..15 bytes of
/// [A-Za-z0-9._-], a duplicate name, a port on a segment the host lacks, ...)
/// instead of writing a line a user name could break. Drivers should call this.
llvm::Expected<LinuxArtifacts> EmitLinux(const ir::HostIr& host);

/// The backend row's host emitter: `linux.yaml` and `linux.batch` (EmitLinux).
llvm::Expected<std::vector<Artifact>> EmitLinuxHost(const ir::HostIr& host);

/// The backend row's `validate`: what EmitLinux would refuse for this fabric
/// (derived interface names that clash on a host, port ids too large for a tc
/// class), as diagnostics with source locations (ND3100-).
void ValidateLinux(const alloc::AllocatedFabric& fabric, DiagnosticEngine& diags);

/// Empty when `host` can be emitted; otherwise the message EmitLinux fails with.
std::string CheckLinuxHostIr(const ir::HostIr& host);

/// linux.yaml of `host`; "" when EmitLinux would refuse (check with CheckLinuxHostIr).
std::string EmitLinuxYaml(const ir::HostIr& host);
/// linux.batch of `host`; "" when EmitLinux would refuse (check with CheckLinuxHostIr).
std::string EmitLinuxBatch(const ir::HostIr& host);

}  // namespace netdsl::backends
