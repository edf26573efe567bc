#!/usr/bin/env bash
# Times the linux.yaml reader of this build against the one of an older commit
# (default: HEAD) in the same run, on N generated fdb / neighbour / route
# entries, and checks that both read the same entries and diagnostics.
# Usage: bench/runtime/parse/compare.sh BUILD_DIR [BASE_REV] [N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
build=$(cd "${1:?usage: compare.sh BUILD_DIR [BASE_REV] [N]}" && pwd)
base_rev=${2:-HEAD}
n=${3:-100000}
[[ -x $build/bin/parse_bench ]] || { echo "no $build/bin/parse_bench; ninja -C $build parse_bench" >&2; exit 1; }

tmp=$(mktemp -d)
cleanup() { git -C "$src" worktree remove --force "$tmp/base" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# The base commit's reader with this benchmark's driver (it may predate it).
git -C "$src" worktree add --detach --quiet "$tmp/base" "$base_rev"
rm -rf "$tmp/base/bench/runtime/parse"
cp -r "$here" "$tmp/base/bench/runtime/parse"
grep -q 'add_subdirectory(parse)' "$tmp/base/bench/runtime/CMakeLists.txt" ||
  echo 'add_subdirectory(parse)' >>"$tmp/base/bench/runtime/CMakeLists.txt"
cmake -S "$tmp/base" -B "$tmp/base-build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$tmp/base-build" parse_bench >/dev/null

files=()
for kind in fdb neigh route; do
  python3 "$src/bench/runtime/gen_plan.py" "$kind" "$n" "$tmp/$kind.yaml" /dev/null
  files+=("$tmp/$kind.yaml")
done
# Alternate the two builds so that noise from other processes hits both alike.
for round in 1 2 3; do
  "$tmp/base-build/bin/parse_bench" "${files[@]}" | tail -n +2 >>"$tmp/base.out"
  "$build/bin/parse_bench" "${files[@]}" | tail -n +2 >>"$tmp/new.out"
done
printf '%-6s %8s %10s %10s %7s %s\n' kind entries base_s new_s ratio same_result
for kind in fdb neigh route; do
  f=$tmp/$kind.yaml
  base_s=$(awk -v f="$f" '$1 == f {print $4}' "$tmp/base.out" | sort -g | head -1)
  new_s=$(awk -v f="$f" '$1 == f {print $4}' "$tmp/new.out" | sort -g | head -1)
  entries=$(awk -v f="$f" '$1 == f {print $2; exit}' "$tmp/new.out")
  same=yes
  [[ $(awk -v f="$f" '$1 == f {print $2, $3, $5}' "$tmp/base.out" "$tmp/new.out" | sort -u | wc -l) -eq 1 ]] || same=NO
  printf '%-6s %8s %10s %10s %6.1fx %s\n' "$kind" "$entries" "$base_s" "$new_s" "$(echo "$base_s / $new_s" | bc -l)" "$same"
done
