// Actual state through rtnetlink dumps (links, addresses, routes, neighbours,
// bridge FDB, qdiscs and htb classes) and the netdsl nft table via libnftables.
#include "runtime/linux/state_reader.h"

#include "runtime/linux/management.h"
#include "runtime/linux/object_key.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/ip.h>
#include <linux/neighbour.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <nftables/libnftables.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <cerrno>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace netdsl::runtime {
namespace {

std::optional<net::IpAddress> IpFromAttr(const nlattr* a) {
  if (!a) return std::nullopt;
  net::IpAddress ip;
  size_t len = mnl_attr_get_payload_len(a);
  if (len == 4) {
    ip.family = net::IpAddress::Family::V4;
    std::memcpy(ip.bytes.data() + 12, mnl_attr_get_payload(a), 4);
  } else if (len == 16) {
    ip.family = net::IpAddress::Family::V6;
    std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), 16);
  } else {
    return std::nullopt;
  }
  return ip;
}

std::optional<net::MacAddress> MacFromAttr(const nlattr* a) {
  if (!a || mnl_attr_get_payload_len(a) != 6) return std::nullopt;
  net::MacAddress m;
  std::memcpy(m.bytes.data(), mnl_attr_get_payload(a), 6);
  return m;
}

struct RawLink {
  Link link;
  int master_index = 0;
  int link_index = 0;
};

void ParseLinkInfo(const nlattr* info, Link* l) {
  const nlattr* tb[IFLA_INFO_MAX + 1];
  ParseNested(info, tb, IFLA_INFO_MAX);
  if (tb[IFLA_INFO_KIND]) l->kind = mnl_attr_get_str(tb[IFLA_INFO_KIND]);
  if (tb[IFLA_INFO_SLAVE_KIND] && tb[IFLA_INFO_SLAVE_DATA] &&
      std::strcmp(mnl_attr_get_str(tb[IFLA_INFO_SLAVE_KIND]), "bridge") == 0) {
    const nlattr* port[IFLA_BRPORT_MAX + 1];
    ParseNested(tb[IFLA_INFO_SLAVE_DATA], port, IFLA_BRPORT_MAX);
    if (port[IFLA_BRPORT_ISOLATED]) l->isolated = mnl_attr_get_u8(port[IFLA_BRPORT_ISOLATED]) != 0;
  }
  const nlattr* data = tb[IFLA_INFO_DATA];
  if (!data) return;
  if (l->kind == "vxlan") {
    const nlattr* d[IFLA_VXLAN_MAX + 1];
    ParseNested(data, d, IFLA_VXLAN_MAX);
    if (d[IFLA_VXLAN_ID]) l->vxlan_id = mnl_attr_get_u32(d[IFLA_VXLAN_ID]);
    l->vxlan_local = IpFromAttr(d[IFLA_VXLAN_LOCAL] ? d[IFLA_VXLAN_LOCAL] : d[IFLA_VXLAN_LOCAL6]);
    if (d[IFLA_VXLAN_PORT]) l->vxlan_dstport = ntohs(mnl_attr_get_u16(d[IFLA_VXLAN_PORT]));
    if (d[IFLA_VXLAN_LEARNING]) l->vxlan_learning = mnl_attr_get_u8(d[IFLA_VXLAN_LEARNING]);
    if (d[IFLA_VXLAN_TTL]) l->vxlan_ttl = mnl_attr_get_u8(d[IFLA_VXLAN_TTL]);
  } else if (l->kind == "vlan") {
    const nlattr* d[IFLA_VLAN_MAX + 1];
    ParseNested(data, d, IFLA_VLAN_MAX);
    if (d[IFLA_VLAN_ID]) l->vlan_id = mnl_attr_get_u16(d[IFLA_VLAN_ID]);
  } else if (l->kind == "bond") {
    const nlattr* d[IFLA_BOND_MAX + 1];
    ParseNested(data, d, IFLA_BOND_MAX);
    if (d[IFLA_BOND_MODE] && mnl_attr_get_u8(d[IFLA_BOND_MODE]) < linux_yaml::kBondModes.size())
      l->bond_mode = linux_yaml::kBondModes[mnl_attr_get_u8(d[IFLA_BOND_MODE])];
    if (d[IFLA_BOND_XMIT_HASH_POLICY] &&
        mnl_attr_get_u8(d[IFLA_BOND_XMIT_HASH_POLICY]) < linux_yaml::kXmitHashPolicies.size())
      l->bond_xmit_hash_policy = linux_yaml::kXmitHashPolicies[mnl_attr_get_u8(d[IFLA_BOND_XMIT_HASH_POLICY])];
    if (d[IFLA_BOND_MIIMON]) l->bond_miimon = mnl_attr_get_u32(d[IFLA_BOND_MIIMON]);
  } else if (l->kind == "vrf") {
    const nlattr* d[IFLA_VRF_MAX + 1];
    ParseNested(data, d, IFLA_VRF_MAX);
    if (d[IFLA_VRF_TABLE]) l->vrf_table = mnl_attr_get_u32(d[IFLA_VRF_TABLE]);
  } else if (l->kind == "gretap") {
    const nlattr* d[IFLA_GRE_MAX + 1];
    ParseNested(data, d, IFLA_GRE_MAX);
    if (d[IFLA_GRE_IKEY]) l->gretap_key = ntohl(mnl_attr_get_u32(d[IFLA_GRE_IKEY]));
    l->gretap_local = IpFromAttr(d[IFLA_GRE_LOCAL]);
    l->gretap_remote = IpFromAttr(d[IFLA_GRE_REMOTE]);
    if (l->gretap_remote && l->gretap_remote->IsV4() && l->gretap_remote->V4Value() == 0) l->gretap_remote.reset();
  }
}

