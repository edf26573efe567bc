"""The random fabric of tests/build/incremental_differential.py: a model of the
source (hosts, VM networks, VMs with their NICs) rendered to .netdsl text, with
the cosmetic and broken state of each declaration; helpers for locks and trees."""
import hashlib
import ipaddress
import json
import os
import re

IDENT = re.compile(r'[A-Za-z_][A-Za-z0-9_.\-]*')


def dsl_name(name):
    """A name as the source (and the lock's keys) write it: quoted unless an identifier."""
    if IDENT.fullmatch(name):
        return name
    return '"%s"' % name.replace('\\', '\\\\').replace('"', '\\"')

class Nic:
    def __init__(self, net, subnet, ip=None, mac=None, cls=None):
        self.net, self.subnet, self.ip, self.mac, self.cls = net, subnet, ip, mac, cls


class Vm:
    def __init__(self, name, host, nics):
        self.name, self.host, self.nics = name, host, nics
        self.style = 0          # 0 one line, 1 multi-line, 2 odd spacing, 3 with inner comments
        self.comment = None     # a comment (with its markers) on the lines above the declaration
        self.inner = None       # a comment inside the declaration
        self.broken = None      # a syntax error in this declaration (text replacing it)
        self.file = 'fabric.netdsl'
        self.front = False      # declared before the infrastructure


class Host:
    def __init__(self, name, hyperv=False):
        self.name, self.hyperv = name, hyperv
        self.mtu = None
        self.style = 0


class Network:
    def __init__(self, name, isolation, base, nat=False):
        self.name, self.isolation, self.nat = name, isolation, nat
        self.base = base               # second octet of its CA space 10.B.{0,1}.0/24
        self.subnets = ['a', 'b']
        self.pool_hi = {'a': 90, 'b': 90}
        self.style = 0
        self.comment = None


