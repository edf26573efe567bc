// Operation → rtnetlink request(s) (or an nft transaction), executed per step.
#include "runtime/linux/executor.h"

#include <arpa/inet.h>
#include <net/if.h>  // before the linux headers (libc-compat)
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/ip.h>
#include <linux/neighbour.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string_view>

#include <fmt/format.h>

#include "runtime/linux/state_reader.h"

namespace netdsl::runtime {
namespace {

/// The kernel's number of a bond mode or hash policy (the reader validated the name).
template <size_t N>
uint8_t IndexOf(const std::array<std::string_view, N>& names, const std::string& s) {
  int i = linux_yaml::IndexIn(names, s);
  return i < 0 ? 0 : static_cast<uint8_t>(i);
}

/// A link as the kernel has it now, for the ownership check before a delete.
struct LinkOwner {
  int ifindex = 0;    ///< 0 = no such link
  std::string alias;  ///< IFLA_IFALIAS
  uint32_t group = 0;  ///< IFLA_GROUP
};

/// Name → ifindex, cached for one step (links do not change within a bulk step).
class Indexes {
 public:
  /// Links to be deleted in this step, looked up just before it is built
  /// (ExecuteOps); null for bulk steps, which delete no link.
  const std::map<std::string, LinkOwner>* owners = nullptr;
  bool tolerant = false;  ///< rolling back: a link that is not netdsl's is skipped, not an error

  int Get(const std::string& name) {
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second;
    int idx = static_cast<int>(if_nametoindex(name.c_str()));
    cache_[name] = idx;
    return idx;
  }