/// net.ipv4.conf.DEV.forwarding from IFLA_AF_SPEC / AF_INET / IFLA_INET_CONF,
/// an array of u32 indexed by IPV4_DEVCONF_* - 1.
bool ForwardingOf(const nlattr* af_spec) {
  // The nested attributes of `nest` (mnl_attr_for_each_nested, without its void* assignment).
  auto each = [](const nlattr* nest, auto&& f) {
    const char* end = static_cast<const char*>(mnl_attr_get_payload(nest)) + mnl_attr_get_payload_len(nest);
    for (auto* a = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
         mnl_attr_ok(a, static_cast<int>(end - reinterpret_cast<const char*>(a))); a = mnl_attr_next(a))
      if (f(a)) return true;
    return false;
  };
  bool on = false;
  each(af_spec, [&](const nlattr* inet) {
    if (mnl_attr_get_type(inet) != AF_INET) return false;
    return each(inet, [&](const nlattr* conf) {
      if (mnl_attr_get_type(conf) != IFLA_INET_CONF) return false;
      if (mnl_attr_get_payload_len(conf) >= IPV4_DEVCONF_FORWARDING * sizeof(uint32_t)) {
        uint32_t v = 0;
        std::memcpy(&v, static_cast<const char*>(mnl_attr_get_payload(conf)) +
                            (IPV4_DEVCONF_FORWARDING - 1) * sizeof(uint32_t), sizeof v);
        on = v != 0;
      }
      return true;
    });
  });
  return on;
}

bool ReadLinks(Netlink& nl, HostState* s, std::string* error) {
  std::vector<RawLink> raw;
  NlRequest req(RTM_GETLINK, 0);
  auto* ifm = static_cast<ifinfomsg*>(req.PutExtra(sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  bool ok = nl.Dump(req, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWLINK) return;
    const auto* m = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    const nlattr* tb[IFLA_MAX + 1];
    ParseAttrs(nlh, sizeof(ifinfomsg), tb, IFLA_MAX);
    RawLink r;
    Link& l = r.link;
    l.ifindex = m->ifi_index;
    l.up = m->ifi_flags & IFF_UP;
    if (tb[IFLA_IFNAME]) l.name = mnl_attr_get_str(tb[IFLA_IFNAME]);
    if (tb[IFLA_MTU]) l.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
    if (tb[IFLA_IFALIAS]) l.alias = mnl_attr_get_str(tb[IFLA_IFALIAS]);
    if (tb[IFLA_GROUP]) l.group = mnl_attr_get_u32(tb[IFLA_GROUP]);
    l.mac = MacFromAttr(tb[IFLA_ADDRESS]);
    if (tb[IFLA_MASTER]) r.master_index = mnl_attr_get_u32(tb[IFLA_MASTER]);
    if (tb[IFLA_LINK]) r.link_index = mnl_attr_get_u32(tb[IFLA_LINK]);
    if (tb[IFLA_LINKINFO]) ParseLinkInfo(tb[IFLA_LINKINFO], &l);
    if (tb[IFLA_AF_SPEC]) l.forwarding = ForwardingOf(tb[IFLA_AF_SPEC]);
    if (l.kind == "veth" && tb[IFLA_LINK_NETNSID]) l.veth_peer_elsewhere = true;
    raw.push_back(std::move(r));
  }, error);
  if (!ok) return false;
  std::map<int, std::string> names;
  for (const RawLink& r : raw) names[r.link.ifindex] = r.link.name;
  for (RawLink& r : raw) {
    Link& l = r.link;
    if (r.master_index) l.master = names.count(r.master_index) ? names[r.master_index] : "?";
    if (l.kind == "vlan" && r.link_index) l.vlan_link = names.count(r.link_index) ? names[r.link_index] : "?";
    if (l.kind == "veth" && !l.veth_peer_elsewhere && r.link_index && names.count(r.link_index)) {
      l.veth_peer = names[r.link_index];
      for (const RawLink& p : raw)  // the peer's attributes, to recreate the pair exactly on rollback
        if (p.link.ifindex == r.link_index) {
          l.veth_peer_mac = p.link.mac;
          l.veth_peer_mtu = p.link.mtu;
          if (p.master_index && names.count(p.master_index)) l.veth_peer_master = names[p.master_index];
        }
    }
    if (l.kind == "veth" && r.link_index && !names.count(r.link_index)) l.veth_peer_elsewhere = true;
    s->links.push_back(std::move(l));
  }
  std::sort(s->links.begin(), s->links.end(), [](const Link& a, const Link& b) { return a.name < b.name; });
  return true;
}

}  // namespace

