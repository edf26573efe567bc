#!/bin/sh
# Runs pscheck (--strict-strings) over the scripts the unit fixtures generate,
# and checks that the scripts call only the commands in allowed_commands.txt
# and that hostile names add no command. First it shows that both checks can
# fail: a canary script with an unknown parameter, an expandable string and a
# foreign command must be rejected. Never skips: the `pscheck` CTest fixture
# (setup_pscheck.sh) has made pscheck runnable, or this fails.
# usage: check_scripts.sh WRITER OUT_DIR SHARED_DIR PSCHECK_HOME
set -eu
writer=$1 out=$2 shared=$3 home=$4
here=$(cd "$(dirname "$0")" && pwd)
pscheck() { PSCHECK_HOME=$home node "$shared/tools/pscheck/pscheck.mjs" --strict-strings "$@"; }
rm -rf "$out" && mkdir -p "$out/canary"

# The checks can fail.
cat >"$out/canary/canary.ps1" <<'PS'
New-SCLogicalNetwork -Name 'x' -NoSuchParameter 1
Get-SCLogicalNetwork -Name "$(Invoke-Evil)"
Invoke-Evil
PS
if pscheck "$out/canary/canary.ps1" >"$out/canary/pscheck.txt" 2>&1; then
  echo "pscheck accepted the canary script:"; cat "$out/canary/pscheck.txt"; exit 1
fi
grep -q 'no parameter `-NoSuchParameter`' "$out/canary/pscheck.txt" || { cat "$out/canary/pscheck.txt"; exit 1; }
grep -q 'double-quoted argument' "$out/canary/pscheck.txt" || { cat "$out/canary/pscheck.txt"; exit 1; }
PSCHECK_HOME=$home node "$here/list_commands.mjs" "$out/canary/canary.ps1" | cut -f2 | LC_ALL=C sort -u >"$out/canary/commands.txt"
[ -n "$(LC_ALL=C comm -23 "$out/canary/commands.txt" "$here/allowed_commands.txt" | grep -x 'Invoke-Evil')" ] ||
  { echo "the allow-list check did not flag Invoke-Evil"; exit 1; }

# The generated scripts.
count=$("$writer" "$out")
set -- "$out"/*.ps1
[ "$#" -eq "$count" ] && [ "$#" -ge 8 ] || { echo "expected $count (at least 8) scripts in $out, found $#"; exit 1; }
pscheck "$@"
PSCHECK_HOME=$home node "$here/list_commands.mjs" "$@" >"$out/commands.tsv"
cut -f2 "$out/commands.tsv" | LC_ALL=C sort -u >"$out/commands.txt"
unexpected=$(LC_ALL=C comm -23 "$out/commands.txt" "$here/allowed_commands.txt")
if [ -n "$unexpected" ]; then echo "commands outside allowed_commands.txt:"; echo "$unexpected"; exit 1; fi
grep -v '^hostile-' "$out/commands.tsv" | cut -f2 | LC_ALL=C sort -u >"$out/seed-commands.txt"
grep '^hostile-' "$out/commands.tsv" | cut -f2 | LC_ALL=C sort -u >"$out/hostile-commands.txt"
extra=$(LC_ALL=C comm -13 "$out/seed-commands.txt" "$out/hostile-commands.txt")
if [ -n "$extra" ]; then echo "hostile names introduced commands:"; echo "$extra"; exit 1; fi
echo "check_scripts: $(wc -l <"$out/commands.txt") distinct commands, all allowed"
