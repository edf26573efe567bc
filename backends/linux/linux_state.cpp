// Per-host IR → desired Linux state: the mapping of SPEC §7 "Linux" and
// docs/linux-backend.md, one function per kind of object.
#include "backends/linux/linux_state.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "backends/linux/names.h"

namespace netdsl::backends::linux_backend {

namespace {

/// nft limits rule comments to 128 bytes; keep escapes whole and mark cuts with a hash.
std::string BoundedComment(std::string text) {
  constexpr size_t kMax = 120;
  if (text.size() <= kMax) return text;
  size_t cut = kMax - 10;
  // Do not split a %XX escape.
  for (size_t back = 1; back <= 2 && back <= cut; ++back)
    if (text[cut - back] == '%') cut -= back;
  return text.substr(0, cut) + "~" + ShortHash(text, 8);
}

std::string VmNicText(const ir::Port& port) {
  return CommentText(port.vm) + "/" + CommentText(port.nic);
}

/// RFC 7637: the GRE key carries the VSID in its upper 24 bits and a FlowID (0) below.
uint32_t NvgreKey(uint32_t vsid) { return vsid << 8; }

/// `value` in `width` lowercase base-36 digits (most significant first).
std::string Base36(uint64_t value, int width) {
  std::string out(width, '0');
  for (int i = width - 1; i >= 0; --i, value /= 36) out[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[value % 36];
  return out;
}

/// `ndg` + VSID in 5 base-36 digits + remote PA in 7: exactly 15 bytes, and
/// distinct for distinct (VSID, IPv4 PA) since 36^5 > 2^24 and 36^7 > 2^32.
/// An IPv6 PA contributes a 36-bit FNV-1a hash of its bytes instead.
std::string GretapName(uint32_t vsid, const net::IpAddress& remote) {
  constexpr uint64_t kBase36Digits7 = 78364164096ULL;  // 36^7
  uint64_t pa = remote.V4Value();
  if (!remote.IsV4()) {
    uint64_t h = 14695981039346656037ULL;
    for (uint8_t b : remote.bytes) h = (h ^ b) * 1099511628211ULL;
    pa = h % kBase36Digits7;
  }
  return std::string(kOwnerPrefix) + "g" + Base36(vsid, 5) + Base36(pa, 7);
}

/// `02:6e:64:xx:xx:xx`: locally administered, "nd", the low 24 bits of the RDID.
net::MacAddress AnycastGatewayMac(uint32_t rdid) {
  return net::MacAddress::FromValue(0x026e64000000ULL | (rdid & 0xffffff));
}

/// The bond a teamed switch becomes (docs/linux-backend.md, "Teaming").
void MapTeaming(const ir::Switch& sw, Link& bond) {
  ir::Teaming teaming = sw.teaming.value_or(ir::Teaming{});
  bool hashes_l34 = teaming.load_balancing == ir::LoadBalancing::AddressHash ||
                    teaming.load_balancing == ir::LoadBalancing::Dynamic;
  switch (teaming.mode) {
    case ir::TeamingMode::Lacp: bond.bond_mode = "802.3ad"; break;
    case ir::TeamingMode::Static: bond.bond_mode = "balance-xor"; break;
    case ir::TeamingMode::SwitchIndependent:
      bond.bond_mode = hashes_l34 ? "balance-alb" : "active-backup";
      break;
  }
  bond.bond_xmit_hash_policy = hashes_l34 ? "layer3+4" : "layer2";
  bond.bond_miimon = kBondMiimonMs;
}

class Builder {
 public:
  explicit Builder(const ir::HostIr& ir) : ir_(ir) {}

  llvm::Expected<LinuxState> Build() {
    state_.host = ir_.host;
    state_.generation = ir_.generation;
    state_.source_hash = ir_.source_hash;
    state_.nft.family = "bridge";
    state_.nft.table = "netdsl";
    state_.nft_nat.family = "ip";
    state_.nft_nat.table = "netdsl_nat";

    MapSwitches();
    MapSiteVlans();
    MapRoutingDomains();
    MapSegments();
    MapProviderAddresses();
    MapManagement();
    MapPorts();
    MapMinimumBandwidth();
    MapRemoteNics();
    MapRoutes();
    MapGatewayAddresses();
    MapNat();
    MapRoutingDomainGuards();
    if (!error_.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(), "host %s: %s",
                                     QuoteForMessage(ir_.host).c_str(), error_.c_str());
    Finish();
    if (!error_.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(), "host %s: %s",
                                     QuoteForMessage(ir_.host).c_str(), error_.c_str());
    return std::move(state_);
  }

 private:
  // Link groups, concatenated in this order so that every master and lower
  // link is created before the links that refer to it.
  enum Group { kSwitchBridges, kBonds, kVrfs, kBridges, kVlans, kTunnels, kVeths, kGroups };

  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  /// Checks an ifname netdsl creates: safe, owned prefix, unique.
  bool CheckOwned(const std::string& name, const std::string& what) {
    if (std::string problem = IfnameProblem(name); !problem.empty()) {
      Fail("interface name " + QuoteForMessage(name) + " of " + what + " " + problem +
           "; refusing to emit a command with it (rename the object, or fix its entry in the fabric's lock)");
      return false;
    }
    if (name.rfind(kOwnerPrefix, 0) != 0) {
      Fail("interface name " + QuoteForMessage(name) + " of " + what + " does not start with `" +
           kOwnerPrefix + "`, so netdsl would not own it");
      return false;
    }
    if (!names_.insert(name).second || adopted_names_.count(name)) {
      Fail("interface name " + QuoteForMessage(name) + " of " + what + " is used twice on this host");
      return false;
    }
    return true;
  }

  void AddLink(Group group, Link link) {
    links_[group].push_back(std::move(link));
  }

  void Feature(const char* name) { features_.insert(name); }

  const ir::Switch* FindSwitch(const std::string& name) const {
    for (const ir::Switch& sw : ir_.switches)
      if (sw.name == name) return &sw;
    return nullptr;
  }

  void MapSwitches() {
    for (const ir::Switch& sw : ir_.switches) {
      std::string what = "switch " + QuoteForMessage(sw.name);
      if (!CheckOwned(sw.bridge_ifname, what)) continue;
      Link bridge;
      bridge.name = sw.bridge_ifname;
      bridge.kind = "bridge";
      bridge.mtu = ir_.underlay_mtu;
      bridge.comment = "switch " + CommentText(sw.name);
      AddLink(kSwitchBridges, bridge);
      Feature("bridge");
      std::string uplink_master = sw.bridge_ifname;
      if (!sw.bond_ifname.empty()) {
        if (!CheckOwned(sw.bond_ifname, "the team of " + what)) continue;
        Link bond;
        bond.name = sw.bond_ifname;
        bond.kind = "bond";
        bond.mtu = ir_.underlay_mtu;
        bond.master = sw.bridge_ifname;
        bond.comment = "team of switch " + CommentText(sw.name);
        MapTeaming(sw, bond);
        AddLink(kBonds, bond);
        Feature("bond");
        uplink_master = sw.bond_ifname;
      }
      for (const ir::Uplink& uplink : sw.uplinks) {
        if (std::string problem = IfnameProblem(uplink.nic); !problem.empty()) {
          Fail("host nic " + QuoteForMessage(uplink.nic) + " of " + what + " " + problem +
               "; refusing to emit a command with it (use the nic's Linux interface name)");
          continue;
        }
        if (!adopted_names_.insert(uplink.nic).second || names_.count(uplink.nic)) {
          Fail("host nic " + QuoteForMessage(uplink.nic) + " is attached twice");
          continue;
        }
        state_.adopted.push_back({.name = uplink.nic, .master = uplink_master});
      }
    }
  }

  /// VLAN devices over a switch bridge for a site VLAN (PA on a tagged site,
  /// isolation-none ports on a tagged site) or a vlan-isolated VM subnet.
  struct SiteVlan {
    std::string vlan_dev;   ///< `nd-v<vlan>-<hash of the switch bridge>`
    std::string bridge;     ///< "" unless ports join the VLAN
    std::string user;       ///< what asked for it first (messages)
  };

  SiteVlan* NeedVlan(const std::string& switch_name, uint16_t vlan, const std::string& user) {
    auto key = std::make_pair(switch_name, vlan);
    auto it = vlans_.find(key);
    if (it != vlans_.end()) return &it->second;
    const ir::Switch* sw = FindSwitch(switch_name);
    if (!sw) {
      Fail(user + " is on switch " + QuoteForMessage(switch_name) + ", which this host lacks");
      return nullptr;
    }
    SiteVlan& site = vlans_[key];
    site.vlan_dev = std::string(kOwnerPrefix) + "-v" + std::to_string(vlan) + "-" + ShortHash(sw->bridge_ifname, 4);
    site.user = user;
    return &site;
  }

  void MapSiteVlans() {
    if (const auto& m = ir_.management; m && !m->inherit && m->vlan != 0)
      NeedVlan(m->switch_name, m->vlan, "the management address");
    for (const ir::ProviderAddress& pa : ir_.provider_addresses)
      if (pa.vlan != 0) NeedVlan(pa.switch_name, pa.vlan, "the provider address on " + QuoteForMessage(pa.logical_network));
    for (const ir::NatRule& nat : ir_.nat_rules) {
      if (nat.external_switch.empty() || nat.external_vlan == 0) continue;
      SiteVlan* site =
          NeedVlan(nat.external_switch, nat.external_vlan, "the external address of " + QuoteForMessage(nat.vm_network));
      // The NAT veth's peer is a port of the VLAN's bridge (MapNat).
      if (site && site->bridge.empty() && NatsOnLinux(nat))
        site->bridge = std::string(kOwnerPrefix) + "-b" + std::to_string(nat.external_vlan) + "-" +
                       ShortHash(FindSwitch(nat.external_switch)->bridge_ifname, 4);
    }
    for (const ir::Port& port : ir_.ports) {
      if (port.vsid != 0 || port.vlan == 0) continue;
      SiteVlan* site = NeedVlan(port.switch_name, port.vlan, "port " + QuoteForMessage(port.vm + "/" + port.nic));
      if (site && site->bridge.empty())
        site->bridge = std::string(kOwnerPrefix) + "-b" + std::to_string(port.vlan) + "-" +
                       ShortHash(FindSwitch(port.switch_name)->bridge_ifname, 4);
    }
    for (auto& [key, site] : vlans_) {
      const ir::Switch* sw = FindSwitch(key.first);
      std::string what = "vlan " + std::to_string(key.second) + " on switch " + QuoteForMessage(key.first);
      if (!site.bridge.empty()) {
        if (!CheckOwned(site.bridge, "the bridge of " + what)) continue;
        Link bridge;
        bridge.name = site.bridge;
        bridge.kind = "bridge";
        bridge.mtu = ir_.underlay_mtu;
        bridge.comment = "vlan " + std::to_string(key.second) + " of switch " + CommentText(sw->name);
        AddLink(kBridges, bridge);
      }
      if (!CheckOwned(site.vlan_dev, what)) continue;
      Link vlan;
      vlan.name = site.vlan_dev;
      vlan.kind = "vlan";
      vlan.mtu = ir_.underlay_mtu;
      vlan.master = site.bridge;
      vlan.vlan_link = sw->bridge_ifname;
      vlan.vlan_id = key.second;
      vlan.comment = "vlan " + std::to_string(key.second) + " of switch " + CommentText(sw->name);
      AddLink(kVlans, vlan);
      Feature("vlan");
    }
  }

  void MapRoutingDomains() {
    for (const ir::RoutingDomain& rd : ir_.routing_domains) {
      size_t segments = std::count_if(ir_.segments.begin(), ir_.segments.end(), [&](const ir::Segment& s) {
        return s.rdid == rd.rdid && s.isolation != ir::Isolation::None;
      });
      bool nat = std::any_of(ir_.nat_rules.begin(), ir_.nat_rules.end(),
                             [&](const ir::NatRule& n) { return n.rdid == rd.rdid; });
      bool gateway = std::any_of(ir_.customer_routes.begin(), ir_.customer_routes.end(), [&](const ir::CustomerRoute& r) {
        return r.rdid == rd.rdid && r.kind == ir::CustomerRoute::Kind::Gateway && r.via_host == ir_.host;
      });
      // A single subnet has nothing to route: no VRF (docs/linux-backend.md).
      if (segments < 2 && !nat && !gateway) continue;
      std::string name = rd.vrf_ifname.empty() ? std::string(kOwnerPrefix) + "-vrf" + std::to_string(rd.rdid)
                                               : rd.vrf_ifname;
      if (!CheckOwned(name, "the routing domain of vm network " + QuoteForMessage(rd.vm_network))) continue;
      uint32_t table = rd.table != 0 ? rd.table : rd.rdid;
      if (table == 0 || (table >= 253 && table <= 255)) {
        Fail("routing domain " + std::to_string(rd.rdid) + " of vm network " + QuoteForMessage(rd.vm_network) +
             " would use the kernel's reserved routing table " + std::to_string(table) + "; give it another rdid");
        continue;
      }
      Link vrf;
      vrf.name = name;
      vrf.kind = "vrf";
      vrf.mtu = 65535;  // the largest mtu linux.yaml takes; a vrf's mtu never limits its members
      vrf.vrf_table = table;
      vrf.comment = "routing domain " + std::to_string(rd.rdid) + " of vm network " + CommentText(rd.vm_network);
      vrf.forwarding = true;  // a routing domain routes (net.ipv4.conf.DEV.forwarding; never the host-wide switch)
      AddLink(kVrfs, vrf);
      Feature("vrf");
      vrfs_[rd.rdid] = {name, vrf.vrf_table};
    }
  }

  void MapSegments() {
    for (const ir::Segment& seg : ir_.segments) {
      std::string what = "vm subnet " + QuoteForMessage(seg.vm_network + "/" + seg.vm_subnet);
      std::string comment = "vm subnet " + CommentText(seg.vm_network) + "/" + CommentText(seg.vm_subnet) +
                            " vsid " + std::to_string(seg.vsid);
      const ir::Switch* sw = FindSwitch(seg.switch_name);
      if (!sw) {
        Fail(what + " is on switch " + QuoteForMessage(seg.switch_name) + ", which this host lacks");
        continue;
      }
      // Untagged vlan isolation and isolation none share the switch's bridge.
      if (seg.isolation == ir::Isolation::None ||
          (seg.isolation == ir::Isolation::Vlan && seg.vlan == 0)) {
        segment_bridge_[seg.vsid] = sw->bridge_ifname;
        continue;
      }
      if (!CheckOwned(seg.bridge_ifname, "the bridge of " + what)) continue;
      Link bridge;
      bridge.name = seg.bridge_ifname;
      bridge.kind = "bridge";
      bridge.mtu = seg.mtu;
      auto vrf = vrfs_.find(seg.rdid);
      if (vrf != vrfs_.end()) {
        bridge.master = vrf->second.name;
        bridge.forwarding = true;  // packets routed in the VRF come in on the bridge
      }
      // A routing host answers for the subnet's gateway: every host does, with
      // the same MAC (an anycast gateway), so a VM's frames to its gateway stay
      // on its own host and duplicate ARP replies from other hosts agree.
      if (vrf != vrfs_.end() && seg.gateway) bridge.mac = AnycastGatewayMac(seg.rdid);
      bridge.comment = comment;
      AddLink(kBridges, bridge);
      Feature("bridge");
      segment_bridge_[seg.vsid] = seg.bridge_ifname;
      if (vrf != vrfs_.end() && seg.gateway) {
        AddAddress(seg.bridge_ifname, *seg.gateway, seg.prefix.length);
        routed_bridge_[seg.vsid] = seg.bridge_ifname;
      }

      if (seg.isolation == ir::Isolation::Vlan) {
        SiteVlan* site = NeedVlan(seg.switch_name, seg.vlan, what);
        if (!site) continue;
        if (!site->bridge.empty() || site->user != what) {
          Fail(what + " uses vlan " + std::to_string(seg.vlan) + " on switch " + QuoteForMessage(seg.switch_name) +
               ", which " + site->user + " uses too; give them different vlans");
          continue;
        }
        site->bridge = seg.bridge_ifname;
        if (!CheckOwned(site->vlan_dev, "the vlan device of " + what)) continue;
        Link vlan;
        vlan.name = site->vlan_dev;
        vlan.kind = "vlan";
        vlan.mtu = seg.mtu;
        vlan.master = seg.bridge_ifname;
        vlan.vlan_link = sw->bridge_ifname;
        vlan.vlan_id = seg.vlan;
        vlan.comment = comment;
        AddLink(kVlans, vlan);
        Feature("vlan");
        continue;
      }
      if (seg.isolation == ir::Isolation::Vxlan) {
        if (!CheckOwned(seg.tunnel_ifname, "the tunnel of " + what)) continue;
        Link tunnel;
        tunnel.name = seg.tunnel_ifname;
        tunnel.kind = "vxlan";
        tunnel.mtu = seg.mtu;
        tunnel.master = seg.bridge_ifname;
        tunnel.vxlan_id = seg.vsid;
        tunnel.vxlan_local = seg.local_pa;
        tunnel.vxlan_dstport = kVxlanPort;
        tunnel.vxlan_learning = false;
        tunnel.vxlan_ttl = kVxlanTtl;
        tunnel.comment = comment;
        AddLink(kTunnels, tunnel);
        Feature("vxlan");
        continue;
      }
      // NVGRE: Linux gretap takes no per-MAC destinations, so one
      // point-to-point gretap per remote PA, all ports of the segment bridge,
      // each isolated: split horizon, a frame that came from one tunnel never
      // leaves by another (else one broadcast loops between three hosts).
      for (const net::IpAddress& pa : RemotePas(seg)) {
        std::string name = GretapName(seg.vsid, pa);
        if (!CheckOwned(name, "the tunnel of " + what + " to " + pa.ToString())) continue;
        Link tunnel;
        tunnel.name = name;
        tunnel.kind = "gretap";
        tunnel.mtu = seg.mtu;
        tunnel.master = seg.bridge_ifname;
        tunnel.gretap_key = NvgreKey(seg.vsid);
        tunnel.gretap_local = seg.local_pa;
        tunnel.gretap_remote = pa;
        tunnel.isolated = true;
        tunnel.comment = comment + " to " + pa.ToString();
        AddLink(kTunnels, tunnel);
        Feature("gretap");
      }
    }
  }

  /// Other hosts carrying the segment: the IR's list plus any PA a remote NIC names.
  std::set<net::IpAddress> RemotePas(const ir::Segment& seg) const {
    std::set<net::IpAddress> remote(seg.remote_pas.begin(), seg.remote_pas.end());
    for (const ir::LookupRecord& rec : ir_.lookup_records)
      if (rec.vsid == seg.vsid && !rec.local) remote.insert(rec.pa);
    remote.erase(seg.local_pa);
    return remote;
  }

  void AddAddress(const std::string& dev, const net::IpAddress& ip, uint8_t length) {
    state_.addresses.push_back({.dev = dev, .address = ip, .prefix_length = length});
  }

  /// The device a host address on (switch, site VLAN) goes on; "" after Fail.
  std::string HostAddressDev(const std::string& switch_name, uint16_t vlan, const std::string& what) {
    const ir::Switch* sw = FindSwitch(switch_name);
    if (!sw) {
      Fail(what + " is on switch " + QuoteForMessage(switch_name) + ", which this host lacks");
      return "";
    }
    if (vlan == 0) return sw->bridge_ifname;
    const SiteVlan& site = vlans_.at({switch_name, vlan});
    return site.bridge.empty() ? site.vlan_dev : site.bridge;
  }

  void MapProviderAddresses() {
    for (const ir::ProviderAddress& pa : ir_.provider_addresses) {
      std::string dev =
          HostAddressDev(pa.switch_name, pa.vlan, "the provider address on " + QuoteForMessage(pa.logical_network));
      if (!dev.empty()) AddAddress(dev, pa.ip, pa.prefix_length);
    }
  }

  /// The management adapter: the declared address on the switch bridge (or
  /// the management VLAN's device on it) and the main table's default route
  /// via the declared gateway; linux.yaml's `management:` names the NIC whose
  /// settings the runtime moves (docs/linux-yaml.md "Management").
  void MapManagement() {
    if (!ir_.management) return;
    const ir::Management& m = *ir_.management;
    std::string what = "the management adapter on host nic " + QuoteForMessage(m.nic);
    const ir::Switch* sw = FindSwitch(m.switch_name);
    bool adopted = sw && std::any_of(sw->uplinks.begin(), sw->uplinks.end(),
                                     [&](const ir::Uplink& u) { return u.nic == m.nic; });
    if (!adopted) {
      Fail(what + " is not an uplink of switch " + QuoteForMessage(m.switch_name));
      return;
    }
    Management out;
    out.nic = m.nic;
    out.dev = HostAddressDev(m.switch_name, m.inherit ? 0 : m.vlan, what);
    if (out.dev.empty()) return;
    if (!m.inherit && m.address) {
      AddAddress(out.dev, *m.address, m.prefix_length);
      out.address = net::Prefix{*m.address, m.prefix_length};
      if (m.gateway) {
        net::Prefix any;
        any.address.family = m.gateway->family;
        state_.routes.push_back({.table = kMainTable, .dst = any, .dev = out.dev, .via = m.gateway});
        out.gateway = m.gateway;
      }
    }
    state_.management = std::move(out);
  }

  const ir::PortPolicy& PolicyOf(const ir::Port& port) const {
    static const ir::PortPolicy kDefaults;
    return port.policy < ir_.policies.size() ? ir_.policies[port.policy] : kDefaults;
  }

  void Rule(const std::string& chain, std::string rule, std::string comment) {
    state_.nft.rules.push_back({chain, std::move(rule), BoundedComment(std::move(comment))});
  }

  /// The guards of docs/linux-backend.md "Guards": per guard kind, a set of
  /// the ports it applies to (`*_guarded`) and, where the port may use one
  /// source only, a set of (port, source) pairs (`*_allowed`). One rule per
  /// guard kind and chain matches every port (GuardRuleSet), instead of ~9
  /// rules per port matched one by one: a port's frame is checked against its
  /// own pair, so another port's MAC or address is as foreign as any.
  void GuardPort(const ir::Port& port, const ir::PortPolicy& policy) {
    auto add = [&](const char* set, std::vector<std::string> element) {
      guard_sets_[set].insert(std::move(element));
    };
    const std::string& ifname = port.ifname;
    if (!policy.mac_spoofing) {
      add("mac_guarded", {ifname});
      add("mac_allowed", {ifname, port.mac.ToString()});
    }
    if (policy.dhcp_guard) add("dhcp_guarded", {ifname});
    if (policy.router_guard) add("router_guarded", {ifname});
    if (!policy.guest_specified_ip && port.ca != net::IpAddress{}) {
      const bool v4 = port.ca.IsV4();
      add(v4 ? "ip4_guarded" : "ip6_guarded", {ifname});
      add(v4 ? "ip4_allowed" : "ip6_allowed", {ifname, port.ca.ToString()});
    }
  }

  /// The guard sets and their rules, in both the forward hook (frames the
  /// bridge forwards) and the input hook (frames to the host). A kind no port
  /// needs has neither set nor rules. A port in a `*_guarded` set whose pair
  /// is missing from `*_allowed` has every frame dropped (fail closed).
  void GuardRuleSet() {
    struct Kind {
      const char* set;
      const char* type;
    };
    static constexpr Kind kSets[] = {
        {"mac_guarded", "ifname"},         {"mac_allowed", "ifname . ether_addr"},
        {"dhcp_guarded", "ifname"},        {"router_guarded", "ifname"},
        {"ip4_guarded", "ifname"},         {"ip4_allowed", "ifname . ipv4_addr"},
        {"ip6_guarded", "ifname"},         {"ip6_allowed", "ifname . ipv6_addr"},
    };
    for (const Kind& k : kSets) {
      auto it = guard_sets_.find(k.set);
      if (it == guard_sets_.end()) continue;
      state_.nft.sets.push_back({k.set, k.type, {it->second.begin(), it->second.end()}});
    }
    struct GuardRule {
      const char* needs;  ///< the set whose ports this rule checks
      const char* rule;
      const char* comment;
    };
    static constexpr GuardRule kRules[] = {
        {"mac_guarded", "iifname @mac_guarded iifname . ether saddr != @mac_allowed drop", "mac spoofing guard"},
        {"mac_guarded", "iifname @mac_guarded iifname . arp saddr ether != @mac_allowed drop",
         "mac spoofing guard (arp)"},
        {"dhcp_guarded", "iifname @dhcp_guarded udp sport 67 drop", "dhcp guard (dhcpv4 server)"},
        {"dhcp_guarded", "iifname @dhcp_guarded udp sport 547 drop", "dhcp guard (dhcpv6 server)"},
        {"router_guarded", "iifname @router_guarded icmpv6 type nd-router-advert drop", "router guard (ra)"},
        {"router_guarded", "iifname @router_guarded icmpv6 type nd-redirect drop", "router guard (ipv6 redirect)"},
        {"router_guarded", "iifname @router_guarded icmp type redirect drop", "router guard (ipv4 redirect)"},
        // 0.0.0.0 and :: (DHCP discovery, ARP probes, DAD) and fe80::/10 stay allowed.
        {"ip4_guarded", "iifname @ip4_guarded ip saddr != 0.0.0.0 iifname . ip saddr != @ip4_allowed drop", "ip guard"},
        {"ip4_guarded", "iifname @ip4_guarded arp saddr ip != 0.0.0.0 iifname . arp saddr ip != @ip4_allowed drop",
         "ip guard (arp)"},
        {"ip6_guarded",
         "iifname @ip6_guarded ip6 saddr != :: ip6 saddr != fe80::/10 iifname . ip6 saddr != @ip6_allowed drop",
         "ip guard (ipv6)"},
    };
    for (const char* chain : {"forward", "input"})
      for (const GuardRule& r : kRules)
        if (guard_sets_.count(r.needs)) Rule(chain, r.rule, r.comment);
  }

  void MapPorts() {
    if (!ir_.ports.empty()) {
      state_.nft.chains.push_back({.name = "forward", .type = "filter", .hook = "forward", .priority = 0, .policy = "accept"});
      state_.nft.chains.push_back({.name = "input", .type = "filter", .hook = "input", .priority = 0, .policy = "accept"});
    }
    for (const ir::Port& port : ir_.ports) {
      std::string what = "port " + QuoteForMessage(port.vm + "/" + port.nic);
      std::string master;
      if (port.vsid == 0) {
        const ir::Switch* sw = FindSwitch(port.switch_name);
        if (!sw) {
          Fail(what + " is on switch " + QuoteForMessage(port.switch_name) + ", which this host lacks");
          continue;
        }
        master = sw->bridge_ifname;
        if (port.vlan != 0) master = vlans_.at({port.switch_name, port.vlan}).bridge;
      } else {
        auto it = segment_bridge_.find(port.vsid);
        if (it == segment_bridge_.end()) {
          Fail(what + " is on vsid " + std::to_string(port.vsid) + ", which this host has no segment for");
          continue;
        }
        master = it->second;
      }
      if (!CheckOwned(port.ifname, what)) continue;
      std::string peer = port.ifname + "g";
      if (!CheckOwned(peer, "the guest end of " + what)) continue;
      Link veth;
      veth.name = port.ifname;
      veth.kind = "veth";
      veth.mtu = port.mtu;
      veth.master = master;
      veth.veth_peer = peer;
      veth.veth_peer_mac = port.mac;
      veth.veth_peer_mtu = port.mtu;
      veth.comment = "vm " + VmNicText(port);
      veth.identity = PortIdentity(port.vm, port.nic);
      AddLink(kVeths, veth);
      Feature("veth");

      const ir::PortPolicy& policy = PolicyOf(port);
      GuardPort(port, policy);
      if (policy.maximum && *policy.maximum > 0) {
        Qdisc tbf;
        tbf.dev = port.ifname;
        tbf.kind = "tbf";
        tbf.rate_bps = *policy.maximum;
        // One millisecond at the rate, but at least one full frame.
        tbf.burst_bytes = static_cast<uint32_t>(
            std::min<uint64_t>(UINT32_MAX, std::max<uint64_t>(*policy.maximum / 8000, port.mtu + 14)));
        tbf.latency_us = kTbfLatencyUs;
        state_.qdiscs.push_back(tbf);
        Feature("tbf");
      }
    }
    GuardRuleSet();
  }

  /// Minimum bandwidth → an htb on the switch's bond: a root class at the
  /// nominal link rate, a default class, and one class per guaranteed port,
  /// which an nft rule selects by setting the frame's priority to its classid.
  void MapMinimumBandwidth() {
    constexpr uint16_t kRootMinor = 1, kDefaultMinor = 2, kPortMinorBase = 0x10;
    for (const ir::Switch& sw : ir_.switches) {
      if (sw.bond_ifname.empty() || sw.minimum_bandwidth_mode == ir::MinimumBandwidthMode::None) continue;
      bool weights = sw.minimum_bandwidth_mode == ir::MinimumBandwidthMode::Weight;
      struct Guaranteed { const ir::Port* port; uint64_t amount; std::optional<uint64_t> ceil; };
      std::vector<Guaranteed> guaranteed;
      uint64_t total = 0;
      for (const ir::Port& port : ir_.ports) {
        if (port.switch_name != sw.name) continue;
        const ir::PortPolicy& policy = PolicyOf(port);
        uint64_t amount = weights ? policy.minimum_weight.value_or(0) : policy.minimum_absolute.value_or(0);
        if (amount == 0) continue;
        guaranteed.push_back({&port, amount, policy.maximum});
        total += amount;
      }
      if (guaranteed.empty()) continue;
      const uint64_t link = kNominalUplinkBps;
      Qdisc htb;
      htb.dev = sw.bond_ifname;
      htb.kind = "htb";
      htb.default_class = kDefaultMinor;
      htb.classes.push_back({kRootMinor, 0, link, link, "switch " + CommentText(sw.name)});
      uint64_t assured = 0;
      std::vector<HtbClass> port_classes;
      for (const Guaranteed& g : guaranteed) {
        if (g.port->id > 0xffff - kPortMinorBase) {
          Fail("port " + QuoteForMessage(g.port->vm + "/" + g.port->nic) + " has id " + std::to_string(g.port->id) +
               ", too large for a tc class id");
          return;
        }
        // Weights share the link in proportion (VMM weights are relative);
        // absolute minimums are taken as they are.
        uint64_t rate = weights ? link / std::max<uint64_t>(100, total) * g.amount : g.amount;
        rate = std::max<uint64_t>(rate, 8000);
        uint64_t ceil = std::max(rate, std::min(link, g.ceil.value_or(link)));
        assured += rate;
        uint16_t minor = static_cast<uint16_t>(kPortMinorBase + g.port->id);
        port_classes.push_back({minor, kRootMinor, rate, ceil, "vm " + VmNicText(*g.port)});
        char classid[16];
        std::snprintf(classid, sizeof classid, "1:%x", minor);
        Rule("forward", "iifname \"" + g.port->ifname + "\" meta priority set " + classid,
             "minimum bandwidth " + VmNicText(*g.port));
      }
      uint64_t rest = assured < link ? link - assured : 0;
      htb.classes.push_back({kDefaultMinor, kRootMinor, std::max(rest, link / 100), link, "unguaranteed traffic"});
      for (HtbClass& c : port_classes) htb.classes.push_back(std::move(c));
      state_.qdiscs.push_back(std::move(htb));
      Feature("htb");
    }
  }

  /// Remote VM NICs: static FDB entries and flood entries on vxlan devices;
  /// permanent neighbour entries on the tunnel that leads to the NIC's host,
  /// and on the subnet's bridge where this host routes the subnet. (A routing
  /// host that resolved a remote VM by ARP never got the answer: the VM's
  /// host routes the subnet too, with the same anycast gateway MAC, and keeps
  /// the reply addressed to that MAC for itself.)
  void MapRemoteNics() {
    for (const ir::Segment& seg : ir_.segments) {
      bool vxlan = seg.isolation == ir::Isolation::Vxlan;
      if (!vxlan && seg.isolation != ir::Isolation::Nvgre) continue;
      auto routed = routed_bridge_.find(seg.vsid);
      for (const ir::LookupRecord& rec : ir_.lookup_records) {
        if (rec.vsid != seg.vsid || rec.local || rec.pa == seg.local_pa) continue;
        std::string dev = vxlan ? seg.tunnel_ifname : GretapName(seg.vsid, rec.pa);
        if (vxlan) state_.fdb.push_back({.dev = dev, .mac = rec.mac, .dst = rec.pa});
        if (rec.ca == net::IpAddress{}) continue;
        state_.neighbours.push_back({.dev = dev, .address = rec.ca, .mac = rec.mac});
        if (routed != routed_bridge_.end())
          state_.neighbours.push_back({.dev = routed->second, .address = rec.ca, .mac = rec.mac});
      }
      if (vxlan)
        for (const net::IpAddress& pa : RemotePas(seg))
          state_.fdb.push_back({.dev = seg.tunnel_ifname, .mac = net::MacAddress{}, .dst = pa});
    }
  }

  void MapRoutes() {
    std::set<std::string> connected;  // "dev prefix" of addresses we assign
    for (const Address& a : state_.addresses) {
      net::Prefix p{a.address, a.prefix_length};
      connected.insert(a.dev + " " + p.Canonical().ToString());
    }
    for (const ir::CustomerRoute& route : ir_.customer_routes) {
      auto vrf = vrfs_.find(route.rdid);
      if (vrf == vrfs_.end()) continue;  // no VRF: the host does not route this domain
      if (route.kind == ir::CustomerRoute::Kind::OnLink) {
        auto bridge = segment_bridge_.find(route.vsid);
        if (bridge == segment_bridge_.end()) continue;  // subnet not on this host
        // The kernel adds the connected route itself when we assign the gateway address.
        if (connected.count(bridge->second + " " + route.prefix.Canonical().ToString())) continue;
        state_.routes.push_back({.table = vrf->second.table, .dst = route.prefix.Canonical(), .dev = bridge->second});
        continue;
      }
      if (!route.next_hop || route.via_host == ir_.host) continue;
      // The next hop must be reachable on one of the domain's local subnets.
      for (const ir::Segment& seg : ir_.segments) {
        if (seg.rdid != route.rdid || !seg.prefix.Contains(*route.next_hop)) continue;
        auto bridge = segment_bridge_.find(seg.vsid);
        if (bridge == segment_bridge_.end()) continue;
        state_.routes.push_back(
            {.table = vrf->second.table, .dst = route.prefix.Canonical(), .dev = bridge->second, .via = route.next_hop});
        if (route.prefix.length == 0) default_routed_.insert({route.rdid, route.prefix.address.IsV4()});
        break;
      }
    }
  }

  /// A VRF table that misses falls through to the main table, which would
  /// hand tenant packets to the host's own routing, so packets a VM sends to
  /// its routing host must be for the domain's subnets on this host (the
  /// bridge `input` hook sees them before the IP stack does). Not in a NATed
  /// domain on its gateway host: there everything else goes out through the
  /// domain's NAT veth (its VRF table's default route, MapNat).
  /// Nor for a family whose VRF table has a default route towards the
  /// gateway host's CA (MapRoutes): that table never misses.
  void MapRoutingDomainGuards() {
    for (const ir::Port& port : ir_.ports) {
      if (port.vsid == 0 || !vrfs_.count(port.rdid)) continue;
      bool nat = std::any_of(ir_.nat_rules.begin(), ir_.nat_rules.end(),
                             [&](const ir::NatRule& n) { return n.rdid == port.rdid; });
      if (nat) continue;
      std::string v4, v6;
      for (const ir::Segment& seg : ir_.segments) {
        if (seg.rdid != port.rdid || seg.isolation == ir::Isolation::None) continue;
        if (default_routed_.count({port.rdid, seg.prefix.address.IsV4()})) continue;
        (seg.prefix.address.IsV4() ? v4 : v6) +=
            std::string(seg.prefix.address.IsV4() ? "ip" : "ip6") + " daddr != " + seg.prefix.Canonical().ToString() + " ";
      }
      const std::string iif = "iifname \"" + port.ifname + "\" ";
      const std::string comment = "routing domain guard " + VmNicText(port);
      if (!v4.empty()) Rule("input", iif + v4 + "drop", comment);
      if (!v6.empty()) Rule("input", iif + v6 + "ip6 daddr != fe80::/10 ip6 daddr != ff00::/8 drop", comment);
    }
  }

  /// The gateway host's customer addresses (docs/linux-backend.md "Gateway
  /// address"): per served subnet that this host routes, a veth `nd-g<vsid>`
  /// in the domain's VRF holds the CA (host route, /32 or /128) with the
  /// gateway MAC of the lookup record, and its peer `nd-g<vsid>x` is a port
  /// of the subnet's bridge. Other hosts' default routes lead to it over the
  /// tunnel (their neighbour entry names that MAC, never the anycast
  /// gateway MAC every routing host's bridge has and keeps for itself); it
  /// enters the VRF there, whose table sends it on (NAT veth, or another
  /// subnet's bridge).
  void MapGatewayAddresses() {
    for (const ir::GatewayAddress& g : ir_.gateway_addresses) {
      auto vrf = vrfs_.find(g.rdid);
      auto bridge = routed_bridge_.find(g.vsid);
      if (vrf == vrfs_.end() || bridge == routed_bridge_.end()) continue;  // this host does not route the subnet
      std::string what = "the gateway address of vm subnet " + QuoteForMessage(g.vm_network + "/" + g.vm_subnet);
      std::string dev = std::string(kOwnerPrefix) + "-g" + std::to_string(g.vsid);
      std::string peer = dev + "x";
      if (!CheckOwned(dev, what) || !CheckOwned(peer, "the bridge end of " + what)) continue;
      const ir::Segment* seg = nullptr;
      for (const ir::Segment& s : ir_.segments)
        if (s.vsid == g.vsid) seg = &s;
      Link veth;
      veth.name = dev;
      veth.kind = "veth";
      veth.mtu = seg ? seg->mtu : ir_.underlay_mtu;
      veth.mac = g.mac;
      veth.master = vrf->second.name;
      veth.forwarding = true;  // routed packets for the gateway come in here
      veth.veth_peer = peer;
      veth.veth_peer_mtu = veth.mtu;
      veth.veth_peer_master = bridge->second;
      veth.comment = "gateway address " + g.ca.ToString() + " of vm subnet " + CommentText(g.vm_network) + "/" +
                     CommentText(g.vm_subnet);
      AddLink(kVeths, veth);
      Feature("veth");
      AddAddress(dev, g.ca, g.ca.IsV4() ? 32 : 128);
      gateway_devs_[g.rdid].push_back(dev);
    }
  }

  /// Whether this host NATs `nat` (IPv4, with somewhere to put the external address).
  static bool NatsOnLinux(const ir::NatRule& nat) {
    if (!nat.external_ip.IsV4() || nat.external_switch.empty() || nat.external_prefix_length == 0) return false;
    return std::any_of(nat.inside_prefixes.begin(), nat.inside_prefixes.end(),
                       [](const net::Prefix& p) { return p.address.IsV4(); });
  }

  /// Gateway NAT, per routing domain (docs/linux-backend.md "NAT"): a veth
  /// `nd-n<rdid>` in the domain's VRF holds the external address, and its
  /// peer `nd-n<rdid>x` is a port of the external switch's bridge (or its
  /// site VLAN's bridge). The VRF table's default route leads out through it
  /// to the external pool's gateway, the SNAT rule matches that device, and a
  /// raw prerouting chain puts the domain's packets (both directions) in a
  /// conntrack zone of its own: two tenants with the same CA prefix are both
  /// NATed on one host, and each reply goes back to its own tenant.
  void MapNat() {
    std::map<uint16_t, uint32_t> zones;  // conntrack zone → rdid
    std::vector<NftRule> zone_rules, snat_rules;  // by chain: zones first
    for (const ir::NatRule& nat : ir_.nat_rules) {
      if (!NatsOnLinux(nat)) continue;  // ip family only (docs/linux-backend.md)
      std::string what = "the nat of vm network " + QuoteForMessage(nat.vm_network);
      auto vrf = vrfs_.find(nat.rdid);
      if (vrf == vrfs_.end()) {
        Fail(what + " has no routing domain on this host");
        continue;
      }
      // ct zones are 16 bits; zone 0 is the host's own.
      uint16_t zone = static_cast<uint16_t>(nat.rdid & 0xffff);
      if (zone == 0 || !zones.emplace(zone, nat.rdid).second) {
        Fail(what + " (rdid " + std::to_string(nat.rdid) + ") needs conntrack zone " + std::to_string(zone) +
             (zone == 0 ? ", the host's own" : ", which rdid " + std::to_string(zones[zone]) + " uses too") +
             " (zone = rdid modulo 65536); give one of them another rdid");
        continue;
      }
      std::string external_bridge = HostAddressDev(nat.external_switch, nat.external_vlan, what);
      if (external_bridge.empty()) continue;
      std::string dev = std::string(kOwnerPrefix) + "-n" + std::to_string(nat.rdid);
      std::string peer = dev + "x";
      if (!CheckOwned(dev, what) || !CheckOwned(peer, "the external end of " + what)) continue;
      Link veth;
      veth.name = dev;
      veth.kind = "veth";
      veth.mtu = ir_.underlay_mtu;
      veth.master = vrf->second.name;
      veth.forwarding = true;  // replies come in here and are routed into the domain
      veth.veth_peer = peer;
      veth.veth_peer_mtu = ir_.underlay_mtu;
      veth.veth_peer_master = external_bridge;
      veth.comment = "nat of vm network " + CommentText(nat.vm_network) + " to " + nat.external_ip.ToString();
      AddLink(kVeths, veth);
      Feature("veth");
      AddAddress(dev, nat.external_ip, nat.external_prefix_length);
      net::Prefix any;
      any.address.family = nat.external_ip.family;
      state_.routes.push_back({.table = vrf->second.table, .dst = any, .dev = dev, .via = nat.external_gateway});

      if (state_.nft_nat.chains.empty()) {
        // "raw": before conntrack (-200) sees the packet.
        state_.nft_nat.chains.push_back(
            {.name = "zones", .type = "filter", .hook = "prerouting", .priority = -300, .policy = "accept"});
        state_.nft_nat.chains.push_back(
            {.name = "postrouting", .type = "nat", .hook = "postrouting", .priority = 100, .policy = "accept"});
      }
      std::string comment = BoundedComment("nat vm network " + CommentText(nat.vm_network));
      std::string set_zone = " ct zone set " + std::to_string(zone);
      // Every device the domain's packets come in on: its routed bridges and the NAT veth.
      for (const Link& bridge : links_[kBridges])
        if (bridge.master == vrf->second.name)
          zone_rules.push_back({"zones", "iifname \"" + bridge.name + "\"" + set_zone, comment});
      for (const std::string& g : gateway_devs_[nat.rdid])
        zone_rules.push_back({"zones", "iifname \"" + g + "\"" + set_zone, comment});
      zone_rules.push_back({"zones", "iifname \"" + dev + "\"" + set_zone, comment});
      for (const net::Prefix& p : nat.inside_prefixes)
        if (p.address.IsV4())
          snat_rules.push_back({"postrouting",
                                 "oifname \"" + dev + "\" ip saddr " + p.Canonical().ToString() + " snat to " +
                                     nat.external_ip.ToString(),
                                 comment});
      Feature("nft-nat");
    }
    for (NftRule& r : zone_rules) state_.nft_nat.rules.push_back(std::move(r));
    for (NftRule& r : snat_rules) state_.nft_nat.rules.push_back(std::move(r));
    state_.nft_nat.present = !state_.nft_nat.rules.empty();
  }

  void Finish() {
    for (auto& group : links_)
      for (Link& link : group) state_.links.push_back(std::move(link));
    state_.nft.present = !state_.nft.rules.empty();
    state_.nft_nat.present = !state_.nft_nat.rules.empty();
    if (state_.nft.present) Feature("nft-bridge");
    state_.requires_.assign(features_.begin(), features_.end());

    std::sort(state_.adopted.begin(), state_.adopted.end(),
              [](const AdoptedNic& a, const AdoptedNic& b) { return a.name < b.name; });
    auto addr_key = [](const Address& a) { return std::tie(a.dev, a.address, a.prefix_length); };
    std::sort(state_.addresses.begin(), state_.addresses.end(),
              [&](const Address& a, const Address& b) { return addr_key(a) < addr_key(b); });
    state_.addresses.erase(std::unique(state_.addresses.begin(), state_.addresses.end(),
                                       [&](const Address& a, const Address& b) { return addr_key(a) == addr_key(b); }),
                           state_.addresses.end());
    auto route_key = [](const Route& r) { return std::tie(r.table, r.dst, r.dev, r.via); };
    std::sort(state_.routes.begin(), state_.routes.end(),
              [&](const Route& a, const Route& b) { return route_key(a) < route_key(b); });
    state_.routes.erase(std::unique(state_.routes.begin(), state_.routes.end(),
                                    [&](const Route& a, const Route& b) { return route_key(a) == route_key(b); }),
                        state_.routes.end());
    for (size_t i = 1; i < state_.routes.size(); ++i)
      if (state_.routes[i].table == state_.routes[i - 1].table && state_.routes[i].dst == state_.routes[i - 1].dst)
        Fail("two routes to " + state_.routes[i].dst.ToString() + " in table " + std::to_string(state_.routes[i].table));
    auto fdb_key = [](const FdbEntry& e) { return std::tie(e.dev, e.mac, e.dst); };
    std::sort(state_.fdb.begin(), state_.fdb.end(),
              [&](const FdbEntry& a, const FdbEntry& b) { return fdb_key(a) < fdb_key(b); });
    state_.fdb.erase(std::unique(state_.fdb.begin(), state_.fdb.end(),
                                 [&](const FdbEntry& a, const FdbEntry& b) { return fdb_key(a) == fdb_key(b); }),
                     state_.fdb.end());
    auto neigh_key = [](const Neighbour& n) { return std::tie(n.dev, n.address, n.mac); };
    std::sort(state_.neighbours.begin(), state_.neighbours.end(),
              [&](const Neighbour& a, const Neighbour& b) { return neigh_key(a) < neigh_key(b); });
    state_.neighbours.erase(
        std::unique(state_.neighbours.begin(), state_.neighbours.end(),
                    [&](const Neighbour& a, const Neighbour& b) { return neigh_key(a) == neigh_key(b); }),
        state_.neighbours.end());
    for (size_t i = 1; i < state_.neighbours.size(); ++i)
      if (state_.neighbours[i].dev == state_.neighbours[i - 1].dev &&
          state_.neighbours[i].address == state_.neighbours[i - 1].address)
        Fail("customer address " + state_.neighbours[i].address.ToString() + " has two MAC addresses on " +
             QuoteForMessage(state_.neighbours[i].dev));
    std::stable_sort(state_.qdiscs.begin(), state_.qdiscs.end(),
                     [](const Qdisc& a, const Qdisc& b) { return a.dev < b.dev; });
  }

  struct Vrf {
    std::string name;
    uint32_t table = 0;
  };

  const ir::HostIr& ir_;
  LinuxState state_;
  std::string error_;
  std::set<std::string> names_;          ///< owned links and veth peers so far
  std::set<std::string> adopted_names_;  ///< host NICs
  std::set<std::string> features_;
  std::vector<Link> links_[kGroups];
  std::map<std::pair<std::string, uint16_t>, SiteVlan> vlans_;
  std::map<uint32_t, Vrf> vrfs_;
  std::map<uint32_t, std::string> segment_bridge_;  ///< vsid → bridge its ports join
  std::map<uint32_t, std::string> routed_bridge_;   ///< vsid → its bridge, where this host routes it (gateway address)
  std::set<std::pair<uint32_t, bool>> default_routed_;  ///< (rdid, IPv4?) with a default route via the gateway's CA
  std::map<uint32_t, std::vector<std::string>> gateway_devs_;  ///< rdid → veths holding its gateway CAs (MapGatewayAddresses)
  std::map<std::string, std::set<std::vector<std::string>>> guard_sets_;  ///< set name → elements (GuardPort)
};

}  // namespace

llvm::Expected<LinuxState> BuildLinuxState(const ir::HostIr& host) { return Builder(host).Build(); }

}  // namespace netdsl::backends::linux_backend