bool NftRun(const std::string& commands, std::string* output, std::string* error, bool json) {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) {
    *error = "cannot create an nftables context";
    return false;
  }
  if (json) nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  int rc = nft_run_cmd_from_buffer(ctx, commands.c_str());
  if (output) *output = nft_ctx_get_output_buffer(ctx);
  if (rc != 0 && error) {
    *error = nft_ctx_get_error_buffer(ctx);
    while (!error->empty() && (error->back() == '\n' || error->back() == ' ')) error->pop_back();
  }
  nft_ctx_free(ctx);
  return rc == 0;
}

std::string NftListTable(const std::string& family, const std::string& table) {
  std::string out, err;
  if (!NftRun(fmt::format("list table {} {}", family, table), &out, &err)) return "";
  return out;
}

namespace {

/// One set element of `nft -j` output (`"nd-p1"`, `{"concat": [...]}`, or
/// either wrapped in `{"elem": {"val": ...}}`) as canonical parts by the
/// set's `types`, the way the plan reader keeps them (lowercase MAC,
/// net::IpAddress text).
std::vector<std::string> NftElementParts(const YAML::Node& elem, const std::vector<std::string>& types) {
  YAML::Node e = elem;
  if (e.IsMap() && e["elem"].IsDefined()) e = e["elem"]["val"];
  std::vector<std::string> parts;
  if (e.IsMap() && e["concat"].IsSequence()) {
    for (const YAML::Node& part : e["concat"]) parts.push_back(part.IsScalar() ? part.as<std::string>() : "?");
  } else if (e.IsScalar()) {
    parts.push_back(e.as<std::string>());
  } else {
    parts.push_back("?");  // not a shape netdsl writes: differs from every desired element
  }
  for (size_t i = 0; i < parts.size() && i < types.size(); ++i) {
    if (types[i] == "ether_addr") {
      if (auto mac = net::ParseMac(parts[i])) parts[i] = mac->ToString();
    } else if (types[i] == "ipv4_addr" || types[i] == "ipv6_addr") {
      if (auto ip = net::ParseIp(parts[i])) parts[i] = ip->ToString();
    }
  }
  return parts;
}

/// Fills `t` from `nft -j list table` output; `present` stays false if absent.
void ReadNft(const NftTable& want, NftTable* t) {
  t->family = want.family;
  t->table = want.table;
  std::string out, err;
  if (!NftRun(fmt::format("list table {} {}", want.family, want.table), &out, &err, true)) return;
  YAML::Node root;
  try {
    root = YAML::Load(out);
  } catch (const YAML::Exception&) {
    return;
  }
  t->present = true;
  // nft 1.0.6 leaves table comments out of its JSON; the text listing has it
  // on the line after `table ... {`.
  std::string listing = NftListTable(want.family, want.table);
  if (size_t nl = listing.find('\n'); nl != std::string::npos) {
    size_t start = listing.find_first_not_of(" \t", nl + 1);
    const std::string marker = "comment \"netdsl ";
    if (start != std::string::npos && listing.compare(start, marker.size(), marker) == 0) {
      size_t end = listing.find('"', start + marker.size());
      if (end != std::string::npos) t->fingerprint = listing.substr(start + marker.size(), end - start - marker.size());
    }
  }
  YAML::Node items = root["nftables"];
  if (!items.IsSequence()) return;
  for (const YAML::Node& item : items) {
    if (YAML::Node tb = item["table"]; tb.IsDefined()) {
      if (tb["comment"].IsDefined()) {
        std::string c = tb["comment"].as<std::string>();
        if (c.rfind("netdsl ", 0) == 0) t->fingerprint = c.substr(7);
      }
    } else if (YAML::Node st = item["set"]; st.IsDefined()) {
      NftSet set;
      set.name = st["name"].as<std::string>("");
      YAML::Node type = st["type"];
      std::vector<std::string> types;
      if (type.IsSequence()) {
        for (const YAML::Node& part : type) types.push_back(part.as<std::string>(""));
      } else {
        types.push_back(type.as<std::string>(""));
      }
      for (const std::string& part : types) set.type += (set.type.empty() ? "" : " . ") + part;
      for (const YAML::Node& elem : st["elem"]) set.elements.push_back(NftElementParts(elem, types));
      std::sort(set.elements.begin(), set.elements.end());
      t->sets.push_back(std::move(set));
    } else if (YAML::Node ch = item["chain"]; ch.IsDefined()) {
      NftChain c;
      c.name = ch["name"].as<std::string>("");
      c.hook = ch["hook"].as<std::string>("");
      c.type = ch["type"].as<std::string>("filter");
      c.priority = ch["prio"].as<int>(0);
      c.policy = ch["policy"].as<std::string>("accept");
      t->chains.push_back(c);
    } else if (YAML::Node ru = item["rule"]; ru.IsDefined()) {
      NftRule r;
      r.chain = ru["chain"].as<std::string>("");
      r.comment = ru["comment"].as<std::string>("");
      t->rules.push_back(r);
    }
  }
}

struct Devices {
  std::map<int, std::string> names;  // ifindex -> name of devices we read objects of
  std::set<int> vxlan;
  /// Adopted NICs and the switches that take their settings: objects there
  /// are read with every attribute (host_state.h `*Attrs`), to be moved exactly.
  std::set<int> exact;
};

/// Address flags a client may set (the others are the kernel's state).
constexpr uint32_t kSettableAddressFlags = IFA_F_NODAD | IFA_F_OPTIMISTIC | IFA_F_HOMEADDRESS | IFA_F_NOPREFIXROUTE |
                                           IFA_F_MANAGETEMPADDR | IFA_F_MCAUTOJOIN | IFA_F_STABLE_PRIVACY;

void ReadAddresses(Netlink& nl, const Devices& d, HostState* s, std::string* error, bool* ok) {
  NlRequest req(RTM_GETADDR, 0);
  auto* ifa = static_cast<ifaddrmsg*>(req.PutExtra(sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_UNSPEC;
  *ok = *ok && nl.Dump(req, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWADDR) return;
    const auto* m = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
    auto dev = d.names.find(m->ifa_index);
    if (dev == d.names.end()) return;
    if (m->ifa_family == AF_INET6 && m->ifa_scope == RT_SCOPE_LINK) return;  // kernel link-local
    const nlattr* tb[IFA_MAX + 1];
    ParseAttrs(nlh, sizeof(ifaddrmsg), tb, IFA_MAX);
    auto ip = IpFromAttr(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS]);
    if (!ip) return;
    std::shared_ptr<const AddressAttrs> attrs;
    if (d.exact.count(m->ifa_index)) {
      AddressAttrs a;
      a.scope = m->ifa_scope;
      uint32_t flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : m->ifa_flags;
      // IPv6 addresses the kernel keeps itself (autoconfigured, temporary) or
      // that a DHCPv6 client renews are not the operator's: left where they are.
      if (m->ifa_family == AF_INET6 && !(flags & IFA_F_PERMANENT)) return;
      a.flags = flags & kSettableAddressFlags;
      if (tb[IFA_LABEL]) a.label = mnl_attr_get_str(tb[IFA_LABEL]);
      if (a.label == dev->second) a.label.clear();
      if (tb[IFA_LOCAL] && tb[IFA_ADDRESS]) {
        auto peer = IpFromAttr(tb[IFA_ADDRESS]);
        if (peer && *peer != *ip) a.peer = peer;
      }
      a.broadcast = IpFromAttr(tb[IFA_BROADCAST]);
      if (tb[IFA_CACHEINFO] && mnl_attr_get_payload_len(tb[IFA_CACHEINFO]) >= sizeof(ifa_cacheinfo)) {
        ifa_cacheinfo ci;
        std::memcpy(&ci, mnl_attr_get_payload(tb[IFA_CACHEINFO]), sizeof ci);
        a.valid_lft = ci.ifa_valid;
        a.preferred_lft = ci.ifa_prefered;
      }
      if (tb[IFA_PROTO]) a.proto = mnl_attr_get_u8(tb[IFA_PROTO]);
      attrs = std::make_shared<const AddressAttrs>(std::move(a));
    }
    s->addresses.push_back({dev->second, *ip, m->ifa_prefixlen, {}, std::move(attrs)});
  }, error);
}

