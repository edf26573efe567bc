#!/usr/bin/env python3
"""Incremental against full build (issue 14, minimal churn), in one run.

  python3 bench/fleet/incremental_build.py [--netdslc build/bin/netdslc] [--hosts 10000 --nics 1000000] [-j 2]

Generates the fabric with bench/gen_fabric.py (cached in /tmp by its
arguments), then, each as its own process (wall time, peak RSS, bytes the
process wrote: wait4's ru_oublock):
  1. full build into an empty directory A (the baseline);
  2. one VM added (one NIC on one host), rebuild into A: the incremental build;
  3. the same source, full build into an empty directory B with --locked;
and checks that A and B are byte-identical (diff -r), and counts the files
the incremental build rewrote (inode changed) against those it kept.
Reports the ratio full / incremental for time and bytes written.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
phases = []  # per run: [(phase, wall, cpu)] from --stats
paths = []  # per run: the `path:` line of --stats (incremental or full, and why)


def run(cmd):
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    err = proc.stderr.read().decode(errors='replace')
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit('failed: %s\n%s' % (' '.join(cmd), err))
    phases.append(re.findall(r'netdslc build: (.+?) +([0-9.]+) s wall +([0-9.]+) s cpu', err))
    paths.append(next(iter(re.findall(r'netdslc build: path: (.*)', err)), 'full'))
    return elapsed, usage.ru_maxrss / 1024.0, usage.ru_oublock * 512


def inodes(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = os.stat(p).st_ino
    return out


def tree_bytes(root):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--netdslc', default=os.path.join(HERE, '..', '..', 'build', 'bin', 'netdslc'))
    ap.add_argument('--hosts', type=int, default=10000)
    ap.add_argument('--tenants', type=int, default=1000)
    ap.add_argument('--subnets', type=int, default=4)
    ap.add_argument('--nics', type=int, default=1000000)
    ap.add_argument('-j', type=int, default=2)
    ap.add_argument('--keep', action='store_true', help='keep the output directories')
    ap.add_argument('--no-reference', action='store_true',
                    help='skip the reference full build and the byte comparison (lit.build checks it)')
    a = ap.parse_args()

    name = 'netdsl-bench-h%d-t%d-s%d-n%d.netdsl' % (a.hosts, a.tenants, a.subnets, a.nics)
    cache = os.path.join(tempfile.gettempdir(), 'netdsl-bench')
    os.makedirs(cache, exist_ok=True)
    generated = os.path.join(cache, name)
    if not os.path.exists(generated):
        subprocess.check_call([sys.executable, os.path.join(HERE, '..', 'gen_fabric.py'), '--hosts', str(a.hosts),
                               '--tenants', str(a.tenants), '--subnets', str(a.subnets), '--nics', str(a.nics),
                               '-o', generated])
    work = tempfile.mkdtemp(prefix='netdsl-incremental-')
    try:
        src = os.path.join(work, 'fabric.netdsl')
        shutil.copyfile(generated, src)
        out_a, out_b = os.path.join(work, 'a'), os.path.join(work, 'b')
        j = ['-j', str(a.j), '--stats']
        full_s, full_rss, full_w = run([a.netdslc, 'build', src, '-o', out_a] + j)
        before = inodes(out_a)
        # One VM more: the first VM's line again under a new name (same host,
        # tenant and subnet), so exactly one host receives something new.
        with open(src) as f:
            first_vm = next(line for line in f if line.startswith('vm '))
        with open(src, 'a') as f:
            f.write(first_vm.replace('vm ', 'vm bench_extra_', 1))
        inc_s, inc_rss, inc_w = run([a.netdslc, 'build', src, '-o', out_a] + j)
        after = inodes(out_a)
        if a.no_reference:
            ref_s = ref_rss = ref_w = None
            same = None
        else:
            ref_s, ref_rss, ref_w = run([a.netdslc, 'build', src, '-o', out_b, '--locked'] + j)
            same = subprocess.run(['diff', '-rq', out_a, out_b], stdout=subprocess.PIPE).returncode == 0
        rewritten = sorted(p for p in after if before.get(p) != after[p])
        total = tree_bytes(out_a)
        print('fabric: %s (%d hosts, %d VM NICs); output %d files, %.1f MB' %
              (generated, a.hosts, a.nics, len(after), total / 1e6))
        print('%-34s %9s %10s %14s %7s' % ('build', 'seconds', 'peak MiB', 'MB written', 'ratio'))
        for label, s, rss, w in (('full, empty directory (baseline)', full_s, full_rss, full_w),
                                 ('incremental, one VM added', inc_s, inc_rss, inc_w),
                                 ('full again, --locked (reference)', ref_s, ref_rss, ref_w)):
            if s is None:
                continue
            print('%-34s %9.2f %10.0f %14.1f %6.2fx' % (label, s, rss, w / 1e6, s / full_s))
        print('incremental: %.1fx faster than the full build, %.0fx fewer bytes written; rewrote %d of %d files '
              '(%s); byte-identical to the full build: %s' %
              (full_s / inc_s, full_w / max(inc_w, 1), len(rewritten), len(after),
               ', '.join(rewritten[:8]) + (' ...' if len(rewritten) > 8 else ''),
               'not checked' if same is None else 'yes' if same else 'NO'))
        print('incremental build took the path: %s' % paths[1])
        for label, stats in (('full', phases[0]), ('incremental', phases[1])):
            print('%s build, phases (--stats): wall / cpu s' % label)
            for name, w, c in stats:
                print('  %-40s %10s / %-10s' % (name, w, c))
        if same is False:
            sys.exit(1)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
