// Host management adapters: `management { nic = ...; address = ...; gateway = ...; vlan = ...; }`
// or `management = inherit;` on a host or a host group (the default of its
// hosts). Which NIC, which address, and that no pool or other host claims it.
#include <algorithm>
#include <tuple>

#include "compiler/sema/checker.h"

namespace netdsl::sema {
namespace {

bool InPrefix(const net::IpAddress& a, const char* prefix) {
  std::optional<net::Prefix> p = net::ParsePrefix(prefix);
  return p && p->address.family == a.family && p->Contains(a);
}

/// Why `p` (address/length as written) cannot be a host's own address, or "".
std::string HostAddressProblem(const net::Prefix& p) {
  const net::IpAddress& a = p.address;
  if (p.length == 0) return "has prefix length 0; write the subnet's length, e.g. `/24`";
  net::IpAddress unspecified;
  unspecified.family = a.family;
  if (a == unspecified) return "is the unspecified address";
  if (InPrefix(a, "127.0.0.0/8") || InPrefix(a, "::1/128")) return "is a loopback address";
  if (InPrefix(a, "224.0.0.0/4") || InPrefix(a, "ff00::/8")) return "is a multicast address";
  if (InPrefix(a, "fe80::/10")) return "is an IPv6 link-local address, which the kernel assigns itself";
  // /31 and /32 (/127, /128) have no network or broadcast address (RFC 3021).
  if (p.length + 1u >= a.Bits()) return "";
  if (a == p.First())
    return (a.IsV4() ? "is the network address of " : "is the subnet-router anycast address of ") +
           p.Canonical().ToString();
  if (a.IsV4() && a == p.Last()) return "is the broadcast address of " + p.Canonical().ToString();
  return "";
}

}  // namespace

void Checker::ResolveManagement() {
  const ast::Block* last_block = nullptr;  // hosts of one range share their blocks
  std::optional<model::Management> last;
  for (uint32_t h = 0; h < f_.hosts.size(); ++h) {
    model::Host& host = f_.hosts[h];
    const Props& hp = host_props_[h];
    if (hp.block == last_block) {
      host.management = last;
      continue;
    }
    last_block = hp.block;
    const Props& mp = host_management_props_[h];
    const std::string who = "host " + Q(host.name);

    // The switch-bound NICs, for `inherit` (which must be unambiguous).
    auto inherit_on_one_nic = [&](llvm::SMRange at, const std::string& from) -> std::optional<model::Management> {
      std::vector<uint32_t> bound;
      for (uint32_t i = 0; i < host.nics.size(); ++i) {
        if (host.nics[i].logical_switch != kNone) bound.push_back(i);
        else if (host_nic_props_[h][i].Present("switch")) return std::nullopt;  // unresolved switch: reported
      }
      if (bound.size() == 1) {
        model::Management m;
        m.nic = bound[0];
        m.range = at;
        return m;
      }
      if (bound.empty() && !from.empty()) return std::nullopt;  // a group default: nothing to manage here
      std::string msg;
      if (bound.empty()) {
        msg = "`management = inherit` on " + who + ", which has no NIC on a switch; bind a NIC to a switch " +
              "(`nic eth0 { switch = ...; uplink = ...; }`) or remove `management`";
      } else {
        std::string names;
        for (uint32_t i : bound) names += (names.empty() ? "`" : ", `") + host.nics[i].name + "`";
        msg = "`management = inherit`" + from + " is ambiguous on " + who + ", which has " +
              std::to_string(bound.size()) + " NICs on switches (" + names + "); say which one: `management { nic = " +
              host.nics[bound[0]].name + "; }`";
      }
      auto d = diags_.Report(DiagKind::ManagementNicAmbiguous, from.empty() ? at : host.name_range, msg);
      if (!from.empty()) d.Note(at, "the default is set here");
      return std::nullopt;
    };

    std::optional<model::Management> m;
    if (mp.block && hp.Present("management")) {
      diags_.Report(DiagKind::DuplicateProperty, KeyRange(*hp.block, "management"),
                    "both `management = inherit;` and a `management { }` block in " + who + "; keep one")
          .Note(mp.block->kind_range, "`management` block here");
    } else if (mp.block) {
      m = model::Management();
      m->range = mp.block->kind_range;
      bool ok = true;
      if (const ast::Value* nic = mp.Get("nic")) {
        auto it = std::find_if(host.nics.begin(), host.nics.end(),
                               [&](const model::HostNic& n) { return n.name == nic->text; });
        if (it == host.nics.end()) {
          std::vector<std::string_view> names;
          for (const model::HostNic& n : host.nics) names.push_back(n.name);
          diags_.Report(DiagKind::UnresolvedName, nic->range,
                        "unknown NIC `" + nic->text + "` of " + who + DidYouMean(nic->text, names));
          ok = false;
        } else {
          m->nic = static_cast<uint32_t>(it - host.nics.begin());
          if (it->logical_switch == kNone) {
            ok = false;
            if (!host_nic_props_[h][m->nic].Present("switch"))
              diags_.Report(DiagKind::ManagementNicNotOnSwitch, nic->range,
                            "NIC `" + nic->text + "` of " + who + " is on no switch; the management adapter lives on " +
                                "the switch a NIC is bound to: add `switch = ...;` to it or name another NIC")
                  .Note(it->name_range, "NIC `" + it->name + "` defined here");
          }
        }
      } else {
        ok = false;  // missing `nic` is reported by Validate
      }
      const ast::Value* address = mp.Get("address");
      if (address) {
        if (std::string problem = HostAddressProblem(address->prefix); !problem.empty()) {
          diags_.Report(DiagKind::ManagementAddressInvalid, address->range,
                        "management address `" + address->prefix.ToString() + "` of " + who + " " + problem);
          ok = false;
        } else {
          m->inherit = false;
          m->address = address->prefix.address;
          m->prefix_length = address->prefix.length;
        }
      }
      if (const ast::Value* gateway = mp.Get("gateway")) {
        if (!address) {
          if (!mp.Present("address")) {
            diags_.Report(DiagKind::ManagementNeedsAddress, gateway->range,
                          "management `gateway` of " + who + " without an `address`; add `address = ...;` " +
                              "(with neither, the NIC's own settings move onto the switch)");
          }
          ok = false;
        } else if (gateway->address.family != address->prefix.address.family) {
          diags_.Report(DiagKind::AddressFamilyMismatch, gateway->range,
                        "management gateway `" + gateway->address.ToString() + "` of " + who +
                            " is not of the family of its address `" + address->prefix.ToString() + "`");
          ok = false;
        } else if (!address->prefix.Contains(gateway->address) || gateway->address == address->prefix.address) {
          bool same = gateway->address == address->prefix.address;
          diags_.Report(DiagKind::ManagementGatewayMismatch, gateway->range,
                        "management gateway `" + gateway->address.ToString() + "` of " + who +
                            (same ? " is the management address itself"
                                  : " is outside its subnet " + address->prefix.Canonical().ToString()) +
                            "; a gateway is another host on the management subnet")
              .Note(address->range, "management address here");
          ok = false;
        } else if (m->address) {
          m->gateway = gateway->address;
        }
      }
      if (const ast::Value* vlan = mp.Get("vlan")) {
        if (!mp.Present("address")) {
          diags_.Report(DiagKind::ManagementNeedsAddress, vlan->range,
                        "management `vlan` of " + who + " without an `address`; the NIC's current settings are " +
                            "untagged, so a tagged management adapter needs its address declared");
          ok = false;
        } else if (std::optional<uint64_t> id =
                       IntegerIn(vlan, 0, 4094, DiagKind::VlanOutOfRange, "management VLAN", who)) {
          m->vlan = static_cast<uint16_t>(*id);
        } else {
          ok = false;
        }
      }
      if (!ok) m.reset();
    } else if (const ast::Value* inherit = hp.Get("management")) {
      m = inherit_on_one_nic(inherit->range, "");
    } else if (!hp.Present("management")) {
      // The nearest enclosing group that sets it gives the default.
      for (uint32_t g = host.host_group; g != kNone; g = f_.host_groups[g].parent) {
        if (!f_.host_groups[g].management_inherit) continue;
        m = inherit_on_one_nic(host_group_props_[g].Get("management")->range,
                               " (the default of host group `" + f_.host_groups[g].name + "`)");
        break;
      }
    }
    host.management = m;
    last = m;
  }
}

void Checker::CheckManagementRules() {
  struct Claim {
    net::IpAddress ip;
    uint32_t host;
    bool operator<(const Claim& o) const { return std::tie(ip, host) < std::tie(o.ip, o.host); }
  };
  std::vector<Claim> claims;
  for (uint32_t h = 0; h < f_.hosts.size(); ++h) {
    const model::Host& host = f_.hosts[h];
    if (!host.management || !host.management->address) continue;
    claims.push_back({*host.management->address, h});
    // One report per declaration: hosts of a range share theirs.
    if (h > 0 && host_props_[h].block == host_props_[h - 1].block) continue;
    const net::IpAddress& ip = *host.management->address;
    llvm::SMRange at = KeyRange(*host_management_props_[h].block, "address");
    const std::string what = "management address `" + ip.ToString() + "` of host " + Q(host.name);
    for (uint32_t p = 0; p < f_.ip_pools.size(); ++p) {
      const model::IpPool& pool = f_.ip_pools[p];
      if (pool.logical_network == kNone || !pool_ok_[p] || pool.subnet.address.family != ip.family ||
          !pool.subnet.Contains(ip))
        continue;
      auto listed = [&](const std::vector<net::IpAddress>& v) { return std::find(v.begin(), v.end(), ip) != v.end(); };
      std::string why;
      if (pool.gateway && *pool.gateway == ip) why = "is the gateway of IP pool " + Q(pool.name);
      else if (listed(pool.dns)) why = "is a DNS server of IP pool " + Q(pool.name);
      else if (listed(pool.vips)) why = "is a VIP of IP pool " + Q(pool.name);
      else if (pool.range_first <= ip && ip <= pool.range_last && !listed(pool.reserved))
        why = "is inside the range of IP pool " + Q(pool.name) +
              ", which may hand it to another host or VM; add it to the pool's `reserved` or move the range";
      if (why.empty()) continue;
      diags_.Report(DiagKind::ManagementAddressConflict, at, what + " " + why)
          .Note(pool_props_[p].block ? NameRangeOf(*pool_props_[p].block) : pool.name_range,
                "IP pool " + Q(pool.name) + " defined here");
    }
  }
  std::sort(claims.begin(), claims.end());
  for (size_t i = 1, first = 0; i < claims.size(); ++i) {
    if (claims[i].ip != claims[first].ip) {
      first = i;
      continue;
    }
    uint32_t a = claims[first].host, b = claims[i].host;
    bool range = host_props_[a].block == host_props_[b].block;
    if (range && i != first + 1) continue;  // a range: one report is enough
    diags_.Report(DiagKind::ManagementAddressConflict, KeyRange(*host_management_props_[b].block, "address"),
                  "management address `" + claims[i].ip.ToString() + "` of host " + Q(f_.hosts[b].name) +
                      " is already used by host " + Q(f_.hosts[a].name) +
                      (range ? "; the hosts of a name range share one `management` block: declare each host on "
                               "its own, or use `management = inherit;`"
                             : ""))
        .Note(f_.hosts[a].name_range, "host " + Q(f_.hosts[a].name) + " defined here");
  }
}

}  // namespace netdsl::sema
