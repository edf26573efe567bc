// Enumerations of the fabric's object model that both the checked model
// (compiler/sema/model.h) and the per-host IR (compiler/lower/host_ir.h) use.
// Header-only and std-only, so that a backend including the IR pulls in
// neither sema nor LLVM.
#pragma once

#include <cstdint>

namespace netdsl::fabric {

enum class Isolation : uint8_t { None, Vlan, Vxlan, Nvgre };
enum class TeamingMode : uint8_t { SwitchIndependent, Lacp, Static };
enum class LoadBalancing : uint8_t { HostDefault, AddressHash, HyperVPort, Dynamic };
enum class UplinkMode : uint8_t { NoTeam, Team, EmbeddedTeam };
enum class MinimumBandwidthMode : uint8_t { Weight, Absolute, None };

/// What a host runs; it decides which backends' host artifacts it gets
/// (backends/backend.h).
enum class Platform : uint8_t { Linux, HyperV };

/// An uplink port profile's teaming settings (VMM defaults when absent).
struct Teaming {
  TeamingMode mode = TeamingMode::SwitchIndependent;
  LoadBalancing load_balancing = LoadBalancing::HostDefault;
};

/// Encapsulation overhead in bytes on the underlay.
inline uint32_t EncapOverhead(Isolation i) {
  return i == Isolation::Vxlan ? 50 : i == Isolation::Nvgre ? 42 : 0;
}

}  // namespace netdsl::fabric
