#!/usr/bin/env python3
"""Writes a linux.yaml with N objects of one kind (fdb | neigh | route) spread
over D tenant segments (a bridge nd-brJ and a vxlan nd-vxJ with VNI J each),
the same entries as iproute2 batch commands, and the links as an `ip -batch`
file, for bench/runtime/run.sh.

usage: gen_plan.py KIND N OUT_YAML OUT_BATCH [DEVICES [OUT_LINKS_BATCH]]

D = 1 puts every entry on one device: the worst case for the kernel's vxlan
FDB (256 hash buckets per device) and one huge L2 segment. D = 100 is closer
to a host carrying 100 tenant subnets."""
import sys

kind, n, out_yaml, out_batch = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
devices = int(sys.argv[5]) if len(sys.argv) > 5 else 1
out_links = sys.argv[6] if len(sys.argv) > 6 else None


def mac(i):
    return "02:%02x:%02x:%02x:%02x:%02x" % ((i >> 32) & 255, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)


def ip(i):
    return "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


with open(out_yaml, "w") as y, open(out_batch, "w") as b:
    y.write("format: 1\nhost: bench\nrequires: [bridge, vxlan]\nlinks:\n")
    for j in range(1, devices + 1):
        y.write("  - {name: nd-br%d, kind: bridge, mtu: 1450}\n" % j)
        y.write("  - {name: nd-vx%d, kind: vxlan, mtu: 1450, master: nd-br%d, vxlan: {id: %d, local: 192.168.0.1}}\n"
                % (j, j, j))
    dev = lambda i: 1 + i % devices
    if kind == "fdb":
        y.write("fdb:\n")
        for i in range(n):
            dst = "192.168.%d.%d" % (1 + (i // 250) % 250, 1 + i % 250)
            y.write('  - {dev: nd-vx%d, mac: "%s", dst: %s}\n' % (dev(i), mac(i + 1), dst))
            b.write("fdb add %s dev nd-vx%d dst %s\n" % (mac(i + 1), dev(i), dst))
    elif kind == "neigh":
        y.write("neighbours:\n")
        for i in range(n):
            y.write('  - {dev: nd-br%d, address: %s, mac: "%s"}\n' % (dev(i), ip(i + 1), mac(i + 1)))
            b.write("neigh add %s dev nd-br%d lladdr %s nud permanent\n" % (ip(i + 1), dev(i), mac(i + 1)))
    elif kind == "route":
        y.write("routes:\n")
        for i in range(n):
            y.write("  - {table: 1001, dst: %s/32, dev: nd-br%d}\n" % (ip(i + 1), dev(i)))
            b.write("route add %s/32 dev nd-br%d table 1001\n" % (ip(i + 1), dev(i)))
    else:
        sys.exit("kind must be fdb, neigh or route")

if out_links:
    with open(out_links, "w") as l:
        for j in range(1, devices + 1):
            l.write("link add nd-br%d mtu 1450 type bridge\n" % j)
            l.write("link add nd-vx%d mtu 1450 master nd-br%d type vxlan id %d local 192.168.0.1 dstport 4789 nolearning\n"
                    % (j, j, j))
            l.write("link set nd-br%d up\nlink set nd-vx%d up\n" % (j, j))
