// An image's entries as keyed, printable records: what `netdsl tables dump`
// prints and `netdsl tables diff` compares (runtime/tables internal).
#pragma once

#include <string>
#include <vector>

#include "common/io/json_string.h"
#include "runtime/tables/image.h"

namespace netdsl::runtime::tables {

struct Field {
  enum class Kind { kNumber, kText, kName };  ///< kName: user text, shown in backticks
  std::string name;
  std::string value;
  Kind kind = Kind::kText;
};

struct Entry {
  std::string key;  ///< identifies the entry across images (`port 3`, `vsid 5001 ca 10.0.1.4`)
  std::vector<Field> fields;
};

struct RenderedSection {
  std::string name;
  bool derived = false;  ///< computed from other sections (LPM ranges): dumped, not diffed
  std::vector<Entry> entries;  ///< sorted by key order of the section
};

/// Every section of `image` as entries, in a deterministic order.
std::vector<RenderedSection> Render(const Image& image);
/// The header as an entry (`host`, `generation`, `source_hash`, ...).
Entry RenderHeader(const Image& image);

/// "10.0.1.4" / "2001:db8::1" / "-" for family none.
std::string FormatIp(uint8_t family, const uint8_t bytes[16]);
std::string FormatPrefix(const ndt::Prefix& p);
std::string FormatMac(const uint8_t mac[6]);
/// A JSON string literal (common/io/json_string.h).
using ::netdsl::io::JsonString;

/// The packet `netdsl tables trace` follows.
struct TracePacket {
  enum class Kind { kData, kDhcpOffer, kRouterAdvertisement };
  std::string dst;      ///< destination address (required, valid)
  std::string dst_mac;  ///< optional
  std::string src_mac;  ///< optional: checked against the port's MAC (mac_spoofing guard)
  Kind kind = Kind::kData;  ///< DHCP server and router messages meet dhcp_guard / router_guard
};

/// `netdsl tables trace`: prints the decision hop by hop to `out`; returns 0 when
/// delivered or forwarded, 1 when dropped (or the port is unknown).
int Trace(const Image& image, uint32_t port_id, const TracePacket& packet, std::string* out);
int Trace(const Image& image, uint32_t port_id, const std::string& dst, const std::string& dst_mac,
          std::string* out);

}  // namespace netdsl::runtime::tables
