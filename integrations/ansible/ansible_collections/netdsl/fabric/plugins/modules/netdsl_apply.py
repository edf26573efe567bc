# Host side of netdsl_apply (the action plugin of the same name pushes the
# artifacts first).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: netdsl_apply
short_description: converge a host to its netdslc build, with confirm-or-revert and probes
description:
  - Pushes the host's C(linux.yaml), C(tables.ndt) and C(linux.batch) from a
    C(netdslc build) output directory, after checking each against its sha256 in
    the build's C(manifest.json) on the controller, and again on the host before use.
  - In check mode runs C(netdsl plan --json) (exit 2 = changes pending) and
    reports them; with C(--diff) each change is one line of the diff.
  - A plan that recreates links (the kernel cannot change them in place: a
    vxlan's local address, a VM port's peer or identity) lists them under
    C(disruptive); check mode warns that the apply would be refused, C(--diff)
    marks each such change C([disruptive]) and lists the links with the reason.
    Without I(allow_disruptive) the host fails with netdsl's own refusal and
    nothing on it is changed.
  - Otherwise runs C(netdsl apply) with C(--confirm-within) and probes, then
    installs the artifacts under I(dest). The change stays pending until
    M(netdsl.fabric.netdsl_confirm) confirms it; if nobody does, the host's
    own watchdog rolls it back.
  - Returns the apply's statistics (C(netdsl apply --stats)).
options:
  manifest:
    description: The build's manifest.json (controller path); default the C(netdsl_manifest) host variable.
    type: path
  host:
    description: The host's name in the fabric; default C(netdsl_host), then C(inventory_hostname).
    type: str
  dest:
    description: Where the host keeps its installed artifacts.
    type: path
    default: /var/lib/netdsl
  confirm_within:
    description: C(netdsl apply --confirm-within); empty applies without confirm-or-revert.
    type: str
    default: 2m
  probes:
    description: C(--probe ADDR[:PORT]) for each item (beside the default gateway and underlay peers).
    type: list
    elements: str
    default: []
  no_probes:
    description: C(--no-probes).
    type: bool
    default: false
  allow_disruptive:
    description:
      - C(netdsl apply --allow-disruptive) - recreate the links the plan marks
        disruptive (each goes down and is created again; a VM port's guest end
        is a new device). Default false, netdsl's safe default - such a host
        fails with netdsl's refusal, which names every link, and is left as it was.
    type: bool
    default: false
  netns:
    description: C(--netns NS).
    type: str
  netdsl:
    description: The netdsl binary on the host.
    type: str
    default: netdsl
  environment:
    description: Extra environment for netdsl (C(NETDSL_STATE_DIR)).
    type: dict
    default: {}
