// Loop-freedom (c): a broadcast in a VSID reaches each carrier exactly once.
// With head-end replication (each host sends one copy to every other carrier)
// that holds when (1) every carrier sends to every other carrier once, (2)
// every copy is accepted by exactly one tunnel of the receiver's bridge, and
// (3) no bridge forwards a frame that came from one tunnel out of another
// (split horizon). Checked per carrier, so linear in the flood lists.
#include <algorithm>
#include <map>
#include <set>

#include "compiler/verify/fabric.h"

namespace netdsl::verify {
namespace {

/// A carrier's view of one VSID: its tunnel ports (synthesized for a host
/// without linux.yaml: Hyper-V replicates to every other carrier and never
/// relays), and its provider address.
struct Endpoint {
  uint32_t host = 0;
  net::IpAddress pa;
  std::vector<TunnelPort> tunnels;
  bool linux = false;
  const LinuxSegment* segment = nullptr;
};

bool Accepts(const TunnelPort& u, const TunnelPort& sender, const net::IpAddress& at) {
  if (u.kind != sender.kind || u.id != sender.id || u.local != at) return false;
  if (u.kind == TunnelPort::Kind::kGretap && u.remote && *u.remote != sender.local) return false;
  return true;
}

class Flooding {
 public:
  Flooding(Fabric& fabric, uint32_t vsid, const std::vector<Carrier>& carriers)
      : fabric_(fabric), vsid_(vsid), carriers_(carriers) {}

  void Run() {
    auto iso = ndt::Isolation(carriers_.front().segment->isolation);
    if (iso == ndt::Isolation::kNone) return;  // the switch's own bridge: the physical network's business
    for (const Carrier& c : carriers_) {
      const Host& host = fabric_.hosts[c.host];
      Endpoint e;
      e.host = c.host;
      e.pa = ToIp(c.segment->local_pa);
      if (host.linux_ok) {
        auto it = host.linux.segments.find(vsid_);
        if (it == host.linux.segments.end()) continue;  // no bridge of its own (vlan 0): nothing to flood here
        e.linux = true;
        e.segment = &it->second;
        e.tunnels = it->second.tunnels;
      } else if (host.linux_path.empty()) {
        TunnelPort t;
        t.name = "(hyper-v switch)";
        t.kind = iso == ndt::Isolation::kVxlan ? TunnelPort::Kind::kVxlan : TunnelPort::Kind::kGretap;
        t.id = iso == ndt::Isolation::kVxlan ? vsid_ : vsid_ << 8;
        t.local = e.pa;
        for (const Carrier& o : carriers_)
          if (o.host != c.host) t.flood.push_back(ToIp(o.segment->local_pa));
        if (iso != ndt::Isolation::kVlan) e.tunnels.push_back(std::move(t));
      } else {
        continue;  // unreadable linux.yaml: reported already
      }
      by_pa_[e.pa] = endpoints_.size();
      endpoints_.push_back(std::move(e));
    }
    if (iso == ndt::Isolation::kVlan) return Vlan();
    for (const Endpoint& e : endpoints_) {
      if (Relay(e)) return;  // one counterexample per VSID is enough
    }
    for (const Endpoint& e : endpoints_) HeadEnd(e);
  }

 private:
  const std::string& Name(uint32_t h) const { return fabric_.hosts[h].name; }
  std::string File(const Endpoint& e) const { return e.linux ? fabric_.hosts[e.host].linux_path : ""; }
  std::string HostOf(const net::IpAddress& pa) const {
    const Host* h = fabric_.HostByPa(pa);
    return h ? "host " + Q(h->name) : "no host of this build";
  }
  std::string TunnelName(const TunnelPort& t) const {
    const char* kind = t.kind == TunnelPort::Kind::kVxlan ? "vxlan" : t.kind == TunnelPort::Kind::kGretap ? "gretap" : "vlan";
    return std::string(kind) + " " + Q(t.name);
  }

  /// The first port of the VSID on `host`, as `port N (vm … nic …)`, or "".
  std::string PortOn(uint32_t host) const {
    auto ports = fabric_.ports_by_vsid.find(vsid_);
    if (ports == fabric_.ports_by_vsid.end()) return "";
    for (const PortRef& p : ports->second)
      if (p.host == host)
        return "port " + std::to_string(p.port->id) + " (" + PortName(*fabric_.hosts[host].image, *p.port) + ")";
    return "";
  }

  const TunnelPort* SenderTo(const Endpoint& from, const net::IpAddress& to) const {
    for (const TunnelPort& t : from.tunnels)
      if (std::binary_search(t.flood.begin(), t.flood.end(), to)) return &t;
    return nullptr;
  }