/// The route an RTM_NEWROUTE / RTM_DELROUTE message describes, when it is one
/// netdsl reads: unicast, not the kernel's own (connected, RA, redirect,
/// cached), out of an owned device, not in the local table.
bool RouteFromMsg(const nlmsghdr* nlh, const Devices& d, Route* r) {
  const auto* m = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  if (m->rtm_type != RTN_UNICAST || m->rtm_protocol == RTPROT_KERNEL || m->rtm_protocol == RTPROT_RA ||
      m->rtm_protocol == RTPROT_REDIRECT || (m->rtm_flags & RTM_F_CLONED) ||
      (m->rtm_family != AF_INET && m->rtm_family != AF_INET6))
    return false;
  const nlattr* tb[RTA_MAX + 1];
  ParseAttrs(nlh, sizeof(rtmsg), tb, RTA_MAX);
  int oif = tb[RTA_OIF] ? static_cast<int>(mnl_attr_get_u32(tb[RTA_OIF])) : 0;
  bool multipath = tb[RTA_NH_ID] != nullptr;
  if (!oif && tb[RTA_MULTIPATH]) {
    // Several next hops: netdsl reads it only when one goes through an
    // adopted NIC, to refuse moving that NIC's settings (it cannot move such a route).
    const auto* nh = static_cast<const rtnexthop*>(mnl_attr_get_payload(tb[RTA_MULTIPATH]));
    int left = mnl_attr_get_payload_len(tb[RTA_MULTIPATH]);
    while (left >= static_cast<int>(sizeof(rtnexthop)) && nh->rtnh_len >= sizeof(rtnexthop) && nh->rtnh_len <= left) {
      if (d.exact.count(nh->rtnh_ifindex)) oif = nh->rtnh_ifindex;
      left -= RTNH_ALIGN(nh->rtnh_len);
      nh = RTNH_NEXT(nh);
    }
    if (!oif) return false;
    multipath = true;
  }
  if (!oif) return false;
  auto dev = d.names.find(oif);
  if (dev == d.names.end()) return false;
  r->table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : m->rtm_table;
  if (r->table == RT_TABLE_LOCAL) return false;
  auto dst = IpFromAttr(tb[RTA_DST]);
  r->dst.address = dst ? *dst : net::IpAddress{};
  r->dst.address.family = m->rtm_family == AF_INET ? net::IpAddress::Family::V4 : net::IpAddress::Family::V6;
  r->dst.length = m->rtm_dst_len;
  r->dev = dev->second;
  r->via = IpFromAttr(tb[RTA_GATEWAY]);
  if (d.exact.count(oif)) {
    RouteAttrs a;
    a.protocol = m->rtm_protocol;
    a.scope = m->rtm_scope;
    a.tos = m->rtm_tos;
    a.flags = m->rtm_flags & RTNH_F_ONLINK;
    if (tb[RTA_PRIORITY]) a.priority = mnl_attr_get_u32(tb[RTA_PRIORITY]);
    a.prefsrc = IpFromAttr(tb[RTA_PREFSRC]);
    if (tb[RTA_METRICS])
      a.metrics.assign(static_cast<const char*>(mnl_attr_get_payload(tb[RTA_METRICS])),
                       mnl_attr_get_payload_len(tb[RTA_METRICS]));
    if (tb[RTA_PREF]) a.pref = mnl_attr_get_u8(tb[RTA_PREF]);
    a.multipath = multipath;
    r->attrs = std::make_shared<const RouteAttrs>(std::move(a));
  } else if (multipath) {
    return false;
  }
  return true;
}

