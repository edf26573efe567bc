#!/usr/bin/env python3
"""Differential test of the incremental verify (docs/verify.md "Incremental").

  incremental_differential.py NETDSLC SOURCE.netdsl WORKDIR

Builds SOURCE (--target=tables,linux) into WORKDIR/base and verifies it in
full with --state-out. Then, for each edit of one or two hosts' artifacts
(tampered files that add findings, the original files back that remove them,
a real rebuild with one more VM), verifies the edited build twice:
  - in full (`netdslc verify DIR --state-out`), the reference;
  - incrementally from the state of the build before the edit, with only the
    edited hosts named as changed: once on the edited directory (unchanged
    hosts read from the base directory), once on a directory that holds only
    the new manifest and the changed hosts' files;
and requires the same exit status, the same diagnostics (text, byte for
byte) and the same state file (byte for byte), and that the incremental
verify really ran incrementally (it prints how many hosts it read). A torn
and a foreign state must give a full verify with the same output.
Prints one line per edit; exits 1 at the first difference.
"""
import filecmp
import os
import re
import shutil
import subprocess
import sys

NETDSLC, SOURCE, WORK = sys.argv[1:4]
TAMPER = os.path.join(os.path.dirname(NETDSLC), 'ndt-tamper')


def fail(message):
    print('FAIL: ' + message)
    sys.exit(1)


