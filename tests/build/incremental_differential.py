#!/usr/bin/env python3
"""Differential test: a rebuild into the previous output (the incremental
build) is byte-identical to a full build into an empty directory.

A small random fabric (several tenants, VXLAN and NVGRE, two VM subnets per VM
network, a NAT gateway, static CAs and MACs, VMs with several NICs, sometimes a
Hyper-V host, sometimes split over an imported file) is built into A. Then each
step applies one random edit (sometimes several): VMs added, removed, moved to
another host or subnet (once with the file's size and mtime kept), renamed,
given or relieved of a static CA/MAC or a classification, declared before the
infrastructure or in the other file; names the source must quote (with braces,
`//`, `/*`, quotes); comments (some holding braces or `vm ... {`), whitespace
and CRLF line ends; infrastructure edits (hosts, pool ranges, VM networks,
isolation, NAT, platforms); syntax errors; semantic errors (unknown host,
duplicate VM name, a static CA another VM holds in the lock, a CA outside its
subnet, a duplicate static MAC); and the user's hand on the lock, on an
artifact, on the manifest or on the cache (`OUT/.netdsl-cache/`: deleted,
damaged, an older build's, its copies of the inputs replaced by the new
inputs), and a build of the new source killed (SIGKILL) at a random moment.
After each edit, with L0 = the lock as it is before the build:

  A:  `netdslc build fabric.netdsl -o out --stats` in the persistent directory;
  B:  a full build of the same source with L0 into an empty directory;
  C:  a full build of the same source with L0 into A's previous output without
      its cache (what the full path does in A's place: verify compares with the
      previous output, so ports that change hands are findings in A and C only).

B and C run at A's path (A is renamed aside meanwhile), so every path is the
same. Required: A and C agree on the exit status, stdout, the diagnostics
(without the `--stats` timing lines and the `path:` line), the resulting lock
and `diff -r` of the outputs (cache included); A and B likewise, unless A
failed only on what B cannot see (ND4006); a failed build leaves A's artifacts
and lock as they were and B without an output. Anything a build leaves beside
the output (a killed build's staging directory) is counted, and fails the
test with --strict-leftovers. With --require-fast-path, a
step whose edit touched only top-level `vm` declarations, comments or
whitespace between or inside them, after a build that printed no diagnostic,
and whose full build prints none either, must print `netdslc build: path:
incremental...` (the fast path), not `path: full (...)`.

The seed is printed first; replay a failure with `--seed N --steps N`.

  incremental_differential.py --netdslc build/bin/netdslc [--seed N] [--steps N]
      [--require-fast-path | --no-require-fast-path] [--time-budget S] [--size small|medium] [--strict-leftovers] [--keep] [--workdir DIR] [-v]

Exit 0 = every step agreed, 1 = a difference (the step, its edits and the
difference are printed; the directories are kept), 2 = usage.
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict

from incremental_edits import FAST_KINDS, Edits
from incremental_fabric import Fabric, tree

# A VM-only (or comment-only) edit after a clean build must take the fast path
# (compiler/pipeline/incremental.*): `--no-require-fast-path` only reports how often.
REQUIRE_FAST_PATH_DEFAULT = True

STATS_LINE = re.compile(r'^netdslc build: .*\s[0-9.]+ s wall\s+[0-9.]+ s cpu$')
PATH_LINE = re.compile(r'^netdslc build: path: (.*)$')
# The build's staging directory has a random name (verify's findings name it).
STAGING = re.compile(r'\.out\.staging-[A-Za-z0-9_]+')


class Differential(Edits):
    def __init__(self, args, seed):
        self.args = args
        self.seed = seed
        self.rng = random.Random(seed)
        self.netdslc = os.path.abspath(args.netdslc)
        self.work = args.workdir or tempfile.mkdtemp(prefix='netdsl-incdiff-')
        os.makedirs(self.work, exist_ok=True)
        self.cur = os.path.join(self.work, 'cur')
        self.fabric = Fabric(self.rng, args.size)
        self.prev_clean = False        # the previous build of A printed no diagnostic and exited 0
        self.lock_history = []         # earlier locks (for "restore an old lock")
        self.cache_history = []        # earlier caches (for "restore a stale cache")
        self.stats = defaultdict(Counter)   # edit kind -> path taken
        self.expected_fast = 0
        self.expected_fast_taken = 0
        self.failures_seen = Counter()
        self.steps_failed_build = 0
        self.last_edits = []
        self.good_lock = None          # the lock after the last clean build
        self.last_stderr = ''
        self.prev_handover = False
        self.strays = Counter()
        self.weights = dict(args.weight)   # --weight KIND=N overrides

    # ---- running ---------------------------------------------------------
    def write_sources(self):
        files = self.fabric.render()
        for name in ('fabric.netdsl', 'vms.netdsl'):
            p = os.path.join(self.cur, name)
            if name in files:
                data = files[name].encode()
                old = open(p, 'rb').read() if os.path.exists(p) else None
                if old != data:
                    with open(p, 'wb') as fh:
                        fh.write(data)
            elif os.path.exists(p):
                os.unlink(p)

    def run_build(self, cwd, extra):
        cmd = [self.netdslc, 'build', 'fabric.netdsl', '-o', 'out'] + extra
        env = dict(os.environ, NO_COLOR='1')
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, env=env, timeout=300)
        return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')

    def killed_build(self, delay):
        cmd = [self.netdslc, 'build', 'fabric.netdsl', '-o', 'out', '-j', '2', '--stats']
        p = subprocess.Popen(cmd, cwd=self.cur, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()

    @staticmethod
    def split_stderr(err):
        """(diagnostic lines, path line or None)."""
        diags, path = [], None
        for line in err.splitlines():
            if STATS_LINE.match(line):
                continue
            m = PATH_LINE.match(line)
            if m:
                path = m.group(1)
                continue
            diags.append(STAGING.sub('.out.staging-XXXXXX', line))
        return diags, path

    # ---- one step ------------------------------------------------------------
    def build_a(self):
        rc, out, err = self.run_build(self.cur, ['-j', '2', '--stats'])
        diags, path = self.split_stderr(err)
        return {'name': 'incremental', 'rc': rc, 'stdout': out, 'diags': diags, 'path': path,
                'lock': self.read_lock(), 'lock_path': os.path.join(self.cur, 'fabric.lock'),
                'out': os.path.join(self.cur, 'out')}

    def build_reference(self, name, lock0, previous_out):
        """A full build at A's path: A is renamed aside meanwhile, the result moved to WORK/NAME."""
        hold = os.path.join(self.work, 'hold')
        dest = os.path.join(self.work, name)
        shutil.rmtree(dest, ignore_errors=True)
        os.rename(self.cur, hold)
        try:
            os.mkdir(self.cur)
            for f in ('fabric.netdsl', 'vms.netdsl'):
                if os.path.exists(os.path.join(hold, f)):
                    shutil.copy2(os.path.join(hold, f), os.path.join(self.cur, f))
            if lock0 is not None:
                with open(os.path.join(self.cur, 'fabric.lock'), 'w') as fh:
                    fh.write(lock0)
            if previous_out:
                shutil.copytree(previous_out, os.path.join(self.cur, 'out'), symlinks=True)
            rc, out, err = self.run_build(self.cur, ['-j', str(self.rng.choice([1, 2]))])
            os.rename(self.cur, dest)
        finally:
            if os.path.exists(self.cur):
                shutil.rmtree(self.cur)
            os.rename(hold, self.cur)
        diags, path = self.split_stderr(err)
        lock_path = os.path.join(dest, 'fabric.lock')
        return {'name': name, 'rc': rc, 'stdout': out, 'diags': diags, 'path': path,
                'lock': open(lock_path).read() if os.path.exists(lock_path) else None,
                'lock_path': lock_path, 'out': os.path.join(dest, 'out')}

    @staticmethod
    def compare(a, ref, what, problems, strict):
        """Exit status, stdout, diagnostics, lock and (when ref succeeded) diff -r."""
        if a['rc'] != ref['rc']:
            problems.append('exit status: incremental %d, %s %d' % (a['rc'], what, ref['rc']))
        if a['stdout'] != ref['stdout']:
            problems.append('stdout differs from the %s:\n--- incremental\n%s--- full\n%s'
                            % (what, a['stdout'], ref['stdout']))
        if a['diags'] != ref['diags']:
            problems.append('diagnostics differ from the %s:\n--- incremental\n%s\n--- full\n%s'
                            % (what, '\n'.join(a['diags']), '\n'.join(ref['diags'])))
        if a['lock'] != ref['lock']:
            problems.append('the lock differs from the %s: diff %s %s' % (what, a['lock_path'], ref['lock_path']))
        if ref['rc'] == 0 and a['rc'] == 0:
            d = subprocess.run(['diff', '-r', a['out'], ref['out']], capture_output=True)
            if d.returncode != 0:
                problems.append('diff -r incremental %s:\n%s' % (what, d.stdout.decode('utf-8', 'replace')[:4000]))

    def step(self, k, kinds):
        self.post_render = []
        descriptions, applied = [], []
        for kind in kinds:
            self.extra_kinds = []
            d = self.edit(kind)
            if d is None:
                continue
            descriptions.append(d)
            applied.append(kind)
            applied += self.extra_kinds
            # the lock/output edits act on disk at once; source edits are rendered below
        if not applied and k > 0:
            return None
        self.write_sources()
        for fn in self.post_render:
            fn()
        self.last_edits = descriptions
        fast_edit = bool(applied) and all(a in FAST_KINDS for a in applied)

        lock0 = self.read_lock()
        out_dir = os.path.join(self.cur, 'out')
        before = tree(out_dir, skip_cache=True)
        # The previous output as the full build in A's place would find it (the
        # cache left out, so that this build is a full one; mtimes kept).
        out0 = os.path.join(self.work, 'out0')
        shutil.rmtree(out0, ignore_errors=True)
        if os.path.isdir(out_dir):
            shutil.copytree(out_dir, out0, symlinks=True,
                            ignore=lambda d, names: ['.netdsl-cache'] if os.path.samefile(d, out_dir) else [])
        a = self.build_a()
        # nothing of a build (staging directories, temporary files) stays beside
        # the output: a killed build's leftovers are the next build's to remove
        stray = sorted(set(os.listdir(self.cur)) - {'fabric.netdsl', 'vms.netdsl', 'fabric.lock', 'out'})
        # B: a full build into a fresh directory; C: a full build into the
        # previous output without its cache (what the full path does in A's place:
        # verify compares with the previous output, so ports that change hands are
        # findings there and not in B). Same source, same L0, same path as A.
        b = self.build_reference('b', lock0, None)
        c = self.build_reference('c', lock0, out0 if os.path.isdir(out0) else None)
        problems = []
        if stray:
            self.strays.update(re.sub(r'-[A-Za-z0-9_]{6}$', '-XXXXXX', x) for x in stray)
            if self.args.strict_leftovers:
                problems.append('left beside the output after the build: %s' % stray)
        self.compare(a, c, 'full build into the previous output', problems, strict=True)
        if a['rc'] == b['rc']:
            self.compare(a, b, 'full build into an empty directory', problems, strict=True)
        elif not (a['rc'] != 0 and b['rc'] == 0 and any('error[ND4006]' in d for d in a['diags'])):
            problems.append('exit status: incremental %d, full build into an empty directory %d'
                            % (a['rc'], b['rc']))
        if a['rc'] != 0:
            self.steps_failed_build += 1
            if a['lock'] != lock0:
                problems.append('the failed build changed the lock')
            after = tree(out_dir, skip_cache=True)
            if after != before:
                changed = sorted(set(after.items()) ^ set(before.items()))
                problems.append('the failed build changed the output: %s' % changed[:10])
        for ref in (b, c):
            if ref['rc'] != 0 and ref['lock'] != lock0:
                problems.append('the failed full build (%s) changed the lock' % ref['name'])
        if b['rc'] != 0 and os.path.exists(b['out']) and os.listdir(b['out']):
            problems.append('the failed full build left an output: %s' % sorted(tree(b['out']))[:10])
        diags_a, path_a = a['diags'], a['path']
        rc_a, lock_a, out_a_dir = a['rc'], a['lock'], out_dir
        clean_c = c['rc'] == 0 and not c['diags']
        label = '+'.join(applied) if applied else 'initial'
        taken = 'incremental' if (path_a or '').startswith('incremental') else ('full' if path_a else 'no path line')
        self.stats[label if len(applied) <= 1 else 'several'][taken] += 1
        if fast_edit and self.prev_clean and clean_c:
            self.expected_fast += 1
            if (path_a or '').startswith('incremental'):
                self.expected_fast_taken += 1
            else:
                self.failures_seen[path_a or 'no path line'] += 1
                if self.args.require_fast_path:
                    problems.append('a VM-only edit after a clean build took `path: %s`, expected `path: incremental`'
                                    % (path_a or '(no path line)'))
        if self.args.verbose:
            print('step %d: %s -> exit %d, %s%s' % (k, '; '.join(descriptions) or 'initial build', rc_a, path_a,
                                                    ('\n    ' + diags_a[0]) if diags_a else ''), flush=True)
        self.prev_clean = rc_a == 0 and not diags_a
        self.prev_handover = any('error[ND4006]' in d for d in diags_a)
        self.last_stderr = '\n'.join(diags_a)
        if self.prev_clean:
            self.good_lock = lock_a
        if lock_a is not None and (not self.lock_history or self.lock_history[-1] != lock_a):
            self.lock_history = (self.lock_history + [lock_a])[-5:]
        cache_dir = os.path.join(out_a_dir, '.netdsl-cache')
        if os.path.isdir(cache_dir) and self.rng.random() < 0.3:
            snap = os.path.join(self.work, 'cache-%d' % k)
            shutil.copytree(cache_dir, snap, symlinks=True)
            self.cache_history = (self.cache_history + [snap])[-3:]
        return problems

    def run(self):
        os.makedirs(self.cur, exist_ok=True)
        start = time.time()
        steps = self.args.steps
        for k in range(steps + 1):
            if self.args.time_budget and k > 0 and time.time() - start > self.args.time_budget:
                print('time budget of %d s spent: stopped after step %d of %d' % (self.args.time_budget, k - 1, steps))
                steps = k - 1
                break
            kinds = [] if k == 0 else self.choose_kinds()
            problems = self.step(k, kinds)
            if problems is None:
                continue
            if problems:
                print('FAIL at step %d of seed %d: %s' % (k, self.seed, '; '.join(self.last_edits) or 'initial build'))
                for p in problems:
                    print('  ' + p.replace('\n', '\n  '))
                print('replay: %s --netdslc %s --seed %d --steps %d%s%s -v'
                      % (sys.argv[0], self.args.netdslc, self.seed, k,
                         ' --require-fast-path' if self.args.require_fast_path else '', self.args.replay_extra))
                print('kept: %s (cur = incremental, b = full into an empty directory, c = full into the previous output, out0 = the previous output)' % self.work)
                return 1
        took = time.time() - start
        print('seed %d: %d steps agreed in %.1f s (%d failed builds agreed as well)'
              % (self.seed, steps, took, self.steps_failed_build))
        print('VM-only edits after a clean build: %d; the fast path taken in %d%s'
              % (self.expected_fast, self.expected_fast_taken,
                 '' if self.args.require_fast_path else ' (not required: --require-fast-path is off)'))
        if self.strays:
            print('left beside the output after a build (steps): %s' % dict(self.strays))
        for reason, n in self.failures_seen.most_common():
            print('  path %s: %d' % (reason, n))
        if self.args.verbose:
            for label in sorted(self.stats):
                print('  %-28s %s' % (label, dict(self.stats[label])))
        if not self.args.keep and not self.args.workdir:
            shutil.rmtree(self.work, ignore_errors=True)
        return 0


