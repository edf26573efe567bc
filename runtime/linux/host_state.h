// The Linux state of one host as netdsl models it: the same types describe the
// desired state (read from linux.yaml) and the actual state (read via netlink).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/linux_yaml/schema.h"
#include "common/net/address.h"

namespace netdsl::runtime {

// The types are linux.yaml's (common/linux_yaml/schema.h), shared with the
// writer; the kernel-side fields (ifindex, alias, attrs, ...) hold what only
// the actual state has.
using linux_yaml::Address;
using linux_yaml::AddressAttrs;
using linux_yaml::AdoptedNic;
using linux_yaml::FdbEntry;
using linux_yaml::HtbClass;
using linux_yaml::Link;
using linux_yaml::Neighbour;
using linux_yaml::NeighbourAttrs;
using linux_yaml::NftChain;
using linux_yaml::NftRule;
using linux_yaml::NftSet;
using linux_yaml::NftTable;
using linux_yaml::Qdisc;
using linux_yaml::Route;
using linux_yaml::RouteAttrs;
using linux_yaml::SourceLoc;
/// linux.yaml `management:` (linux_yaml::Management).
using ManagementSpec = linux_yaml::Management;

/// An object that lives on an owned device but belongs to the host: the
/// settings of an adopted NIC that netdsl moved onto the switch (an address,
/// a route or a permanent neighbour, as an operation that adds it there).
/// Later applies leave it alone, and put it back on `nic` when the NIC is
/// released. Recorded in the state directory (`<scope>.hosted`).
struct HostedObject {
  std::string nic;  ///< where it came from
  std::string dev;  ///< where it lives now
  enum class Kind : uint8_t { Address, Route, Neighbour } kind = Kind::Address;
  Address address;
  Route route;
  Neighbour neighbour;
};

/// Everything netdsl manages on one host (desired or actual): linux.yaml's
/// document, plus what only the actual state has.
struct HostState : linux_yaml::Plan {
  /// Actual only: the host's objects netdsl moved onto owned devices (read
  /// from the state directory, not from the kernel).
  std::vector<HostedObject> hosted;
};

/// Kernel features a plan may require, sorted.
const std::vector<std::string>& KnownFeatures();

/// Features the plan's objects need (union with `requires:`), each with the
/// first object that needs it, e.g. {"vrf", "link `nd-vrf1001`"}.
std::vector<std::pair<std::string, std::string>> NeededFeatures(const HostState& desired);

/// netdsl's ownership marker (IFLA_IFALIAS) of a link: the owner alias, and
/// for a VM port the VM NIC it belongs to, after a space: `netdsl vm
/// web01/nic0` (`links[].identity`; docs/runtime.md "What netdsl owns"). The
/// kernel keeps at most 255 bytes: a longer marker keeps a prefix of the
/// identity and `~` + 16 hex digits of the whole identity's FNV-1a 64 hash.
std::string OwnerMarker(std::string_view owner_alias, std::string_view identity);
/// Whether `alias` is a marker of `owner_alias`, with or without an identity.
bool IsOwnerMarker(std::string_view alias, std::string_view owner_alias);
/// The identity part of a marker of `owner_alias` ("" = none).
std::string_view MarkerIdentity(std::string_view alias, std::string_view owner_alias);

/// The device group (IFLA_GROUP) netdsl gives the links it creates, in the
/// creating request itself (the kernel ignores IFLA_IFALIAS there): with the
/// ifindex the request asked for, it proves a link is the one netdsl
/// created even before its marker was set (docs/runtime.md "Ownership").
/// Between 2^30 and 2^31: above the small numbers operators use, and shown
/// as a positive number by `ip link`.
uint32_t OwnerGroup(std::string_view owner_alias);

/// Fingerprint of the desired nftables table (hex FNV-1a 64 of its canonical text).
std::string NftFingerprint(const NftTable& table);

}  // namespace netdsl::runtime