 private:
  std::map<std::string, int> cache_;
};

void PutIp(NlRequest& r, uint16_t type, const net::IpAddress& ip) {
  if (ip.IsV4())
    r.Put(type, ip.bytes.data() + 12, 4);
  else
    r.Put(type, ip.bytes.data(), 16);
}

int Family(const net::IpAddress& ip) { return ip.IsV4() ? AF_INET : AF_INET6; }

/// The requests built for a step, each with what a failure message calls it
/// ("" = describe its operation) and whether it may fail (`optional`)
/// without failing the step.
struct Requests {
  PreparedOps* p;
  void Add(const NlRequest& r, bool optional = false, std::string what = {}) {
    p->batch.Add(r);
    p->info.push_back({optional, std::move(what)});
  }
  /// A request sent only once the last request added succeeded.
  void AddAfterLast(const NlRequest& r, std::string what) {
    p->marks.Add(r);
    p->mark_after.push_back(p->info.size() - 1);
    p->mark_what.push_back(std::move(what));
  }
};

/// Sets IFLA_BRPORT_ISOLATED on `name`, a port of a bridge (`ip link set
/// NAME type bridge_slave isolated on|off`).
NlRequest BridgePortIsolation(const std::string& name, bool isolated) {
  NlRequest r(RTM_NEWLINK, 0);
  static_cast<ifinfomsg*>(r.PutExtra(sizeof(ifinfomsg)))->ifi_family = AF_UNSPEC;
  r.PutStr(IFLA_IFNAME, name);
  void* info = r.NestStart(IFLA_LINKINFO);
  r.PutStr(IFLA_INFO_SLAVE_KIND, "bridge");
  void* data = r.NestStart(IFLA_INFO_SLAVE_DATA);
  r.PutU8(IFLA_BRPORT_ISOLATED, isolated ? 1 : 0);
  r.NestEnd(data);
  r.NestEnd(info);
  return r;
}

/// Puts the device's IPv4 forwarding (IFLA_AF_SPEC / AF_INET / IFLA_INET_CONF
/// { IPV4_DEVCONF_FORWARDING }) into a RTM_NEWLINK on an existing link: the
/// per-device net.ipv4.conf.NAME.forwarding, never the host-wide switch.
void PutForwarding(NlRequest& r, bool on) {
  void* spec = r.NestStart(IFLA_AF_SPEC);
  void* inet = r.NestStart(AF_INET);
  void* conf = r.NestStart(IFLA_INET_CONF);
  r.PutU32(IPV4_DEVCONF_FORWARDING, on ? 1 : 0);
  r.NestEnd(conf);
  r.NestEnd(inet);
  r.NestEnd(spec);
}

NlRequest SetForwarding(const std::string& name, bool on) {
  NlRequest r(RTM_NEWLINK, 0);
  static_cast<ifinfomsg*>(r.PutExtra(sizeof(ifinfomsg)))->ifi_family = AF_UNSPEC;
  r.PutStr(IFLA_IFNAME, name);
  PutForwarding(r, on);
  return r;
}

bool BuildLinkCreate(const Link& l, Indexes& idx, Requests* out, std::string* error) {
  NlRequest r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifm = static_cast<ifinfomsg*>(r.PutExtra(sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;
  // The index journaled with the undo (0: the kernel picks; an undo's create)
  // and netdsl's group: ownership proven by the creating request itself.
  ifm->ifi_index = l.ifindex;
  r.PutStr(IFLA_IFNAME, l.name);
  if (l.group) r.PutU32(IFLA_GROUP, l.group);
  if (l.mtu) r.PutU32(IFLA_MTU, l.mtu);
  if (l.mac) {
    r.Put(IFLA_ADDRESS, l.mac->bytes.data(), 6);
  } else if (l.kind == "bridge") {
    // A bridge without a set MAC takes its lowest port's, and every change of
    // it (a port deleted or added) flushes the bridge's neighbours, the
    // permanent ones too: a rollback that deleted and recreated a VM port
    // lost them. A MAC given at creation stays (NET_ADDR_SET): a random,
    // locally administered unicast one, as the kernel would pick.
    std::array<uint8_t, 6> mac{};
    if (getrandom(mac.data(), mac.size(), 0) == static_cast<ssize_t>(mac.size())) {
      mac[0] = static_cast<uint8_t>((mac[0] & 0xfe) | 0x02);
      r.Put(IFLA_ADDRESS, mac.data(), mac.size());
    }
  }
  if (!l.master.empty()) {
    int m = idx.Get(l.master);
    if (!m) {
      *error = fmt::format("master `{}` of `{}` does not exist", l.master, l.name);
      return false;
    }
    r.PutU32(IFLA_MASTER, m);
  }
  if (l.kind == "vlan") {
    int lower = idx.Get(l.vlan_link);
    if (!lower) {
      *error = fmt::format("lower link `{}` of `{}` does not exist", l.vlan_link, l.name);
      return false;
    }
    r.PutU32(IFLA_LINK, lower);
  }
  void* info = r.NestStart(IFLA_LINKINFO);
  r.PutStr(IFLA_INFO_KIND, l.kind);
  void* data = nullptr;
  if (l.kind != "bridge") data = r.NestStart(IFLA_INFO_DATA);
  if (l.kind == "vxlan") {
    r.PutU32(IFLA_VXLAN_ID, l.vxlan_id);
    if (l.vxlan_local) PutIp(r, l.vxlan_local->IsV4() ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, *l.vxlan_local);
    r.PutU16(IFLA_VXLAN_PORT, htons(l.vxlan_dstport));
    r.PutU8(IFLA_VXLAN_LEARNING, l.vxlan_learning ? 1 : 0);
    r.PutU8(IFLA_VXLAN_TTL, l.vxlan_ttl);
  } else if (l.kind == "vlan") {
    r.PutU16(IFLA_VLAN_ID, l.vlan_id);
  } else if (l.kind == "bond") {
    r.PutU8(IFLA_BOND_MODE, IndexOf(linux_yaml::kBondModes, l.bond_mode));
    if (!l.bond_xmit_hash_policy.empty())
      r.PutU8(IFLA_BOND_XMIT_HASH_POLICY, IndexOf(linux_yaml::kXmitHashPolicies, l.bond_xmit_hash_policy));
    r.PutU32(IFLA_BOND_MIIMON, l.bond_miimon);
  } else if (l.kind == "vrf") {
    r.PutU32(IFLA_VRF_TABLE, l.vrf_table);
  } else if (l.kind == "gretap") {
    r.PutU32(IFLA_GRE_IKEY, htonl(l.gretap_key));
    r.PutU32(IFLA_GRE_OKEY, htonl(l.gretap_key));
    r.PutU16(IFLA_GRE_IFLAGS, GRE_KEY);
    r.PutU16(IFLA_GRE_OFLAGS, GRE_KEY);
    if (l.gretap_local) PutIp(r, IFLA_GRE_LOCAL, *l.gretap_local);
    if (l.gretap_remote) PutIp(r, IFLA_GRE_REMOTE, *l.gretap_remote);
  } else if (l.kind == "veth") {
    void* peer = r.NestStart(VETH_INFO_PEER);
    auto* pifm = static_cast<ifinfomsg*>(r.PutExtra(sizeof(ifinfomsg)));  // zeroed by PutExtra
    pifm->ifi_index = l.veth_peer_ifindex;  // honoured when the host end's index is given too
    r.PutStr(IFLA_IFNAME, l.veth_peer);
    if (l.group) r.PutU32(IFLA_GROUP, l.group);
    if (l.veth_peer_mac) r.Put(IFLA_ADDRESS, l.veth_peer_mac->bytes.data(), 6);
    if (l.veth_peer_mtu) r.PutU32(IFLA_MTU, l.veth_peer_mtu);
    r.NestEnd(peer);
  }
  if (data) r.NestEnd(data);
  r.NestEnd(info);
  out->Add(r, false, fmt::format("create link `{}`", l.name));
  // The ownership marker: ifalias is only settable on an existing link, so
  // it follows the create, and only if the create succeeded (Run): a name
  // taken by someone else fails the create with EEXIST and must not get the
  // marker (docs/runtime.md, "What netdsl owns").
  for (const std::string& name : {l.name, l.veth_peer}) {
    if (name.empty()) continue;
    NlRequest a(RTM_NEWLINK, 0);
    static_cast<ifinfomsg*>(a.PutExtra(sizeof(ifinfomsg)))->ifi_family = AF_UNSPEC;
    a.PutStr(IFLA_IFNAME, name);
    a.PutStr(IFLA_IFALIAS, l.alias.empty() ? "netdsl" : l.alias);
    out->AddAfterLast(a, fmt::format("mark link `{}` as owned", name));
  }
  // Bridge port flags exist once the link is a port (its master's slave data).
  // Like the marker, only on a link this create made.
  if (l.isolated) out->AddAfterLast(BridgePortIsolation(l.name, true), fmt::format("isolate bridge port `{}`", l.name));
  // The guest end as a port of an owned bridge (a NAT veth's peer on the
  // external switch), up: only on a pair this create made.
  if (l.kind == "veth" && !l.veth_peer_master.empty()) {
    int m = idx.Get(l.veth_peer_master);
    if (!m) {
      *error = fmt::format("peer master `{}` of `{}` does not exist", l.veth_peer_master, l.name);
      return false;
    }
    NlRequest p(RTM_NEWLINK, 0);
    auto* pifm = static_cast<ifinfomsg*>(p.PutExtra(sizeof(ifinfomsg)));
    pifm->ifi_family = AF_UNSPEC;
    pifm->ifi_flags = IFF_UP;
    pifm->ifi_change = IFF_UP;
    p.PutStr(IFLA_IFNAME, l.veth_peer);
    p.PutU32(IFLA_MASTER, m);
    out->AddAfterLast(p, fmt::format("put veth peer `{}` on `{}`", l.veth_peer, l.veth_peer_master));
  }
  if (l.forwarding)
    out->AddAfterLast(SetForwarding(l.name, true), fmt::format("enable forwarding on `{}`", l.name));
  return true;
}

void BuildQdisc(const Qdisc& q, int ifindex, Requests* out) {
  // Start from the kernel default so the new root qdisc is created fresh.
  NlRequest del(RTM_DELQDISC, 0);
  auto* dt = static_cast<tcmsg*>(del.PutExtra(sizeof(tcmsg)));
  dt->tcm_ifindex = ifindex;
  dt->tcm_parent = TC_H_ROOT;
  out->Add(del, true);

  NlRequest r(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
  auto* t = static_cast<tcmsg*>(r.PutExtra(sizeof(tcmsg)));
  t->tcm_family = AF_UNSPEC;
  t->tcm_ifindex = ifindex;
  t->tcm_parent = TC_H_ROOT;
  t->tcm_handle = TC_H_MAKE(1u << 16, 0);
  r.PutStr(TCA_KIND, q.kind);
  void* opts = r.NestStart(TCA_OPTIONS);
  if (q.kind == "tbf") {
    uint64_t bytes = q.rate_bps / 8;
    tc_tbf_qopt p{};
    p.rate.linklayer = TC_LINKLAYER_ETHERNET;
    p.rate.rate = bytes > 0xffffffffull ? 0xffffffffu : static_cast<uint32_t>(bytes);
    long double limit = static_cast<long double>(bytes) * q.latency_us / 1e6L + q.burst_bytes;
    p.limit = limit > 0xffffffffL ? 0xffffffffu : static_cast<uint32_t>(limit);
    long double ticks = static_cast<long double>(q.burst_bytes) * 1e9L / bytes / 64;
    p.buffer = ticks > 0xffffffffL ? 0xffffffffu : static_cast<uint32_t>(ticks);
    r.Put(TCA_TBF_PARMS, &p, sizeof p);
    if (bytes > 0xffffffffull) mnl_attr_put_u64(r.header(), TCA_TBF_RATE64, bytes);
    r.PutU32(TCA_TBF_BURST, q.burst_bytes);
  } else {
    tc_htb_glob g{};
    g.version = 3;
    g.rate2quantum = 10;
    g.defcls = q.default_class;
    r.Put(TCA_HTB_INIT, &g, sizeof g);
  }
  r.NestEnd(opts);
  out->Add(r, false, fmt::format("set {} qdisc on `{}`", q.kind, q.dev));
  for (const HtbClass& c : q.classes) {
    NlRequest cr(RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_EXCL);
    auto* ct = static_cast<tcmsg*>(cr.PutExtra(sizeof(tcmsg)));
    ct->tcm_family = AF_UNSPEC;
    ct->tcm_ifindex = ifindex;
    ct->tcm_parent = TC_H_MAKE(1u << 16, c.parent);
    ct->tcm_handle = TC_H_MAKE(1u << 16, c.minor);
    cr.PutStr(TCA_KIND, "htb");
    void* co = cr.NestStart(TCA_OPTIONS);
    tc_htb_opt o{};
    uint64_t rate = c.rate_bps / 8, ceil = c.ceil_bps / 8;
    o.rate.linklayer = o.ceil.linklayer = TC_LINKLAYER_ETHERNET;
    o.rate.rate = rate > 0xffffffffull ? 0xffffffffu : static_cast<uint32_t>(rate);
    o.ceil.rate = ceil > 0xffffffffull ? 0xffffffffu : static_cast<uint32_t>(ceil);
    auto buffer_ticks = [](uint64_t bytes_per_s) {
      long double burst = std::max<long double>(bytes_per_s / 1000.0L, 1600.0L);  // 1 ms of traffic
      long double t = burst * 1e9L / bytes_per_s / 64;
      return t > 0xffffffffL ? 0xffffffffu : static_cast<uint32_t>(t);
    };
    o.buffer = buffer_ticks(rate);
    o.cbuffer = buffer_ticks(ceil);
    cr.Put(TCA_HTB_PARMS, &o, sizeof o);
    if (rate > 0xffffffffull) mnl_attr_put_u64(cr.header(), TCA_HTB_RATE64, rate);
    if (ceil > 0xffffffffull) mnl_attr_put_u64(cr.header(), TCA_HTB_CEIL64, ceil);
    cr.NestEnd(co);
    out->Add(cr, false, fmt::format("add htb class 1:{} on `{}`", c.minor, q.dev));
  }
}

std::string NftText(const NftTable& t) {
  std::string s = fmt::format("table {0} {1}\ndelete table {0} {1}\ntable {0} {1} {{\n  comment \"netdsl {2}\"\n",
                              t.family, t.table, t.fingerprint.empty() ? NftFingerprint(t) : t.fingerprint);
  // Sets first: rules refer to them. Names, types and parts were checked by
  // the plan reader (safe alphabet, typed parts); ifnames are quoted.
  for (const NftSet& set : t.sets) {
    s += fmt::format("  set {} {{ type {};", set.name, set.type);
    if (!set.elements.empty()) {
      s += " elements = { ";
      for (size_t i = 0; i < set.elements.size(); ++i) {
        if (i) s += ", ";
        const std::vector<std::string>& e = set.elements[i];
        for (size_t k = 0; k < e.size(); ++k) {
          if (k) s += " . ";
          if (k == 0) s += '"';
          s += e[k];
          if (k == 0) s += '"';
        }
      }
      s += " }";
    }
    s += " }\n";
  }
  for (const NftChain& c : t.chains)
    s += fmt::format("  chain {} {{ type {} hook {} priority {}; policy {}; }}\n", c.name, c.type, c.hook,
                     c.priority, c.policy);
  s += "}\n";
  for (const NftRule& r : t.rules) {
    s += fmt::format("add rule {} {} {} {}", t.family, t.table, r.chain, r.rule);
    if (!r.comment.empty()) s += fmt::format(" comment \"{}\"", r.comment);
    s += "\n";
  }
  return s;
}

bool Build(const Op& op, Indexes& idx, Requests* out, std::string* error) {
  auto dev_index = [&](const std::string& dev) {
    int i = idx.Get(dev);
    if (!i) *error = fmt::format("{}: device `{}` does not exist", Describe(op), dev);
    return i;
  };
  switch (op.kind) {
    case OpKind::CreateLink: return BuildLinkCreate(*std::get<Boxed<Link>>(op.object), idx, out, error);
    case OpKind::DeleteLink: {
      // Only a link that carries netdsl's marker now, and that very link (by
      // its ifindex, looked up with the marker): never a same-named link
      // someone else created meanwhile (a create of ours that failed with
      // EEXIST, rolled back).
      const Link& l = *std::get<Boxed<Link>>(op.object);
      NlRequest r(RTM_DELLINK, 0);
      auto* ifm = static_cast<ifinfomsg*>(r.PutExtra(sizeof(ifinfomsg)));
      ifm->ifi_family = AF_UNSPEC;
      r.PutStr(IFLA_IFNAME, l.name);
      if (idx.owners) {
        auto it = idx.owners->find(l.name);
        if (it != idx.owners->end() && it->second.ifindex) {
          const std::string& want = l.alias.empty() ? std::string("netdsl") : l.alias;
          const LinkOwner& now = it->second;
          // With a known index (the one read, or the one a create asked for
          // and journaled) only that link; it is ours with the marker, or,
          // killed between its create and its marker, with netdsl's group
          // at the index the create asked for.
          bool same_index = !l.ifindex || now.ifindex == l.ifindex;
          bool ours = now.alias == want || (l.ifindex && l.group && now.group == l.group);
          if (!same_index || !ours) {
            if (idx.tolerant) return true;  // not ours (any more): nothing of ours to undo
            *error = !same_index
                         ? fmt::format("{}: the link is not the one netdsl knows (index {}, not {}); not deleted",
                                       Describe(op), now.ifindex, l.ifindex)
                         : fmt::format("{}: the link is not netdsl's (its alias is `{}`, not `{}`); not deleted",
                                       Describe(op), now.alias, want);
            return false;
          }
          ifm->ifi_index = it->second.ifindex;
        }
      }
      out->Add(r);
      return true;
    }
    case OpKind::SetLink: {
      const auto& c = std::get<LinkChange>(op.object);
      NlRequest r(RTM_NEWLINK, 0);
      auto* ifm = static_cast<ifinfomsg*>(r.PutExtra(sizeof(ifinfomsg)));
      ifm->ifi_family = AF_UNSPEC;
      if (c.up) {
        ifm->ifi_flags = *c.up ? IFF_UP : 0;
        ifm->ifi_change = IFF_UP;
      }
      r.PutStr(IFLA_IFNAME, c.name);
      if (c.mtu) r.PutU32(IFLA_MTU, *c.mtu);
      if (c.mac) r.Put(IFLA_ADDRESS, c.mac->bytes.data(), 6);
      if (c.alias) r.PutStr(IFLA_IFALIAS, *c.alias);
      if (c.forwarding) PutForwarding(r, *c.forwarding);
      if (c.master) {
        int m = 0;
        if (!c.master->empty() && !(m = dev_index(*c.master))) return false;
        r.PutU32(IFLA_MASTER, m);
      }
      out->Add(r);
      // After the master: a new bridge port starts not isolated; a link
      // without a master has no port flags.
      if (c.isolated && !(c.master && c.master->empty())) out->Add(BridgePortIsolation(c.name, *c.isolated));
      return true;
    }
    case OpKind::AddAddress:
    case OpKind::DelAddress: {
      const auto& x = std::get<Address>(op.object);
      int i = dev_index(x.dev);
      if (!i) return false;
      bool add = op.kind == OpKind::AddAddress;
      NlRequest r(add ? RTM_NEWADDR : RTM_DELADDR, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
      auto* ifa = static_cast<ifaddrmsg*>(r.PutExtra(sizeof(ifaddrmsg)));
      ifa->ifa_family = Family(x.address);
      ifa->ifa_prefixlen = x.prefix_length;
      ifa->ifa_index = i;
      ifa->ifa_scope = RT_SCOPE_UNIVERSE;
      const AddressAttrs* a = x.attrs.get();
      if (x.address.IsV4()) PutIp(r, IFA_LOCAL, x.address);
      PutIp(r, IFA_ADDRESS, a && a->peer ? *a->peer : x.address);
      if (a && add) {  // a host's own address, exactly as it was (docs/runtime.md "Management continuity")
        ifa->ifa_scope = a->scope;
        if (a->flags) r.PutU32(IFA_FLAGS, a->flags);
        if (!a->label.empty() && x.address.IsV4()) r.PutStr(IFA_LABEL, a->label);
        if (a->broadcast) PutIp(r, IFA_BROADCAST, *a->broadcast);
        if (a->valid_lft != 0xffffffffu || a->preferred_lft != 0xffffffffu) {
          ifa_cacheinfo ci{};
          ci.ifa_valid = a->valid_lft;
          ci.ifa_prefered = a->preferred_lft;
          r.Put(IFA_CACHEINFO, &ci, sizeof ci);
        }
        if (a->proto) r.PutU8(IFA_PROTO, a->proto);
      } else if (!x.address.IsV4() && add) {
        r.PutU32(IFA_FLAGS, IFA_F_NODAD);
      }
      out->Add(r);
      return true;
    }
    case OpKind::AddRoute:
    case OpKind::DelRoute:
    case OpKind::ReplaceRoute: {
      const auto& rt = std::get<Route>(op.object);
      int i = dev_index(rt.dev);
      if (!i) return false;
      bool add = op.kind != OpKind::DelRoute;
      uint16_t flags = op.kind == OpKind::AddRoute       ? NLM_F_CREATE | NLM_F_EXCL
                       : op.kind == OpKind::ReplaceRoute ? NLM_F_CREATE | NLM_F_REPLACE
                                                         : 0;
      NlRequest r(add ? RTM_NEWROUTE : RTM_DELROUTE, flags);
      auto* m = static_cast<rtmsg*>(r.PutExtra(sizeof(rtmsg)));
      m->rtm_family = Family(rt.dst.address);
      m->rtm_dst_len = rt.dst.length;
      m->rtm_table = rt.table < 256 ? rt.table : RT_TABLE_UNSPEC;
      m->rtm_protocol = add ? RTPROT_STATIC : RTPROT_UNSPEC;
      m->rtm_scope = add ? (rt.via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK) : RT_SCOPE_NOWHERE;
      m->rtm_type = RTN_UNICAST;
      r.PutU32(RTA_TABLE, rt.table);
      if (rt.dst.length) PutIp(r, RTA_DST, rt.dst.address);
      r.PutU32(RTA_OIF, i);
      if (rt.via) PutIp(r, RTA_GATEWAY, *rt.via);
      if (const RouteAttrs* a = rt.attrs.get()) {  // a host's own route, exactly as it was
        m->rtm_tos = a->tos;
        r.PutU32(RTA_PRIORITY, a->priority);  // part of the route's identity, for deletes too
        if (add) {
          m->rtm_protocol = a->protocol;
          m->rtm_scope = a->scope;
          m->rtm_flags = a->flags;
          if (a->prefsrc) PutIp(r, RTA_PREFSRC, *a->prefsrc);
          if (!a->metrics.empty()) r.Put(RTA_METRICS, a->metrics.data(), a->metrics.size());
          if (a->pref >= 0) r.PutU8(RTA_PREF, static_cast<uint8_t>(a->pref));
        }
      }
      out->Add(r);
      return true;
    }
    case OpKind::AddFdb:
    case OpKind::DelFdb: {
      const auto& f = std::get<FdbEntry>(op.object);
      int i = dev_index(f.dev);
      if (!i) return false;
      bool add = op.kind == OpKind::AddFdb;
      NlRequest r(add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_APPEND : 0);
      auto* nd = static_cast<ndmsg*>(r.PutExtra(sizeof(ndmsg)));
      nd->ndm_family = AF_BRIDGE;
      nd->ndm_ifindex = i;
      nd->ndm_state = NUD_PERMANENT;
      nd->ndm_flags = NTF_SELF;
      r.Put(NDA_LLADDR, f.mac.bytes.data(), 6);
      PutIp(r, NDA_DST, f.dst);
      out->Add(r);
      return true;
    }
    case OpKind::AddNeighbour:
    case OpKind::DelNeighbour: {
      const auto& n = std::get<Neighbour>(op.object);
      int i = dev_index(n.dev);
      if (!i) return false;
      bool add = op.kind == OpKind::AddNeighbour;
      NlRequest r(add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
      auto* nd = static_cast<ndmsg*>(r.PutExtra(sizeof(ndmsg)));
      nd->ndm_family = Family(n.address);
      nd->ndm_ifindex = i;
      nd->ndm_state = NUD_PERMANENT;
      if (n.attrs && add) {
        nd->ndm_state = n.attrs->state;
        nd->ndm_flags = n.attrs->flags;
      }
      PutIp(r, NDA_DST, n.address);
      if (add) r.Put(NDA_LLADDR, n.mac.bytes.data(), 6);
      out->Add(r);
      return true;
    }
    case OpKind::ReplaceQdisc: {
      const auto& q = *std::get<Boxed<Qdisc>>(op.object);
      int i = dev_index(q.dev);
      if (!i) return false;
      BuildQdisc(q, i, out);
      return true;
    }
    case OpKind::DelQdisc: {
      const auto& q = *std::get<Boxed<Qdisc>>(op.object);
      int i = dev_index(q.dev);
      if (!i) return false;
      NlRequest r(RTM_DELQDISC, 0);
      auto* t = static_cast<tcmsg*>(r.PutExtra(sizeof(tcmsg)));
      t->tcm_ifindex = i;
      t->tcm_parent = TC_H_ROOT;
      out->Add(r);
      return true;
    }
    case OpKind::ReplaceNft:
    case OpKind::RestoreNft: return true;  // handled by ExecuteOps through libnftables
  }
  return false;
}

bool Benign(int err, const Op& op) {
  // Rollback runs inverses of operations that may not have happened (a step
  // interrupted half-way): absent or present objects are the goal state.
  switch (-err) {
    case EEXIST:
    case ENOENT:
    case ENODEV:
    case ESRCH:
    case EADDRNOTAVAIL:
      return true;
    case EINVAL:
      return op.kind == OpKind::DelQdisc;
    default:
      return false;
  }
}

/// Sends the built requests, then the markers of the links created; on
/// failure names the first failed operation.
bool Run(Netlink& nl, const std::vector<Op>& ops, PreparedOps& p, bool tolerant, std::string* error) {
  if (p.batch.empty()) return true;
  std::vector<NlFailure> failures = nl.Execute(p.batch);
  std::string mark_error;
  if (!p.marks.empty()) {
    // Test-only (docs/runtime.md "Test-only hooks"): die between the
    // creates and their markers, the window the creating request's group
    // and journaled index cover.
    static const bool kill_before_marks = [] {
      const char* v = std::getenv("NETDSL_KILL_BEFORE_MARKS");
      return v && *v == '1';
    }();
    auto grouped = [](const Op& op) {
      return op.kind == OpKind::CreateLink && std::get<Boxed<Link>>(op.object)->group;
    };  // an apply's creates, not the feature probe's
    if (kill_before_marks && std::any_of(ops.begin(), ops.end(), grouped)) raise(SIGKILL);
    // Mark every link this step did create, even when another request
    // failed: the rollback deletes only marked links (or those at the index
    // the create asked for, with netdsl's group).
    std::vector<bool> failed(p.batch.size(), false);
    for (const NlFailure& f : failures) failed[f.index] = true;
    NlBatch marks;
    std::vector<size_t> which;
    for (size_t m = 0; m < p.mark_after.size(); ++m) {
      if (failed[p.mark_after[m]]) continue;
      which.push_back(m);
    }
    if (which.size() == p.mark_after.size()) {
      marks = std::move(p.marks);
    } else {
      for (size_t m : which) marks.AddFrom(p.marks, m);
    }
    std::vector<NlFailure> mark_failures = nl.Execute(marks);
    if (!mark_failures.empty()) {
      const NlResult& res = mark_failures.front().result;
      mark_error = fmt::format("{}: {}", p.mark_what[which[mark_failures.front().index]],
                               res.message.empty() ? std::strerror(-res.error) : res.message);
    }
  }
  for (const NlFailure& f : failures) {
    const PreparedOps::Info& info = p.info[f.index];
    const Op& op = ops[p.owner[f.index]];
    if (info.optional) continue;
    if (tolerant && Benign(f.result.error, op)) continue;
    std::string why = f.result.message.empty() ? std::strerror(-f.result.error) : f.result.message;
    *error = fmt::format("{}: {}", info.what.empty() ? Describe(op) : info.what, why);
    return false;
  }
  if (!mark_error.empty()) {
    *error = mark_error;
    return false;
  }
  return true;
}

/// The links that `ops` delete, as the kernel has them now (ifindex and
/// marker), for Build's ownership check.
std::map<std::string, LinkOwner> LookUpOwners(Netlink& nl, const std::vector<Op>& ops) {
  std::map<std::string, LinkOwner> owners;
  std::vector<std::string> names;
  NlBatch gets;
  for (const Op& op : ops) {
    if (op.kind != OpKind::DeleteLink) continue;
    const std::string& name = std::get<Boxed<Link>>(op.object)->name;
    if (!owners.emplace(name, LinkOwner{}).second) continue;
    NlRequest r(RTM_GETLINK, 0);
    static_cast<ifinfomsg*>(r.PutExtra(sizeof(ifinfomsg)))->ifi_family = AF_UNSPEC;
    r.PutStr(IFLA_IFNAME, name);
    r.PutU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    gets.Add(r);
    names.push_back(name);
  }
  if (gets.empty()) return owners;
  nl.Get(gets, [&](size_t i, const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWLINK) return;
    const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    LinkOwner& o = owners[names[i]];
    o.ifindex = ifm->ifi_index;
    const nlattr* tb[IFLA_MAX + 1];
    ParseAttrs(nlh, sizeof(ifinfomsg), tb, IFLA_MAX);
    if (tb[IFLA_IFALIAS]) o.alias = mnl_attr_get_str(tb[IFLA_IFALIAS]);
    if (tb[IFLA_GROUP]) o.group = mnl_attr_get_u32(tb[IFLA_GROUP]);
  });
  return owners;
}

}  // namespace

bool IsBulkStep(const std::vector<Op>& ops) {
  for (const Op& op : ops)
    switch (op.kind) {
      case OpKind::AddAddress: case OpKind::DelAddress: case OpKind::AddRoute: case OpKind::DelRoute:
      case OpKind::ReplaceRoute:
      case OpKind::AddFdb: case OpKind::DelFdb: case OpKind::AddNeighbour: case OpKind::DelNeighbour:
        break;
      default: return false;
    }
  return true;
}

bool PrepareOps(const std::vector<Op>& ops, PreparedOps* out, std::string* error) {
  Indexes idx;
  Requests reqs{out};
  out->owner.reserve(ops.size());
  out->info.reserve(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!Build(ops[i], idx, &reqs, error)) return false;
    out->owner.resize(out->info.size(), i);
  }
  return true;
}

bool RunPrepared(Netlink& nl, const std::vector<Op>& ops, PreparedOps& prepared, std::string* error) {
  return Run(nl, ops, prepared, false, error);
}

bool ExecuteOps(Netlink& nl, const std::vector<Op>& ops, bool tolerant, std::string* error) {
  Indexes idx;
  const std::map<std::string, LinkOwner> owners = LookUpOwners(nl, ops);
  idx.owners = &owners;
  idx.tolerant = tolerant;
  PreparedOps prepared;
  Requests reqs{&prepared};
  prepared.owner.reserve(ops.size());
  prepared.info.reserve(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (op.kind == OpKind::ReplaceNft || op.kind == OpKind::RestoreNft) {
      // nft transactions run through libnftables; steps never mix them with
      // netlink requests (the diff gives each table its own step).
      std::string text;
      if (op.kind == OpKind::ReplaceNft) {
        text = NftText(*std::get<Boxed<NftTable>>(op.object));
      } else {
        const std::string& saved = std::get<std::string>(op.object);
        size_t nl_pos = saved.find('\n');
        std::string head = saved.substr(0, nl_pos);
        std::string listing = nl_pos == std::string::npos ? "" : saved.substr(nl_pos + 1);
        text = fmt::format("table {0}\ndelete table {0}\n{1}", head, listing);
      }
      std::string err;
      if (!NftRun(text, nullptr, &err)) {
        *error = fmt::format("{}: {}", Describe(op), err);
        return false;
      }
      continue;
    }
    std::string err;
    if (!Build(op, idx, &reqs, &err)) {
      if (tolerant) continue;  // the device is gone: nothing left to undo on it
      *error = err;
      return false;
    }
    prepared.owner.resize(prepared.info.size(), i);
  }
  return Run(nl, ops, prepared, tolerant, error);
}

}  // namespace netdsl::runtime
