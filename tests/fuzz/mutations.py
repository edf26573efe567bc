#!/usr/bin/env python3
"""Deterministic mutation testing of `netdslc check` and `netdslc fmt`.

Applies N seeded random mutations (byte flips, deletions, duplicated lines,
truncations, token swaps, inserted punctuation, deep nesting, invalid UTF-8)
to a seed file and asserts, for each mutant, that
  * `netdslc check` exits 0 or 1 (never crashes, asserts or hangs),
  * JSON and SARIF diagnostics are valid JSON (every 10th mutant),
  * when the mutant parses cleanly, `fmt` is idempotent and keeps the AST.
Failing inputs are kept in the work directory.

  mutations.py NETDSLC SEED_FILE WORK_DIR [--count 300] [--seed 20261125]
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys

PUNCT = [b'{', b'}', b';', b'[', b']', b'"', b'/*', b'//', b'=', b'..', b'-', b'::', b'\\', b',',
         b'\x00', b'\xff', b'\xc3', b'1Gbps', b'300.1.1.1', b'10.0.0.0/33', b'[01..40]', b'import "x.netdsl";',
         b'\xe2\x80\x99', b'99999999999999999999999']


def mutate(data, rng):
    ops = rng.randint(1, 3)
    for _ in range(ops):
        op = rng.randrange(9)
        n = len(data)
        if n == 0:
            data = bytes(rng.choice(PUNCT))
            continue
        i = rng.randrange(n)
        if op == 0:  # byte flip
            data = data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
        elif op == 1:  # delete a span
            data = data[:i] + data[i + rng.randint(1, 40):]
        elif op == 2:  # duplicate a line
            lines = data.split(b'\n')
            k = rng.randrange(len(lines))
            lines.insert(k, lines[k])
            data = b'\n'.join(lines)
        elif op == 3:  # truncate
            data = data[:i]
        elif op == 4:  # swap two tokens
            toks = re.split(rb'(\s+)', data)
            words = [j for j, t in enumerate(toks) if t.strip()]
            if len(words) >= 2:
                a, b = rng.sample(words, 2)
                toks[a], toks[b] = toks[b], toks[a]
                data = b''.join(toks)
        elif op == 5:  # insert punctuation / hostile literals
            data = data[:i] + rng.choice(PUNCT) + data[i:]
        elif op == 6:  # deep nesting
            depth = rng.choice([10, 70, 500])
            open_, close = rng.choice([(b'{ a ', b'}'), (b'[', b']')])
            data = data[:i] + open_ * depth + close * rng.choice([0, depth]) + data[i:]
        elif op == 7:  # delete a line
            lines = data.split(b'\n')
            del lines[rng.randrange(len(lines))]
            data = b'\n'.join(lines)
        else:  # swap two lines
            lines = data.split(b'\n')
            if len(lines) >= 2:
                a, b = rng.sample(range(len(lines)), 2)
                lines[a], lines[b] = lines[b], lines[a]
                data = b'\n'.join(lines)
    return data


def run(cmd, timeout):
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def strip_positions(ast):
    return re.sub(rb'(@|value@)[0-9:?-]+', b'', re.sub(rb'^file .*$', b'', ast, flags=re.M))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('netdslc')
    ap.add_argument('seed_file')
    ap.add_argument('work_dir')
    ap.add_argument('--count', type=int, default=300)
    ap.add_argument('--seed', type=int, default=20261125)
    ap.add_argument('--timeout', type=float, default=20.0)
    a = ap.parse_args()
    seed = open(a.seed_file, 'rb').read()
    shutil.rmtree(a.work_dir, ignore_errors=True)
    os.makedirs(a.work_dir)
    rng = random.Random(a.seed)
    failures = []
    clean = 0
    for k in range(a.count):
        data = mutate(seed, rng)
        path = os.path.join(a.work_dir, 'mutant-%03d.netdsl' % k)
        with open(path, 'wb') as f:
            f.write(data)
        problems = []
        r = run([a.netdslc, 'check', path], a.timeout)
        if r is None:
            problems.append('check timed out')
        elif r.returncode not in (0, 1):
            problems.append('check exited %d: %s' % (r.returncode, r.stderr[-2000:].decode('utf-8', 'replace')))
        if k % 10 == 0:
            for fmt in ('json', 'sarif'):
                r = run([a.netdslc, 'check', '--diagnostics=' + fmt, path], a.timeout)
                if r is None or r.returncode not in (0, 1):
                    problems.append('check --diagnostics=%s failed' % fmt)
                    continue
                try:
                    json.loads(r.stdout)
                except ValueError as e:
                    problems.append('invalid %s output: %s' % (fmt, e))
        p = run([a.netdslc, 'check', '--parse-only', path], a.timeout)
        if p is not None and p.returncode == 0:
            clean += 1
            ast1 = run([a.netdslc, 'check', '--dump-ast', path], a.timeout)
            once = path + '.fmt1.netdsl'
            twice = path + '.fmt2.netdsl'
            shutil.copy(path, once)
            f1 = run([a.netdslc, 'fmt', once], a.timeout)
            shutil.copy(once, twice)
            f2 = run([a.netdslc, 'fmt', twice], a.timeout)
            if f1 is None or f1.returncode != 0 or f2 is None or f2.returncode != 0:
                problems.append('fmt failed on a file that parses')
            elif open(once, 'rb').read() != open(twice, 'rb').read():
                problems.append('fmt is not idempotent')
            else:
                ast2 = run([a.netdslc, 'check', '--dump-ast', once], a.timeout)
                if ast1 is None or ast2 is None or strip_positions(ast1.stdout) != strip_positions(ast2.stdout):
                    problems.append('fmt changed the AST')
            os.remove(once)
            os.remove(twice)
        if problems:
            failures.append((path, problems))
        else:
            os.remove(path)
    for path, problems in failures:
        print('FAIL %s:\n  %s' % (path, '\n  '.join(problems)))
    print('%d mutants, %d parse cleanly, %d failures' % (a.count, clean, len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
