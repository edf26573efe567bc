# Reads list_commands.mjs output (FILE<TAB>COMMAND lines) and an allow-list;
# prints the commands outside the list and exits 1, or prints a summary.
import sys

used = sorted({line.rstrip('\n').split('\t', 1)[1] for line in open(sys.argv[1], encoding='utf-8') if '\t' in line})
allowed = {line.strip() for line in open(sys.argv[2], encoding='utf-8') if line.strip()}
bad = [c for c in used if c not in allowed]
if bad or not used:
    print('commands outside the allow-list: ' + ', '.join(bad) if bad else 'no commands found')
    sys.exit(1)
print(f'{len(used)} distinct commands, all allowed')
