// verify's state file (VerifyOptions::state_out / state_in): what a verify
// keeps of each host so that the next one reads only the hosts that changed
// (docs/verify.md "Incremental"). A pure function of the build: the same
// artifacts give the same bytes, whether a full or an incremental verify
// wrote them. verify-internal.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/verify/fabric.h"

namespace netdsl::verify {

/// A finding as the state keeps it: its file relative to the build directory.
struct KeptFinding {
  DiagKind kind;
  std::string file;  ///< "hosts/NAME/linux.yaml", or "" (no file)
  int line = 0, col = 0;
  std::string message;
  std::vector<std::string> path;
  auto operator<=>(const KeptFinding&) const = default;
};

/// A segment of a host's table image: what the fabric-wide maps take from it.
struct SegmentRef {
  uint32_t vsid = 0, rdid = 0;
  net::IpAddress pa;
  bool has_pa = false;  ///< local_pa is set (and not ::/0.0.0.0)
  auto operator<=>(const SegmentRef&) const = default;
};

/// What one host's checks read of the rest of the fabric, and what the
/// fabric-wide checks read of it. Only from its own artifacts.
struct HostSummary {
  enum Flags : uint8_t { kHasTables = 1, kHasLinux = 2, kImageOk = 4, kLinuxOk = 8 };
  std::string name;
  uint8_t flags = 0;
  std::vector<SegmentRef> segments;   ///< in the image's order
  std::vector<uint32_t> vsids;        ///< every VSID its image names (sorted)
  std::vector<uint32_t> rdids;        ///< every routing domain its image names (sorted)
  std::vector<std::string> gateways;  ///< hosts its gateway routes lead to (sorted)
  std::vector<net::IpAddress> pas;    ///< provider addresses its records and routes lead to (sorted)
  std::vector<L2Domain> domains;      ///< its layer-2 domains (LinuxHost)
  std::vector<L2Exit> exits;
  std::vector<KeptFinding> findings;  ///< of its per-host checks (sorted)
};

struct VerifyState {
  /// Some kind had more findings than a verify shows (Findings::kPerKind):
  /// which ones are shown then depends on the order the threads ran in, so
  /// such a state is not reused.
  bool overflow = false;
  std::vector<HostSummary> hosts;  ///< by name
  std::map<uint32_t, std::vector<KeptFinding>> vsid_findings;  ///< non-empty only (sorted)
  std::map<uint32_t, std::vector<KeptFinding>> rdid_findings;
};

/// The file's bytes: magic, format version, CRC32C and length of the payload.
std::string EncodeState(const VerifyState& state);
/// False for anything that is not a complete state of this format version.
bool DecodeState(std::string_view bytes, VerifyState* state);

}  // namespace netdsl::verify
