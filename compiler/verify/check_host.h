// The per-host halves of CheckHost (fabric.h): the table image, and the
// host's linux.yaml against its image. verify-internal.
#pragma once

#include <cstdint>

#include "compiler/verify/fabric.h"
#include "runtime/linux/host_state.h"

namespace netdsl::verify {

/// The image of `host` against itself and the fabric (check_image.cpp).
void CheckImage(Fabric& fabric, uint32_t host);
/// linux.yaml of `host` against its image (d), its VRFs (a); fills
/// fabric.hosts[host].linux for the fabric-wide checks (check_linux.cpp).
void CheckLinux(Fabric& fabric, uint32_t host, const runtime::HostState& state);

}  // namespace netdsl::verify
