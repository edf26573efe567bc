# An inventory from a netdslc build: DIR/manifest.json lists every host with
# its host groups; its artifacts say which platform it runs.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: netdsl
short_description: hosts and groups of a netdslc build (manifest.json)
description:
  - Reads C(manifest.json) of a C(netdslc build -o DIR) output directory.
  - Every host of the fabric becomes an inventory host in group C(netdsl), in
    C(netdsl_linux) when it has a C(linux.yaml), in C(netdsl_hyperv) when it
    has a C(hyperv.ps1), and in one group per C(host_group) it sits in (nested
    host groups become child groups), named C(group_prefix) plus the host
    group's name made safe for Ansible.
  - Host variables C(netdsl_manifest) (the manifest's absolute path),
    C(netdsl_host) (the fabric's name of the host), C(netdsl_generation),
    C(netdsl_platform) (C(linux) or C(hyperv)), and C(netdsl_artifacts)
    (path, sha256 and size of each of the host's files).
  - The file must end in C(.netdsl.yml) or C(.netdsl.yaml). Addresses come
    from ordinary C(host_vars) or from C(compose).
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: The name of this plugin.
    required: true
    choices: ['netdsl.fabric.netdsl']
  manifest:
    description: Path of the build's manifest.json (relative to this file), or of its directory.
    required: true
    type: path
  group_prefix:
    description: Prefix of the groups made from host groups.
    type: str
    default: ''
"""

EXAMPLES = r"""
# fleet.netdsl.yml
plugin: netdsl.fabric.netdsl
manifest: out/manifest.json
compose:
  ansible_host: "'10.250.0.' ~ (netdsl_host | regex_replace('^node', ''))"
"""

import json
import os

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable

try:
    from ansible.inventory.group import to_safe_group_name
except ImportError:  # pragma: no cover
    to_safe_group_name = None


def _safe(name):
    if to_safe_group_name is not None:
        return to_safe_group_name(name, replacer='_', force=True, silent=True)
    return ''.join(c if c.isalnum() or c == '_' else '_' for c in name)


def read_manifest(path):
    """The manifest as {host: {groups, generation, artifacts, platform}}; raises ValueError."""
    if os.path.isdir(path):
        path = os.path.join(path, 'manifest.json')
    with open(path, 'rb') as f:
        manifest = json.loads(f.read().decode('utf-8'))
    if manifest.get('format') != 1:
        raise ValueError('%s: unsupported manifest format %r' % (path, manifest.get('format')))
    hosts = {}
    for entry in manifest.get('hosts', []):
        hosts[entry['name']] = {'groups': list(entry.get('groups', [])),
                                'generation': entry.get('generation'),
                                'artifacts': []}
    for artifact in manifest.get('artifacts', []):
        parts = artifact['path'].split('/')
        if len(parts) != 3 or parts[0] != 'hosts':
            continue
        host = hosts.setdefault(parts[1], {'groups': [], 'generation': None, 'artifacts': []})
        host['artifacts'].append({'path': artifact['path'], 'name': parts[2],
                                  'sha256': artifact['sha256'], 'size': artifact.get('size')})
    for host in hosts.values():
        names = {a['name'] for a in host['artifacts']}
        host['platforms'] = sorted((['linux'] if 'linux.yaml' in names else []) +
                                   (['hyperv'] if 'hyperv.ps1' in names else []))
    return os.path.abspath(path), manifest, hosts


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = 'netdsl.fabric.netdsl'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and \
            path.endswith(('.netdsl.yml', '.netdsl.yaml'))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        manifest_path = self.get_option('manifest')
        if not os.path.isabs(manifest_path):
            manifest_path = os.path.join(os.path.dirname(path), manifest_path)
        try:
            manifest_path, manifest, hosts = read_manifest(manifest_path)
        except (OSError, ValueError, KeyError) as e:
            raise AnsibleParserError('netdsl inventory: cannot read %s: %s' % (manifest_path, to_native(e)))
        prefix = self.get_option('group_prefix')
        strict = self.get_option('strict')
        self.inventory.add_group('netdsl')
        for platform in ('linux', 'hyperv'):
            self.inventory.add_group('netdsl_' + platform)
            self.inventory.add_child('netdsl', 'netdsl_' + platform)
        for name in sorted(hosts):
            host = hosts[name]
            self.inventory.add_host(name, group='netdsl')
            for platform in host['platforms']:
                self.inventory.add_host(name, group='netdsl_' + platform)
            parent = None
            for group in host['groups']:
                safe = self.inventory.add_group(_safe(prefix + group))
                if parent is not None:
                    self.inventory.add_child(parent, safe)
                parent = safe
            if parent is not None:
                self.inventory.add_host(name, group=parent)
            variables = {
                'netdsl_manifest': manifest_path,
                'netdsl_host': name,
                'netdsl_generation': host['generation'],
                'netdsl_platform': host['platforms'][0] if len(host['platforms']) == 1 else
                                   ('linux' if 'linux' in host['platforms'] else None),
                'netdsl_artifacts': host['artifacts'],
            }
            for key, value in variables.items():
                self.inventory.set_variable(name, key, value)
            hostvars = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option('compose'), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, name, strict=strict)
