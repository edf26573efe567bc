// Probes (docs/runtime.md "Probes"): reachability checks that apply picks
// before changing anything and runs again after. A probe that passed before
// and fails after rolls the apply back. They run in the calling thread's
// network namespace (apply's target).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/address.h"
#include "runtime/linux/host_state.h"

namespace netdsl::runtime {

struct Probe {
  enum class Kind : uint8_t {
    Gateway,  ///< a default gateway of the main table: ICMP echo or ARP reply
    Peer,     ///< an underlay peer (a remote PA of the plan): ICMP echo
    Given,    ///< `--probe ADDR[:PORT]`: TCP connect with a port, else ICMP echo or ARP reply
  };
  Kind kind = Kind::Given;
  net::IpAddress address;
  uint16_t port = 0;  ///< Given only; 0 = none
  int ifindex = 0;    ///< the device of a link-local (fe80::) gateway
  /// "default gateway 10.0.0.1", "underlay peer 192.168.0.11", "--probe 10.1.0.2:22".
  std::string Name() const;
};

/// `ADDR`, `ADDR:PORT`, `[V6ADDR]:PORT`, `V6ADDR`. Nullopt with `error` set otherwise.
std::optional<Probe> ParseProbe(std::string_view text, std::string* error);

/// At most this many underlay peers are probed, spread evenly over the
/// sorted remote PAs found in the sample below.
inline constexpr size_t kMaxPeerProbes = 32;

/// At most this many FDB entries are looked at to find the remote PAs:
/// all of them in a plan that has no more, else this many at evenly spaced
/// positions (a PA behind more of the plan's entries is likelier to be
/// picked). So choosing costs the same at 1k and at 1M entries
/// (docs/benchmarks.md "safety cost").
inline constexpr size_t kPeerSample = 1024;

/// The underlay peers to probe (vxlan FDB destinations from the sample,
/// every gretap remote): distinct, sorted, at most kMaxPeerProbes of them,
/// spread evenly over the candidates. The same for the same plan.
std::vector<net::IpAddress> UnderlayPeers(const HostState& desired);

/// The probes of an apply: the main table's default gateways (read now),
/// the underlay peers of UnderlayPeers, and `given`, without repeats.
std::vector<Probe> ChooseProbes(const HostState& desired, const std::vector<Probe>& given, std::string* error);

struct ProbeResult {
  bool passed = false;
  std::string detail;  ///< how it passed ("ARP reply on eth0") or the last reason it did not
};

/// Runs all probes at once, each retried every 200 ms until it passes or
/// `window` has gone by. `fail_unroutable`: a probe without any route fails
/// at once instead of waiting for one (before the apply, when nothing changes).
/// `stop`, when set, ends the run early (within 50 ms; the rest count as failed).
std::vector<ProbeResult> RunProbes(const std::vector<Probe>& probes, std::chrono::milliseconds window,
                                   bool fail_unroutable, const std::atomic<bool>* stop = nullptr);

/// After the change: runs `passed` (the probes that passed before) again. A
/// gateway probe checks the main table's default gateway of its family as
/// it is now: it fails when the default route is gone or its (new) gateway
/// does not answer.
std::vector<ProbeResult> RecheckProbes(const HostState& desired, const std::vector<Probe>& passed,
                                       std::chrono::milliseconds window);

}  // namespace netdsl::runtime