void ReadRoutes(Netlink& nl, const Devices& d, HostState* s, std::string* error, bool* ok) {
  for (int family : {AF_INET, AF_INET6}) {
    NlRequest req(RTM_GETROUTE, 0);
    auto* rtm = static_cast<rtmsg*>(req.PutExtra(sizeof(rtmsg)));
    rtm->rtm_family = family;
    *ok = *ok && nl.Dump(req, [&](const nlmsghdr* nlh) {
      Route r;
      if (nlh->nlmsg_type == RTM_NEWROUTE && RouteFromMsg(nlh, d, &r)) s->routes.push_back(std::move(r));
    }, error);
  }
}

/// What a neighbour message (RTM_NEWNEIGH / RTM_DELNEIGH) is about.
enum class NeighKind { Other, Fdb, Neighbour };

/// Classifies a neighbour message on an owned device and fills the object it
/// names; `held` = in a state netdsl manages (permanent neighbour, static
/// vxlan FDB entry), i.e. one the reader lists.
NeighKind NeighFromMsg(const nlmsghdr* nlh, const Devices& d, FdbEntry* f, Neighbour* n, bool* held) {
  const auto* m = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
  auto dev = d.names.find(m->ndm_ifindex);
  if (dev == d.names.end()) return NeighKind::Other;
  const nlattr* tb[NDA_MAX + 1];
  ParseAttrs(nlh, sizeof(ndmsg), tb, NDA_MAX);
  auto mac = MacFromAttr(tb[NDA_LLADDR]);
  auto dst = IpFromAttr(tb[NDA_DST]);
  if (m->ndm_family == AF_BRIDGE) {
    if (!mac || !dst || !d.vxlan.count(m->ndm_ifindex)) return NeighKind::Other;
    *f = {dev->second, *mac, *dst, {}};
    *held = m->ndm_state & (NUD_PERMANENT | NUD_NOARP);
    return NeighKind::Fdb;
  }
  if ((m->ndm_family != AF_INET && m->ndm_family != AF_INET6) || !dst) return NeighKind::Other;
  *n = {dev->second, *dst, mac ? *mac : net::MacAddress{}, {}, nullptr};
  *held = mac && (m->ndm_state & NUD_PERMANENT);
  if (*held && d.exact.count(m->ndm_ifindex) && (m->ndm_state != NUD_PERMANENT || m->ndm_flags))
    n->attrs = std::make_shared<const NeighbourAttrs>(NeighbourAttrs{m->ndm_state, m->ndm_flags});
  return NeighKind::Neighbour;
}

