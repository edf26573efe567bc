# Compares what the Linux and Windows artifacts of the same fabric make each
# host know, before and after an edit (known_endpoints.py's lines), and prints
# what each host stops knowing. Exits 1 when the two platforms disagree,
# before, after, or in what they remove.
# usage: compare_removal.py BEFORE_LINUX BEFORE_WINDOWS AFTER_LINUX AFTER_WINDOWS HOST...
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
before_lin, before_win, after_lin, after_win = sys.argv[1:5]
status = 0


def known(kind, out, host):
    name = 'linux.yaml' if kind == 'linux' else 'hyperv.ps1'
    text = subprocess.run([sys.executable, os.path.join(here, 'known_endpoints.py'), kind,
                           os.path.join(out, 'hosts', host, name)], check=True, capture_output=True, text=True).stdout
    return set(text.splitlines())


for host in sys.argv[5:]:
    sets = {}
    for when, lin, win in (('before', before_lin, before_win), ('after', after_lin, after_win)):
        sets[when, 'linux'], sets[when, 'windows'] = known('linux', lin, host), known('windows', win, host)
        if sets[when, 'linux'] != sets[when, 'windows']:
            print('%s %s: linux knows %s, windows %s' % (host, when, sorted(sets[when, 'linux']),
                                                       sorted(sets[when, 'windows'])))
            status = 1
    removed = {p: sets['before', p] - sets['after', p] for p in ('linux', 'windows')}
    if removed['linux'] != removed['windows']:
        print('%s: linux removes %s, windows %s' % (host, sorted(removed['linux']), sorted(removed['windows'])))
        status = 1
    for line in sorted(removed['linux']):
        print('%s removes %s' % (host, line))
    print('%s: %d removed' % (host, len(removed['linux'])))
sys.exit(status)
