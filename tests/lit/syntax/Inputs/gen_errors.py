"""Writes a ~3 MB file (many parse chunks) with one syntax error every 2000 blocks."""
import sys

with open(sys.argv[1], 'w') as f:
    for i in range(30000):
        semi = '' if i % 2000 == 1999 else ';'
        f.write('vm v%05d { host = h%d%s nic { vm_network = "tenant %d"; ip = 10.%d.%d.%d; } }\n'
                % (i, i % 97, semi, i % 13, i // 65536 % 256, i // 256 % 256, i % 256))
