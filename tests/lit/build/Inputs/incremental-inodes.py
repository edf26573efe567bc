#!/usr/bin/env python3
"""incremental-inodes.py OUT            prints `HOST INODES` for each hosts/HOST of OUT
   incremental-inodes.py BEFORE AFTER   prints `HOST kept|rewritten|added|removed` per host
(for tests/lit/build/incremental-*.test: which hosts a rebuild wrote)."""
import os
import sys


def snapshot(out):
    hosts = os.path.join(out, 'hosts')
    return {h: ','.join('%s=%d' % (f, os.stat(os.path.join(hosts, h, f)).st_ino)
                        for f in sorted(os.listdir(os.path.join(hosts, h))))
            for h in sorted(os.listdir(hosts))}


def read(path):
    with open(path) as fh:
        return dict(line.split(' ', 1) for line in fh.read().splitlines())


if len(sys.argv) == 2:
    for host, inodes in snapshot(sys.argv[1]).items():
        print(host, inodes)
else:
    a, b = read(sys.argv[1]), read(sys.argv[2])
    for host in sorted(set(a) | set(b)):
        print(host, 'added' if host not in a else 'removed' if host not in b
              else 'kept' if a[host] == b[host] else 'rewritten')