  /// Split horizon: a frame accepted by one tunnel of e's bridge must not
  /// leave through another.
  bool Relay(const Endpoint& e) {
    for (const TunnelPort& in : e.tunnels)
      for (const TunnelPort& out : e.tunnels) {
        if (&in == &out || (in.isolated && out.isolated)) continue;
        for (const Endpoint& a : endpoints_) {
          if (a.host == e.host) continue;
          const TunnelPort* sent = SenderTo(a, e.pa);
          if (!sent || !Accepts(in, *sent, e.pa)) continue;
          for (const net::IpAddress& b_pa : out.flood) {
            if (b_pa == a.pa || b_pa == e.pa) continue;
            auto b = by_pa_.find(b_pa);
            if (b == by_pa_.end()) continue;
            Report(a, *sent, e, in, out, endpoints_[b->second]);
            return true;
          }
        }
      }
    return false;
  }

  void Report(const Endpoint& a, const TunnelPort& sent, const Endpoint& e, const TunnelPort& in,
              const TunnelPort& out, const Endpoint& b) {
    std::vector<std::string> hops;
    auto hop = [&](std::string text) { hops.push_back(std::to_string(hops.size() + 1) + ". " + text); };
    std::string origin = PortOn(a.host);
    hop("host " + Q(Name(a.host)) + ": " + (origin.empty() ? "the bridge" : origin) + " floods a broadcast in vsid " +
        std::to_string(vsid_) + " (an ARP request)");
    hop("host " + Q(Name(a.host)) + ": " + TunnelName(sent) + " sends a copy to " + e.pa.ToString() + " (" +
        HostOf(e.pa) + ")");
    const TunnelPort* direct = SenderTo(a, b.pa);
    if (direct)
      hop("host " + Q(Name(a.host)) + ": " + TunnelName(*direct) + " sends a copy to " + b.pa.ToString() + " (" +
          HostOf(b.pa) + ")");
    hop("host " + Q(Name(e.host)) + ": " + TunnelName(in) + " receives the copy from " + a.pa.ToString() +
        " into bridge " + Q(e.segment ? e.segment->bridge : "") );
    hop("host " + Q(Name(e.host)) + ": the bridge floods it out " + TunnelName(out) + " to " + b.pa.ToString() + " (" +
        HostOf(b.pa) + "): no split horizon between the two tunnel ports");
    // Does b relay it in turn (back towards a, or on)?
    const TunnelPort* b_in = nullptr;
    const TunnelPort* b_out = nullptr;
    for (const TunnelPort& u : b.tunnels)
      if (Accepts(u, out, b.pa)) b_in = &u;
    if (b_in)
      for (const TunnelPort& u : b.tunnels)
        if (&u != b_in && !(u.isolated && b_in->isolated) && !u.flood.empty()) b_out = &u;
    std::string second = direct ? "a second copy (the first came directly from host " + Q(Name(a.host)) + ")"
                                : "a copy by way of host " + Q(Name(e.host));
    hop("host " + Q(Name(b.host)) + ": " + (b_in ? TunnelName(*b_in) + " receives " : "receives ") + second);
    bool loop = b_out != nullptr;
    if (loop)
      hop("host " + Q(Name(b.host)) + ": its bridge floods it out " + TunnelName(*b_out) + " to " +
          (b_out->flood.empty() ? std::string("?") : b_out->flood.front().ToString()) + " (" +
          HostOf(b_out->flood.front()) + ") in turn");
    hops.push_back(std::string("verdict: ") +
                   (loop ? "loop: every host relays every broadcast again; copies multiply without end"
                         : "duplicate: host " + Q(Name(b.host)) + "'s ports receive the broadcast twice"));
    fabric_.findings.Add({DiagKind::VerifyFloodLoop, File(e), out.line, out.line ? 3 : 0,
                          "vsid " + std::to_string(vsid_) + ": a broadcast from host " + Q(Name(a.host)) +
                              " reaches host " + Q(Name(b.host)) + (direct ? " twice" : " by way of another host") +
                              (loop ? " and loops" : "") + ": host " + Q(Name(e.host)) + " relays it from " +
                              TunnelName(in) + " to " + TunnelName(out) + " (bridge " +
                              Q(e.segment ? e.segment->bridge : "") + ", no split horizon)",
                          std::move(hops)});
  }

