// Probes: which to run (gateways, underlay peers, --probe), and running them
// all at once over one poll loop: ICMP echo (raw sockets), ARP (a packet
// socket per egress device), TCP connect.
#include "runtime/linux/probe.h"

#include <net/if.h>  // before the linux headers (libc-compat)
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "runtime/linux/address_text.h"
#include "runtime/linux/netlink.h"

namespace netdsl::runtime {

std::string Probe::Name() const {
  switch (kind) {
    case Kind::Gateway: return "default gateway " + IpStr(address);
    case Kind::Peer: return "underlay peer " + IpStr(address);
    case Kind::Given:
      if (!port) return "--probe " + IpStr(address);
      return address.IsV4() ? fmt::format("--probe {}:{}", IpStr(address), port)
                            : fmt::format("--probe [{}]:{}", IpStr(address), port);
  }
  return "?";
}

std::optional<Probe> ParseProbe(std::string_view text, std::string* error) {
  Probe p;
  std::string_view host = text, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || (close + 1 < text.size() && text[close + 1] != ':')) {
      *error = fmt::format("`{}` is not ADDR[:PORT]; write an IPv6 address with a port as `[2001:db8::1]:22`", text);
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) port = text.substr(close + 2);
    if (close + 1 < text.size() && port.empty()) {
      *error = fmt::format("`{}` has an empty port", text);
      return std::nullopt;
    }
  } else if (size_t colon = text.find(':'); colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) {
      *error = fmt::format("`{}` has an empty port", text);
      return std::nullopt;
    }
  }
  std::optional<net::IpAddress> ip = net::ParseIp(host);
  if (!ip) {
    *error = fmt::format("`{}` is not ADDR[:PORT] with an IP address (names are not resolved)", text);
    return std::nullopt;
  }
  p.address = *ip;
  if (!port.empty()) {
    unsigned v = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || v > 65535) {
        v = 0;
        break;
      }
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v == 0 || v > 65535) {
      *error = fmt::format("`{}` has port `{}`; expected 1-65535", text, port);
      return std::nullopt;
    }
    p.port = static_cast<uint16_t>(v);
  }
  return p;
}

namespace {

std::optional<net::IpAddress> IpOf(const nlattr* a) {
  if (!a) return std::nullopt;
  net::IpAddress ip;
  size_t len = mnl_attr_get_payload_len(a);
  if (len == 4) {
    std::memcpy(ip.bytes.data() + 12, mnl_attr_get_payload(a), 4);
  } else if (len == 16) {
    ip.family = net::IpAddress::Family::V6;
    std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), 16);
  } else {
    return std::nullopt;
  }
  return ip;
}

}  // namespace

namespace {

/// The main table's default gateways (IPv4 first), or false with `error`.
bool DefaultGateways(std::vector<Probe>* out, std::string* error) {
  Netlink nl;
  if (!nl.Open(error)) return false;
  // The main table only, filtered by the kernel: a host with 100k routes in
  // its VRF tables is not read whole before and after every apply. (Without
  // strict checking the kernel dumps every table; the check below stays.)
  nl.StrictDumps();
  auto add = [&](Probe p) { out->push_back(std::move(p)); };
  for (int family : {AF_INET, AF_INET6}) {
    NlRequest req(RTM_GETROUTE, 0);
    auto* rtm = static_cast<rtmsg*>(req.PutExtra(sizeof(rtmsg)));
    rtm->rtm_family = static_cast<uint8_t>(family);
    rtm->rtm_table = RT_TABLE_MAIN;
    req.PutU32(RTA_TABLE, RT_TABLE_MAIN);
    std::vector<std::pair<net::IpAddress, int>> gateways;  // with the device, for link-local next hops
    bool ok = nl.Dump(req, [&](const nlmsghdr* nlh) {
      if (nlh->nlmsg_type != RTM_NEWROUTE) return;
      const auto* m = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
      const nlattr* tb[RTA_MAX + 1];
      ParseAttrs(nlh, sizeof(rtmsg), tb, RTA_MAX);
      uint32_t table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : m->rtm_table;
      if (table != RT_TABLE_MAIN || m->rtm_dst_len != 0 || m->rtm_type != RTN_UNICAST) return;
      int oif = tb[RTA_OIF] ? static_cast<int>(mnl_attr_get_u32(tb[RTA_OIF])) : 0;
      if (auto gw = IpOf(tb[RTA_GATEWAY])) gateways.push_back({*gw, oif});
      if (tb[RTA_MULTIPATH]) {
        const auto* nh = static_cast<const rtnexthop*>(mnl_attr_get_payload(tb[RTA_MULTIPATH]));
        int left = mnl_attr_get_payload_len(tb[RTA_MULTIPATH]);
        while (left >= static_cast<int>(sizeof(rtnexthop)) && nh->rtnh_len >= sizeof(rtnexthop) && nh->rtnh_len <= left) {
          const nlattr* ntb[RTA_MAX + 1] = {};
          int alen = nh->rtnh_len - static_cast<int>(RTNH_LENGTH(0));
          for (const nlattr* a = reinterpret_cast<const nlattr*>(RTNH_DATA(nh)); mnl_attr_ok(a, alen); a = mnl_attr_next(a))
            if (mnl_attr_get_type(a) <= RTA_MAX) ntb[mnl_attr_get_type(a)] = a;
          if (auto gw = IpOf(ntb[RTA_GATEWAY])) gateways.push_back({*gw, nh->rtnh_ifindex});
          left -= RTNH_ALIGN(nh->rtnh_len);
          nh = RTNH_NEXT(nh);
        }
      }
    }, error);
    if (!ok) return false;
    std::sort(gateways.begin(), gateways.end());
    gateways.erase(std::unique(gateways.begin(), gateways.end()), gateways.end());
    for (const auto& [gw, oif] : gateways) add({Probe::Kind::Gateway, gw, 0, oif});
  }
  return true;
}

}  // namespace

