// setns into named namespaces; feature probes in a forked, unshared child.
#include "runtime/linux/kernel_env.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    for (const auto& f : features) missing.emplace_back(f, "cannot probe: pipe failed");
    return missing;
  }
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    if (unshare(CLONE_NEWNET) != 0) {
      out = fmt::format("*\tcannot create a probe namespace: {}\n", std::strerror(errno));
    } else {
      Netlink nl;
      std::string err;
      if (!nl.Open(&err)) {
        out = fmt::format("*\t{}\n", err);
      } else {
        for (const std::string& f : features) {
          std::string why = Probe(nl, f);
          if (!why.empty()) out += f + "\t" + why + "\n";
        }
      }
    }
    (void)!write(fds[1], out.data(), out.size());
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) text.append(buf, n);
  close(fds[0]);
  int status = 0;
  if (pid > 0) waitpid(pid, &status, 0);
  if (pid < 0 || !WIFEXITED(status)) {
    for (const auto& f : features) missing.emplace_back(f, "the probe process failed");
    return missing;
  }
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end - pos);
    size_t tab = line.find('\t');
    if (tab != std::string::npos) {
      std::string f = line.substr(0, tab), why = line.substr(tab + 1);
      if (f == "*") {
        for (const auto& g : features) missing.emplace_back(g, why);
      } else {
        missing.emplace_back(f, why);
      }
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return missing;
}

}  // namespace netdsl::runtime