class Fabric:
    """The source as a model plus the cosmetic and broken state of each unit."""

    def __init__(self, rng, size='small'):
        self.rng = rng
        big = size == 'medium'
        nhosts = rng.randint(5, 10) if big else rng.randint(2, 4)
        self.hosts = [Host('h%d' % (i + 1)) for i in range(nhosts)]
        if rng.random() < 0.5:
            rng.choice(self.hosts).hyperv = True
        self.gateway = True
        nnets = rng.randint(3, 5) if big else rng.randint(2, 3)
        isolations = ['vxlan', 'nvgre'] + [rng.choice(['vxlan', 'nvgre']) for _ in range(nnets - 2)]
        rng.shuffle(isolations)   # both kinds in every fabric
        overlap = rng.random() < 0.5   # tenants reuse one CA space (10.1.x) or each has its own
        self.nets = []
        for i in range(nnets):
            self.nets.append(Network('t%d' % (i + 1), isolations[i], 1 if overlap else i + 1))
        self.nets[0].nat = True
        self.classes = ['gold', 'silver']
        self.vms = []
        self.vm_counter = 0
        self.mac_counter = 0x10
        self.crlf = set()               # files written with CRLF line ends
        self.trailing = 0               # blank lines at the end of the root file
        self.split = rng.random() < 0.4  # some VMs live in an imported file
        self.infra_comment = None       # a comment inside an infrastructure declaration
        self.infra_style = 0
        self.broken_infra = None        # a syntax error in the infrastructure
        self.extra_unit = None          # an extra top-level unit with an error
        for _ in range(rng.randint(15, 40) if big else rng.randint(4, 9)):
            self.add_vm()

    # ---- helpers ---------------------------------------------------------
    def new_vm_name(self):
        self.vm_counter += 1
        if self.rng.random() < 0.1:
            # names the source must quote, with what a top-level splitter must not take
            # for structure: braces, comment openers, a quote, a semicolon
            return self.rng.choice(['we}b {%d', 'a"q//%d', 'x /* %d */', 'semi;%d', 'vm x { %d']) % self.vm_counter
        return self.rng.choice(['vm', 'web', 'db', 'app']) + str(self.vm_counter)

    def subnet_prefix(self, net, subnet):
        return ipaddress.ip_network('10.%d.%d.0/24' % (net.base, 0 if subnet == 'a' else 1))

    def random_nic(self):
        net = self.rng.choice(self.nets)
        nic = Nic(net.name, self.rng.choice(net.subnets))
        if self.rng.random() < 0.2:
            nic.ip = self.free_static_ip(nic)
        if self.rng.random() < 0.2:
            nic.mac = self.free_static_mac()
        if self.rng.random() < 0.3:
            nic.cls = self.rng.choice(self.classes)
        return nic

    def net(self, name):
        for n in self.nets:
            if n.name == name:
                return n
        return None

    def used_static_ips(self):
        used = set()
        for vm in self.vms:
            for nic in vm.nics:
                n = self.net(nic.net)
                if nic.ip and n:
                    used.add((n.base, nic.ip))
        return used

    def free_static_ip(self, nic):
        n = self.net(nic.net)
        if n is None:
            return None
        prefix = self.subnet_prefix(n, nic.subnet)
        used = self.used_static_ips()
        for _ in range(50):
            # inside the pool's range or above it: the allocator must step around both
            host = self.rng.choice([self.rng.randint(10, 60), self.rng.randint(200, 250)])
            ip = str(prefix.network_address + host)
            if (n.base, ip) not in used:
                return ip
        return None

    def free_static_mac(self):
        self.mac_counter += 1
        if self.rng.random() < 0.5:  # inside the MAC pool: the allocator must step around it
            return '02:00:00:00:%02x:%02x' % (self.mac_counter // 256, self.mac_counter % 256)
        return '02:aa:00:00:%02x:%02x' % (self.mac_counter // 256, self.mac_counter % 256)

    def add_vm(self, host=None):
        vm = Vm(self.new_vm_name(), host or self.rng.choice(self.hosts).name,
                [self.random_nic() for _ in range(self.rng.choice([1, 1, 1, 2, 3]))])
        vm.style = self.rng.randrange(4)
        if self.split and self.rng.random() < 0.5:
            vm.file = 'vms.netdsl'
        elif self.rng.random() < 0.1:
            vm.front = True
        self.vms.insert(self.rng.randint(0, len(self.vms)), vm)
        return vm

    # ---- rendering -------------------------------------------------------
    def render_vm(self, vm):
        if vm.broken:
            return vm.broken
        parts = []
        for nic in vm.nics:
            props = ['vm_network = %s;' % nic.net, 'vm_subnet = %s;' % nic.subnet]
            if nic.ip:
                props.append('ip = %s;' % nic.ip)
            if nic.mac:
                props.append('mac = %s;' % nic.mac)
            if nic.cls:
                props.append('classification = %s;' % nic.cls)
            parts.append(props)
        if vm.style == 0:
            body = ' '.join('nic { %s }' % ' '.join(p) for p in parts)
            text = 'vm %s { host = %s; %s }' % (dsl_name(vm.name), vm.host, body)
        elif vm.style == 1:
            lines = ['vm %s {' % dsl_name(vm.name), '  host = %s;' % vm.host]
            for p in parts:
                lines.append('  nic {')
                lines += ['    ' + x for x in p]
                lines.append('  }')
            lines.append('}')
            text = '\n'.join(lines)
        elif vm.style == 2:
            body = '\t'.join('nic{%s}' % '  '.join(x.replace(' = ', '=') for x in p) for p in parts)
            text = 'vm   %s{host=%s;\t%s}' % (dsl_name(vm.name), vm.host, body)
        else:
            lines = ['vm %s { // %s' % (dsl_name(vm.name), 'placed on ' + vm.host), '  host = %s; /* host */' % vm.host]
            for i, p in enumerate(parts):
                lines.append('  nic { %s } // nic%d' % (' '.join(p), i))
            lines.append('}')
            text = '\n'.join(lines)
        if vm.inner:
            at = text.index('{') + 1
            text = '%s /* %s */%s' % (text[:at], vm.inner, text[at:])
        if vm.comment:
            text = '%s\n%s' % (vm.comment, text)
        return text

    def render_infra(self):
        ic = ('  // %s\n' % self.infra_comment) if self.infra_comment else ''
        sp = ' ' * (1 + self.infra_style)
        out = []
        out.append('// generated by tests/build/incremental_differential.py')
        out.append('host_group rack {')
        for h in self.hosts:
            nic = '"Ethernet"' if h.hyperv else 'eth0'
            plat = ' platform = hyperv;' if h.hyperv else ''
            mtu = ' mtu = %d;' % h.mtu if h.mtu else ''
            out.append('  host %s {%s nic %s { switch = fabric; uplink = up; }%s }' % (h.name, plat, nic, mtu))
        out.append('}')
        if self.gateway:
            out.append('host_group edge {\n  host gw {\n    nic inside { switch = gwsw; uplink = inbound; }\n'
                       '    nic outside { switch = extsw; uplink = outbound; }\n  }\n}')
        groups = '[rack, edge]' if self.gateway else '[rack]'
        out.append('logical_network underlay {\n%s  network_virtualization = true;\n'
                   '  site dc { host_groups = %s; subnet 172.16.0.0/24; }\n'
                   '  ip_pool pa { site = dc; subnet = 172.16.0.0/24; range = 172.16.0.10 - 172.16.0.200; }\n}'
                   % (ic, groups))
        if self.gateway:
            out.append('logical_network internet {\n  network_virtualization = false;\n'
                       '  site outside { host_groups = [edge]; subnet 198.51.100.0/24; }\n'
                       '  ip_pool ext { site = outside; subnet = 198.51.100.0/24; range = 198.51.100.10 - 198.51.100.50;'
                       ' gateway = 198.51.100.1; }\n}')
        out.append('mac_pool macs { range = 02:00:00:00:00:00 - 02:00:00:00:ff:ff; }')
        for n in self.nets:
            lines = []
            if n.comment:
                lines.append('// %s' % n.comment)
            lines.append('vm_network %s {' % n.name)
            lines.append('  logical_network = underlay;%sisolation = %s;' % (sp, n.isolation))
            for s in n.subnets:
                p = self.subnet_prefix(n, s)
                lines.append('  vm_subnet %s { subnet = %s; }' % (s, p))
                lines.append('  ip_pool %s_pool { vm_subnet = %s; range = %s - %s; gateway = %s; }'
                             % (s, s, p.network_address + 10, p.network_address + n.pool_hi[s], p.network_address + 1))
            if n.nat and self.gateway:
                lines.append('  gateway { host = gw; external_pool = ext; nat = true; }')
            lines.append('}')
            out.append('\n'.join(lines))
        out.append('port_classification gold { description = "fast"; }\n'
                   'port_classification silver { description = "slow"; }\n'
                   'port_profile gold { security { dhcp_guard = true; } bandwidth { minimum_weight = 10; maximum = 10Gbps; } }\n'
                   'port_profile silver { security { mac_spoofing = false; router_guard = true; } }')
        out.append('uplink_port_profile up { sites = [dc]; }')
        out.append('logical_switch fabric {\n  uplink_mode = no_team;\n  uplinks = [up];\n'
                   '  virtual_port gold { classification = gold; profile = gold; }\n'
                   '  virtual_port silver { classification = silver; profile = silver; }\n}')
        if self.gateway:
            out.append('uplink_port_profile inbound { sites = [dc]; }\nuplink_port_profile outbound { sites = [outside]; }\n'
                       'logical_switch gwsw {\n  uplink_mode = no_team;\n  uplinks = [inbound];\n'
                       '  virtual_port gold { classification = gold; profile = gold; }\n'
                       '  virtual_port silver { classification = silver; profile = silver; }\n}\n'
                       'logical_switch extsw { uplink_mode = no_team; uplinks = [outbound]; }')
        text = '\n'.join(out)
        if self.broken_infra:
            text = self.broken_infra(text)
        return text

    def render(self):
        """{file name: text}."""
        files = {}
        root = ['import "vms.netdsl";'] if self.split else []
        front = []
        root.append(self.render_infra())
        other = ['// VMs kept in an imported file']
        for i, vm in enumerate(self.vms):
            target = other if (self.split and vm.file == 'vms.netdsl') else front if vm.front else root
            target.append(self.render_vm(vm))
        infra_at = 1 if self.split else 0
        root[infra_at:infra_at] = front
        if self.extra_unit:
            root.append(self.extra_unit)
        files['fabric.netdsl'] = '\n'.join(root) + '\n' * (1 + self.trailing)
        if self.split:
            files['vms.netdsl'] = '\n'.join(other) + '\n'
        for name in self.crlf & set(files):
            files[name] = files[name].replace('\n', '\r\n')
        return files


# ---- lock helpers ---------------------------------------------------------
def lock_entries(text, section):
    """[(line index, key, value)] of one section of a lock text (format 2)."""
    out = []
    if text is None:
        return out
    lines = text.split('\n')
    cur = None
    for i, line in enumerate(lines):
        m = re.match(r'^([a-z_]+):', line)
        if m:
            cur = m.group(1)
            continue
        if cur == section and line.startswith('  '):
            body = line.strip()
            if body.startswith('"'):   # a quoted key: `"vm \"we}b\"/nic0": "10.1.0.11"`
                end = 1
                while body[end] != '"':
                    end += 2 if body[end] == '\\' else 1
                k, v = json.loads(body[:end + 1]), body[end + 3:]
            else:
                k, _, v = body.partition(': ')
            out.append((i, k, v.strip('"')))
    return out


def tree(path, skip_cache=False):
    """{relative path: sha256} of every file under path (symlinks as their target text)."""
    out = {}
    if not os.path.isdir(path):
        return out
    for root, dirs, files in os.walk(path):
        rel_root = os.path.relpath(root, path)
        if skip_cache and (rel_root == '.netdsl-cache' or rel_root.startswith('.netdsl-cache/')):
            continue
        for f in files:
            p = os.path.join(root, f)
            rel = os.path.normpath(os.path.join(rel_root, f))
            if os.path.islink(p):
                out[rel] = 'link:' + os.readlink(p)
            else:
                with open(p, 'rb') as fh:
                    out[rel] = hashlib.sha256(fh.read()).hexdigest()
    return out
