# Fails when a file holds a raw Unicode bidi control (U+202A-U+202E,
# U+2066-U+2069), printing where; otherwise prints how many files it read.
# usage: no_bidi.py FILE...
import re
import sys

bidi = re.compile('[\u202a-\u202e\u2066-\u2069]')
bad = 0
for path in sys.argv[1:]:
    text = open(path, encoding='utf-8', errors='replace').read()
    for n, line in enumerate(text.split('\n'), 1):
        for m in bidi.finditer(line):
            print(f'{path}:{n}: raw U+{ord(m.group()):04X}')
            bad += 1
if bad:
    sys.exit(1)
print(f'no_bidi: {len(sys.argv) - 1} file(s), no raw bidi control')
