# netdsl_confirm: keep (or roll back, or only look at) a change netdsl_apply
# left pending on a host.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: netdsl_confirm
short_description: confirm, roll back or query a pending netdsl change on a host
description:
  - C(state=confirmed) runs C(netdsl confirm) for the change netdsl_apply left
    pending; past its deadline the host has rolled it back and the task fails.
  - C(state=rolled_back) runs C(netdsl rollback) and puts the installed
    artifacts of the generation before back.
  - C(state=query) changes nothing and returns the generation the host runs
    and the phase of its last change.
  - With I(id), a pending change with another id (another rollout's) is left
    alone and the task fails.
options:
  state:
    type: str
    choices: [confirmed, rolled_back, query]
    default: confirmed
  id:
    description: The confirm_id netdsl_apply returned.
    type: str
  dest:
    type: path
    default: /var/lib/netdsl
  netns:
    type: str
  netdsl:
    type: str
    default: netdsl
  environment:
    type: dict
    default: {}
author: netdsl developers
"""

RETURN = r"""
generation: {description: the generation the host runs after this task, type: int}
phase: {description: pending, confirmed, reverted, failed or none, type: str}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netdsl.fabric.plugins.module_utils import netdsl_host as nh


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', default='confirmed', choices=['confirmed', 'rolled_back', 'query']),
            id=dict(type='str'),
            dest=dict(type='path', default='/var/lib/netdsl'),
            netns=dict(type='str'),
            netdsl=dict(type='str', default='netdsl'),
            environment=dict(type='dict', default={}),
        ),
        supports_check_mode=True,
    )
    p = module.params
    dest = p['dest']
    record, st = nh.settle(module, dest) if os.path.isdir(dest) else ({}, nh.status(module))
    phase = st.get('phase', 'none')
    result = dict(changed=False, phase=phase, generation=nh.running_generation(dest), confirm_id=st.get('id'),
                  deadline=st.get('deadline'))
    if p['state'] == 'query' or module.check_mode:
        module.exit_json(**result)
    if phase != 'pending':
        if p['state'] == 'confirmed':
            module.fail_json(msg='nothing awaits confirmation (last change: %s %s)' % (phase, st.get('reason', '')),
                             **result)
        module.exit_json(msg='nothing pending to roll back', **result)
    if p['id'] and st.get('id') != p['id']:
        module.fail_json(msg='the pending change %s is not the one this task was given (%s): left alone'
                         % (st.get('id'), p['id']), **result)
    verb = 'confirm' if p['state'] == 'confirmed' else 'rollback'
    rc, out, err, _ = nh.run(module, nh.netdsl_cmd(module, verb))
    record, st = nh.settle(module, dest)
    result.update(changed=True, phase=st.get('phase', 'none'), generation=nh.running_generation(dest),
                  stdout=out, stderr=err)
    if rc != 0:
        module.fail_json(msg='netdsl %s failed: %s' % (verb, (err or out).strip()), rc=rc, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