std::vector<net::IpAddress> UnderlayPeers(const HostState& desired) {
  // A fabric has thousands of PAs; a few of them, the same ones every time,
  // show whether the underlay still works. Sorting every FDB destination
  // of a 100k-entry plan was 12 % of a whole apply's instructions (on the
  // probe thread, before anything may change): a fixed-size sample instead.
  const std::vector<FdbEntry>& fdb = desired.fdb;
  std::vector<net::IpAddress> all;
  const size_t looked = std::min(fdb.size(), kPeerSample);
  all.reserve(looked + 8);
  for (size_t k = 0; k < looked; ++k) all.push_back(fdb[k * fdb.size() / looked].dst);
  for (const Link& l : desired.links)
    if (l.gretap_remote) all.push_back(*l.gretap_remote);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  const size_t take = std::min(all.size(), kMaxPeerProbes);
  std::vector<net::IpAddress> peers;
  peers.reserve(take);
  for (size_t k = 0; k < take; ++k) peers.push_back(all[k * all.size() / take]);
  return peers;
}

std::vector<Probe> ChooseProbes(const HostState& desired, const std::vector<Probe>& given, std::string* error) {
  std::vector<Probe> out;
  if (!DefaultGateways(&out, error)) out.clear();
  for (const net::IpAddress& pa : UnderlayPeers(desired)) out.push_back({Probe::Kind::Peer, pa, 0});
  out.insert(out.end(), given.begin(), given.end());
  // Without repeats (a gateway given as --probe too), first one kept.
  std::set<std::tuple<net::IpAddress, uint16_t>> seen;
  std::vector<Probe> unique;
  for (Probe& p : out)
    if (seen.insert({p.address, p.port}).second) unique.push_back(std::move(p));
  return unique;
}

namespace {

using Clock = std::chrono::steady_clock;

/// The route the kernel picks for `to`: egress device, source, next hop.
struct Path {
  int ifindex = 0;
  std::optional<net::IpAddress> source, gateway;
};

std::optional<Path> RouteTo(Netlink& nl, const net::IpAddress& to, int* err) {
  NlRequest req(RTM_GETROUTE, 0);
  auto* m = static_cast<rtmsg*>(req.PutExtra(sizeof(rtmsg)));
  m->rtm_family = to.IsV4() ? AF_INET : AF_INET6;
  m->rtm_dst_len = to.IsV4() ? 32 : 128;
  if (to.IsV4())
    req.Put(RTA_DST, to.bytes.data() + 12, 4);
  else
    req.Put(RTA_DST, to.bytes.data(), 16);
  NlBatch batch;
  batch.Add(req);
  std::optional<Path> path;
  std::vector<int> res = nl.Get(batch, [&](size_t, const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWROUTE) return;
    const nlattr* tb[RTA_MAX + 1];
    ParseAttrs(nlh, sizeof(rtmsg), tb, RTA_MAX);
    Path p;
    if (tb[RTA_OIF]) p.ifindex = static_cast<int>(mnl_attr_get_u32(tb[RTA_OIF]));
    p.source = IpOf(tb[RTA_PREFSRC]);
    p.gateway = IpOf(tb[RTA_GATEWAY]);
    path = p;
  });
  *err = res.empty() ? EIO : -res[0];
  return path;
}

