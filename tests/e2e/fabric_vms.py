#!/usr/bin/env python3
"""Reads every DIR/hosts/*/linux.yaml of a built fabric and prints, for the
namespace e2e test, one line per VM NIC: host, port, guest end, MAC, CA,
tenant bridge. A VM's CA comes from the neighbour entries other hosts keep for
its MAC, or from its port's element in the IPv4 guard set (`ifname . ipv4_addr`)."""
import glob
import os
import sys

import yaml

hosts = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "hosts", "*", "linux.yaml"))):
    with open(path) as f:
        hosts[os.path.basename(os.path.dirname(path))] = yaml.safe_load(f)

ca_by_mac = {}
for plan in hosts.values():
    for n in plan.get("neighbours") or []:
        ca_by_mac[n["mac"].lower()] = n["address"]

for name, plan in hosts.items():
    guard_ca = {}
    for s in ((plan.get("nftables") or {}).get("sets") or {}).values():
        if s.get("type") == "ifname . ipv4_addr":
            for e in s.get("elements") or []:
                port, _, addr = str(e).partition(" . ")
                guard_ca.setdefault(port, addr)
    for link in plan.get("links") or []:
        if link["kind"] != "veth":
            continue
        veth = link["veth"]
        if veth.get("peer_master"):
            continue  # a routing domain's NAT veth, not a VM port
        mac = veth.get("peer_mac", "").lower()
        ca = ca_by_mac.get(mac)
        if ca is None:
            ca = guard_ca.get(link["name"])
        if ca is None:
            sys.exit("cannot tell the CA of %s on %s" % (link["name"], name))
        print("\t".join([name, link["name"], veth["peer"], mac, ca, link["master"]]))
