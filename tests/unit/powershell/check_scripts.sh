#!/bin/sh
# Runs pscheck (--strict-strings) over the scripts the unit fixtures generate,
# and checks that the scripts call only the commands in allowed_commands.txt
# and that hostile names add no command. A canary script with an unknown
# parameter, an expandable string and a foreign command goes through the same
# two checks in the same runs, and must be rejected: so the checks can fail.
# Never skips: the `pscheck` CTest fixture (setup_pscheck.sh) has made pscheck
# runnable, or this fails.
# usage: check_scripts.sh WRITER OUT_DIR SHARED_DIR PSCHECK_HOME
set -eu
writer=$1 out=$2 shared=$3 home=$4
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out" && mkdir -p "$out/canary"
cat >"$out/canary/canary.ps1" <<'PS'
New-SCLogicalNetwork -Name 'x' -NoSuchParameter 1
Get-SCLogicalNetwork -Name "$(Invoke-Evil)"
Invoke-Evil
PS
count=$("$writer" "$out")
set -- "$out"/*.ps1
[ "$#" -eq "$count" ] && [ "$#" -ge 8 ] || { echo "expected $count (at least 8) scripts in $out, found $#"; exit 1; }

# pscheck: exactly the canary's two problems, nothing in the generated scripts.
status=0
PSCHECK_HOME=$home node "$shared/tools/pscheck/pscheck.mjs" --strict-strings "$@" "$out/canary/canary.ps1" \
  >"$out/pscheck.txt" 2>&1 || status=$?
cat "$out/pscheck.txt"
[ "$status" -eq 1 ] || { echo "pscheck exited $status; expected 1 (the canary's problems)"; exit 1; }
grep -q 'canary.ps1:1:.*no parameter `-NoSuchParameter`' "$out/pscheck.txt" || { echo "pscheck missed the canary's parameter"; exit 1; }
grep -q 'canary.ps1:2:.*double-quoted argument' "$out/pscheck.txt" || { echo "pscheck missed the canary's string"; exit 1; }
others=$(grep -E '\.ps1:[0-9]+:[0-9]+: ' "$out/pscheck.txt" | grep -v '/canary/canary.ps1:' || true)
[ -z "$others" ] || { echo "pscheck problems in the generated scripts:"; echo "$others"; exit 1; }

# Commands: the canary's Invoke-Evil is flagged; the generated scripts use only allowed ones.
PSCHECK_HOME=$home node "$here/list_commands.mjs" "$@" "$out/canary/canary.ps1" >"$out/all-commands.tsv"
grep -q "^canary.ps1	Invoke-Evil$" "$out/all-commands.tsv" || { echo "list_commands missed the canary's Invoke-Evil"; exit 1; }
grep -v '^canary.ps1	' "$out/all-commands.tsv" >"$out/commands.tsv"
cut -f2 "$out/commands.tsv" | LC_ALL=C sort -u >"$out/commands.txt"
[ -n "$(cut -f2 "$out/all-commands.tsv" | LC_ALL=C sort -u | LC_ALL=C comm -23 - "$here/allowed_commands.txt" | grep -x 'Invoke-Evil')" ] ||
  { echo "the allow-list check did not flag the canary's Invoke-Evil"; exit 1; }
unexpected=$(LC_ALL=C comm -23 "$out/commands.txt" "$here/allowed_commands.txt")
if [ -n "$unexpected" ]; then echo "commands outside allowed_commands.txt:"; echo "$unexpected"; exit 1; fi
grep -v '^hostile-' "$out/commands.tsv" | cut -f2 | LC_ALL=C sort -u >"$out/seed-commands.txt"
grep '^hostile-' "$out/commands.tsv" | cut -f2 | LC_ALL=C sort -u >"$out/hostile-commands.txt"
extra=$(LC_ALL=C comm -13 "$out/seed-commands.txt" "$out/hostile-commands.txt")
if [ -n "$extra" ]; then echo "hostile names introduced commands:"; echo "$extra"; exit 1; fi
echo "check_scripts: $(wc -l <"$out/commands.txt") distinct commands, all allowed"