bool LinkLocal(const net::IpAddress& ip) { return !ip.IsV4() && ip.bytes[0] == 0xfe && (ip.bytes[1] & 0xc0) == 0x80; }

sockaddr_storage SockAddr(const net::IpAddress& ip, uint16_t port, int ifindex = 0) {
  sockaddr_storage ss{};
  if (ip.IsV4()) {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    std::memcpy(&sa->sin_addr, ip.bytes.data() + 12, 4);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    std::memcpy(&sa->sin6_addr, ip.bytes.data(), 16);
    if (LinkLocal(ip)) sa->sin6_scope_id = static_cast<uint32_t>(ifindex);  // a router's fe80:: address needs its link
  }
  return ss;
}

socklen_t SockLen(const net::IpAddress& ip) { return ip.IsV4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6); }

uint16_t Checksum(const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += static_cast<uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

struct ArpPacket {
  arphdr h;
  uint8_t sha[6];
  uint8_t spa[4];
  uint8_t tha[6];
  uint8_t tpa[4];
} __attribute__((packed));

class Runner {
 public:
  Runner(const std::vector<Probe>& probes, bool fail_unroutable, const std::atomic<bool>* stop)
      : probes_(probes), results_(probes.size()), state_(probes.size()), fail_unroutable_(fail_unroutable), stop_(stop) {
    id_ = static_cast<uint16_t>(getpid());
  }
  ~Runner() {
    for (int fd : {icmp4_, icmp6_})
      if (fd >= 0) close(fd);
    for (auto& [ifindex, fd] : arp_) close(fd);
    for (State& s : state_)
      if (s.tcp >= 0) close(s.tcp);
  }

  std::vector<ProbeResult> Run(std::chrono::milliseconds window) {
    std::string err;
    nl_open_ = nl_.Open(&err);
    icmp4_ = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    icmp6_ = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (icmp6_ >= 0) {
      icmp6_filter filter;
      ICMP6_FILTER_SETBLOCKALL(&filter);
      ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
      setsockopt(icmp6_, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
    }
    const Clock::time_point end = Clock::now() + window;
    Clock::time_point next_round = Clock::now();
    while (Pending() && Clock::now() < end && !(stop_ && stop_->load())) {
      if (Clock::now() >= next_round) {
        Round();
        next_round = Clock::now() + std::chrono::milliseconds(200);
        if (!Pending()) break;
      }
      Wait(std::min({next_round, end, Clock::now() + std::chrono::milliseconds(50)}));
    }
    for (size_t i = 0; i < probes_.size(); ++i)
      if (!results_[i].passed && results_[i].detail.empty()) results_[i].detail = "no answer";
    return results_;
  }

 private:
  struct State {
    bool done = false;
    int tcp = -1;  ///< connect in flight
  };

  bool Pending() const {
    return std::any_of(state_.begin(), state_.end(), [](const State& s) { return !s.done; });
  }
  void Pass(size_t i, std::string how) {
    if (state_[i].done) return;
    state_[i].done = true;
    results_[i] = {true, std::move(how)};
  }
  void Fail(size_t i, std::string why) {
    state_[i].done = true;
    results_[i] = {false, std::move(why)};
  }

  void Round() {
    ++seq_;
    for (size_t i = 0; i < probes_.size(); ++i) {
      if (state_[i].done) continue;
      const Probe& p = probes_[i];
      if (p.port) {
        if (state_[i].tcp < 0) Connect(i);
        continue;
      }
      SendEcho(i);
      if (p.address.IsV4() && p.kind != Probe::Kind::Peer) SendArp(i);
    }
  }

  void Connect(size_t i) {
    const Probe& p = probes_[i];
    int fd = socket(p.address.IsV4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    sockaddr_storage sa = SockAddr(p.address, p.port, p.ifindex);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), SockLen(p.address)) == 0) {
      close(fd);
      Pass(i, "TCP connect");
      return;
    }
    if (errno != EINPROGRESS) {
      Unreachable(i, errno, "TCP connect");
      close(fd);
      return;
    }
    state_[i].tcp = fd;
  }

  void Unreachable(size_t i, int err, const char* what) {
    results_[i].detail = fmt::format("{}: {}", what, std::strerror(err));
    // Before the change nothing moves: an answer that cannot change (no
    // route at all, a port that refuses) is final.
    if (fail_unroutable_ && (err == ENETUNREACH || err == ECONNREFUSED)) Fail(i, results_[i].detail);
  }

  void SendEcho(size_t i) {
    const Probe& p = probes_[i];
    int fd = p.address.IsV4() ? icmp4_ : icmp6_;
    if (fd < 0) return;
    uint8_t pkt[16] = {};
    pkt[0] = p.address.IsV4() ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
    uint16_t id = htons(id_), sq = htons(static_cast<uint16_t>(i));
    std::memcpy(pkt + 4, &id, 2);
    std::memcpy(pkt + 6, &sq, 2);
    std::memcpy(pkt + 8, &seq_, 4);
    if (p.address.IsV4()) {  // the kernel computes ICMPv6 checksums itself
      uint16_t sum = Checksum(pkt, sizeof pkt);
      std::memcpy(pkt + 2, &sum, 2);
    }
    sockaddr_storage sa = SockAddr(p.address, 0, p.ifindex);
    if (sendto(fd, pkt, sizeof pkt, 0, reinterpret_cast<sockaddr*>(&sa), SockLen(p.address)) < 0)
      Unreachable(i, errno, "ICMP echo");
  }

  void SendArp(size_t i) {
    const Probe& p = probes_[i];
    if (!nl_open_) return;
    int err = 0;
    std::optional<Path> path = RouteTo(nl_, p.address, &err);
    if (!path || !path->ifindex || path->gateway || !path->source) return;  // not on-link: ICMP only
    int& fd = arp_[path->ifindex];
    if (fd == 0) {
      fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ARP));
      sockaddr_ll bind_to{};
      bind_to.sll_family = AF_PACKET;
      bind_to.sll_protocol = htons(ETH_P_ARP);
      bind_to.sll_ifindex = path->ifindex;
      if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&bind_to), sizeof bind_to) != 0) {
        if (fd >= 0) close(fd);
        fd = -1;
      }
    }
    if (fd < 0) return;
    ifreq ifr{};
    if (!if_indextoname(static_cast<unsigned>(path->ifindex), ifr.ifr_name) || ioctl(fd, SIOCGIFHWADDR, &ifr) != 0 ||
        ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
      return;
    ArpPacket a{};
    a.h.ar_hrd = htons(ARPHRD_ETHER);
    a.h.ar_pro = htons(ETH_P_IP);
    a.h.ar_hln = 6;
    a.h.ar_pln = 4;
    a.h.ar_op = htons(ARPOP_REQUEST);
    std::memcpy(a.sha, ifr.ifr_hwaddr.sa_data, 6);
    std::memcpy(a.spa, path->source->bytes.data() + 12, 4);
    std::memcpy(a.tpa, p.address.bytes.data() + 12, 4);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = path->ifindex;
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    sendto(fd, &a, sizeof a, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }

  void Wait(Clock::time_point until) {
    std::vector<pollfd> fds;
    std::vector<size_t> tcp_of;
    for (int fd : {icmp4_, icmp6_})
      if (fd >= 0) fds.push_back({fd, POLLIN, 0});
    for (auto& [ifindex, fd] : arp_)
      if (fd > 0) fds.push_back({fd, POLLIN, 0});
    size_t first_tcp = fds.size();
    for (size_t i = 0; i < state_.size(); ++i)
      if (!state_[i].done && state_[i].tcp >= 0) {
        fds.push_back({state_[i].tcp, POLLOUT, 0});
        tcp_of.push_back(i);
      }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(ms, 0))) <= 0) return;
    for (size_t k = 0; k < fds.size(); ++k) {
      if (!fds[k].revents) continue;
      if (k >= first_tcp) {
        size_t i = tcp_of[k - first_tcp];
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(fds[k].fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        close(state_[i].tcp);
        state_[i].tcp = -1;
        if (soerr == 0)
          Pass(i, "TCP connect");
        else
          Unreachable(i, soerr, "TCP connect");
      } else if (fds[k].fd == icmp4_ || fds[k].fd == icmp6_) {
        ReadEcho(fds[k].fd, fds[k].fd == icmp4_);
      } else {
        ReadArp(fds[k].fd);
      }
    }
  }

  void ReadEcho(int fd, bool v4) {
    uint8_t buf[1500];
    for (;;) {
      sockaddr_storage from{};
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) return;
      const uint8_t* icmp = buf;
      if (v4) {  // raw IPv4 sockets deliver the IP header
        size_t ihl = static_cast<size_t>(buf[0] & 0x0f) * 4;
        if (static_cast<size_t>(n) < ihl + 8) continue;
        icmp += ihl;
        n -= static_cast<ssize_t>(ihl);
        if (icmp[0] != ICMP_ECHOREPLY) continue;
      } else if (n < 8 || icmp[0] != ICMP6_ECHO_REPLY) {
        continue;
      }
      uint16_t id, sq;
      std::memcpy(&id, icmp + 4, 2);
      std::memcpy(&sq, icmp + 6, 2);
      size_t i = ntohs(sq);
      if (ntohs(id) != id_ || i >= probes_.size()) continue;
      net::IpAddress src;
      if (v4) {
        std::memcpy(src.bytes.data() + 12, &reinterpret_cast<sockaddr_in*>(&from)->sin_addr, 4);
      } else {
        src.family = net::IpAddress::Family::V6;
        std::memcpy(src.bytes.data(), &reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr, 16);
      }
      if (src == probes_[i].address) Pass(i, v4 ? "ICMP echo reply" : "ICMPv6 echo reply");
    }
  }

  void ReadArp(int fd) {
    ArpPacket a;
    for (;;) {
      sockaddr_ll from{};
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(fd, &a, sizeof a, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) return;
      if (static_cast<size_t>(n) < sizeof a || ntohs(a.h.ar_op) != ARPOP_REPLY) continue;
      char name[IF_NAMESIZE] = "?";
      if_indextoname(static_cast<unsigned>(from.sll_ifindex), name);
      for (size_t i = 0; i < probes_.size(); ++i)
        if (probes_[i].address.IsV4() && std::memcmp(probes_[i].address.bytes.data() + 12, a.spa, 4) == 0)
          Pass(i, fmt::format("ARP reply on {}", name));
    }
  }

  const std::vector<Probe>& probes_;
  std::vector<ProbeResult> results_;
  std::vector<State> state_;
  bool fail_unroutable_;
  const std::atomic<bool>* stop_;
  uint16_t id_ = 0;
  uint32_t seq_ = 0;
  int icmp4_ = -1, icmp6_ = -1;
  std::map<int, int> arp_;  ///< ifindex → packet socket (-1: unusable)
  Netlink nl_;
  bool nl_open_ = false;
};

}  // namespace