def weight_arg(text):
    kind, _, n = text.partition('=')
    if not n.isdigit() or not any(kind == k for k, _ in Edits.KINDS):
        raise argparse.ArgumentTypeError('expected KIND=N with KIND one of Edits.KINDS')
    return kind, int(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--netdslc', required=True)
    ap.add_argument('--seed', type=int)
    ap.add_argument('--steps', type=int, default=60)
    fp = ap.add_mutually_exclusive_group()
    fp.add_argument('--require-fast-path', dest='require_fast_path', action='store_true')
    fp.add_argument('--no-require-fast-path', dest='require_fast_path', action='store_false')
    ap.set_defaults(require_fast_path=REQUIRE_FAST_PATH_DEFAULT)
    ap.add_argument('--time-budget', type=float, default=0,
                    help='stop (and pass) after the step that exceeds S seconds (CI on a loaded machine); 0 = none')
    ap.add_argument('--size', choices=['small', 'medium'], default='small',
                    help='small: 2-4 hosts, 4-9 VMs (CI); medium: 5-10 hosts, 15-40 VMs')
    ap.add_argument('--weight', action='append', default=[], type=weight_arg, metavar='KIND=N',
                    help='draw edit KIND with weight N (see Edits.KINDS), e.g. out_kill_build=20 to hunt')
    ap.add_argument('--strict-leftovers', action='store_true',
                    help='fail when a build leaves anything beside the output (a killed build\'s staging)')
    ap.add_argument('--keep', action='store_true', help='keep the work directory after a pass')
    ap.add_argument('--workdir', help='work here (kept) instead of a temporary directory')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()
    if not os.access(args.netdslc, os.X_OK):
        print('incremental_differential: %s is not an executable' % args.netdslc, file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), 'big')
    extra = ('' if args.size == 'small' else ' --size ' + args.size) + ''.join(
        ' --weight %s=%d' % kv for kv in args.weight)
    args.replay_extra = extra
    print('seed %d (replay: --seed %d --steps %d%s)' % (seed, seed, args.steps, extra), flush=True)
    return Differential(args, seed).run()


if __name__ == '__main__':
    sys.exit(main())