def run(args):
    p = subprocess.run([NETDSLC] + args, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def full(d, state):
    rc, out = run(['verify', d, '-j', '2', '--state-out', state])
    return rc, ''.join(l + '\n' for l in out.splitlines())


def incremental(d, base, state_in, changed, state_out):
    rc, out = run(['verify', d, '-j', '2', '--base-dir', base, '--state-in', state_in, '--changed-hosts',
                   ','.join(sorted(changed)), '--state-out', state_out, '--verify-stats'])
    how = [l for l in out.splitlines() if l.startswith('netdslc verify: ')]
    if len(how) != 1:
        fail('no --verify-stats line in:\n' + out)
    return rc, ''.join(l + '\n' for l in out.splitlines() if not l.startswith('netdslc verify: ')), how[0]


def hosts(d):
    return sorted(os.listdir(os.path.join(d, 'hosts')))


def sparse_copy(d, changed, to):
    """The new manifest and the changed hosts' files only."""
    shutil.rmtree(to, ignore_errors=True)
    os.makedirs(os.path.join(to, 'hosts'))
    shutil.copy(os.path.join(d, 'manifest.json'), to)
    for h in changed:
        if os.path.isdir(os.path.join(d, 'hosts', h)):
            shutil.copytree(os.path.join(d, 'hosts', h), os.path.join(to, 'hosts', h))


def same_file(a, b):
    return open(a, 'rb').read() == open(b, 'rb').read()


def compare(name, base, base_state, edited, changed, expect_incremental=True):
    ref_state = os.path.join(WORK, name + '.full.state')
    ref_rc, ref_out = full(edited, ref_state)
    inc_state = os.path.join(WORK, name + '.inc.state')
    rc, out, how = incremental(edited, base, base_state, changed, inc_state)
    if expect_incremental and not how.startswith('netdslc verify: incremental'):
        fail('%s: the incremental verify ran in full: %s' % (name, how))
    if not expect_incremental and 'full (' not in how:
        fail('%s: expected a full verify, got: %s' % (name, how))
    if rc != ref_rc or out != ref_out:
        fail('%s: exit %d vs %d (full); diagnostics differ:\n--- full\n%s--- incremental\n%s' %
             (name, rc, ref_rc, ref_out, out))
    if not same_file(ref_state, inc_state):
        fail('%s: the incremental state differs from the full verify\'s' % name)
    # The same from a directory with only the changed hosts' files.
    sparse = os.path.join(WORK, name + '.sparse')
    sparse_copy(edited, changed, sparse)
    sparse_state = os.path.join(WORK, name + '.sparse.state')
    rc2, out2, how2 = incremental(sparse, base, base_state, changed, sparse_state)
    if rc2 != ref_rc or out2.replace(sparse, edited) != ref_out or how2 != how:
        fail('%s (only the changed files): exit %d vs %d; diagnostics differ:\n--- full\n%s--- incremental\n%s' %
             (name, rc2, ref_rc, ref_out, out2))
    if not same_file(ref_state, sparse_state):
        fail('%s (only the changed files): the state differs from the full verify\'s' % name)
    codes = sorted(set(re.findall(r'\[(ND4\d\d\d)\]', ref_out)))
    print('%s: exit %d, %s; %s' % (name, ref_rc, ' '.join(codes) or 'no findings', how[len('netdslc verify: '):]))
    return ref_state


def edit(name, base, change):
    """A copy of `base` changed by change(dir); returns (dir, changed hosts)."""
    d = os.path.join(WORK, name)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(base, d)
    changed = change(d)
    return d, changed


def sed(path, pattern, replacement, count=1):
    text = open(path).read()
    new, n = re.subn(pattern, replacement, text, count=count, flags=re.M)
    if n == 0:
        fail('no %r in %s' % (pattern, path))
    open(path, 'w').write(new)


def tamper(d, host, *args):
    image = os.path.join(d, 'hosts', host, 'tables.ndt')
    subprocess.check_call([TAMPER, image, image + '.new'] + list(args))
    os.replace(image + '.new', image)


def main():
    os.makedirs(WORK, exist_ok=True)
    base = os.path.join(WORK, 'base')
    shutil.rmtree(base, ignore_errors=True)
    rc, out = run(['build', SOURCE, '-o', base, '--target=tables,linux', '--no-verify'])
    if rc:
        fail('build: ' + out)
    base_state = os.path.join(WORK, 'base.state')
    full(base, base_state)
    compare('unchanged', base, base_state, base, [])
    all_hosts = hosts(base)
    h = all_hosts[4]  # tenant 1 (hosts 3-5 of the generated fabric)
    yaml = lambda d, host=h: os.path.join(d, 'hosts', host, 'linux.yaml')
    m = re.search(r'\{dev: nd-br(\d+), address: ([0-9.]+),', open(yaml(base)).read())
    vsid, ca = m.group(1), m.group(2)
    other = [l for l in open(yaml(base, all_hosts[1])).read().splitlines() if 'vxlan: {id: ' in l][0]
    other_vsid = re.search(r'id: (\d+)', other).group(1)
    other_pa = re.search(r'local: ([0-9.]+)', other).group(1)

    # Edits that add findings.
    bridge_neighbour, changed = edit('bridge-neighbour', base,
                                     lambda d: (sed(yaml(d), r'^  - \{dev: nd-br%s, address: %s,.*\n' % (vsid, ca), ''),
                                                [h])[1])
    compare('bridge-neighbour', base, base_state, bridge_neighbour, changed)
    flood, changed = edit('flood-entry', base, lambda d: (sed(
        yaml(d), r'^  - \{dev: nd-vx%s, mac: "00:00:00:00:00:00", dst: .*\n' % vsid, ''), [h])[1])
    compare('flood-entry', base, base_state, flood, changed)
    moved, changed = edit('record-moved', base,
                          lambda d: (tamper(d, h, 'move-record', vsid, ca, str(int(vsid) + 1)), [h])[1])
    compare('record-moved', base, base_state, moved, changed)
    # A port of tenant 1 put into a VSID of tenant 0: the hosts of tenant 0,
    # unchanged, now lack lookup records for it.
    port, changed = edit('port-other-tenant', base, lambda d: (tamper(d, h, 'port-vsid', '1', other_vsid), [h])[1])
    port_state = compare('port-other-tenant', base, base_state, port, changed)
    # A vxlan device of tenant 1 joined to tenant 0's (another VNI, a flood
    # entry to a tenant 0 host): one layer-2 domain across routing domains,
    # found with the unchanged hosts' layer-2 parts taken from the state.
    def join(d):
        sed(yaml(d), r'vxlan: \{id: %s,' % vsid, 'vxlan: {id: %s,' % other_vsid)
        sed(yaml(d), r'^(  - \{dev: nd-vx%s, mac: "00:00:00:00:00:00", dst: )[0-9.]+\}' % vsid, r'\g<1>%s}' % other_pa)
        return [h]
    joined, changed = edit('vxlan-joined', base, join)
    compare('vxlan-joined', base, base_state, joined, changed)
    routes, changed = edit('two-hosts', base, lambda d: (
        sed(yaml(d), r'^  - \{dev: nd-br%s, address: %s,.*\n' % (vsid, ca), ''),
        sed(yaml(d, all_hosts[0]), r'^  - \{dev: nd-vx%s, mac: "00:00:00:00:00:00", dst: .*\n' % other_vsid, ''),
        [h, all_hosts[0]])[2])
    compare('two-hosts', base, base_state, routes, changed)

    # A reader's error names the file: the state names the build directory
    # by a mark, so the same build verified elsewhere keeps the same bytes.
    unreadable, changed = edit('unreadable-yaml', base, lambda d: (
        sed(yaml(d), r'^links:$', 'links: [unclosed'), [h])[1])
    unreadable_state = compare('unreadable-yaml', base, base_state, unreadable, changed)
    moved_dir = os.path.join(WORK, 'unreadable-yaml-elsewhere')
    shutil.rmtree(moved_dir, ignore_errors=True)
    shutil.copytree(unreadable, moved_dir)
    full(moved_dir, moved_dir + '.state')
    if not same_file(unreadable_state, moved_dir + '.state'):
        fail('the state of one build depends on the directory it was verified in')
    print('unreadable-yaml verified elsewhere: same state')

    # The original files back: findings go away (also on unchanged hosts).
    compare('port-restored', port, port_state, base, [h])
    joined_state = os.path.join(WORK, 'vxlan-joined.full.state')
    compare('vxlan-restored', joined, joined_state, base, [h])

    # A real rebuild: one more VM of tenant 1 on host h (same lock).
    src = os.path.join(WORK, 'plus.netdsl')
    shutil.copy(SOURCE, src)
    shutil.copy(os.path.splitext(SOURCE)[0] + '.lock', os.path.join(WORK, 'plus.lock'))
    with open(src, 'a') as f:
        f.write('vm extra { host = %s; nic { vm_network = "tenant 1"; vm_subnet = s0; classification = standard; } }\n'
                % h)
    plus = os.path.join(WORK, 'plus')
    shutil.rmtree(plus, ignore_errors=True)
    rc, out = run(['build', src, '-o', plus, '--target=tables,linux', '--no-verify'])
    if rc:
        fail('build plus: ' + out)
    changed = [x for x in hosts(plus) if not all(
        filecmp.cmp(os.path.join(base, 'hosts', x, f), os.path.join(plus, 'hosts', x, f), shallow=False)
        for f in ('tables.ndt', 'linux.yaml'))]
    if not changed or len(changed) == len(all_hosts):
        fail('one more VM changed %d of %d hosts' % (len(changed), len(all_hosts)))
    compare('one-more-vm', base, base_state, plus, changed)

    # A state that cannot be used: a full verify, same output.
    torn = os.path.join(WORK, 'torn.state')
    open(torn, 'wb').write(open(base_state, 'rb').read()[:-7])
    compare('torn-state', base, torn, bridge_neighbour, [h], expect_incremental=False)
    foreign = os.path.join(WORK, 'foreign.state')
    open(foreign, 'wb').write(b'NDVSTATE' + bytes(range(200)))
    compare('foreign-state', base, foreign, bridge_neighbour, [h], expect_incremental=False)
    print('all edits: incremental == full')


main()
