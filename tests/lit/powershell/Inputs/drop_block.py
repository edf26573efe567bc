# Copies stdin to stdout without the top-level blocks whose first line starts
# with one of the arguments (up to the line where the block's braces close).
# Exits 1 when an argument matched no block, so a test cannot silently keep it.
import sys

prefixes = sys.argv[1:]
found = set()
depth = 0
dropping = False
for line in sys.stdin:
    if depth == 0 and not dropping:
        hit = next((p for p in prefixes if line.startswith(p)), None)
        if hit is not None:
            found.add(hit)
            dropping = True
    if dropping:
        depth += line.count('{') - line.count('}')
        if depth <= 0:
            dropping = False
            depth = 0
        continue
    sys.stdout.write(line)
missing = [p for p in prefixes if p not in found]
if missing:
    sys.stderr.write('no block starts with: ' + ', '.join(missing) + '\n')
    sys.exit(1)
