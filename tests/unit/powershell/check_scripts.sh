#!/bin/sh
# Runs pscheck (--strict-strings) over scripts that the unit test writes, and
# checks that the scripts call only the commands in allowed_commands.txt and
# that hostile names add no command. Exit 77 (skipped) without pscheck's modules.
# usage: check_scripts.sh UNIT_BINARY OUT_DIR SHARED_DIR PSCHECK_HOME
set -eu
unit=$1 out=$2 shared=$3 home=$4
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1 || [ ! -d "$home/node_modules" ]; then
  echo "skipped: pscheck's node modules are not installed in $home (see bootstrap.sh)"
  exit 77
fi
rm -rf "$out" && mkdir -p "$out"
NETDSL_PS_OUT=$out "$unit" --test-case='write scripts for pscheck' >/dev/null
set -- "$out"/*.ps1
[ "$#" -ge 8 ] || { echo "expected 8 scripts in $out, found $#"; exit 1; }
PSCHECK_HOME=$home node "$shared/tools/pscheck/pscheck.mjs" --strict-strings "$@"
PSCHECK_HOME=$home node "$here/list_commands.mjs" "$@" >"$out/commands.tsv"
cut -f2 "$out/commands.tsv" | LC_ALL=C sort -u >"$out/commands.txt"
unexpected=$(LC_ALL=C comm -23 "$out/commands.txt" "$here/allowed_commands.txt")
if [ -n "$unexpected" ]; then echo "commands outside allowed_commands.txt:"; echo "$unexpected"; exit 1; fi
grep -v '^hostile-' "$out/commands.tsv" | cut -f2 | LC_ALL=C sort -u >"$out/seed-commands.txt"
grep '^hostile-' "$out/commands.tsv" | cut -f2 | LC_ALL=C sort -u >"$out/hostile-commands.txt"
extra=$(LC_ALL=C comm -13 "$out/seed-commands.txt" "$out/hostile-commands.txt")
if [ -n "$extra" ]; then echo "hostile names introduced commands:"; echo "$extra"; exit 1; fi
echo "check_scripts: $(wc -l <"$out/commands.txt") distinct commands, all allowed"
