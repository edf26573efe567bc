#!/bin/sh
# Builds tests/fuzz/standalone with clang (-fsanitize=fuzzer,address,undefined)
# and runs the parse fuzzer for a bounded number of runs over the corpus.
#   run_libfuzzer.sh SRC_DIR BUILD_DIR [RUNS]
set -eu
src=$1; build=$2; runs=${3:-20000}
command -v clang++ >/dev/null || { echo "clang++ not found"; exit 1; }
# ccache, when a developer has it, shares this build between checkouts (CI has none).
launcher=
command -v ccache >/dev/null 2>&1 && launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache"
cmake -S "$src/tests/fuzz/standalone" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo $launcher >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
ninja -C "$build" -j2 parse_fuzzer
mkdir -p "$build/corpus"
cp "$src"/tests/fuzz/corpus/*.netdsl "$build/corpus/"
ASAN_OPTIONS=detect_leaks=0 "$build/parse_fuzzer" -runs="$runs" -max_len=8192 -timeout=10 \
  -artifact_prefix="$build/" "$build/corpus"
