#!/usr/bin/env python3
"""Writes a linux.yaml with N objects of one kind (fdb | neigh | route) and the
same entries as iproute2 batch commands, for bench/runtime/run.sh."""
import sys

kind, n, out_yaml, out_batch = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def mac(i):
    return "02:%02x:%02x:%02x:%02x:%02x" % ((i >> 32) & 255, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)


def ip(i):
    return "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


with open(out_yaml, "w") as y, open(out_batch, "w") as b:
    y.write("format: 1\nhost: bench\nrequires: [bridge, vxlan]\nlinks:\n")
    y.write("  - {name: nd-br1, kind: bridge, mtu: 1450}\n")
    y.write("  - {name: nd-vx1, kind: vxlan, mtu: 1450, master: nd-br1, vxlan: {id: 1, local: 192.168.0.1}}\n")
    if kind == "fdb":
        y.write("fdb:\n")
        for i in range(n):
            dst = "192.168.%d.%d" % (1 + (i // 250) % 250, 1 + i % 250)
            y.write('  - {dev: nd-vx1, mac: "%s", dst: %s}\n' % (mac(i + 1), dst))
            b.write("fdb add %s dev nd-vx1 dst %s\n" % (mac(i + 1), dst))
    elif kind == "neigh":
        y.write("neighbours:\n")
        for i in range(n):
            y.write('  - {dev: nd-br1, address: %s, mac: "%s"}\n' % (ip(i + 1), mac(i + 1)))
            b.write("neigh add %s dev nd-br1 lladdr %s nud permanent\n" % (ip(i + 1), mac(i + 1)))
    elif kind == "route":
        y.write("routes:\n")
        for i in range(n):
            y.write("  - {table: 1001, dst: %s/32, dev: nd-br1}\n" % ip(i + 1))
            b.write("route add %s/32 dev nd-br1 table 1001\n" % ip(i + 1))
    else:
        sys.exit("kind must be fdb, neigh or route")
