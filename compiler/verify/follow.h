// Following a packet through the table images from host to host: the trace of
// `netdsl tables trace` on the first host, then what each host the packet is
// encapsulated to does with it. verify-internal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/verify/fabric.h"
#include "runtime/tables/trace.h"

namespace netdsl::verify {

struct Followed {
  runtime::tables::TraceEnd end;
  uint32_t host = 0;               ///< where the packet ended
  std::vector<std::string> hops;   ///< numbered hops and the verdict, when asked for
  std::string failure;             ///< why it stopped before the tables decided (no such PA, a loop)
};

/// From port `port_id` of `host` to `dst`, across at most 8 hosts.
Followed Follow(const Fabric& fabric, uint32_t host, uint32_t port_id, const net::IpAddress& dst, bool want_hops);

}  // namespace netdsl::verify
