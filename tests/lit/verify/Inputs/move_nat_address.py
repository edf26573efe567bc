"""Moves the first NAT veth's address (nd-n<rdid>) in a linux.yaml onto the
bridge its peer is a port of: the external address outside the tenant's VRF,
as builds before NAT per routing domain had it. Edits the file in place and
keeps `addresses:` sorted by (dev, address) as the writer does."""
import ipaddress
import re
import sys

path = sys.argv[1]
lines = open(path).read().split("\n")
text = "\n".join(lines)
m = re.search(r'- name: (nd-n[0-9]+)\n(?:    .*\n)*?    veth: \{[^}]*peer_master: ([^,} ]+)', text)
if not m:
    sys.exit("no NAT veth in " + path)
veth, bridge = m.group(1), m.group(2)
start = lines.index("addresses:") + 1
end = start
while end < len(lines) and lines[end].startswith("  - {dev: "):
    end += 1
entry = re.compile(r'  - \{dev: "?([^,"]+)"?, address: ([0-9.]+)/([0-9]+)\}')
items = []
moved = False
for line in lines[start:end]:
    dev, addr, length = entry.fullmatch(line).groups()
    if dev == veth and not moved:
        dev, moved = bridge, True
    items.append((dev, ipaddress.ip_address(addr), int(length)))
if not moved:
    sys.exit("no address on " + veth)
items.sort()
lines[start:end] = ["  - {dev: %s, address: %s/%d}" % (d, a, l) for d, a, l in items]
open(path, "w").write("\n".join(lines))