void ReadNeighbours(Netlink& nl, const Devices& d, HostState* s, std::string* error, bool* ok, bool neighbours,
                    bool fdb) {
  for (int family : {AF_INET, AF_INET6, AF_BRIDGE}) {
    if ((family == AF_BRIDGE && !fdb) || (family != AF_BRIDGE && !neighbours)) continue;
    NlRequest req(RTM_GETNEIGH, 0);
    auto* ndm = static_cast<ndmsg*>(req.PutExtra(sizeof(ndmsg)));
    ndm->ndm_family = family;
    *ok = *ok && nl.Dump(req, [&](const nlmsghdr* nlh) {
      if (nlh->nlmsg_type != RTM_NEWNEIGH) return;
      FdbEntry f;
      Neighbour n;
      bool held = false;
      switch (NeighFromMsg(nlh, d, &f, &n, &held)) {
        case NeighKind::Fdb:
          if (held && family == AF_BRIDGE) s->fdb.push_back(std::move(f));
          break;
        case NeighKind::Neighbour:
          if (held && family != AF_BRIDGE) s->neighbours.push_back(std::move(n));
          break;
        case NeighKind::Other: break;
      }
    }, error);
  }
}

void ReadQdiscs(Netlink& nl, const Devices& d, HostState* s, std::string* error, bool* ok) {
  NlRequest req(RTM_GETQDISC, 0);
  auto* tcm = static_cast<tcmsg*>(req.PutExtra(sizeof(tcmsg)));
  tcm->tcm_family = AF_UNSPEC;
  std::vector<std::pair<int, size_t>> htbs;  // ifindex, index into s->qdiscs
  *ok = *ok && nl.Dump(req, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWQDISC) return;
    const auto* m = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(nlh));
    if (m->tcm_parent != TC_H_ROOT) return;
    auto dev = d.names.find(m->tcm_ifindex);
    if (dev == d.names.end()) return;
    const nlattr* tb[TCA_MAX + 1];
    ParseAttrs(nlh, sizeof(tcmsg), tb, TCA_MAX);
    if (!tb[TCA_KIND]) return;
    Qdisc q;
    q.dev = dev->second;
    q.kind = mnl_attr_get_str(tb[TCA_KIND]);
    if (q.kind == "tbf" && tb[TCA_OPTIONS]) {
      const nlattr* o[TCA_TBF_MAX + 1];
      ParseNested(tb[TCA_OPTIONS], o, TCA_TBF_MAX);
      if (o[TCA_TBF_PARMS] && mnl_attr_get_payload_len(o[TCA_TBF_PARMS]) >= sizeof(tc_tbf_qopt)) {
        tc_tbf_qopt p;
        std::memcpy(&p, mnl_attr_get_payload(o[TCA_TBF_PARMS]), sizeof p);
        uint64_t rate = p.rate.rate;  // bytes per second
        if (o[TCA_TBF_RATE64]) rate = mnl_attr_get_u64(o[TCA_TBF_RATE64]);
        q.rate_bps = rate * 8;
        // buffer is in psched ticks of 64 ns; burst = buffer time x rate.
        long double burst = static_cast<long double>(p.buffer) * 64 * rate / 1e9L;
        q.burst_bytes = static_cast<uint32_t>(burst + 0.5L);
        if (rate && p.limit > q.burst_bytes)
          q.latency_us = static_cast<uint32_t>((static_cast<long double>(p.limit) - q.burst_bytes) * 1e6L / rate + 0.5L);
      }
    } else if (q.kind == "htb" && tb[TCA_OPTIONS]) {
      const nlattr* o[TCA_HTB_MAX + 1];
      ParseNested(tb[TCA_OPTIONS], o, TCA_HTB_MAX);
      if (o[TCA_HTB_INIT] && mnl_attr_get_payload_len(o[TCA_HTB_INIT]) >= sizeof(tc_htb_glob)) {
        tc_htb_glob g;
        std::memcpy(&g, mnl_attr_get_payload(o[TCA_HTB_INIT]), sizeof g);
        q.default_class = static_cast<uint16_t>(g.defcls);
      }
      htbs.emplace_back(m->tcm_ifindex, s->qdiscs.size());
    } else if (q.kind != "tbf" && q.kind != "htb") {
      return;  // kernel defaults (noqueue, fq_codel, ...) are not netdsl's
    }
    s->qdiscs.push_back(q);
  }, error);
  for (auto [ifindex, qi] : htbs) {
    NlRequest creq(RTM_GETTCLASS, 0);
    auto* c = static_cast<tcmsg*>(creq.PutExtra(sizeof(tcmsg)));
    c->tcm_family = AF_UNSPEC;
    c->tcm_ifindex = ifindex;
    *ok = *ok && nl.Dump(creq, [&](const nlmsghdr* nlh) {
      if (nlh->nlmsg_type != RTM_NEWTCLASS) return;
      const auto* m = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(nlh));
      const nlattr* tb[TCA_MAX + 1];
      ParseAttrs(nlh, sizeof(tcmsg), tb, TCA_MAX);
      if (!tb[TCA_OPTIONS]) return;
      const nlattr* o[TCA_HTB_MAX + 1];
      ParseNested(tb[TCA_OPTIONS], o, TCA_HTB_MAX);
      if (!o[TCA_HTB_PARMS] || mnl_attr_get_payload_len(o[TCA_HTB_PARMS]) < sizeof(tc_htb_opt)) return;
      tc_htb_opt p;
      std::memcpy(&p, mnl_attr_get_payload(o[TCA_HTB_PARMS]), sizeof p);
      HtbClass hc;
      hc.minor = static_cast<uint16_t>(TC_H_MIN(m->tcm_handle));
      hc.parent = m->tcm_parent == TC_H_ROOT ? 0 : static_cast<uint16_t>(TC_H_MIN(m->tcm_parent));
      hc.rate_bps = 8ull * (o[TCA_HTB_RATE64] ? mnl_attr_get_u64(o[TCA_HTB_RATE64]) : p.rate.rate);
      hc.ceil_bps = 8ull * (o[TCA_HTB_CEIL64] ? mnl_attr_get_u64(o[TCA_HTB_CEIL64]) : p.ceil.rate);
      s->qdiscs[qi].classes.push_back(hc);
    }, error);
    std::sort(s->qdiscs[qi].classes.begin(), s->qdiscs[qi].classes.end(),
              [](const HtbClass& a, const HtbClass& b) { return a.minor < b.minor; });
  }
}

