#!/usr/bin/env python3
"""Incremental against full verify (docs/verify.md "Incremental"), in one run.

  python3 bench/verify_incremental.py [--netdslc build/bin/netdslc] [--hosts 10000 --nics 1000000] [--rounds 3]
                                      [--keep | --work DIR]

Generates the fabric with bench/gen_fabric.py (cached in /tmp by its
arguments) and builds it twice (--target=tables,linux --no-verify, -j2): as
is into BASE, and with one VM more (the first VM's line again under a new
name, the lock of the first build) into NEW. The hosts whose files differ
are the changed hosts. Then, in RUNS interleaved rounds, each as its own
process (wall and CPU time from wait4):
  - full:        netdslc verify NEW --state-out (the baseline);
  - incremental: netdslc verify SPARSE --state-in BASE.state --changed-hosts ...
                 --base-dir BASE --state-out, where SPARSE holds NEW's manifest
                 and the changed hosts' files only (as build's fast path stages);
and checks that both report the same diagnostics and write the same state.
Reports medians and the ratio full / incremental.
"""
import argparse
import filecmp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd):
    """Wall and CPU seconds of one process, and its output."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    return wall, usage.ru_utime + usage.ru_stime, out.decode(errors='replace'), os.waitstatus_to_exitcode(status)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--netdslc', default=os.path.join(HERE, '..', 'build', 'bin', 'netdslc'))
    ap.add_argument('--hosts', type=int, default=10000)
    ap.add_argument('--tenants', type=int, default=1000)
    ap.add_argument('--subnets', type=int, default=4)
    ap.add_argument('--nics', type=int, default=1000000)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('-j', type=int, default=2)
    ap.add_argument('--keep', action='store_true', help='keep the work directory')
    ap.add_argument('--work', help='work directory of an earlier --keep run: its two builds are reused')
    a = ap.parse_args()

    name = 'netdsl-bench-h%d-t%d-s%d-n%d.netdsl' % (a.hosts, a.tenants, a.subnets, a.nics)
    cache = os.path.join(tempfile.gettempdir(), 'netdsl-bench')
    os.makedirs(cache, exist_ok=True)
    generated = os.path.join(cache, name)
    if not os.path.exists(generated):
        subprocess.check_call([sys.executable, os.path.join(HERE, 'gen_fabric.py'), '--hosts', str(a.hosts),
                               '--tenants', str(a.tenants), '--subnets', str(a.subnets), '--nics', str(a.nics),
                               '-o', generated])
    reuse = bool(a.work) and os.path.isdir(os.path.join(a.work, 'new', 'hosts'))
    work = a.work if a.work else tempfile.mkdtemp(prefix='netdsl-verify-incremental-')
    if a.work:
        a.keep = True
    try:
        j = ['-j', str(a.j)]
        base, new, sparse = (os.path.join(work, d) for d in ('base', 'new', 'sparse'))
        src = os.path.join(work, 'fabric.netdsl')
        if not reuse:
            shutil.copyfile(generated, src)
        for out in () if reuse else (base,):
            w, _, text, rc = timed([a.netdslc, 'build', src, '-o', out, '--target=tables,linux', '--no-verify'] + j)
            if rc:
                sys.exit('build failed:\n' + text)
        if not reuse:
            src2 = os.path.join(work, 'plus.netdsl')
            shutil.copyfile(src, src2)
            shutil.copyfile(os.path.join(work, 'fabric.lock'), os.path.join(work, 'plus.lock'))
            with open(src2) as f:
                first_vm = next(line for line in f if line.startswith('vm '))
            with open(src2, 'a') as f:
                f.write(first_vm.replace('vm ', 'vm bench_extra_', 1))
            w, _, text, rc = timed([a.netdslc, 'build', src2, '-o', new, '--target=tables,linux', '--no-verify'] + j)
            if rc:
                sys.exit('build failed:\n' + text)
        hosts = sorted(os.listdir(os.path.join(new, 'hosts')))
        changed = [h for h in hosts if not all(
            os.path.exists(os.path.join(base, 'hosts', h, f)) and
            filecmp.cmp(os.path.join(base, 'hosts', h, f), os.path.join(new, 'hosts', h, f), shallow=False)
            for f in ('tables.ndt', 'linux.yaml'))]
        shutil.rmtree(sparse, ignore_errors=True)
        os.makedirs(os.path.join(sparse, 'hosts'))
        shutil.copy(os.path.join(new, 'manifest.json'), sparse)
        for h in changed:
            shutil.copytree(os.path.join(new, 'hosts', h), os.path.join(sparse, 'hosts', h))
        base_state = os.path.join(work, 'base.state')
        _, _, text, rc = timed([a.netdslc, 'verify', base, '--state-out', base_state] + j)
        if rc:
            sys.exit('verify of the base failed:\n' + text)

        full_cmd = [a.netdslc, 'verify', new, '--state-out', os.path.join(work, 'full.state')] + j
        inc_cmd = [a.netdslc, 'verify', sparse, '--state-in', base_state, '--changed-hosts', ','.join(changed),
                   '--base-dir', base, '--state-out', os.path.join(work, 'inc.state'), '--verify-stats'] + j
        rows = {'full': [], 'incremental': []}
        how = ''
        for r in range(a.rounds):
            order = [('full', full_cmd), ('incremental', inc_cmd)]
            if r % 2:
                order.reverse()
            for label, cmd in order:
                wall, cpu, text, rc = timed(cmd)
                lines = text.splitlines()
                if label == 'incremental':
                    how = next((l for l in lines if l.startswith('netdslc verify: ')), '')
                    lines = [l for l in lines if not l.startswith('netdslc verify: ')]
                    text = '\n'.join(lines).replace(sparse, new)
                else:
                    text = '\n'.join(lines)
                rows[label].append((wall, cpu, rc, text))
        same_out = all(x[3] == rows['full'][0][3] and x[2] == rows['full'][0][2] for x in rows['full'] + rows['incremental'])
        same_state = open(os.path.join(work, 'full.state'), 'rb').read() == open(os.path.join(work, 'inc.state'),
                                                                                  'rb').read()
        load = os.getloadavg()
        print('fabric: %s (%d hosts, %d VM NICs); one VM added: %d changed hosts (%s)' %
              (generated, len(hosts), a.nics, len(changed), ', '.join(changed[:6]) + (' ...' if len(changed) > 6 else '')))
        print('incremental run: %s; state %d bytes' % (how, os.path.getsize(base_state)))
        print('%-40s %14s %14s' % ('verify (-j%d), %d rounds' % (a.j, a.rounds), 'wall s (median)', 'cpu s (median)'))
        med = {}
        for label in ('full', 'incremental'):
            walls = [x[0] for x in rows[label]]
            cpus = [x[1] for x in rows[label]]
            med[label] = (statistics.median(walls), statistics.median(cpus))
            print('%-40s %14.3f %14.3f   (wall %s)' % (label, med[label][0], med[label][1],
                                                      ' '.join('%.3f' % w for w in walls)))
        print('ratio full / incremental: wall %.1fx, cpu %.1fx; same diagnostics: %s; same state: %s; '
              'load average %.1f %.1f %.1f' % (med['full'][0] / med['incremental'][0], med['full'][1] / med['incremental'][1],
                                               'yes' if same_out else 'NO', 'yes' if same_state else 'NO', *load))
        if not (same_out and same_state and how.startswith('netdslc verify: incremental')):
            sys.exit(1)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
