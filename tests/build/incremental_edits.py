"""The edits of tests/build/incremental_differential.py: each acts on the source
model, the lock or the output directory of the persistent build (A), the way a
user would; `repair` undoes the faults the source or the lock has."""
import ipaddress
import os
import re
import shutil
import time

from incremental_fabric import Host, Network, dsl_name, lock_entries, tree

# Edit kinds that touch only top-level `vm` declarations, or only comments and
# whitespace outside the infrastructure's declarations: the fast path's domain.
FAST_KINDS = {
    'add_vm', 'remove_vm', 'move_host', 'change_subnet', 'change_network', 'static_ip', 'clear_ip',
    'static_mac', 'clear_mac', 'classification', 'rename_vm', 'add_nic', 'remove_nic', 'reorder_vm',
    'comment_top', 'comment_vm', 'whitespace_vm', 'whitespace_top', 'noop_touch_source',
    'vm_move_file', 'move_host_same_stat',
}
# Not in FAST_KINDS though VM-only: `vm_front` moves a declaration across the
# infrastructure, and a diff by common prefix and suffix then spans every
# infrastructure declaration (the build falls back to the full path: correct,
# not fast).


class Edits:
    """Mixin of Differential: needs self.rng, self.fabric, self.cur, self.work,
    self.lock_history, self.cache_history, self.good_lock, self.last_stderr,
    self.prev_clean, self.prev_handover, self.post_render, self.extra_kinds."""

    # ---- edits -------------------------------------------------------------
    def pick_vm(self, pred=lambda vm: True):
        c = [vm for vm in self.fabric.vms if pred(vm)]
        return self.rng.choice(c) if c else None

    def unpin(self, vm, index, sections=('customer_address',)):
        """Half of the time, deletes the lock's entries of NIC `index` of `vm` in
        `sections`, as ND2020's note tells the user (a moved NIC keeps its values
        otherwise)."""
        text = self.read_lock()
        if text is None or self.rng.random() < 0.5:
            return ''
        key = 'vm %s/nic%d' % (dsl_name(vm.name), index)
        doomed = {i for section in sections for i, k, _ in lock_entries(text, section) if k == key}
        if not doomed:
            return ''
        self.write_lock('\n'.join(l for i, l in enumerate(text.split('\n')) if i not in doomed))
        self.extra_kinds.append('lock_unpin')
        return ' (its lock entry deleted)'

    def read_lock(self):
        p = os.path.join(self.cur, 'fabric.lock')
        return open(p).read() if os.path.exists(p) else None

    def write_lock(self, text):
        with open(os.path.join(self.cur, 'fabric.lock'), 'w') as fh:
            fh.write(text)

    def out_files(self, cache=False):
        base = os.path.join(self.cur, 'out')
        t = tree(base)
        return sorted(p for p in t if p.startswith('.netdsl-cache/') == cache)

    def edit(self, kind):
        """Applies one edit of `kind`; returns a description, or None when it does not apply."""
        f, rng = self.fabric, self.rng
        if kind == 'add_vm':
            vm = f.add_vm()
            where = ' (before the infrastructure)' if vm.front else ' (in %s)' % vm.file if f.split else ''
            return 'add vm %s on %s%s' % (vm.name, vm.host, where)
        if kind == 'remove_vm':
            vm = self.pick_vm()
            if not vm or len(f.vms) < 2:
                return None
            f.vms.remove(vm)
            return 'remove vm %s' % vm.name
        if kind == 'move_host':
            vm = self.pick_vm()
            if not vm:
                return None
            vm.host = rng.choice([h.name for h in f.hosts] + (['gw'] if f.gateway else []))
            return 'move vm %s to host %s' % (vm.name, vm.host)
        if kind == 'move_host_same_stat':
            # same length host name, and the file's size and mtime as they were:
            # only its bytes tell (a build must read its inputs, not trust stat)
            vm = self.pick_vm(lambda v: not v.broken)
            if not vm:
                return None
            others = [h.name for h in f.hosts if h.name != vm.host and len(h.name) == len(vm.host)]
            if not others:
                return None
            vm.host = rng.choice(others)
            p = os.path.join(self.cur, vm.file if f.split else 'fabric.netdsl')
            if os.path.exists(p):
                st = os.stat(p)
                self.post_render.append(lambda: os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns)))
            return 'move vm %s to host %s (same size, mtime restored)' % (vm.name, vm.host)
        if kind == 'change_subnet':
            vm = self.pick_vm()
            if not vm:
                return None
            i = rng.randrange(len(vm.nics))
            nic = vm.nics[i]
            n = f.net(nic.net)
            if not n:
                return None
            nic.subnet = 'b' if nic.subnet == 'a' else 'a'
            if nic.ip and rng.random() < 0.7:
                nic.ip = f.free_static_ip(nic)   # keep it inside the new subnet (or leave it: ND error)
            return 'vm %s: nic%d to subnet %s%s' % (vm.name, i, nic.subnet, self.unpin(vm, i))
        if kind == 'change_network':
            vm = self.pick_vm()
            if not vm:
                return None
            i = rng.randrange(len(vm.nics))
            nic = vm.nics[i]
            nic.net = rng.choice(f.nets).name
            nic.ip = None
            return 'vm %s: nic%d to network %s%s' % (vm.name, i, nic.net, self.unpin(vm, i))
        if kind == 'static_ip':
            vm = self.pick_vm()
            if not vm:
                return None
            i = rng.randrange(len(vm.nics))
            nic = vm.nics[i]
            nic.ip = f.free_static_ip(nic)
            return 'vm %s: nic%d static ip %s%s' % (vm.name, i, nic.ip, self.unpin(vm, i))
        if kind == 'clear_ip':
            vm = self.pick_vm(lambda v: any(n.ip for n in v.nics))
            if not vm:
                return None
            for nic in vm.nics:
                nic.ip = None
            return 'vm %s: static ips cleared' % vm.name
        if kind == 'static_mac':
            vm = self.pick_vm()
            if not vm:
                return None
            i = rng.randrange(len(vm.nics))
            nic = vm.nics[i]
            nic.mac = f.free_static_mac()
            return 'vm %s: nic%d static mac %s%s' % (vm.name, i, nic.mac, self.unpin(vm, i, ('mac',)))
        if kind == 'clear_mac':
            vm = self.pick_vm(lambda v: any(n.mac for n in v.nics))
            if not vm:
                return None
            for nic in vm.nics:
                nic.mac = None
            return 'vm %s: static macs cleared' % vm.name
        if kind == 'classification':
            vm = self.pick_vm()
            if not vm:
                return None
            nic = rng.choice(vm.nics)
            nic.cls = rng.choice([None] + f.classes)
            return 'vm %s: classification %s' % (vm.name, nic.cls)
        if kind == 'rename_vm':
            vm = self.pick_vm()
            if not vm:
                return None
            old = vm.name
            vm.name = f.new_vm_name()
            return 'rename vm %s to %s' % (old, vm.name)
        if kind == 'add_nic':
            vm = self.pick_vm(lambda v: len(v.nics) < 4)
            if not vm:
                return None
            # mostly at the end: inserting renumbers the later NICs (their lock entries then disagree)
            vm.nics.insert(len(vm.nics) if rng.random() < 0.8 else rng.randint(0, len(vm.nics)), f.random_nic())
            return 'vm %s: add a nic (%d now)' % (vm.name, len(vm.nics))
        if kind == 'remove_nic':
            vm = self.pick_vm(lambda v: len(v.nics) > 1)
            if not vm:
                return None
            vm.nics.pop(-1 if rng.random() < 0.8 else rng.randrange(len(vm.nics)))
            return 'vm %s: remove a nic' % vm.name
        if kind == 'reorder_vm':
            if len(f.vms) < 2:
                return None
            vm = f.vms.pop(rng.randrange(len(f.vms)))
            f.vms.insert(rng.randint(0, len(f.vms)), vm)
            return 'move declaration of vm %s' % vm.name
        if kind == 'vm_move_file':
            if not f.split:
                return None
            vm = self.pick_vm()
            vm.file = 'fabric.netdsl' if vm.file == 'vms.netdsl' else 'vms.netdsl'
            return 'move vm %s into %s' % (vm.name, vm.file)
        if kind == 'comment_top':
            # a comment between top-level declarations, above a VM; some with
            # what a top-level splitter must not take for structure
            vm = self.pick_vm()
            if not vm:
                return None
            if vm.comment and rng.random() < 0.4:
                vm.comment = None
                return 'comment above vm %s removed' % vm.name
            vm.comment = rng.choice(['// note %d', '/* } vm ghost%d { host = h1; } */', '// } { %d "',
                                     '/* %d\n   vm ghost { } */', '// vm ghost%d { host = h1; }']) % rng.randrange(10**6)
            return 'comment above vm %s' % vm.name
        if kind == 'comment_vm':
            vm = self.pick_vm()
            if not vm:
                return None
            vm.inner = None if vm.inner and rng.random() < 0.4 else rng.choice(['owner %d', '} %d {', '"%d']) % rng.randrange(1000)
            return 'comment inside vm %s' % vm.name
        if kind == 'whitespace_vm':
            vm = self.pick_vm()
            if not vm:
                return None
            vm.style = (vm.style + rng.randint(1, 2)) % 3   # 0..2: no comment-style change
            return 'reformat vm %s (style %d)' % (vm.name, vm.style)
        if kind == 'whitespace_top':
            f.trailing = 0 if f.trailing else rng.randint(1, 3)
            return 'blank lines at the end of fabric.netdsl: %d' % f.trailing
        if kind == 'vm_front':
            vm = self.pick_vm(lambda v: v.file == 'fabric.netdsl')
            if not vm:
                return None
            vm.front = not vm.front
            return 'vm %s declared %s the infrastructure' % (vm.name, 'before' if vm.front else 'after')
        if kind == 'crlf':
            name = rng.choice(['fabric.netdsl'] + (['vms.netdsl'] if f.split else []))
            f.crlf ^= {name}
            return '%s with %s line ends' % (name, 'CRLF' if name in f.crlf else 'LF')
        if kind == 'noop_touch_source':
            self.post_render.append(lambda: os.utime(os.path.join(self.cur, 'fabric.netdsl')))
            return 'touch fabric.netdsl (same bytes)'
        if kind == 'comment_infra':
            f.infra_comment = None if f.infra_comment else 'underlay note %d' % rng.randrange(1000)
            return 'comment inside logical_network underlay'
        if kind == 'whitespace_infra':
            f.infra_style = (f.infra_style + 1) % 3
            return 'whitespace inside the vm_networks'
        if kind == 'comment_net':
            n = rng.choice(f.nets)
            n.comment = None if n.comment else 'tenant note %d' % rng.randrange(1000)
            return 'comment above vm_network %s' % n.name
        if kind == 'add_host':
            name = 'h%d' % (len(f.hosts) + 1 + rng.randrange(50))
            if any(h.name == name for h in f.hosts):
                return None
            f.hosts.insert(rng.randint(0, len(f.hosts)), Host(name, rng.random() < 0.2))
            return 'add host %s' % name
        if kind == 'remove_host':
            if len(f.hosts) < 2:
                return None
            h = rng.choice(f.hosts)
            f.hosts.remove(h)
            if rng.random() < 0.7:   # else its VMs name an unknown host
                for vm in f.vms:
                    if vm.host == h.name:
                        vm.host = rng.choice(f.hosts).name
                return 'remove host %s (its VMs moved)' % h.name
            return 'remove host %s (its VMs left)' % h.name
        if kind == 'host_platform':
            h = rng.choice(f.hosts)
            h.hyperv = not h.hyperv
            return 'host %s platform %s' % (h.name, 'hyperv' if h.hyperv else 'linux')
        if kind == 'host_mtu':
            h = rng.choice(f.hosts)
            h.mtu = None if h.mtu else rng.choice([1600, 9000])
            return 'host %s mtu %s' % (h.name, h.mtu)
        if kind == 'pool_range':
            n = rng.choice(f.nets)
            s = rng.choice(n.subnets)
            n.pool_hi[s] = rng.choice([14, 40, 60, 90, 150])
            return 'vm_network %s pool %s up to .%d' % (n.name, s, n.pool_hi[s])
        if kind == 'add_network':
            name = 't%d' % (len(f.nets) + 1 + rng.randrange(20))
            if f.net(name):
                return None
            f.nets.append(Network(name, rng.choice(['vxlan', 'nvgre']), rng.choice([1, len(f.nets) + 5])))
            return 'add vm_network %s' % name
        if kind == 'remove_network':
            if len(f.nets) < 2:
                return None
            n = rng.choice(f.nets)
            f.nets.remove(n)
            if rng.random() < 0.7:
                f.vms = [vm for vm in f.vms if all(nic.net != n.name for nic in vm.nics)] or f.vms
                return 'remove vm_network %s and its VMs' % n.name
            return 'remove vm_network %s (its VMs left)' % n.name
        if kind == 'isolation':
            n = rng.choice(f.nets)
            n.isolation = 'nvgre' if n.isolation == 'vxlan' else 'vxlan'
            return 'vm_network %s isolation %s' % (n.name, n.isolation)
        if kind == 'toggle_nat':
            n = rng.choice(f.nets)
            n.nat = not n.nat
            return 'vm_network %s nat %s' % (n.name, n.nat)
        if kind == 'syntax_vm':
            vm = self.pick_vm()
            if not vm:
                return None
            text = f.render_vm(vm)
            cut = rng.choice(['drop_brace', 'drop_semi', 'garbage', 'unterminated'])
            if cut == 'drop_brace':
                vm.broken = text[:text.rfind('}')]
            elif cut == 'drop_semi':
                vm.broken = text.replace(';', '', 1)
            elif cut == 'garbage':
                vm.broken = text.replace('host =', 'host = = ', 1)
            else:
                vm.broken = text.replace('vm_network = ', 'vm_network = "', 1)
            return 'syntax error (%s) in vm %s' % (cut, vm.name)
        if kind == 'syntax_infra':
            which = rng.choice(['semi', 'brace', 'token'])
            if which == 'semi':
                f.broken_infra = lambda t: t.replace('uplink_mode = no_team;', 'uplink_mode = no_team', 1)
            elif which == 'brace':
                f.broken_infra = lambda t: t.replace('mac_pool macs {', 'mac_pool macs {{', 1)
            else:
                f.broken_infra = lambda t: t.replace('network_virtualization = true;', 'network_virtualization == true;', 1)
            return 'syntax error (%s) in the infrastructure' % which
        if kind == 'unknown_host':
            vm = self.pick_vm()
            if not vm:
                return None
            vm.host = 'nohost%d' % rng.randrange(100)
            return 'vm %s on unknown host %s' % (vm.name, vm.host)
        if kind == 'duplicate_name':
            if len(f.vms) < 2:
                return None
            a, b = rng.sample(f.vms, 2)
            b.name = a.name
            return 'vm %s renamed to the name of another' % b.name
        if kind == 'ca_collision':
            # a static CA that another VM holds in the lock (allocated, not static)
            entries = lock_entries(self.read_lock(), 'customer_address')
            vm = self.pick_vm()
            if not entries or not vm:
                return None
            _, key, value = rng.choice(entries)
            m = re.match(r'vm (.+)/nic(\d+)$', key)
            other = next((v for v in f.vms if m and dsl_name(v.name) == m.group(1)), None)
            if not other or int(m.group(2)) >= len(other.nics):
                return None
            onic = other.nics[int(m.group(2))]
            nic = rng.choice(vm.nics)
            nic.net, nic.subnet, nic.ip = onic.net, onic.subnet, value
            return 'vm %s: static ip %s, allocated to %s' % (vm.name, value, key)
        if kind == 'ca_outside':
            vm = self.pick_vm()
            if not vm:
                return None
            nic = rng.choice(vm.nics)
            nic.ip = rng.choice(['10.99.0.5', '10.%d.7.5' % rng.randrange(5), '192.0.2.1'])
            return 'vm %s: static ip %s outside its subnet' % (vm.name, nic.ip)
        if kind == 'duplicate_mac':
            macs = [n.mac for v in f.vms for n in v.nics if n.mac]
            vm = self.pick_vm()
            if not macs or not vm:
                return None
            rng.choice(vm.nics).mac = rng.choice(macs)
            return 'vm %s: duplicate static mac' % vm.name
        if kind == 'unknown_network':
            vm = self.pick_vm()
            if not vm:
                return None
            rng.choice(vm.nics).net = 'nonet'
            return 'vm %s: unknown vm_network' % vm.name
        if kind == 'repair':
            return self.repair()
        if kind.startswith('lock_'):
            return self.edit_lock(kind)
        if kind.startswith('out_') or kind.startswith('cache_'):
            return self.edit_output(kind)
        raise AssertionError(kind)

    def repair(self):
        """Undoes the faults the source has (syntax and semantic errors)."""
        f, rng = self.fabric, self.rng
        done = []
        hosts = [h.name for h in f.hosts] + (['gw'] if f.gateway else [])
        nets = [n.name for n in f.nets]
        seen = set()
        for vm in f.vms:
            if vm.broken:
                vm.broken = None
                done.append('syntax of %s' % vm.name)
            if vm.host not in hosts:
                vm.host = rng.choice(hosts)
                done.append('host of %s' % vm.name)
            if vm.name in seen:
                vm.name = f.new_vm_name()
                done.append('duplicate name')
            seen.add(vm.name)
            for nic in vm.nics:
                n = f.net(nic.net)
                if n is None:
                    nic.net, nic.subnet, nic.ip = rng.choice(nets), 'a', None
                    done.append('network of %s' % vm.name)
                    n = f.net(nic.net)
                if nic.ip and ipaddress.ip_address(nic.ip) not in f.subnet_prefix(n, nic.subnet):
                    nic.ip = None
                    done.append('ip of %s' % vm.name)
        statics = {}
        macs = set()
        for vm in f.vms:
            for nic in vm.nics:
                if nic.ip:
                    key = (f.net(nic.net).base, nic.ip)
                    if key in statics:
                        nic.ip = None
                        done.append('static ip of %s' % vm.name)
                    statics[key] = vm
                if nic.mac:
                    if nic.mac in macs:
                        nic.mac = None
                        done.append('mac of %s' % vm.name)
                    macs.add(nic.mac)
        # what the lock pins and the diagnostics say to delete (ND2020: a moved NIC)
        doomed = {int(m.group(1)) for m in re.finditer(r'^fabric\.lock:(\d+):\d+: (?:error\[ND20\d\d\]|note: .*delete this entry)',
                                                        self.last_stderr, re.M)}
        lock = self.read_lock()
        lines = lock.split('\n') if lock is not None else []
        doomed = {i for i in doomed if i <= len(lines) and lines[i - 1].startswith('  ')}
        if doomed:
            self.write_lock('\n'.join(l for i, l in enumerate(lines) if i + 1 not in doomed))
            done.append('%d lock entries deleted as the diagnostics say' % len(doomed))
        elif lock is not None and self.good_lock is not None and lock != self.good_lock:
            self.write_lock(self.good_lock)
            done.append('the lock of the last clean build restored')
        if re.search(r'widen a pool|runs out', self.last_stderr):
            for n in f.nets:
                n.pool_hi = {'a': 150, 'b': 150}
            done.append('pools widened')
        if self.prev_handover:
            shutil.rmtree(os.path.join(self.cur, 'out'), ignore_errors=True)
            done.append('the output deleted (ports changed hands after a new lock)')
        if f.broken_infra:
            f.broken_infra = None
            done.append('infrastructure syntax')
        if f.extra_unit:
            f.extra_unit = None
            done.append('extra unit')
        return 'repair: ' + (', '.join(done) if done else 'nothing to repair')

    def edit_lock(self, kind):
        rng = self.rng
        p = os.path.join(self.cur, 'fabric.lock')
        text = self.read_lock()
        if text is None:
            return None
        if kind == 'lock_touch':
            os.utime(p, (time.time() + 1, time.time() + 1))
            return 'lock: touched (same bytes)'
        if kind == 'lock_rewrite':
            os.unlink(p)
            self.write_lock(text)
            return 'lock: same bytes, new inode'
        if kind == 'lock_value':
            entries = lock_entries(text, 'customer_address')
            if not entries:
                return None
            i, key, value = rng.choice(entries)
            ip = ipaddress.ip_address(value)
            new = str(ip + rng.choice([1, 2, 7, 30]))
            lines = text.split('\n')
            lines[i] = lines[i].replace('"%s"' % value, '"%s"' % new)
            self.write_lock('\n'.join(lines))
            return 'lock: %s changed from %s to %s' % (key, value, new)
        if kind == 'lock_mac':
            entries = lock_entries(text, 'mac')
            if not entries:
                return None
            i, key, value = rng.choice(entries)
            new = value[:-2] + '%02x' % rng.randrange(256)
            lines = text.split('\n')
            lines[i] = lines[i].replace('"%s"' % value, '"%s"' % new)
            self.write_lock('\n'.join(lines))
            return 'lock: mac of %s changed to %s' % (key, new)
        if kind == 'lock_drop_entry':
            section = rng.choice(['customer_address', 'mac', 'port_id', 'hosts', 'vsid', 'provider_address'])
            entries = lock_entries(text, section)
            if not entries:
                return None
            i, key, _ = rng.choice(entries)
            lines = text.split('\n')
            del lines[i]
            self.write_lock('\n'.join(lines))
            return 'lock: entry %s of %s removed' % (key, section)
        if kind == 'lock_generation':
            text2 = re.sub(r'generation: (\d+)', lambda m: 'generation: %d' % (int(m.group(1)) + 1), text, count=1)
            self.write_lock(text2)
            return 'lock: a host generation bumped'
        if kind == 'lock_revision':
            text2 = re.sub(r'^revision: (\d+)$', lambda m: 'revision: %d' % (int(m.group(1)) + 3), text, flags=re.M)
            self.write_lock(text2)
            return 'lock: revision bumped'
        if kind == 'lock_comment':
            self.write_lock(text.replace('format: 2', '# a hand-written note\nformat: 2', 1))
            return 'lock: a comment added'
        if kind == 'lock_old':
            if not self.lock_history:
                return None
            self.write_lock(rng.choice(self.lock_history))
            return 'lock: an older lock restored'
        if kind == 'lock_delete':
            os.unlink(p)
            return 'lock: deleted'
        if kind == 'lock_corrupt':
            self.write_lock(text.replace('revision:', 'revision', 1))
            return 'lock: corrupted (revision without colon)'
        raise AssertionError(kind)

    def edit_output(self, kind):
        rng = self.rng
        out = os.path.join(self.cur, 'out')
        if not os.path.isdir(out):
            return None
        arts = [a for a in self.out_files() if a != 'manifest.json']
        cache = self.out_files(cache=True)
        if kind == 'out_edit_same_size':
            if not arts:
                return None
            a = rng.choice(arts)
            p = os.path.join(out, a)
            data = bytearray(open(p, 'rb').read())
            if not data:
                return None
            i = rng.randrange(len(data))
            data[i] = (data[i] + 1) % 256
            with open(p, 'wb') as fh:
                fh.write(data)
            return 'artifact %s: one byte changed (same size)' % a
        if kind == 'out_append':
            if not arts:
                return None
            a = rng.choice(arts)
            with open(os.path.join(out, a), 'ab') as fh:
                fh.write(b'\n# edited by hand\n')
            return 'artifact %s: a line appended' % a
        if kind == 'out_delete':
            if not arts:
                return None
            a = rng.choice(arts)
            os.unlink(os.path.join(out, a))
            return 'artifact %s deleted' % a
        if kind == 'out_delete_host':
            hosts = sorted({a.split('/')[1] for a in arts if a.startswith('hosts/')})
            if not hosts:
                return None
            h = rng.choice(hosts)
            shutil.rmtree(os.path.join(out, 'hosts', h))
            return 'artifact directory hosts/%s deleted' % h
        if kind == 'out_manifest':
            p = os.path.join(out, 'manifest.json')
            if not os.path.exists(p):
                return None
            text = open(p).read()
            with open(p, 'w') as fh:
                fh.write(text.replace('"generation": 1', '"generation": 9', 1) if rng.random() < 0.5 else text + '\n')
            return 'manifest.json edited'
        if kind == 'cache_delete':
            c = os.path.join(out, '.netdsl-cache')
            if not os.path.isdir(c):
                return None
            shutil.rmtree(c)
            return 'cache deleted'
        if kind == 'cache_delete_file':
            if not cache:
                return None
            a = rng.choice(cache)
            os.unlink(os.path.join(out, a))
            return 'cache file %s deleted' % a
        if kind == 'cache_corrupt':
            if not cache:
                return None
            a = rng.choice(cache)
            p = os.path.join(out, a)
            data = bytearray(open(p, 'rb').read())
            how = rng.choice(['flip', 'truncate', 'empty'])
            if how == 'flip' and data:
                i = rng.randrange(len(data))
                data[i] ^= 0x20
            elif how == 'truncate':
                data = data[:len(data) // 2]
            else:
                data = bytearray()
            with open(p, 'wb') as fh:
                fh.write(data)
            return 'cache file %s corrupted (%s)' % (a, how)
        if kind == 'out_kill_build':
            # a build of this step's source killed (SIGKILL) at a random moment:
            # the next build must finish or discard what it left
            delay = rng.uniform(0, 0.04) if rng.random() < 0.5 else rng.uniform(0.04, 0.25)
            self.post_render.append(lambda: self.killed_build(delay))
            return 'a build of the new source killed after %d ms' % (delay * 1000)
        if kind == 'cache_src_current':
            # the cache's copies of the inputs overwritten with the inputs as they
            # are after this step's edits (the cache then says: nothing changed)
            copies = [a for a in cache if os.path.basename(a).startswith('src')]
            if not copies:
                return None

            def overwrite():
                for a in copies:
                    p = os.path.join(out, a)
                    old = open(p, 'rb').read()
                    name = 'vms.netdsl' if b'VMs kept in an imported file' in old else 'fabric.netdsl'
                    src = os.path.join(self.cur, name)
                    if os.path.exists(src):
                        shutil.copyfile(src, p)
            self.post_render.append(overwrite)
            return 'cache copies of the inputs overwritten with the new inputs'
        if kind == 'cache_stale':
            if not self.cache_history:
                return None
            c = os.path.join(out, '.netdsl-cache')
            shutil.rmtree(c, ignore_errors=True)
            shutil.copytree(rng.choice(self.cache_history), c, symlinks=True)
            return 'cache replaced by an older build\'s cache'
        raise AssertionError(kind)

    # Weights: mostly VM edits (the fast path's domain), then everything else.
    KINDS = [
        ('add_vm', 10), ('remove_vm', 6), ('move_host', 6), ('change_subnet', 5), ('change_network', 3),
        ('static_ip', 4), ('clear_ip', 2), ('static_mac', 3), ('clear_mac', 2), ('classification', 4),
        ('rename_vm', 4), ('add_nic', 3), ('remove_nic', 2), ('reorder_vm', 2), ('vm_move_file', 2),
        ('comment_top', 3), ('comment_vm', 3), ('whitespace_vm', 3), ('whitespace_top', 1), ('noop_touch_source', 1),
        ('vm_front', 1), ('crlf', 1), ('comment_infra', 1), ('whitespace_infra', 1), ('comment_net', 1),
        ('add_host', 2), ('remove_host', 1), ('host_platform', 1), ('host_mtu', 1), ('pool_range', 2),
        ('add_network', 1), ('remove_network', 1), ('isolation', 1), ('toggle_nat', 1),
        ('syntax_vm', 2), ('syntax_infra', 1), ('unknown_host', 1), ('duplicate_name', 1), ('ca_collision', 2),
        ('ca_outside', 1), ('duplicate_mac', 1), ('unknown_network', 1),
        ('lock_touch', 1), ('lock_rewrite', 1), ('lock_value', 1), ('lock_mac', 1), ('lock_drop_entry', 1),
        ('lock_generation', 1), ('lock_revision', 1), ('lock_comment', 1), ('lock_old', 1), ('lock_delete', 1),
        ('lock_corrupt', 1),
        ('out_edit_same_size', 2), ('out_append', 2), ('out_delete', 1), ('out_delete_host', 1), ('out_manifest', 1),
        ('cache_delete', 1), ('cache_delete_file', 1), ('cache_corrupt', 2), ('cache_stale', 1),
        ('cache_src_current', 2), ('move_host_same_stat', 1),
        ('out_kill_build', 2),
    ]

    def choose_kinds(self):
        names = [k for k, _ in self.KINDS]
        weights = [self.weights.get(k, w) for k, w in self.KINDS]
        if self.source_faulty() and self.rng.random() < 0.6:
            return ['repair']
        r = self.rng.random()
        if r < 0.75:
            return self.rng.choices(names, weights, k=1)
        if r < 0.9:
            # a VM edit together with the user's hand on the lock, an artifact or the cache
            live = [k for k, w in zip(names, weights) if w > 0]
            vm_kinds = [k for k in live if k in FAST_KINDS]
            disk = [k for k in live if k.startswith(('lock_', 'out_', 'cache_'))]
            return [self.rng.choice(vm_kinds), self.rng.choice(disk)]
        return self.rng.choices(names, weights, k=self.rng.randint(2, 4))

    def source_faulty(self):
        return not self.prev_clean