/// The FDB entries of `probe` the kernel shows, by one get request per entry
/// (RTM_GETNEIGH, AF_BRIDGE, NTF_SELF, NDA_LLADDR; the vxlan answers with the
/// first remote of that MAC). Returns false when the answers cannot decide.
bool GetFdb(Netlink& nl, const Devices& d, const std::vector<FdbEntry>& probe, HostState* s) {
  std::unordered_map<std::string, int> index;  // owned vxlan name -> ifindex
  for (int i : d.vxlan) index.emplace(d.names.at(i), i);
  // A vxlan answers a get with one remote only: a MAC listed twice on a
  // device cannot be verified this way.
  std::vector<std::pair<int, uint64_t>> keys;
  NlBatch reqs;
  std::vector<size_t> which;
  keys.reserve(probe.size());
  which.reserve(probe.size());
  for (size_t k = 0; k < probe.size(); ++k) {
    const FdbEntry& f = probe[k];
    auto it = index.find(f.dev);
    if (it == index.end()) continue;  // device gone or not owned: nothing to show
    uint64_t mac = 0;
    for (uint8_t b : f.mac.bytes) mac = mac << 8 | b;
    keys.emplace_back(it->second, mac);
    NlRequest r(RTM_GETNEIGH, 0);
    auto* ndm = static_cast<ndmsg*>(r.PutExtra(sizeof(ndmsg)));
    ndm->ndm_family = AF_BRIDGE;
    ndm->ndm_ifindex = it->second;
    ndm->ndm_flags = NTF_SELF;
    r.Put(NDA_LLADDR, f.mac.bytes.data(), 6);
    reqs.Add(r);
    which.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) return false;
  bool decided = true;
  std::vector<FdbEntry> found;
  std::vector<int> res = nl.Get(reqs, [&](size_t i, const nlmsghdr* nlh) {
    const FdbEntry& want = probe[which[i]];
    if (nlh->nlmsg_type != RTM_NEWNEIGH) {
      decided = false;
      return;
    }
    const auto* m = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
    const nlattr* tb[NDA_MAX + 1];
    ParseAttrs(nlh, sizeof(ndmsg), tb, NDA_MAX);
    auto mac = MacFromAttr(tb[NDA_LLADDR]);
    auto dst = IpFromAttr(tb[NDA_DST]);
    if (!mac || !dst || *mac != want.mac || *dst != want.dst) {
      decided = false;  // another remote first, or an entry without dst: let the dump tell
      return;
    }
    if (!(m->ndm_state & (NUD_PERMANENT | NUD_NOARP))) return;
    found.push_back({want.dev, *mac, *dst, {}});
  });
  if (!decided) return false;
  for (int r : res)
    if (r != 0 && r != -ENOENT) return false;  // e.g. a kernel without fdb get
  s->fdb.insert(s->fdb.end(), found.begin(), found.end());
  return true;
}

/// The devices whose objects netdsl reads: the links it owns and the NICs it adopts.
Devices OwnedDevices(const HostState& desired, const HostState& actual) {
  Devices d;
  std::set<std::string> adopted, exact;
  for (const AdoptedNic& a : desired.adopted) {
    adopted.insert(a.name);
    exact.insert(a.name);
    exact.insert(SettingsTarget(desired, a.name));
  }
  for (const HostedObject& h : actual.hosted) exact.insert(h.dev);
  for (const Link& l : actual.links) {
    bool owned = l.name.rfind(desired.owner_prefix, 0) == 0 && IsOwnerMarker(l.alias, desired.owner_alias);
    if (owned || adopted.count(l.name)) d.names[l.ifindex] = l.name;
    if (owned && l.kind == "vxlan") d.vxlan.insert(l.ifindex);
    if ((owned || adopted.count(l.name)) && exact.count(l.name)) d.exact.insert(l.ifindex);
  }
  return d;
}

}  // namespace

