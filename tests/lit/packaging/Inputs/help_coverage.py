"""Checks that a man page and a bash completion cover what a binary's --help says.

usage: help_coverage.py BINARY MANPAGE COMPLETION
Every command listed by `BINARY --help` has a `.SS COMMAND` section in the man
page; every option in `BINARY COMMAND --help` (and `netdsl tables SUB --help`)
is mentioned in the man page and offered by the completion for that command;
every option the completion offers exists in that command's --help.
Prints one line per problem and exits 1 if there is any.
"""
import re
import subprocess
import sys

binary, manpage, completion = sys.argv[1:4]
OPTION = re.compile(r'(?<![\w-])(--[a-z][a-z0-9-]*=?|-[a-zA-Z](?:error)?)(?![\w-])')


def run(*args):
    p = subprocess.run([binary] + list(args), capture_output=True, text=True)
    return p.stdout + p.stderr


def options(text):
    found = set()
    for m in OPTION.finditer(text):
        opt = m.group(1)
        if opt in ('-h',):
            continue
        found.add(opt.rstrip('='))
    return found


def commands(top_help):
    """Command names of the `commands:` list: the first word of each entry,
    plus `a | b | c` alternatives; descriptions follow after two spaces."""
    names = []
    in_list = False
    for line in top_help.splitlines():
        if line.strip() == 'commands:':
            in_list = True
            continue
        if not in_list:
            continue
        if not line.startswith('  '):
            in_list = False
            continue
        segment = line[2:].split('  ')[0]
        tokens = segment.split()
        if not tokens or not re.fullmatch(r'[a-z][a-z-]*', tokens[0]):
            continue
        names.append(tokens[0])
        i = 1
        while i + 1 < len(tokens) and tokens[i] == '|':
            names.append(tokens[i + 1])
            i += 2
    return names


man = open(manpage).read().replace('\\-', '-').replace('\\fB', '').replace('\\fR', '').replace('\\fI', '')
comp = open(completion).read()
problems = []
cmds = commands(run('--help'))
if not cmds:
    problems.append('no commands found in `%s --help`' % binary)
# The completion's option lists: `  NAME) opts="..."` or `NAME|OTHER) opts="..."`.
comp_opts = {}
for m in re.finditer(r'^\s*([a-z|-]+)\)\s*opts="([^"]*)"', comp, re.M):
    for name in m.group(1).split('|'):
        comp_opts[name] = set(o.split('=')[0] for o in m.group(2).split())

checked = []
for cmd in cmds:
    if not re.search(r'^\.SS %s$' % re.escape(cmd), man.replace('\\-', '-'), re.M):
        problems.append('man page: no `.SS %s` section' % cmd)
    if cmd == 'tables':
        for sub in ('verify', 'dump', 'diff', 'trace'):
            checked.append((sub, options(run('tables', sub, '--help'))))
        continue
    checked.append((cmd, options(run(cmd, '--help'))))

for cmd, opts in checked:
    for opt in sorted(opts):
        if opt not in man:
            problems.append('man page: `%s` of `%s` is not mentioned' % (opt, cmd))
        if opt != '--help' and cmd in comp_opts and opt not in comp_opts[cmd]:
            problems.append('completion: `%s` does not offer `%s`' % (cmd, opt))
    if cmd not in comp_opts and opts - {'--help'}:
        problems.append('completion: no option list for `%s`' % cmd)
    for opt in sorted(comp_opts.get(cmd, set()) - opts - {'--help', '--'}):
        problems.append('completion: `%s` offers `%s`, which its --help does not list' % (cmd, opt))

for p in problems:
    print(p)
print('checked %d commands, %d options' % (len(checked), sum(len(o) for _, o in checked)))
sys.exit(1 if problems else 0)
