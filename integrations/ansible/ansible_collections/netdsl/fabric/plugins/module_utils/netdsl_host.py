# Host-side helpers shared by netdsl_apply and netdsl_confirm: the installed
# artifacts (DEST/linux.yaml, tables.ndt, linux.batch, applied.json, and the
# generation before under DEST/previous/), running `netdsl`, and settling an
# installed change that the host's watchdog reverted.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import shutil
import time

ARTIFACTS = ('linux.yaml', 'tables.ndt', 'linux.batch')
_GENERATION = re.compile(br'^generation: *([0-9]+) *$', re.M)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def plan_generation(path):
    """The `generation:` of a linux.yaml, or None."""
    try:
        with open(path, 'rb') as f:
            m = _GENERATION.search(f.read(4096))
    except OSError:
        return None
    return int(m.group(1)) if m else None


def netdsl_cmd(module, *args):
    cmd = [module.params['netdsl']] + list(args)
    if module.params.get('netns'):
        cmd += ['--netns', module.params['netns']]
    return cmd


def run(module, cmd):
    env = dict(module.params.get('environment') or {})
    env.setdefault('NO_COLOR', '1')
    start = time.monotonic()
    rc, out, err = module.run_command(cmd, environ_update=env)
    return rc, out, err, time.monotonic() - start


def read_applied(dest):
    try:
        with open(os.path.join(dest, 'applied.json')) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def write_applied(module, dest, record):
    tmp = os.path.join(dest, '.applied.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(record, f, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(dest, 'applied.json'))


def status(module):
    """`netdsl status --json` as a dict ({} when it fails)."""
    rc, out, err, _ = run(module, netdsl_cmd(module, 'status', '--json'))
    if rc != 0:
        return {}
    try:
        return json.loads(out)
    except ValueError:
        return {}


def restore_previous(module, dest):
    """Puts DEST/previous/* back (the generation before the last install)."""
    prev = os.path.join(dest, 'previous')
    for name in ARTIFACTS:
        src = os.path.join(prev, name)
        if os.path.exists(src):
            tmp = os.path.join(dest, '.' + name + '.tmp')
            shutil.copyfile(src, tmp)
            os.rename(tmp, os.path.join(dest, name))
        elif os.path.exists(os.path.join(dest, name)):
            os.unlink(os.path.join(dest, name))


def settle(module, dest):
    """When the installed change was applied with confirm-or-revert and the
    host has since reverted it (its watchdog, or `netdsl rollback`), the
    installed files go back to the generation before. Returns (record, status)."""
    record = read_applied(dest)
    st = status(module)
    if record.get('pending_id') and st.get('id') == record['pending_id']:
        if st.get('phase') in ('reverted', 'failed'):
            restore_previous(module, dest)
            record = {'generation': record.get('previous_generation'), 'previous_generation': None,
                      'pending_id': None, 'reverted': st.get('reason', '')}
            write_applied(module, dest, record)
        elif st.get('phase') == 'confirmed':
            record['pending_id'] = None
            write_applied(module, dest, record)
    return record, st


def running_generation(dest):
    """The generation the host runs: that of the installed linux.yaml."""
    return plan_generation(os.path.join(dest, 'linux.yaml'))
