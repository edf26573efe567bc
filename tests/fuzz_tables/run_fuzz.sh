#!/bin/sh
# Builds the table image reader fuzzer with clang (ASan + UBSan + libFuzzer),
# seeds it with fixture images and runs it for a bounded time.
# usage: run_fuzz.sh SRC_ROOT WORK_DIR NDT_FIXTURE SECONDS
set -eu
src=$1 work=$2 fixture=$3 seconds=$4
mkdir -p "$work/corpus" "$work/artifacts"
bin="$work/tables_fuzz"
sources="$src/tests/fuzz_tables/tables_fuzz.cpp $src/runtime/tables/image.cpp $src/runtime/tables/dump.cpp
         $src/runtime/tables/trace.cpp $src/common/ndt/crc32c.cpp $src/common/net/address.cpp
         $src/common/io/regular_file.cpp"
headers="$src/runtime/tables/image.h $src/runtime/tables/render.h $src/common/ndt/format.h
         $src/common/net/address.h $src/tests/unit/tables/corrupt.h"
stale=1
if [ -x "$bin" ]; then
  stale=0
  for f in $sources $headers; do [ "$f" -nt "$bin" ] && stale=1; done
fi
if [ "$stale" = 1 ]; then
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$src" $sources -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi
for kind in sample gateway sample-next; do "$fixture" "$kind" "$work/corpus/seed-$kind.ndt"; done
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus"