author: netdsl developers
"""

RETURN = r"""
generation: {description: the generation now installed (pending or confirmed), type: int}
previous_generation: {description: the generation installed before, type: int}
pending: {description: the change awaits netdsl_confirm, type: bool}
confirm_id: {description: the id of the pending change (netdsl status), type: str}
changes: {description: the plan, one dict per object (action, object, name, detail, disruptive), type: list}
disruptive: {description: "the links the plan recreates (plan --json's top-level list: link, reason); apply needs allow_disruptive", type: list}
stats: {description: netdsl apply --stats (requests, dumps, round trips, phase times) and apply_seconds, type: dict}
"""

import os
import re
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netdsl.fabric.plugins.module_utils import netdsl_host as nh

_SIGN = {'create': '+', 'delete': '-', 'modify': '~', 'move': '>'}


def plan_lines(plan):
    lines = []
    for c in plan.get('changes', []):
        lines.append('%s %s %s: %s%s' % (_SIGN.get(c.get('action'), '?'), c.get('object'), c.get('name'), c.get('detail'),
                                         ' [disruptive]' if c.get('disruptive') else ''))
    for c in plan.get('conflicts', []):
        lines.append('! conflict: %s' % (c if isinstance(c, str) else c.get('message', c)))
    for d in plan.get('disruptive', []):
        lines.append('! disruptive: link %s is recreated (%s)' % (d.get('link'), d.get('reason')))
    return lines


def disruptive_summary(disruptive):
    return ', '.join('%s (%s)' % (d.get('link'), d.get('reason')) for d in disruptive)


def parse_stats(text):
    stats = {}
    for line in text.splitlines():
        m = re.match(r'stats: (\d+) mutating netlink requests, (\d+) dumps, (\d+) get requests, (\d+) round trips', line)
        if m:
            stats.update(mutating_requests=int(m.group(1)), dumps=int(m.group(2)), get_requests=int(m.group(3)),
                         round_trips=int(m.group(4)))
        m = re.match(r'stats: time (.*)', line)
        if m:
            stats['phases'] = {k: float(v) for k, v in re.findall(r'(\w+) ([0-9.]+)s', m.group(1))}
        m = re.search(r'applied (\d+) changes in (\d+) steps', line)
        if m:
            stats.update(changes=int(m.group(1)), steps=int(m.group(2)))
    return stats


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type='str', required=True),
            pushed=dict(type='dict', required=True),
            sha256=dict(type='dict', required=True),
            dest=dict(type='path', default='/var/lib/netdsl'),
            confirm_within=dict(type='str', default='2m'),
            probes=dict(type='list', elements='str', default=[]),
            no_probes=dict(type='bool', default=False),
            allow_disruptive=dict(type='bool', default=False),
            netns=dict(type='str'),
            netdsl=dict(type='str', default='netdsl'),
            environment=dict(type='dict', default={}),
        ),
        supports_check_mode=True,
    )
    p = module.params
    dest = p['dest']
    # The pushed copies, checked against the manifest's sha256 before any use.
    for name, digest in sorted(p['sha256'].items()):
        path = p['pushed'].get(name)
        if not path or nh.sha256_file(path) != digest:
            module.fail_json(msg='%s arrived with sha256 %s, the manifest says %s; nothing was changed'
                             % (name, path and nh.sha256_file(path), digest))
    plan_file = p['pushed']['linux.yaml']
    target = nh.plan_generation(plan_file)

    if not module.check_mode and not os.path.isdir(dest):
        os.makedirs(dest, 0o755)
    record, st = nh.settle(module, dest) if os.path.isdir(dest) else ({}, nh.status(module))
    running = nh.running_generation(dest)
    files_changed = sorted(n for n in p['sha256'] if not os.path.exists(os.path.join(dest, n)) or
                           nh.sha256_file(os.path.join(dest, n)) != p['sha256'][n])

    rc, out, err, seconds = nh.run(module, nh.netdsl_cmd(module, 'plan', plan_file, '--json'))
    if rc not in (0, 2):
        module.fail_json(msg='netdsl plan failed: ' + (err or out).strip(), rc=rc, running_generation=running,
                         generation=running, target_generation=target)
    try:
        import json
        plan = json.loads(out)
    except ValueError:
        module.fail_json(msg='netdsl plan --json printed no JSON', stdout=out, stderr=err)
    changes = plan.get('changes', [])
    disruptive = plan.get('disruptive', [])
    lines = plan_lines(plan)
    result = dict(host=p['host'], target_generation=target, running_generation=running, previous_generation=running,
                  generation=running, changes=changes, disruptive=disruptive, in_sync=(rc == 0),
                  files_changed=files_changed, pending=False, confirm_id=None, stats={})
    diff_text = ''.join(l + '\n' for l in lines)
    for name in files_changed:
        diff_text += '~ artifact %s (generation %s -> %s)\n' % (name, running, target)
    result['diff'] = {'before_header': '%s: generation %s, as it is' % (p['host'], running),
                      'after_header': '%s: generation %s' % (p['host'], target),
                      'prepared': diff_text}
    result['changed'] = rc == 2 or bool(files_changed)
    if module.check_mode and disruptive and not p['allow_disruptive']:
        module.warn('%s: the plan recreates %d link%s: %s; the apply would be refused unless allow_disruptive is set '
                    '(rollout.yml: -e netdsl_allow_disruptive=true)'
                    % (p['host'], len(disruptive), '' if len(disruptive) == 1 else 's', disruptive_summary(disruptive)))
    if module.check_mode or not result['changed']:
        module.exit_json(**result)

    if rc == 2:
        cmd = nh.netdsl_cmd(module, 'apply', plan_file, '--stats')
        if p['confirm_within']:
            cmd += ['--confirm-within', p['confirm_within']]
        for probe in p['probes']:
            cmd += ['--probe', probe]
        if p['no_probes']:
            cmd.append('--no-probes')
        if p['allow_disruptive']:
            cmd.append('--allow-disruptive')
        rc, out, err, seconds = nh.run(module, cmd)
        result['stats'] = parse_stats(out + '\n' + err)
        result['stats']['apply_seconds'] = round(seconds, 3)
        if rc != 0:
            said = (err or out).strip()
            if disruptive and not p['allow_disruptive']:
                # netdsl refused before touching anything; its message names every link.
                result.update(msg='netdsl apply refused on %s (set allow_disruptive to recreate the links; rollout.yml: '
                              '-e netdsl_allow_disruptive=true): %s' % (p['host'], said))
            else:
                # netdsl rolled everything back itself (all or nothing).
                result.update(msg='netdsl apply failed on %s (nothing changed: it rolled back): %s' % (p['host'], said))
            result.update(rc=rc, stdout=out, stderr=err, changed=False)
            module.fail_json(**result)
        if p['confirm_within'] and 'confirm with' in (out + err):
            st = nh.status(module)
            if st.get('phase') == 'pending':
                result.update(pending=True, confirm_id=st.get('id'), deadline=st.get('deadline'))

    # Install the artifacts; keep the generation before for a rollback.
    prev = os.path.join(dest, 'previous')
    if os.path.isdir(prev):
        shutil.rmtree(prev)
    os.makedirs(prev)
    for name in nh.ARTIFACTS:
        cur = os.path.join(dest, name)
        if os.path.exists(cur):
            shutil.copyfile(cur, os.path.join(prev, name))
        if name in p['pushed']:
            module.atomic_move(p['pushed'][name], cur)
    nh.write_applied(module, dest, {'generation': target, 'previous_generation': running,
                                    'pending_id': result['confirm_id']})
    result['generation'] = target
    module.exit_json(**result)


if __name__ == '__main__':
    main()
