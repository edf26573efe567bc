# Controller side of netdsl_apply: finds the host's artifacts in the build's
# manifest, checks them against their sha256 there, pushes them to the host
# and runs the module there (which checks them again before use).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

# What a Linux host receives; linux.batch is for people and goes along.
PUSHED = ('linux.yaml', 'tables.ndt', 'linux.batch')


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        manifest_path = args.pop('manifest', None) or task_vars.get('netdsl_manifest')
        host = args.pop('host', None) or task_vars.get('netdsl_host') or task_vars.get('inventory_hostname')
        if not manifest_path:
            raise AnsibleActionFail('netdsl_apply: no `manifest` (set it, or use the netdsl.fabric.netdsl inventory)')
        if os.path.isdir(manifest_path):
            manifest_path = os.path.join(manifest_path, 'manifest.json')
        try:
            with open(manifest_path, 'rb') as f:
                manifest = json.loads(f.read().decode('utf-8'))
        except (OSError, ValueError) as e:
            raise AnsibleActionFail('netdsl_apply: cannot read %s: %s' % (manifest_path, to_native(e)))
        out_dir = os.path.dirname(os.path.abspath(manifest_path))
        wanted = {}
        for artifact in manifest.get('artifacts', []):
            parts = artifact.get('path', '').split('/')
            if len(parts) == 3 and parts[0] == 'hosts' and parts[1] == host and parts[2] in PUSHED:
                wanted[parts[2]] = artifact['sha256']
        if 'linux.yaml' not in wanted:
            raise AnsibleActionFail('netdsl_apply: the manifest %s has no linux.yaml for host `%s`' % (manifest_path, host))

        # Refuse a build directory that does not match its own manifest
        # (a partial copy, a file edited by hand) before anything leaves.
        for name, digest in sorted(wanted.items()):
            local = os.path.join(out_dir, 'hosts', host, name)
            try:
                actual = sha256_file(local)
            except OSError as e:
                raise AnsibleActionFail('netdsl_apply: %s: %s' % (local, to_native(e)))
            if actual != digest:
                raise AnsibleActionFail('netdsl_apply: %s has sha256 %s, the manifest says %s: rebuild, or copy the '
                                        'whole output directory' % (local, actual, digest))

        remote_tmp = self._make_tmp_path()
        pushed = {}
        for name in sorted(wanted):
            remote = self._connection._shell.join_path(remote_tmp, name)
            self._transfer_file(os.path.join(out_dir, 'hosts', host, name), remote)
            pushed[name] = remote
        self._fixup_perms2([remote_tmp] + list(pushed.values()))

        module_args = dict(args)
        module_args.update({'host': host, 'pushed': pushed, 'sha256': wanted})
        result.update(self._execute_module(module_name='netdsl.fabric.netdsl_apply', module_args=module_args,
                                           task_vars=task_vars))
        self._remove_tmp_path(remote_tmp)
        return result
