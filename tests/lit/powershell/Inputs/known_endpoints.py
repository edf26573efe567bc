# Prints, one per line and sorted, the VM NICs a host's artifact makes it know:
#   local MAC          a VM NIC on this host (Linux: a VM port, a veth with
#                      that guest MAC; Windows: a lookup record with -VMName)
#   remote CA MAC      a VM NIC elsewhere (Linux: a permanent neighbour;
#                      Windows: a lookup record without -VMName)
# usage: known_endpoints.py linux FILE/linux.yaml | windows FILE/hyperv.ps1
import re
import sys

kind, path = sys.argv[1], sys.argv[2]
text = open(path, encoding='utf-8-sig').read()
out = set()


def mac(m):
    m = m.replace(':', '').replace('-', '').lower()
    return ':'.join(m[i:i + 2] for i in range(0, 12, 2))


if kind == 'linux':
    for m in re.finditer(r'peer_mac: "([0-9a-f:]+)"', text):
        out.add('local ' + mac(m.group(1)))
    section = re.search(r'^neighbours:\n((?:  - .*\n)*)', text, re.M)
    for line in (section.group(1).splitlines() if section else []):
        n = re.search(r'address: ([^,]+), mac: "([0-9a-f:]+)"', line)
        if not n:
            sys.exit('unreadable neighbour: ' + line)
        out.add('remote %s %s' % (n.group(1), mac(n.group(2))))
elif kind == 'windows':
    for m in re.finditer(r"^\s*Sync-NdLookupRecord -CustomerAddress '([^']+)' .*?-MACAddress '([0-9A-F]+)'(.*)$", text, re.M):
        if " -VMName '" in m.group(3):
            out.add('local ' + mac(m.group(2)))
        else:
            out.add('remote %s %s' % (m.group(1), mac(m.group(2))))
else:
    sys.exit('usage: known_endpoints.py linux|windows FILE')
if not out:
    sys.exit('no VM NICs found in ' + path)
print('\n'.join(sorted(out)))