  /// Every carrier sends one copy to every other carrier, and one tunnel there takes it.
  void HeadEnd(const Endpoint& e) {
    std::map<net::IpAddress, std::vector<const TunnelPort*>> sent;
    for (const TunnelPort& t : e.tunnels)
      for (const net::IpAddress& d : t.flood) sent[d].push_back(&t);
    for (const auto& [pa, via] : sent) {
      if (via.size() > 1)
        Add(DiagKind::VerifyFloodLoop, e, via[1]->line,
            "host " + Q(Name(e.host)) + " sends each broadcast of vsid " + std::to_string(vsid_) + " to " +
                pa.ToString() + " twice (" + TunnelName(*via[0]) + " and " + TunnelName(*via[1]) + ")");
      auto b = by_pa_.find(pa);
      if (b == by_pa_.end()) continue;  // not a carrier: the copy is dropped there
      const Endpoint& r = endpoints_[b->second];
      std::vector<const TunnelPort*> takers;
      for (const TunnelPort& u : r.tunnels)
        if (Accepts(u, *via[0], r.pa)) takers.push_back(&u);
      if (takers.empty())
        Add(DiagKind::VerifyFloodMissing, r, 0,
            "host " + Q(Name(r.host)) + " takes no broadcast of vsid " + std::to_string(vsid_) + " from host " +
                Q(Name(e.host)) + ": no tunnel of its bridge accepts " + TunnelName(*via[0]) + " (from " +
                via[0]->local.ToString() + " to " + pa.ToString() + ")",
            HopsFromTo(e, *via[0], r, "no tunnel of the bridge accepts it: dropped"));
      else if (takers.size() > 1)
        Add(DiagKind::VerifyFloodLoop, r, takers[1]->line,
            "host " + Q(Name(r.host)) + " takes each broadcast of vsid " + std::to_string(vsid_) + " from host " +
                Q(Name(e.host)) + " on two tunnels (" + TunnelName(*takers[0]) + " and " + TunnelName(*takers[1]) +
                "): its ports receive two copies");
    }
    for (const Endpoint& o : endpoints_) {
      if (o.host == e.host || sent.count(o.pa)) continue;
      Add(DiagKind::VerifyFloodMissing, e, e.segment ? e.segment->bridge_line : 0,
          "host " + Q(Name(e.host)) + " sends no broadcast of vsid " + std::to_string(vsid_) + " to host " +
              Q(Name(o.host)) + " (" + o.pa.ToString() + "), which carries it: ARP between them fails",
          {"1. host " + Q(Name(e.host)) + ": " + (PortOn(e.host).empty() ? "the bridge" : PortOn(e.host)) +
               " floods a broadcast in vsid " + std::to_string(vsid_),
           "verdict: drop: no tunnel of host " + Q(Name(e.host)) + " sends to " + o.pa.ToString() + " (host " +
               Q(Name(o.host)) + ")"});
    }
  }

  std::vector<std::string> HopsFromTo(const Endpoint& e, const TunnelPort& t, const Endpoint& r,
                                      const std::string& verdict) const {
    return {"1. host " + Q(Name(e.host)) + ": " + (PortOn(e.host).empty() ? "the bridge" : PortOn(e.host)) +
                " floods a broadcast in vsid " + std::to_string(vsid_),
            "2. host " + Q(Name(e.host)) + ": " + TunnelName(t) + " sends a copy to " + r.pa.ToString() + " (host " +
                Q(Name(r.host)) + ")",
            "verdict: drop: " + verdict};
  }

  void Add(DiagKind kind, const Endpoint& where, int line, std::string message, std::vector<std::string> path = {}) {
    fabric_.findings.Add({kind, File(where), where.linux ? line : 0, where.linux && line ? 3 : 0, std::move(message),
                          std::move(path)});
  }

  /// VLAN isolation: each carrier reaches the physical network through exactly one VLAN device.
  void Vlan() {
    uint16_t vlan = carriers_.front().segment->vlan;
    if (vlan == 0) return;
    for (const Endpoint& e : endpoints_) {
      if (!e.linux) continue;
      std::vector<const TunnelPort*> devices;
      for (const TunnelPort& t : e.tunnels)
        if (t.kind == TunnelPort::Kind::kVlan) devices.push_back(&t);
      if (devices.empty())
        Add(DiagKind::VerifyFloodMissing, e, e.segment->bridge_line,
            "bridge " + Q(e.segment->bridge) + " of vsid " + std::to_string(vsid_) + " on host " + Q(Name(e.host)) +
                " has no vlan " + std::to_string(vlan) + " device: its ports reach no other host");
      else if (devices.size() > 1)
        Add(DiagKind::VerifyFloodLoop, e, devices[1]->line,
            "bridge " + Q(e.segment->bridge) + " of vsid " + std::to_string(vsid_) + " on host " + Q(Name(e.host)) +
                " reaches the physical network twice (" + TunnelName(*devices[0]) + " and " +
                TunnelName(*devices[1]) + "): a loop through the network");
    }
  }

  Fabric& fabric_;
  uint32_t vsid_;
  const std::vector<Carrier>& carriers_;
  std::vector<Endpoint> endpoints_;
  std::map<net::IpAddress, size_t> by_pa_;
};

}  // namespace

void CheckFlooding(Fabric& fabric) {
  for (const auto& [vsid, carriers] : fabric.carriers)
    if (!carriers.empty()) {
      ScopeGuard scope({Scope::kVsid, vsid});
      Flooding(fabric, vsid, carriers).Run();
    }
}

}  // namespace netdsl::verify
