# The parameter names fabric.ps1 passes by splatting (`$addressing = @{ K = …; }`
# then `Set-SCVirtualNetworkAdapter … @addressing`), which pscheck cannot see:
# each key must be a parameter of the cmdlet in the schema. Prints the keys.
# usage: splat_keys_in_schema.py cmdlets.json CMDLET SCRIPT
import json
import re
import sys

schema, cmdlet, script = sys.argv[1:4]
params = json.load(open(schema, encoding='utf-8'))['cmdlets'][cmdlet]['allParameters']
keys = set()
for m in re.finditer(r"\$addressing = @\{ (.*) \}", open(script, encoding='utf-8-sig').read()):
    keys.update(k.strip().split(' = ')[0] for k in m.group(1).split(';'))
bad = sorted(k for k in keys if k not in params)
if bad or not keys:
    sys.exit('not parameters of %s: %s' % (cmdlet, ', '.join(bad) or '(no splatted keys found)'))
print('\n'.join(sorted(keys)))
