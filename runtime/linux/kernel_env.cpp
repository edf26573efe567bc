// setns into named namespaces; feature probes on a thread in a throwaway namespace.
#include "runtime/linux/kernel_env.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "runtime/linux/executor.h"
#include "runtime/linux/state_reader.h"

namespace netdsl::runtime {

bool EnterNetns(const std::string& name, std::string* error) {
  if (name.empty() || name.size() > 64 || name.find('/') != std::string::npos || name == "." || name == "..") {
    *error = fmt::format("`{}` is not a valid network namespace name", name);
    return false;
  }
  std::string path = "/run/netns/" + name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = fmt::format("network namespace `{}` not found ({}: {})", name, path, std::strerror(errno));
    return false;
  }
  if (setns(fd, CLONE_NEWNET) != 0) {
    *error = fmt::format("cannot enter network namespace `{}`: {}", name, std::strerror(errno));
    close(fd);
    return false;
  }
  close(fd);
  return true;
}

std::string NetnsIdentity::Key() const { return fmt::format("net-{}-{}", dev, ino); }

std::string NetnsIdentity::Text() const {
  return cookie ? fmt::format("net:[{}] cookie {}", ino, cookie) : fmt::format("net:[{}]", ino);
}

bool CurrentNetns(NetnsIdentity* id, std::string* error) {
  struct stat st;
  if (stat("/proc/thread-self/ns/net", &st) != 0) {
    *error = fmt::format("cannot identify the network namespace (/proc/thread-self/ns/net): {}", std::strerror(errno));
    return false;
  }
  id->dev = st.st_dev;
  id->ino = st.st_ino;
  id->cookie = 0;
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == 0 && len == sizeof cookie) id->cookie = cookie;
    close(fd);
  }
  return true;
}

bool StateKeyOf(const std::string& name, std::string* key, std::string* error) {
  if (!name.empty() && (name.size() > 64 || name.find('/') != std::string::npos || name == "." || name == "..")) {
    *error = fmt::format("`{}` is not a valid network namespace name", name);
    return false;
  }
  std::string path = name.empty() ? "/proc/thread-self/ns/net" : "/run/netns/" + name;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *error = name.empty() ? fmt::format("cannot identify the network namespace ({}): {}", path, std::strerror(errno))
                          : fmt::format("network namespace `{}` not found ({}: {})", name, path, std::strerror(errno));
    return false;
  }
  *key = NetnsIdentity{st.st_dev, st.st_ino, 0}.Key();
  return true;
}

std::string BootId() {
  int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[64] = {};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  std::string id = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

namespace {

/// Runs inside the throwaway namespace: "" when `feature` works, else why not.
std::string Probe(Netlink& nl, const std::string& feature) {
  std::string err;
  auto link = [&](Link l) {
    l.alias = "netdsl-probe";
    return ExecuteOps(nl, {Op{OpKind::CreateLink, l}}, false, &err) ? "" : err;
  };
  Link l;
  l.name = ("ndp-" + feature).substr(0, 15);
  l.kind = feature;
  if (feature == "bridge" || feature == "bond" || feature == "gretap") return link(l);
  if (feature == "vxlan") {
    l.vxlan_id = 42;
    return link(l);
  }
  if (feature == "vrf") {
    l.vrf_table = 4242;
    return link(l);
  }
  if (feature == "veth") {
    l.veth_peer = "ndp-veth-peer";
    return link(l);
  }
  if (feature == "vlan") {
    Link lower;
    lower.name = "ndprobelow";
    lower.kind = "bridge";
    if (std::string e = link(lower); !e.empty()) return "no lower device to probe vlan on: " + e;
    l.vlan_link = "ndprobelow";
    l.vlan_id = 42;
    return link(l);
  }
  if (feature == "tbf" || feature == "htb") {
    Qdisc q;
    q.dev = "lo";
    q.kind = feature;
    q.rate_bps = 1000000;
    q.burst_bytes = 10000;
    q.latency_us = 1000;
    if (feature == "htb") q.classes.push_back({.minor = 1, .parent = 0, .rate_bps = 1000000, .ceil_bps = 1000000});
    return ExecuteOps(nl, {Op{OpKind::ReplaceQdisc, q}}, false, &err) ? "" : err;
  }
  if (feature == "nft-nat") {
    return NftRun("add table ip ndprobe\nadd chain ip ndprobe p { type nat hook postrouting priority 100; }\n", nullptr,
                  &err)
               ? ""
               : err;
  }
  if (feature == "nft-bridge") {
    return NftRun("add table bridge ndprobe\nadd chain bridge ndprobe f { type filter hook forward priority 0; }\n",
                  nullptr, &err)
               ? ""
               : err;
  }
  return "unknown feature";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> MissingFeatures(const std::vector<std::string>& features) {
  std::vector<std::pair<std::string, std::string>> missing;
  if (features.empty()) return missing;
  // A thread of our own, not a forked child: network namespaces are per
  // thread, so it can unshare into a throwaway namespace that vanishes when
  // it exits, and unlike fork it does not write-protect the 100 MB a large
  // plan occupies (every page touched after a fork takes a fault).
  std::thread prober([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      std::string why = fmt::format("cannot create a probe namespace: {}", std::strerror(errno));
      for (const auto& f : features) missing.emplace_back(f, why);
      return;
    }
    // Keep the probe namespace alive until the process exits: tearing it down
    // (a kernel workqueue unregistering the probe links under the rtnl lock
    // and waiting for RCU grace periods) would otherwise block apply's own
    // requests for 20-50 ms right when they start.
    static int keep = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    (void)keep;
    Netlink nl;
    std::string err;
    if (!nl.Open(&err)) {
      for (const auto& f : features) missing.emplace_back(f, err);
      return;
    }
    for (const std::string& f : features)
      if (std::string why = Probe(nl, f); !why.empty()) missing.emplace_back(f, why);
  });
  prober.join();
  return missing;
}

}  // namespace netdsl::runtime
