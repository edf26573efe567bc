// What verify reads of a host's linux.yaml, read fast (verify-internal):
// the links, adopted NICs, addresses, routes, FDB and neighbour entries and
// the nftables chains and rules, each field checked as the runtime's strict
// reader checks it. Anything else (qdiscs, nft sets, owner, requires...) is
// left to `netdsl plan`, which reads every field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/linux/host_state.h"

namespace netdsl::verify {

/// Fills the parts of `out` verify uses from linux.yaml `text`. False when
/// the text is outside the writer's YAML subset or a field verify uses is
/// missing or invalid: then the caller reads the file with the runtime's
/// strict reader, which says what is wrong (or reads what this one did not).
bool ReadLinuxForVerify(std::string_view text, runtime::HostState* out);

/// Reads host `path`'s linux.yaml into `out`: the fast reader above, else the
/// runtime's strict reader (runtime::ReadPlanFile), whose errors go into `errors`.
/// `buffer` is reused between calls (one per thread: no allocation per host).
bool ReadLinuxFile(const std::string& path, std::string& buffer, runtime::HostState* out,
                   std::vector<std::string>* errors);

}  // namespace netdsl::verify