std::vector<ProbeResult> RunProbes(const std::vector<Probe>& probes, std::chrono::milliseconds window,
                                   bool fail_unroutable, const std::atomic<bool>* stop) {
  if (probes.empty()) return {};
  return Runner(probes, fail_unroutable, stop).Run(window);
}

std::vector<ProbeResult> RecheckProbes(const HostState& desired, const std::vector<Probe>& passed,
                                       std::chrono::milliseconds window) {
  std::string error;
  std::vector<Probe> now;  // the default gateways as they are now
  if (!DefaultGateways(&now, &error)) now.clear();
  // What to run: the probes themselves, except that a gateway probe runs on
  // every current default gateway of its family.
  std::vector<Probe> run;
  std::vector<std::vector<size_t>> runs_of(passed.size());
  for (size_t i = 0; i < passed.size(); ++i) {
    if (passed[i].kind != Probe::Kind::Gateway) {
      runs_of[i].push_back(run.size());
      run.push_back(passed[i]);
      continue;
    }
    for (const Probe& g : now)
      if (g.address.family == passed[i].address.family) {
        runs_of[i].push_back(run.size());
        run.push_back(g);
      }
  }
  std::vector<ProbeResult> got = RunProbes(run, window, false);
  std::vector<ProbeResult> out(passed.size());
  for (size_t i = 0; i < passed.size(); ++i) {
    if (runs_of[i].empty()) {
      out[i] = {false, error.empty() ? "the main table has no default route of its family now" : error};
      continue;
    }
    std::string failed;
    for (size_t k : runs_of[i]) {
      if (got[k].passed) {
        out[i] = got[k];
        if (run[k].address != passed[i].address) out[i].detail += " from " + IpStr(run[k].address) + ", the gateway now";
        break;
      }
      failed += fmt::format("{}{}{}", failed.empty() ? "" : "; ",
                            run[k].address != passed[i].address ? "the default route now goes via " + IpStr(run[k].address) + ": " : "",
                            got[k].detail);
    }
    if (!out[i].passed) out[i].detail = failed;
  }
  return out;
}

}  // namespace netdsl::runtime
