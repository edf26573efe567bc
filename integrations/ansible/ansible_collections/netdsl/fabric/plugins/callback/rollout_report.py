# rollout_report: at the end of a run (also when the rollout halted), prints
# which host runs which generation and what happened to it; with
# NETDSL_REPORT=PATH also writes it as JSON.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: rollout_report
type: aggregate
short_description: which host runs which generation after a netdsl rollout
description:
  - Collects the results of netdsl.fabric.netdsl_apply and netdsl_confirm and
    prints one line per host at the end of the run, whether the rollout
    completed or halted; in check mode, the fleet's drift.
  - Enable it with C(callbacks_enabled = netdsl.fabric.rollout_report).
options:
  report_path:
    description: Also write the report as JSON here.
    env: [{name: NETDSL_REPORT}]
    ini: [{section: netdsl, key: report}]
    type: path
"""

import json

from ansible import context
from ansible.plugins.callback import CallbackBase

_MODULES = ('netdsl_apply', 'netdsl_confirm')


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'netdsl.fabric.rollout_report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.hosts = {}

    @property
    def check_mode(self):
        return bool(context.CLIARGS.get('check'))

    def _entry(self, host):
        return self.hosts.setdefault(host, {'host': host, 'before': None, 'generation': None, 'target': None,
                                            'outcome': 'untouched', 'changes': 0, 'apply_seconds': None})

    @staticmethod
    def _action(result):
        return (result._task.action or '').split('.')[-1]

    def v2_runner_on_ok(self, result):
        action = self._action(result)
        if action not in _MODULES:
            return
        r = result._result
        e = self._entry(result._host.get_name())
        if action == 'netdsl_apply':
            if e['before'] is None:
                e['before'] = r.get('running_generation')
            e['target'] = r.get('target_generation')
            e['changes'] = len(r.get('changes') or [])
            e['apply_seconds'] = (r.get('stats') or {}).get('apply_seconds')
            if self.check_mode or not r.get('changed'):
                e['generation'] = r.get('running_generation')
                if not r.get('changed'):
                    e['outcome'] = 'in sync'
                else:
                    e['outcome'] = 'drift: %d changes' % e['changes']
                    if r.get('disruptive'):
                        e['outcome'] += ', %d recreating links [disruptive]: %s' % (
                            len(r['disruptive']), ','.join(d.get('link', '?') for d in r['disruptive']))
                    if r.get('files_changed'):
                        e['outcome'] += ', artifacts %s differ' % ','.join(r['files_changed'])
            else:
                e['generation'] = r.get('generation')
                e['outcome'] = 'applied, awaiting confirmation' if r.get('pending') else 'applied'
            return
        state = result._task.args.get('state', 'confirmed')
        if state == 'query':
            if e['before'] is None:
                e['before'] = r.get('generation')
            e['generation'] = r.get('generation')
            if r.get('phase') == 'pending':
                e['outcome'] = 'untouched (a change awaits confirmation)'
            return
        e['generation'] = r.get('generation')
        if state == 'confirmed':
            e['outcome'] = 'confirmed'
        elif r.get('changed'):
            e['outcome'] = 'rolled back'

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors:
            return
        action = self._action(result)
        e = self.hosts.get(result._host.get_name())
        msg = (result._result.get('msg') or '').strip().splitlines()
        msg = msg[0][:200] if msg else result._task.get_name()
        if action not in _MODULES:
            if e is not None and e['outcome'].startswith('applied'):
                e['outcome'] = 'failed after apply: %s' % msg
            return
        e = self._entry(result._host.get_name())
        r = result._result
        if e['before'] is None:
            e['before'] = r.get('running_generation')
        e['generation'] = r.get('generation', r.get('running_generation', e['before']))
        e['outcome'] = 'failed: %s' % msg

    def v2_runner_on_unreachable(self, result):
        self._entry(result._host.get_name())['outcome'] = 'unreachable'

    def v2_playbook_on_stats(self, stats):
        if not self.hosts:
            return
        title = 'netdsl fleet drift report' if self.check_mode else 'netdsl rollout report'
        self._display.banner(title.upper())
        for name in sorted(self.hosts):
            e = self.hosts[name]
            self._display.display('%-24s runs generation %-6s (before %s, build %s): %s' % (
                name, e['generation'], e['before'], e['target'], e['outcome']))
        path = self.get_option('report_path')
        if path:
            with open(path, 'w') as f:
                json.dump({'check_mode': self.check_mode, 'hosts': [self.hosts[h] for h in sorted(self.hosts)]},
                          f, indent=2, sort_keys=True)
