# netdsl_rollout_lock: one rollout of a build at a time. The lock file names
# the ansible-playbook process that holds it (pid and start time); it is held
# exactly as long as that process lives, so a killed controller leaves no lock
# behind, and a second rollout started meanwhile is refused. Taking it is
# bookkeeping on the controller, never reported as a change.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import socket

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


def _start_time(pid):
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22), or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[19]
    except (OSError, IndexError, ValueError):
        return None


def _holder_alive(holder):
    return (holder.get('host') == socket.gethostname() and isinstance(holder.get('pid'), int)
            and _start_time(holder['pid']) == holder.get('start'))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        path = self._task.args.get('path')
        if not path:
            raise AnsibleActionFail('netdsl_rollout_lock: `path` is required')
        # Workers are forked from ansible-playbook: the parent is the run.
        me = {'pid': os.getppid(), 'start': _start_time(os.getppid()), 'host': socket.gethostname(),
              'playbook': ' '.join(open('/proc/%d/cmdline' % os.getppid()).read().split('\0')).strip()}
        for _ in range(3):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                try:
                    with open(path) as f:
                        holder = json.load(f)
                except (OSError, ValueError):
                    holder = {}
                if holder.get('pid') == me['pid'] and holder.get('start') == me['start']:
                    result.update(changed=False, msg='held by this rollout')
                    return result
                if _holder_alive(holder):
                    result.update(failed=True, holder=holder,
                                  msg='another rollout is in progress (pid %s: %s); refusing to start a second '
                                      'one' % (holder.get('pid'), holder.get('playbook', '')))
                    return result
                # Stale: its controller is gone. Take it over atomically.
                tmp_path = path + '.%d' % os.getpid()
                with open(tmp_path, 'w') as f:
                    json.dump(me, f)
                try:
                    os.rename(tmp_path, path)
                except OSError:
                    os.unlink(tmp_path)
                    continue
                with open(path) as f:
                    if json.load(f).get('pid') == me['pid']:
                        result.update(changed=False, msg='took over a stale lock of pid %s' % holder.get('pid'))
                        return result
                continue
            with os.fdopen(fd, 'w') as f:
                json.dump(me, f)
            result.update(changed=False, msg='locked ' + path)
            return result
        raise AnsibleActionFail('netdsl_rollout_lock: could not take %s' % path)
