# Builds every example under EXAMPLES (a copy, so no lock file lands in the
# source tree) with --target=powershell and runs pscheck over every script.
# usage: check_examples.py NETDSLC EXAMPLES OUT -- PSCHECK_COMMAND...
# The root of an example directory is its fabric.netdsl (else main.netdsl,
# else each .netdsl file on its own).
import os
import shutil
import subprocess
import sys

netdslc, examples, out = sys.argv[1:4]
pscheck = sys.argv[sys.argv.index('--') + 1:]
shutil.rmtree(out, ignore_errors=True)
built = 0
for name in sorted(os.listdir(examples)):
    src = os.path.join(examples, name)
    if not os.path.isdir(src):
        continue
    copy = os.path.join(out, 'src', name)
    shutil.copytree(src, copy)
    files = sorted(f for f in os.listdir(copy) if f.endswith('.netdsl'))
    roots = [r for r in ('fabric.netdsl', 'main.netdsl') if r in files][:1] or files
    for root in roots:
        dest = os.path.join(out, 'out', name, root[:-len('.netdsl')])
        subprocess.run([netdslc, 'build', os.path.join(copy, root), '-o', dest, '--target=powershell'], check=True)
        scripts = sorted(os.path.join(d, f) for d, _, fs in os.walk(dest) for f in fs if f.endswith('.ps1'))
        if not scripts:
            sys.exit(f'{name}/{root}: no PowerShell scripts were written')
        result = subprocess.run(pscheck + scripts, capture_output=True, text=True)
        if result.returncode != 0:
            sys.stdout.write(result.stdout + result.stderr)
            sys.exit(f'{name}/{root}: pscheck found problems')
        built += 1
print(f'check_examples: {built} example root(s) built, pscheck clean')