void CanonicalOrder(HostState* s) {
  std::sort(s->addresses.begin(), s->addresses.end(), [](const Address& a, const Address& b) {
    return std::tie(a.dev, a.address, a.prefix_length) < std::tie(b.dev, b.address, b.prefix_length);
  });
  std::sort(s->routes.begin(), s->routes.end(),
            [](const Route& a, const Route& b) { return std::tie(a.table, a.dst) < std::tie(b.table, b.dst); });
  std::sort(s->fdb.begin(), s->fdb.end(), [](const FdbEntry& a, const FdbEntry& b) {
    return std::tie(a.dev, a.mac, a.dst) < std::tie(b.dev, b.mac, b.dst);
  });
  std::sort(s->neighbours.begin(), s->neighbours.end(), [](const Neighbour& a, const Neighbour& b) {
    return std::tie(a.dev, a.address) < std::tie(b.dev, b.address);
  });
  std::sort(s->qdiscs.begin(), s->qdiscs.end(), [](const Qdisc& a, const Qdisc& b) { return a.dev < b.dev; });
}

namespace {

/// One object list being brought up to date by notifications: upserts and
/// removals by key, removed objects dropped at the end.
template <typename T>
class Replayed {
 public:
  explicit Replayed(std::vector<T>* objects) : objects_(objects), index_(objects->size()) {
    live_.assign(objects->size(), 1);
    for (size_t i = 0; i < objects->size(); ++i)
      if (index_.Insert(KeyOf((*objects)[i]), static_cast<uint32_t>(i)) != i) unique_ = false;
  }
  /// False when two listed objects shared a key: replaying by key would be ambiguous.
  bool unique() const { return unique_; }
  void Upsert(T&& x) {
    ObjectKey k = KeyOf(x);
    int64_t at = index_.Find(k);
    if (at >= 0) {
      (*objects_)[at] = std::move(x);
      live_[at] = 1;
      return;
    }
    index_.Insert(k, static_cast<uint32_t>(objects_->size()));
    objects_->push_back(std::move(x));
    live_.push_back(1);
  }
  void Remove(const T& x) {
    if (int64_t at = index_.Find(KeyOf(x)); at >= 0) live_[at] = 0;
  }
  void Finish() {
    size_t out = 0;
    for (size_t i = 0; i < objects_->size(); ++i)
      if (live_[i]) {
        if (out != i) (*objects_)[out] = std::move((*objects_)[i]);
        ++out;
      }
    objects_->resize(out);
  }

 private:
  std::vector<T>* objects_;
  KeyIndex index_;
  std::vector<char> live_;
  bool unique_ = true;
};

}  // namespace

bool ReplayNotifications(const NlMonitor& monitor, const HostState& desired, HostState* state) {
  if (!monitor.complete()) return false;
  Devices d = OwnedDevices(desired, *state);
  Replayed<FdbEntry> fdb(&state->fdb);
  Replayed<Neighbour> neighbours(&state->neighbours);
  if (!fdb.unique() || !neighbours.unique()) return false;
  monitor.ForEach([&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) return;
    const bool add = nlh->nlmsg_type == RTM_NEWNEIGH;
    FdbEntry f;
    Neighbour n;
    bool held = false;
    switch (NeighFromMsg(nlh, d, &f, &n, &held)) {
      case NeighKind::Fdb:
        if (add && held)
          fdb.Upsert(std::move(f));
        else
          fdb.Remove(f);
        return;
      case NeighKind::Neighbour:
        if (add && held)
          neighbours.Upsert(std::move(n));
        else
          neighbours.Remove(n);
        return;
      case NeighKind::Other: return;
    }
  });
  fdb.Finish();
  neighbours.Finish();
  return true;
}

bool ReadActualState(Netlink& nl, const HostState& desired, HostState* actual, std::string* error,
                     const ReadScope& scope) {
  actual->host = desired.host;
  actual->owner_prefix = desired.owner_prefix;
  actual->owner_alias = desired.owner_alias;
  if (!ReadLinks(nl, actual, error)) return false;
  Devices d = OwnedDevices(desired, *actual);
  bool ok = true;
  if (!d.names.empty()) {
    if (scope.addresses) ReadAddresses(nl, d, actual, error, &ok);
    if (scope.routes) ReadRoutes(nl, d, actual, error, &ok);
    bool fdb_dump = scope.fdb;
    if (scope.fdb && scope.fdb_probe) fdb_dump = !GetFdb(nl, d, *scope.fdb_probe, actual);
    if (scope.neighbours || fdb_dump) ReadNeighbours(nl, d, actual, error, &ok, scope.neighbours, fdb_dump);
    if (scope.qdiscs) ReadQdiscs(nl, d, actual, error, &ok);
  }
  if (!ok) return false;
  if (scope.nft) {
    ReadNft(desired.nft, &actual->nft);
    ReadNft(desired.nft_nat, &actual->nft_nat);
  }
  if (scope.canonical_order) CanonicalOrder(actual);
  return true;
}

}  // namespace netdsl::runtime
