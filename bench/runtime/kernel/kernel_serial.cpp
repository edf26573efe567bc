// Does the kernel take pipelined RTM_NEWROUTE / RTM_NEWNEIGH requests faster
// from two sockets on two threads than from one? (It does not: they are
// serialized under the rtnl lock, and two senders only add contention.) This
// is why `netdsl apply` keeps one sending thread and moves its own work to a
// second one instead. Not a test; run as root:
//   ip netns add kfloor; ip -n kfloor link add nd-br1 type bridge; ip -n kfloor link set nd-br1 up
//   build/bin/kernel_serial route 100000 /run/netns/kfloor   (a fresh namespace per run)
// Prints the wall time with one and with two sending threads (each run on
// fresh table entries: the second run adds the next N routes / neighbours).
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

int g_ifindex = 0;
bool g_routes = true;

/// Adds objects [from, to) (10.x.y.z/32 routes in table 1001, or permanent
/// neighbours), 512 requests per send, only the last one acked.
bool Send(uint32_t from, uint32_t to) {
  mnl_socket* s = mnl_socket_open(NETLINK_ROUTE);
  if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) return false;
  std::vector<char> buf(1 << 17), rbuf(1 << 16);
  uint32_t seq = 1;
  bool ok = true;
  for (uint32_t i = from; i < to;) {
    size_t off = 0;
    for (int n = 0; i < to && n < 512; ++i, ++n) {
      nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data() + off);
      uint32_t addr = htonl((10u << 24) | (i + 1));
      if (g_routes) {
        nlh->nlmsg_type = RTM_NEWROUTE;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
        auto* r = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
        r->rtm_family = AF_INET;
        r->rtm_dst_len = 32;
        r->rtm_protocol = RTPROT_STATIC;
        r->rtm_scope = RT_SCOPE_LINK;
        r->rtm_type = RTN_UNICAST;
        mnl_attr_put_u32(nlh, RTA_TABLE, 1001);
        mnl_attr_put(nlh, RTA_DST, 4, &addr);
        mnl_attr_put_u32(nlh, RTA_OIF, g_ifindex);
      } else {
        nlh->nlmsg_type = RTM_NEWNEIGH;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
        auto* nd = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
        nd->ndm_family = AF_INET;
        nd->ndm_ifindex = g_ifindex;
        nd->ndm_state = NUD_PERMANENT;
        unsigned char mac[6] = {2, 0, 0, static_cast<unsigned char>(i >> 16), static_cast<unsigned char>(i >> 8),
                                static_cast<unsigned char>(i)};
        mnl_attr_put(nlh, NDA_DST, 4, &addr);
        mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
      }
      nlh->nlmsg_seq = seq++;
      if (n == 511 || i + 1 == to) nlh->nlmsg_flags |= NLM_F_ACK;
      off += nlh->nlmsg_len;
    }
    if (mnl_socket_sendto(s, buf.data(), off) < 0) return false;
    for (bool done = false; !done;) {
      int len = static_cast<int>(mnl_socket_recvfrom(s, rbuf.data(), rbuf.size()));
      if (len < 0) return false;
      for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(rbuf.data()); mnl_nlmsg_ok(h, len);
           h = mnl_nlmsg_next(h, &len)) {
        if (h->nlmsg_type != NLMSG_ERROR) continue;
        if (static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(h))->error) ok = false;
        if (h->nlmsg_seq == seq - 1) done = true;
      }
    }
  }
  mnl_socket_close(s);
  return ok;
}

double Run(uint32_t first, uint32_t n, int threads) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  std::vector<char> ok(threads, 0);
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] { ok[t] = Send(first + n * t / threads, first + n * (t + 1) / threads); });
  for (auto& t : ts) t.join();
  for (char o : ok)
    if (!o) {
      std::fprintf(stderr, "a request failed (use a fresh namespace)\n");
      std::exit(1);
    }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (std::strcmp(argv[1], "route") && std::strcmp(argv[1], "neigh"))) {
    std::fprintf(stderr, "usage: kernel_serial route|neigh N /run/netns/NS (NS has an up bridge nd-br1)\n");
    return 64;
  }
  g_routes = !std::strcmp(argv[1], "route");
  uint32_t n = static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10));
  int fd = open(argv[3], O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0 || !(g_ifindex = static_cast<int>(if_nametoindex("nd-br1")))) {
    std::fprintf(stderr, "cannot enter %s or find nd-br1 there\n", argv[3]);
    return 1;
  }
  double one = Run(0, n, 1);
  double two = Run(n, n, 2);  // threads are created after setns: they inherit the namespace
  std::printf("%s x %u: 1 sending thread %.3f s, 2 sending threads %.3f s (%.2fx)\n", argv[1], n, one, two, one / two);
  return 0;
}
