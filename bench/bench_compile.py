#!/usr/bin/env python3
"""Compiler benchmark: parse-only, check and build of a generated fabric, in one run.

  python3 bench/bench_compile.py [--netdslc build/bin/netdslc] [--hosts 10000 --nics 1000000] [--verify | --only-verify]
  python3 bench/bench_compile.py --only-verify --output build/bench-1m [--rounds 3]

Generates the fabric with bench/gen_fabric.py (cached in /tmp by its arguments),
then times each stage as a separate process and reports wall time, throughput
(MB/s, objects/s) and peak RSS (wait4 rusage of that process alone). The
parse-only run is the baseline the other rows are compared with (ratio column).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, cwd=None):
    """Runs cmd; returns (wall seconds, peak MiB, exit code, stderr, CPU seconds = user + sys)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    err = proc.stderr.read().decode(errors='replace')
    code = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024.0, code, err, usage.ru_utime + usage.ru_stime


def load():
    return os.getloadavg()[0]


def verify_rounds(a, src, netdslc):
    """--only-verify with --output: verify an existing build output (or build it
    once), in rounds of parse baseline / verify -j1 / verify -j2 side by side,
    wall and CPU (user+sys) each as a ratio to that round's baseline."""
    out = os.path.abspath(a.output)
    if not os.path.exists(os.path.join(out, 'manifest.json')):
        for lock in (os.path.join(os.path.dirname(src), 'netdsl.lock'), src[:-len('.netdsl')] + '.lock'):
            if os.path.exists(lock):
                os.remove(lock)
        shutil.rmtree(out, ignore_errors=True)
        secs, rss, code, err, cpu = run([netdslc, 'build', src, '-o', out, '--target=tables,linux', '-j', '2',
                                         '--no-verify'])
        print('built %s once: %.1f s wall, %.1f s cpu, exit %d' % (out, secs, cpu, code))
        if code != 0:
            sys.exit(err)
    print('%-6s %-22s %9s %9s %7s %7s %9s %8s' % ('round', 'stage', 'wall s', 'cpu s', 'wall x', 'cpu x',
                                                 'peak MiB', 'load1'))
    ratios = {}
    for r in range(1, a.rounds + 1):
        base = None
        for label, cmd in (('parse only (baseline)', [netdslc, 'check', '--parse-only', src]),
                           ('verify -j1', [netdslc, 'verify', out, '-j', '1']),
                           ('verify -j2', [netdslc, 'verify', out, '-j', '2'])):
            before = load()
            secs, rss, code, err, cpu = run(cmd)
            if code != 0:
                print('%-6d %-22s failed (exit %d): %s' % (r, label, code, err.strip().splitlines()[-1:]))
                continue
            if base is None:
                base = (secs, cpu)
            ratios.setdefault(label, []).append((secs / base[0], cpu / base[1]))
            print('%-6d %-22s %9.2f %9.2f %6.2fx %6.2fx %9.0f %8.1f' % (r, label, secs, cpu, secs / base[0],
                                                                       cpu / base[1], rss, (before + load()) / 2))
    print('median of %d round(s), ratio to the parse baseline of the same round:' % a.rounds)
    for label, values in ratios.items():
        wall = sorted(v[0] for v in values)[len(values) // 2]
        cpu = sorted(v[1] for v in values)[len(values) // 2]
        print('  %-22s wall %.2fx  cpu %.2fx' % (label, wall, cpu))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--netdslc', default=os.path.join(HERE, '..', 'build', 'bin', 'netdslc'))
    ap.add_argument('--hosts', type=int, default=10000)
    ap.add_argument('--tenants', type=int, default=1000)
    ap.add_argument('--subnets', type=int, default=4)
    ap.add_argument('--nics', type=int, default=1000000)
    ap.add_argument('--no-build', action='store_true', help='skip the build rows')
    ap.add_argument('--verify', action='store_true',
                    help='also the verify rows: build --target=tables,linux -j2 --no-verify, `netdslc verify` '
                         'on it (-j1, -j2), and the same build verified (build --verify -j2), each into a new '
                         'directory; verify is reported as a ratio of that build')
    ap.add_argument('--only-verify', action='store_true', help='only the verify rows (the parse baseline stays)')
    ap.add_argument('--output', help='with --only-verify: verify this build output (built once with '
                                     '--target=tables,linux if it has no manifest.json, then kept: ~4 GB at 10k '
                                     'hosts) in --rounds rounds, wall and CPU as ratios to the parse baseline')
    ap.add_argument('--rounds', type=int, default=1)
    a = ap.parse_args()

    name = 'netdsl-bench-h%d-t%d-s%d-n%d.netdsl' % (a.hosts, a.tenants, a.subnets, a.nics)
    work = os.path.join(tempfile.gettempdir(), 'netdsl-bench')
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, name)
    if not os.path.exists(src):
        subprocess.check_call([sys.executable, os.path.join(HERE, 'gen_fabric.py'), '--hosts', str(a.hosts),
                               '--tenants', str(a.tenants), '--subnets', str(a.subnets), '--nics', str(a.nics),
                               '-o', src])
    size_mb = os.path.getsize(src) / 1e6
    objects = a.hosts + a.nics + a.tenants * (1 + 2 * a.subnets)
    print('fabric: %s (%.1f MB, %d hosts, %d VM NICs, %d tenants x %d subnets, ~%d objects)'
          % (src, size_mb, a.hosts, a.nics, a.tenants, a.subnets, objects))
    if a.only_verify and a.output:
        verify_rounds(a, src, a.netdslc)
        return
    print('%-26s %9s %9s %12s %10s %7s' % ('stage', 'seconds', 'MB/s', 'objects/s', 'peak MiB', 'ratio'))
    rows = [('parse only (baseline)', [a.netdslc, 'check', '--parse-only', src])]
    if not a.only_verify:
        rows.append(('check (parse + sema)', [a.netdslc, 'check', src]))
    if not a.no_build and not a.only_verify:
        for j in (1, 2):
            out = os.path.join(work, 'out-j%d' % j)
            shutil.rmtree(out, ignore_errors=True)
            rows.append(('build -j%d (all targets)' % j,
                         [a.netdslc, 'build', src, '-o', out, '-j', str(j), '--no-verify']))
    if a.verify or a.only_verify:
        # verify reads tables.ndt and linux.yaml of every host (~5 GB at 10k
        # hosts): the build of those targets without verify, verify on its
        # output, and the same build verifying its staged output.
        vout = os.path.join(work, 'out-verify')
        rows.append(('build -j2 tables,linux', [a.netdslc, 'build', src, '-o', vout, '--target=tables,linux',
                                                '-j', '2', '--no-verify']))
        for j in (1, 2):
            rows.append(('verify -j%d' % j, [a.netdslc, 'verify', vout, '-j', str(j)]))
        rows.append(('build -j2 t,l + verify', [a.netdslc, 'build', src, '-o', os.path.join(work, 'out-verified'),
                                                 '--target=tables,linux', '-j', '2', '--verify']))
    base = None
    timed = {}
    for label, cmd in rows:
        if label.startswith('build -j'):
            # Same starting point for every build: no lock (everything is
            # allocated) and no earlier output (nothing is reused or compared).
            for lock in (os.path.join(work, 'netdsl.lock'), src[:-len('.netdsl')] + '.lock'):
                if os.path.exists(lock):
                    os.remove(lock)
            shutil.rmtree(cmd[cmd.index('-o') + 1], ignore_errors=True)
        secs, rss, code, err, _ = run(cmd)
        timed[label] = secs
        if code != 0:
            # verify's findings (exit 1) still cost the whole run: the time is kept.
            print('%-26s %9.2f s, failed (exit %d): %s' % (label, secs, code, err.strip().splitlines()[-1:] if err else ''))
            continue
        if base is None:
            base = secs
        print('%-26s %9.2f %9.1f %12.0f %10.0f %6.2fx' % (label, secs, size_mb / secs, objects / secs, rss, secs / base))
    build = timed.get('build -j2 tables,linux')
    if build:
        for label in ('verify -j1', 'verify -j2', 'build -j2 t,l + verify'):
            if label in timed:
                print('%-26s %6.2fx of build -j2 tables,linux' % (label, timed[label] / build))


if __name__ == '__main__':
    main()
