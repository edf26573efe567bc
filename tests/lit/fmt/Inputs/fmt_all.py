"""Formats a copy of every .netdsl file under a directory twice; fails unless
the second pass changes nothing and the AST (without positions) is unchanged."""
import os
import re
import shutil
import subprocess
import sys

netdslc, root, work = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)


def ast(path):
    """The dump of `path` itself (imports may not resolve from the copy), without positions."""
    out = subprocess.run([netdslc, 'check', '--dump-ast', path], capture_output=True).stdout
    first = out.split(b'\nfile ')[0].rstrip()
    return re.sub(rb'(@|value@)[0-9:?-]+', b'', re.sub(rb'^file .*$', b'', first, flags=re.M))


count = 0
for dirpath, _, files in sorted(os.walk(root)):
    for name in sorted(files):
        if not name.endswith('.netdsl'):
            continue
        src = os.path.join(dirpath, name)
        if subprocess.run([netdslc, 'check', '--parse-only', src], capture_output=True).returncode != 0:
            continue  # files with syntax errors are not formatted (tested elsewhere)
        once = os.path.join(work, '%d.netdsl' % count)
        twice = os.path.join(work, '%d.again.netdsl' % count)
        shutil.copy(src, once)
        subprocess.run([netdslc, 'fmt', once], check=True)
        shutil.copy(once, twice)
        subprocess.run([netdslc, 'fmt', twice], check=True)
        if open(once, 'rb').read() != open(twice, 'rb').read():
            sys.exit('fmt is not idempotent on ' + src)
        if ast(src) != ast(once):
            sys.exit('fmt changed the syntax tree of ' + src)
        count += 1
if count == 0:
    sys.exit('no .netdsl files under ' + root)
print('formatted %d files' % count)
