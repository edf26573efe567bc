// Isolation at layer 2 (a): the hosts' layer-2 domains, joined across the
// fabric by tunnels (a vxlan device and the device of the same VNI at each
// FDB destination; a gretap and its peer) and by the physical network (one
// per switch bridge name and VLAN), must each hold ports of one routing
// domain. A domain with two has a path between them, printed hop by hop.
#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "compiler/verify/fabric.h"

namespace netdsl::verify {
namespace {

struct EndpointKey {
  int kind;
  uint32_t id;
  net::IpAddress local;
  bool operator==(const EndpointKey&) const = default;
};
struct EndpointHash {
  size_t operator()(const EndpointKey& k) const {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t(k.kind) << 40) ^ k.id ^ (uint64_t(k.local.family) << 48);
    for (uint8_t b : k.local.bytes) h = (h ^ b) * 0x100000001b3ull;
    return size_t(h ^ (h >> 29));
  }
};

struct Node {
  uint32_t host;
  uint32_t domain;
};

struct Edge {
  uint32_t to;
  uint32_t host;   ///< host of the exit used (the sending side)
  uint32_t exit;   ///< index into that host's exits
  bool wire;
};

class Layer2 {
 public:
  explicit Layer2(Fabric& fabric) : fabric_(fabric) {}

  void Run() {
    for (uint32_t h = 0; h < fabric_.hosts.size(); ++h) {
      base_.push_back(uint32_t(nodes_.size()));
      const Host& host = fabric_.hosts[h];
      if (!host.linux_ok) continue;
      for (uint32_t d = 0; d < host.linux.domains.size(); ++d) nodes_.push_back({h, d});
    }
    parent_.resize(nodes_.size());
    for (uint32_t i = 0; i < parent_.size(); ++i) parent_[i] = i;
    adjacency_.resize(nodes_.size());

    // Tunnel endpoints by (kind, id, local PA) (looked up only: hashed); wires by name (iterated: ordered).
    std::unordered_map<EndpointKey, std::vector<std::pair<uint32_t, uint32_t>>, EndpointHash> endpoints;
    endpoints.reserve(1024);
    std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> wires;
    for (uint32_t h = 0; h < fabric_.hosts.size(); ++h) {
      const Host& host = fabric_.hosts[h];
      if (!host.linux_ok) continue;
      for (uint32_t x = 0; x < host.linux.exits.size(); ++x) {
        const L2Exit& e = host.linux.exits[x];
        if (e.kind == L2Exit::Kind::kWire) wires[e.wire].push_back({h, x});
        else endpoints[EndpointKey{int(e.kind), e.id, e.local}].push_back({h, x});
      }
    }
    for (uint32_t h = 0; h < fabric_.hosts.size(); ++h) {
      const Host& host = fabric_.hosts[h];
      if (!host.linux_ok) continue;
      for (uint32_t x = 0; x < host.linux.exits.size(); ++x) {
        const L2Exit& e = host.linux.exits[x];
        std::vector<net::IpAddress> to;
        if (e.kind == L2Exit::Kind::kVxlan) to = e.dsts;
        else if (e.kind == L2Exit::Kind::kGretap && e.remote) to = {*e.remote};
        for (const net::IpAddress& pa : to) {
          auto it = endpoints.find(EndpointKey{int(e.kind), e.id, pa});
          if (it == endpoints.end()) continue;
          for (auto [h2, x2] : it->second) {
            const L2Exit& peer = fabric_.hosts[h2].linux.exits[x2];
            if (peer.kind == L2Exit::Kind::kGretap && peer.remote && *peer.remote != e.local) continue;
            Join(h, x, h2, peer.domain, false);
          }
        }
      }
    }
    for (const auto& [wire, members] : wires)
      for (size_t i = 1; i < members.size(); ++i)
        Join(members[0].first, members[0].second, members[i].first,
             fabric_.hosts[members[i].first].linux.exits[members[i].second].domain, true);
    // `BRIDGE/*`: a port that can tag its frames with any VLAN of the bridge.
    for (const auto& [wire, members] : wires) {
      if (wire.size() < 2 || wire.compare(wire.size() - 2, 2, "/*") != 0) continue;
      std::string prefix = wire.substr(0, wire.size() - 1);
      for (auto it = wires.lower_bound(prefix); it != wires.end() && it->first.rfind(prefix, 0) == 0; ++it) {
        if (it->first == wire) continue;
        const auto& [h2, x2] = it->second.front();
        Join(members[0].first, members[0].second, h2, fabric_.hosts[h2].linux.exits[x2].domain, true);
      }
    }

    // Each joined domain: the routing domains of its ports.
    std::map<uint32_t, std::pair<size_t, uint32_t>> first_port;  // root → (port index in its domain, node)
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      const L2Domain& d = fabric_.hosts[nodes_[i].host].linux.domains[nodes_[i].domain];
      for (size_t k = 0; k < d.ports.size(); ++k) {
        uint32_t root = Find(i);
        auto [it, inserted] = first_port.emplace(root, std::make_pair(k, i));
        if (inserted) continue;
        auto [qk, qn] = it->second;
        const L2Port& q = fabric_.hosts[nodes_[qn].host].linux.domains[nodes_[qn].domain].ports[qk];
        if (RdidOf(q) == RdidOf(d.ports[k]) || reported_.count(root)) continue;
        reported_.insert(root);
        Report(qn, qk, i, k);
      }
    }
  }

