// The Linux backend's `validate` hook (backends/backend.h): what BuildLinuxState
// would refuse for a checked, allocated fabric, reported with a code and the
// source location before anything is lowered, so that `netdslc check` says it.
// Everything else the backend refuses is a compiler bug (ND3001).
#include <map>
#include <set>
#include <string>

#include "backends/linux/linux_backend.h"
#include "backends/linux/linux_state.h"
#include "backends/linux/names.h"
#include "compiler/alloc/allocation.h"
#include "compiler/diag/diagnostics.h"

namespace netdsl::backends {

namespace {

using model::kNone;

/// Tagged site VLANs one host switch carries: the VLAN devices and per-VLAN
/// bridges the backend may derive for it (`nd-v<vlan>-<hash>`, `nd-b<vlan>-<hash>`).
void CheckDerivedNames(const alloc::AllocatedFabric& af, uint32_t h, DiagnosticEngine& diags) {
  const model::Fabric& f = af.fabric;
  const model::Host& host = f.hosts[h];
  std::map<uint32_t, std::set<uint16_t>> vlans;  // switch → tagged VLANs its uplinks carry
  for (const model::HostNic& nic : host.nics) {
    if (nic.logical_switch == kNone || nic.uplink_profile == kNone) continue;
    auto& set = vlans[nic.logical_switch];
    // VLAN-isolated VM subnets are site subnet/VLAN pairs (ND1408): covered here.
    for (uint32_t site : f.uplink_port_profiles[nic.uplink_profile].sites)
      for (const model::SiteSubnet& ss : f.sites[site].subnets)
        if (ss.vlan != 0) set.insert(ss.vlan);
  }
  std::map<std::string, uint32_t> bridges;  // the switches' own bridge names on this host
  for (const auto& [sw, unused] : vlans) bridges.emplace(af.allocation.switch_ifname[sw], sw);
  std::map<std::string, uint32_t> derived;  // derived name → switch
  for (const auto& [sw, tagged] : vlans) {
    std::string hash = linux_backend::ShortHash(af.allocation.switch_ifname[sw], 4);
    for (uint16_t vlan : tagged)
      for (const char* kind : {"-v", "-b"}) {
        std::string name = std::string(linux_backend::kOwnerPrefix) + kind + std::to_string(vlan) + "-" + hash;
        uint32_t other = kNone;
        if (auto it = bridges.find(name); it != bridges.end()) other = it->second;
        auto [it, inserted] = derived.emplace(name, sw);
        if (!inserted && it->second != sw) other = it->second;
        if (other == kNone || other == sw) continue;
        diags.Report(DiagKind::LinuxNameClash, f.logical_switches[sw].name_range,
                     "on host `" + host.name + "`, the Linux interface `" + name + "` that logical switch `" +
                         f.logical_switches[sw].name + "` derives for VLAN " + std::to_string(vlan) +
                         " clashes with a name of logical switch `" + f.logical_switches[other].name +
                         "` (bridge `" + af.allocation.switch_ifname[other] +
                         "`); rename one switch, or delete its `switch_ifname` entry in " + af.lock.path)
            .Note(f.logical_switches[other].name_range, "logical switch `" + f.logical_switches[other].name + "` here");
        return;
      }
  }
}

/// NAT on a Linux gateway host lives in each NATed routing domain's VRF
/// (docs/linux-backend.md, NAT): the external address on the domain's NAT
/// veth, the inside subnets on its bridges, one routing table for both, and
/// a conntrack zone per domain (rdid modulo 65536). So a NATed IPv4 subnet
/// must not overlap the external pool's subnet (the table would hold two
/// routes to one prefix), and two domains NATed on one host need distinct,
/// non-zero zones (zone 0 is the host's own). Overlapping CA prefixes of
/// different NATed networks are fine: their VRFs and zones keep them apart.
void CheckNat(const alloc::AllocatedFabric& af, DiagnosticEngine& diags) {
  const model::Fabric& f = af.fabric;
  std::map<std::pair<uint32_t, uint16_t>, uint32_t> zones;  // (gateway host, zone) → VM network
  for (uint32_t n = 0; n < f.vm_networks.size(); ++n) {
    const model::VmNetwork& net = f.vm_networks[n];
    if (!net.gateway || !net.gateway->nat || net.gateway->host == kNone) continue;
    const auto& external = af.allocation.gateway_external_ip[n];
    if (!external || !external->IsV4()) continue;  // the backend NATs IPv4 only
    const model::IpPool& pool = f.ip_pools[net.gateway->external_pool];
    const std::string& host = f.hosts[net.gateway->host].name;
    for (uint32_t s : net.vm_subnets) {
      const model::VmSubnet& vs = f.vm_subnets[s];
      if (!vs.prefix.address.IsV4() || !pool.subnet.address.IsV4() || !vs.prefix.Overlaps(pool.subnet)) continue;
      diags.Report(DiagKind::LinuxNatPrefixOverlap, vs.name_range,
                   "VM subnet `" + vs.name + "` (`" + vs.prefix.Canonical().ToString() + "`) of VM network `" +
                       net.name + "` overlaps the subnet `" + pool.subnet.Canonical().ToString() +
                       "` of its external pool `" + pool.name + "`: on gateway host `" + host +
                       "` both are in the network's VRF, whose table cannot route one prefix two ways; give the "
                       "VM subnet another prefix or the gateway another external pool")
          .Note(net.gateway->range, "VM network `" + net.name + "` NATed on `" + host + "` here");
      break;
    }
    uint32_t rdid = af.allocation.rdid[n];
    uint16_t zone = static_cast<uint16_t>(rdid & 0xffff);
    auto [it, fresh] = zones.emplace(std::make_pair(net.gateway->host, zone), n);
    if (zone != 0 && fresh) continue;
    DiagBuilder d = diags.Report(
        DiagKind::LinuxNatZoneClash, net.gateway->range,
        "VM network `" + net.name + "` (rdid " + std::to_string(rdid) + ") is NATed on gateway host `" + host +
            "` in conntrack zone " + std::to_string(zone) + " (the rdid modulo 65536), " +
            (zone == 0 ? std::string("the host's own zone")
                       : "which VM network `" + f.vm_networks[it->second].name + "` (rdid " +
                             std::to_string(af.allocation.rdid[it->second]) + ") NATed there uses too") +
            ": give it another `rdid`");
    if (zone != 0) d.Note(f.vm_networks[it->second].gateway->range, "VM network `" + f.vm_networks[it->second].name + "` NATed here");
  }
}

}  // namespace

void ValidateLinux(const alloc::AllocatedFabric& af, DiagnosticEngine& diags) {
  const model::Fabric& f = af.fabric;
  for (uint32_t h = 0; h < f.hosts.size(); ++h) CheckDerivedNames(af, h, diags);
  CheckNat(af, diags);

  // Minimum bandwidth: an htb class per guaranteed port, minor 0x10 + port id,
  // on a switch whose uplinks form a bond (docs/linux-backend.md).
  constexpr uint32_t kMaxClassPort = 0xffff - 0x10;
  for (uint32_t v = 0; v < f.vms.size(); ++v) {
    const model::Vm& vm = f.vms[v];
    if (vm.host == kNone) continue;
    for (uint32_t i = 0; i < vm.nics.size(); ++i) {
      uint32_t port = af.allocation.nics[v][i].port_id;
      const model::VmNic& nic = vm.nics[i];
      if (port <= kMaxClassPort || nic.classification == kNone || nic.vm_network == kNone) continue;
      uint32_t ln = f.vm_networks[nic.vm_network].logical_network;
      for (const model::HostNic& hn : f.hosts[vm.host].nics) {
        if (hn.logical_switch == kNone || hn.uplink_profile == kNone) continue;
        bool carries = false;
        for (uint32_t site : f.uplink_port_profiles[hn.uplink_profile].sites) carries |= f.sites[site].logical_network == ln;
        if (!carries) continue;
        const model::LogicalSwitch& ls = f.logical_switches[hn.logical_switch];
        // A bond exists when the switch teams more than one NIC or its profile sets teaming (lowering).
        size_t members = 0;
        for (const model::HostNic& other : f.hosts[vm.host].nics) members += other.logical_switch == hn.logical_switch;
        bool bond = ls.uplink_mode != model::UplinkMode::NoTeam &&
                    (members > 1 || f.uplink_port_profiles[hn.uplink_profile].teaming);
        if (!bond || ls.minimum_bandwidth_mode == model::MinimumBandwidthMode::None) break;
        for (const model::VirtualPort& vp : ls.virtual_ports) {
          if (vp.classification != nic.classification || vp.profile == kNone) continue;
          const model::PortProfile& pp = f.port_profiles[vp.profile];
          bool weights = ls.minimum_bandwidth_mode == model::MinimumBandwidthMode::Weight;
          if (weights ? !pp.bandwidth.minimum_weight.value_or(0) : !pp.bandwidth.minimum_absolute.value_or(0)) continue;
          diags.Report(DiagKind::LinuxPortIdTooLarge, nic.range,
                       "NIC `" + nic.name + "` of VM `" + vm.name + "` has port id " + std::to_string(port) +
                           " (recorded in " + af.lock.path + "), too large for the tc class of its minimum bandwidth (at most " +
                           std::to_string(kMaxClassPort) + ")")
              .Note(pp.name_range, "port profile `" + pp.name + "` reserves minimum bandwidth");
        }
        break;
      }
    }
  }
}

}  // namespace netdsl::backends
