// Hand-built allocated fabrics and host IRs for the PowerShell backend's unit
// tests: the seed demo of SPEC §2 and a copy whose names are hostile to PowerShell.
#pragma once

#include <string>
#include <vector>

#include "compiler/alloc/allocation.h"
#include "compiler/lower/host_ir.h"

namespace netdsl::testing {

/// The seed demo (examples/seed-demo/fabric.netdsl) as sema + alloc would
/// produce it with every host `platform = hyperv`: VSIDs 5001 (web) and 6001
/// (db), RDID 1, PAs .10/.11/.12.
alloc::AllocatedFabric SeedDemoFabric();

/// host02's IR (the host with winserver10) and the gateway's IR.
ir::HostIr SeedDemoHost02();
ir::HostIr SeedDemoGateway();

/// The seed demo plus what it does not exercise: a nested host group, a
/// VLAN-isolated VM network on two site VLANs, reserved addresses and VIPs,
/// absolute bandwidth, an embedded-team switch in absolute mode, LACP with
/// address hashing, descriptions.
alloc::AllocatedFabric VariantFabric();
/// host02 with a VLAN-tagged port, absolute bandwidth and an IPv6 PA with a gateway.
ir::HostIr VariantHost();

/// Names PowerShell would misread if they were not quoted correctly.
std::vector<std::string> HostileNames();

/// The seed demo with every object renamed to one of HostileNames() (cycling).
alloc::AllocatedFabric HostileFabric();
/// host02's IR with hostile switch, VM, NIC and network names.
ir::HostIr HostileHost();

}  // namespace netdsl::testing