 private:
  uint32_t NodeOf(uint32_t host, uint32_t domain) const { return base_[host] + domain; }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Join(uint32_t h, uint32_t exit, uint32_t h2, uint32_t domain2, bool wire) {
    uint32_t a = NodeOf(h, fabric_.hosts[h].linux.exits[exit].domain), b = NodeOf(h2, domain2);
    adjacency_[a].push_back({b, h, exit, wire});
    adjacency_[b].push_back({a, h, exit, wire});
    parent_[Find(a)] = Find(b);
  }
  uint32_t RdidOf(const L2Port& p) const {
    auto it = fabric_.rdid_of_vsid.find(p.vsid);
    return p.vsid && it != fabric_.rdid_of_vsid.end() ? it->second : p.rdid;
  }
  std::string Describe(uint32_t node, const L2Port& p) const {
    const Host& h = fabric_.hosts[nodes_[node].host];
    return "port " + std::to_string(p.id) + " (vm " + Q(p.vm) + " nic " + Q(p.nic) + ", vsid " + std::to_string(p.vsid) +
           ", rdid " + std::to_string(RdidOf(p)) + ") on host " + Q(h.name);
  }

  void Report(uint32_t from, size_t a_index, uint32_t to, size_t b_index) {
    const L2Domain& da = fabric_.hosts[nodes_[from].host].linux.domains[nodes_[from].domain];
    const L2Domain& db = fabric_.hosts[nodes_[to].host].linux.domains[nodes_[to].domain];
    const L2Port& a = da.ports[a_index];
    const L2Port& b = db.ports[b_index];
    // Shortest path between the two domains (BFS over the joins).
    std::vector<int64_t> prev(nodes_.size(), -1);
    std::vector<const Edge*> via(nodes_.size(), nullptr);
    std::deque<uint32_t> queue{from};
    prev[from] = from;
    while (!queue.empty() && prev[to] < 0) {
      uint32_t n = queue.front();
      queue.pop_front();
      for (const Edge& e : adjacency_[n])
        if (prev[e.to] < 0) prev[e.to] = n, via[e.to] = &e, queue.push_back(e.to);
    }
    std::vector<uint32_t> chain;
    for (uint32_t n = to; prev[n] >= 0 && n != from; n = uint32_t(prev[n])) chain.push_back(n);
    std::reverse(chain.begin(), chain.end());
    std::vector<std::string> hops;
    auto hop = [&](std::string text) { hops.push_back(std::to_string(hops.size() + 1) + ". " + text); };
    auto where = [&](uint32_t n) {
      const Host& h = fabric_.hosts[nodes_[n].host];
      return "host " + Q(h.name) + ": bridge " + Q(h.linux.domains[nodes_[n].domain].bridge);
    };
    const Host& ha = fabric_.hosts[nodes_[from].host];
    const Host& hb = fabric_.hosts[nodes_[to].host];
    std::string a_text = Describe(from, a);
    hop("host " + Q(ha.name) + ": " + a_text.substr(0, a_text.find(" on host")) + " sends a frame into bridge " +
        Q(a.bridge));
    for (uint32_t n : chain) {
      const Edge& e = *via[n];
      const L2Exit& x = fabric_.hosts[e.host].linux.exits[e.exit];
      std::string device = "host " + Q(fabric_.hosts[e.host].name) + ": " + Q(x.device);
      if (e.wire && x.wire.size() > 2 && x.wire.compare(x.wire.size() - 2, 2, "/*") == 0)
        hop(device + " sends it tagged with a VLAN of bridge " + Q(x.wire.substr(x.wire.rfind(':') + 1, x.wire.size() - x.wire.rfind(':') - 3)) +
            " (no VLAN filtering, no rule drops tagged frames from the port), which reaches " + where(n));
      else if (e.wire)
        hop(device + " puts it on the physical network `" + x.wire + "`, which " + where(n) + " is on too");
      else
        hop(device + (x.kind == L2Exit::Kind::kVxlan ? " (vxlan id " : " (gretap key ") + std::to_string(x.id) +
            ") carries it to " + where(n));
    }
    std::string b_text = Describe(to, b);
    hop("host " + Q(hb.name) + ": bridge " + Q(b.bridge) + " forwards it to " +
        Q(b.ifname) + ", " + b_text.substr(0, b_text.find(" on host")));
    hops.push_back("verdict: delivered to " + b_text);
    int line = b.line;
    fabric_.findings.Add({DiagKind::VerifyIsolation, hb.linux_path, line, line ? 3 : 0,
                          Describe(from, a) + " and " + Describe(to, b) +
                              " are in one layer-2 domain: frames cross between routing domains",
                          std::move(hops)});
  }

  Fabric& fabric_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> base_;
  std::vector<uint32_t> parent_;
  std::vector<std::vector<Edge>> adjacency_;
  std::set<uint32_t> reported_;
};

}  // namespace

void CheckL2Isolation(Fabric& fabric) { Layer2(fabric).Run(); }

}  // namespace netdsl::verify
