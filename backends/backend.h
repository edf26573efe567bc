// The table of backends: every backend is one row that says which host
// platforms it serves and how it emits a host's and the fabric's artifacts,
// as ninja's tool table does. The pipeline (compiler/pipeline/) walks this
// list; adding a backend is adding a row to AllBackends().
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/fabric/enums.h"
#include "compiler/lower/host_ir.h"
#include "llvm/Support/Error.h"

namespace netdsl {
class DiagnosticEngine;
namespace alloc {
struct AllocatedFabric;
}
}  // namespace netdsl

namespace netdsl::backends {

/// One file a backend produces: its path relative to the host's directory
/// (`hosts/NAME/`) for host artifacts, to the output directory for fabric ones.
struct Artifact {
  std::string path;
  std::string data;
};

/// A set of host platforms.
class PlatformSet {
 public:
  constexpr PlatformSet(std::initializer_list<fabric::Platform> platforms) {
    for (fabric::Platform p : platforms) bits_ |= Bit(p);
  }
  constexpr bool Has(fabric::Platform p) const { return bits_ & Bit(p); }

 private:
  static constexpr uint8_t Bit(fabric::Platform p) { return uint8_t(1u << unsigned(p)); }
  uint8_t bits_ = 0;
};

/// Every backend reports failure the same way: an llvm::Error whose message
/// names the host and the value it refuses. Sema and `validate` are meant to
/// catch everything a user can cause, so an emit error is a compiler bug; the
/// pipeline still reports it as a diagnostic (ND3001) at the host.
using HostEmitFn = llvm::Expected<std::vector<Artifact>> (*)(const ir::HostIr& host);
using FabricEmitFn = llvm::Expected<std::vector<Artifact>> (*)(const alloc::AllocatedFabric& fabric);
/// Backend-specific rules over the allocated fabric (what the backend would
/// refuse, reported with a code and the source location before anything is
/// emitted). `netdslc check` and `netdslc build` both run them.
using ValidateFn = void (*)(const alloc::AllocatedFabric& fabric, DiagnosticEngine& diags);

struct Backend {
  std::string_view name;   ///< `--target=NAME`
  PlatformSet platforms;   ///< hosts of these platforms get its host artifacts
  HostEmitFn emit_host;   ///< null: no per-host artifacts
  FabricEmitFn emit_fabric;  ///< null: no fabric-wide artifacts
  ValidateFn validate;      ///< null: nothing beyond sema
};

/// Every backend this netdslc has, in `--target` order.
std::span<const Backend> AllBackends();

/// The backend named `name`, or null.
const Backend* FindBackend(std::string_view name);

}  // namespace netdsl::backends
