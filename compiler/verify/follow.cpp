// Follow: one trace per host the packet visits, hops renumbered into one path.
#include "compiler/verify/follow.h"

#include <set>

namespace netdsl::verify {
namespace {

using runtime::tables::TraceEnd;

/// Appends one host's trace output to `hops`: hop lines as they are (the first
/// one naming the host), the verdict as the final line or, when the packet
/// goes on, as one more hop.
int Append(const std::string& out, const std::string& host, bool last, int next_hop, std::vector<std::string>& hops) {
  size_t start = 0;
  bool first = true;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(start, end - start);
    start = end + 1;
    if (line.rfind("verdict: ", 0) == 0) {
      if (last) {
        hops.push_back(line);
      } else {
        hops.push_back(std::to_string(next_hop++) + ". " + line.substr(9));
      }
      continue;
    }
    size_t dot = line.find(". ");
    if (dot != std::string::npos && first) {
      line = line.substr(0, dot + 2) + "host " + Q(host) + ": " + line.substr(dot + 2);
      first = false;
    }
    hops.push_back(line);
    ++next_hop;
  }
  return next_hop;
}

}  // namespace

Followed Follow(const Fabric& fabric, uint32_t host, uint32_t port_id, const net::IpAddress& dst, bool want_hops) {
  Followed r;
  r.host = host;
  std::string out;
  std::string* o = want_hops ? &out : nullptr;
  runtime::tables::TraceRequest request;
  request.dst = dst;
  int hop = 1;
  r.end = runtime::tables::TraceFromPort(*fabric.hosts[host].image, port_id, request, o, hop);
  std::set<std::pair<uint32_t, uint32_t>> visited{{host, r.end.vsid}};
  for (int step = 0;; ++step) {
    bool goes_on = r.end.kind == TraceEnd::Kind::kEncapsulate || r.end.kind == TraceEnd::Kind::kForward;
    const Host* next = goes_on ? fabric.HostByPa(r.end.pa) : nullptr;
    if (goes_on && (!next || !next->image)) {
      r.failure = "no host of this build has provider address " + r.end.pa.ToString();
    } else if (goes_on && (step == 8 || !visited.insert({uint32_t(next - fabric.hosts.data()), r.end.vsid}).second)) {
      r.failure = "the packet comes back to host " + Q(next->name) + " in vsid " + std::to_string(r.end.vsid) +
                  ": a forwarding loop";
    }
    bool last = !goes_on || !r.failure.empty();
    if (want_hops) {
      hop = Append(out, fabric.hosts[r.host].name, last && r.failure.empty(), hop, r.hops);
      out.clear();
    }
    if (last) break;
    // The source PA is the sending host's tunnel address for the VSID.
    net::IpAddress src;
    if (const ndt::SegmentEntry* seg = fabric.hosts[r.host].image->FindSegment(r.end.vsid)) src = ToIp(seg->local_pa);
    uint32_t next_host = uint32_t(next - fabric.hosts.data());
    uint32_t vsid = r.end.vsid;
    r.end = runtime::tables::TraceArrival(*next->image, vsid, src, dst, o, hop);
    r.host = next_host;
  }
  if (!r.failure.empty()) {
    r.end.kind = TraceEnd::Kind::kDrop;
    if (want_hops) r.hops.push_back("verdict: drop: " + r.failure);
  }
  return r;
}

}  // namespace netdsl::verify
