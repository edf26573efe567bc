// AllBackends(): the one list of backends (see backend.h).
#include "backends/backend.h"

#include <array>

#include "backends/linux/linux_backend.h"
#include "backends/powershell/powershell_backend.h"
#include "backends/tables/table_writer.h"

namespace netdsl::backends {

namespace {

using fabric::Platform;

const std::array<Backend, 3> kBackends = {{
    {"tables", {Platform::Linux, Platform::HyperV}, EmitTablesHost, nullptr, nullptr},
    {"linux", {Platform::Linux}, EmitLinuxHost, nullptr, ValidateLinux},
    {"powershell", {Platform::HyperV}, EmitPowerShellHost, EmitPowerShellFabric, nullptr},
}};

}  // namespace

std::span<const Backend> AllBackends() { return kBackends; }

const Backend* FindBackend(std::string_view name) {
  for (const Backend& b : kBackends)
    if (b.name == name) return &b;
  return nullptr;
}

}  // namespace netdsl::backends
