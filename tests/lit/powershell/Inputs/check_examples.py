# Builds every example under EXAMPLES (a copy, so no lock file lands in the
# source tree) with --target=powershell and runs pscheck over every script.
# An example whose hosts are all Linux hosts (no `platform = hyperv`) must get
# no script at all; every example is also built once more with each top-level
# host group and host marked `platform = hyperv;`, which must give scripts.
# usage: check_examples.py NETDSLC EXAMPLES OUT -- PSCHECK_COMMAND...
# The root of an example directory is its fabric.netdsl (else main.netdsl,
# else each .netdsl file on its own).
import os
import re
import shutil
import subprocess
import sys

netdslc, examples, out = sys.argv[1:4]
pscheck = sys.argv[sys.argv.index('--') + 1:]
shutil.rmtree(out, ignore_errors=True)
built = 0
TOP_LEVEL_HOSTS = re.compile(r'^((?:host_group|host)[ \t]+(?:"(?:[^"\\]|\\.)*"|[^ \t{]+)[ \t]*\{)', re.M)


def check(name, copy, root, dest, want_scripts):
    global built
    subprocess.run([netdslc, 'build', os.path.join(copy, root), '-o', dest, '--target=powershell'], check=True)
    scripts = sorted(os.path.join(d, f) for d, _, fs in os.walk(dest) for f in fs if f.endswith('.ps1'))
    if not want_scripts:
        if scripts:
            sys.exit(f'{name}/{root}: no host is a Hyper-V host, yet scripts were written: {scripts}')
        return
    if not scripts:
        sys.exit(f'{name}/{root}: no PowerShell scripts were written')
    result = subprocess.run(pscheck + scripts, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stdout.write(result.stdout + result.stderr)
        sys.exit(f'{name}/{root}: pscheck found problems')
    built += 1


for name in sorted(os.listdir(examples)):
    src = os.path.join(examples, name)
    if not os.path.isdir(src):
        continue
    for variant in ('as-is', 'hyperv'):
        copy = os.path.join(out, 'src', variant, name)
        shutil.copytree(src, copy)
        files = sorted(f for f in os.listdir(copy) if f.endswith('.netdsl'))
        says_hyperv = any('platform = hyperv' in open(os.path.join(copy, f), encoding='utf-8').read() for f in files)
        if variant == 'hyperv':
            if says_hyperv:
                continue  # the example already has its Hyper-V hosts
            for f in files:
                path = os.path.join(copy, f)
                text = open(path, encoding='utf-8').read()
                open(path, 'w', encoding='utf-8').write(TOP_LEVEL_HOSTS.sub(r'\1 platform = hyperv;', text))
        roots = [r for r in ('fabric.netdsl', 'main.netdsl') if r in files][:1] or files
        for root in roots:
            dest = os.path.join(out, 'out', variant, name, root[:-len('.netdsl')])
            check(f'{name} ({variant})', copy, root, dest, variant == 'hyperv' or says_hyperv)
print(f'check_examples: {built} example root(s) built, pscheck clean')
