"""Fails when a diagnostic code has no lit test.

Every code registered in compiler/diag/kinds*.def must (1) be listed by
`netdslc check --list-diagnostics` (the binary agrees with the sources) and
(2) appear as `ND####` in some file under tests/lit/ other than this checker.
"""
import os
import re
import subprocess
import sys

netdslc, src_root = sys.argv[1], sys.argv[2]
diag_dir = os.path.join(src_root, 'compiler', 'diag')
codes = {}
for name in sorted(os.listdir(diag_dir)):
    if name.startswith('kinds') and name.endswith('.def'):
        text = open(os.path.join(diag_dir, name), encoding='utf-8').read()
        for kind, code in re.findall(r'^\s*NETDSL_DIAG\(\s*(\w+)\s*,\s*(\d+)\s*,', text, re.M):
            codes['ND%04d' % int(code)] = kind
if not codes:
    sys.exit('coverage: no diagnostic kinds found in %s' % diag_dir)

listed = subprocess.run([netdslc, 'check', '--list-diagnostics'], capture_output=True, text=True, check=True).stdout
listed_codes = {line.split()[0] for line in listed.splitlines() if line.strip()}
problems = []
for code in sorted(set(codes) - listed_codes):
    problems.append('%s (%s) is in kinds*.def but not in `netdslc check --list-diagnostics`' % (code, codes[code]))

lit_dir = os.path.join(src_root, 'tests', 'lit')
me = os.path.abspath(__file__)
seen = set()
for root, _, files in os.walk(lit_dir):
    for f in files:
        path = os.path.join(root, f)
        if os.path.abspath(path) == me:
            continue
        try:
            seen.update(re.findall(r'ND\d{4}', open(path, encoding='utf-8', errors='replace').read()))
        except OSError:
            continue
for code in sorted(codes):
    if code not in seen:
        problems.append('%s (%s) has no lit test: no file under tests/lit/ mentions it' % (code, codes[code]))
if problems:
    print('\n'.join(problems))
    sys.exit(1)
print('all %d diagnostic codes have tests' % len(codes))
