// Desired Linux state of one host, as plain values: what linux.yaml records
// and linux.batch spells as commands. Built once from the per-host IR by
// BuildLinuxState (linux_state.cpp); both emitters only format it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/linux_yaml/schema.h"
#include "compiler/lower/host_ir.h"
#include "llvm/Support/Error.h"

namespace netdsl::backends::linux_backend {

// The objects are linux.yaml's (common/linux_yaml/schema.h), shared with the
// runtime's reader; `comment` fields are linux.batch's.
using linux_yaml::Address;
using linux_yaml::AdoptedNic;
using linux_yaml::FdbEntry;
using linux_yaml::HtbClass;
using linux_yaml::Link;
using linux_yaml::Management;
using linux_yaml::Neighbour;
using linux_yaml::NftChain;
using linux_yaml::NftRule;
using linux_yaml::NftSet;
using linux_yaml::NftTable;
using linux_yaml::Qdisc;
using linux_yaml::Route;
using linux_yaml::kBondMiimonMs;
using linux_yaml::kMainTable;
using linux_yaml::kOwnerAlias;
using linux_yaml::kOwnerPrefix;
using linux_yaml::kTbfLatencyUs;
using linux_yaml::kVxlanPort;
using linux_yaml::kVxlanTtl;
/// Everything linux.yaml says, in emission order.
using LinuxState = linux_yaml::Plan;

/// Link rate minimum weights are shared out against (the IR carries no NIC speed).
inline constexpr uint64_t kNominalUplinkBps = 10'000'000'000ULL;

/// Maps the IR to Linux objects (docs/linux-backend.md). Fails, naming the
/// host and the offending value, when a name could not be emitted safely or
/// the IR is inconsistent (a port on a segment the host lacks, ...).
llvm::Expected<LinuxState> BuildLinuxState(const ir::HostIr& host);

/// Formats the state as linux.yaml (emit_yaml.cpp).
std::string FormatLinuxYaml(const LinuxState& state);
/// Formats the state as sh-runnable ip/bridge/tc/nft commands (emit_batch.cpp).
std::string FormatLinuxBatch(const LinuxState& state);

}  // namespace netdsl::backends::linux_backend
