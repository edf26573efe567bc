// Between two builds: a port (its id and interface on a host) never passes
// from one VM NIC to another. `netdsl apply` would only move the existing
// link into the new NIC's bridge, with the old VM still plugged into it
// (issue 11, defect 2): the old VM lands in the new NIC's network.
#include <string>

#include "compiler/verify/fabric.h"

namespace netdsl::verify {

void CheckTransition(Fabric& fabric, const std::string& previous) {
  ScopeGuard scope({Scope::kPrevious, 0});
  for (const Host& host : fabric.hosts) {
    if (!host.image) continue;
    std::string path = previous + "/hosts/" + host.name + "/tables.ndt";
    std::string error;
    std::shared_ptr<const Image> old = Image::Open(path, &error);
    if (!old) continue;  // a new host, or one the previous build did not have tables for
    for (const ndt::PortEntry& port : host.image->ports()) {
      const ndt::PortEntry* before = old->FindPort(port.id);
      if (!before) continue;
      std::string_view vm = host.image->String(port.vm), nic = host.image->String(port.nic);
      std::string_view old_vm = old->String(before->vm), old_nic = old->String(before->nic);
      if (vm == old_vm && nic == old_nic) continue;
      std::string now = PortName(*host.image, port) + " (vsid " + std::to_string(port.vsid) + ", rdid " +
                        std::to_string(port.rdid) + ", mac " + ToMac(port.mac).ToString() + ")";
      std::string then = PortName(*old, *before) + " (vsid " + std::to_string(before->vsid) + ", rdid " +
                         std::to_string(before->rdid) + ", mac " + ToMac(before->mac).ToString() + ")";
      std::string ifname(host.image->String(port.ifname));
      fabric.findings.Add(
          {DiagKind::VerifyPortReassigned, host.tables_path, 0, 0,
           "port " + std::to_string(port.id) + " (" + Q(ifname) + ") on host " + Q(host.name) + " was " + then +
               " in the previous build and is " + now + " in this one",
           {"1. previous build: port " + std::to_string(port.id) + " " + Q(ifname) + " on host " + Q(host.name) +
                " is " + then + "; its VM is plugged into the link",
            "2. this build: the same port is " + now,
            "3. netdsl apply changes the existing link " + Q(ifname) + " in place (master, mac) instead of "
            "deleting it: the VM plugged into it stays",
            std::string("verdict: ") + (port.rdid != before->rdid ? "isolation: " : "") + "vm " + Q(old_vm) +
                " nic " + Q(old_nic) + " is in vsid " + std::to_string(port.vsid) + " (rdid " +
                std::to_string(port.rdid) + ") until it is unplugged"}});
    }
  }
}

}  // namespace netdsl::verify
