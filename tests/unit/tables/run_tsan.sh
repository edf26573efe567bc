#!/bin/sh
# Builds the concurrent-reload unit test with clang -fsanitize=thread and runs it
# (the reader and writer need std and libfmt; host_ir.h needs LLVM's SMLoc header only).
# usage: run_tsan.sh SRC_ROOT WORK_DIR
set -eu
src=$1 work=$2
mkdir -p "$work"
bin="$work/unit_tables_tsan"
sources="$src/tests/unit/tables/dataplane_test.cpp $src/tests/unit/doctest_main.cpp
         $src/runtime/tables/image.cpp $src/backends/tables/table_writer.cpp
         $src/common/ndt/crc32c.cpp $src/common/net/address.cpp"
headers="$src/runtime/tables/image.h $src/runtime/tables/dataplane.h $src/common/ndt/format.h
         $src/tests/unit/tables/fixture.h $src/backends/tables/lpm_builder.h"
stale=1
if [ -x "$bin" ]; then
  stale=0
  for f in $sources $headers; do [ "$f" -nt "$bin" ] && stale=1; done
fi
if [ "$stale" = 1 ]; then
  clang++ -std=c++20 -O1 -g -fsanitize=thread -I"$src" -isystem /usr/lib/llvm-15/include $sources \
    -o "$bin.tmp" -lfmt -lpthread
  mv "$bin.tmp" "$bin"
fi
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" exec "$bin"
