#!/bin/sh
# Builds the concurrent-reload unit test with clang -fsanitize=thread and runs it
# (the reader needs std only; the writer libfmt and LLVM Support for llvm::Expected, linked
# uninstrumented from libLLVM, which is outside the code under test).
# usage: run_tsan.sh SRC_ROOT WORK_DIR
set -eu
src=$1 work=$2
mkdir -p "$work"
bin="$work/unit_tables_tsan"
sources="$src/tests/unit/tables/dataplane_test.cpp $src/tests/unit/doctest_main.cpp
         $src/runtime/tables/image.cpp $src/backends/tables/table_writer.cpp
         $src/common/ndt/crc32c.cpp $src/common/net/address.cpp $src/common/io/regular_file.cpp"
headers="$src/runtime/tables/image.h $src/runtime/tables/dataplane.h $src/common/ndt/format.h
         $src/tests/unit/tables/fixture.h $src/backends/tables/lpm_builder.h $src/backends/tables/table_writer.h
         $src/backends/backend.h $src/compiler/lower/host_ir.h $src/common/fabric/enums.h"
stale=1
if [ -x "$bin" ]; then
  stale=0
  for f in $sources $headers; do [ "$f" -nt "$bin" ] && stale=1; done
fi
if [ "$stale" = 1 ]; then
  clang++ -std=c++20 -O1 -g -fsanitize=thread -I"$src" -isystem /usr/lib/llvm-15/include $sources \
    -o "$bin.tmp" -lfmt -lpthread -L/usr/lib/llvm-15/lib -Wl,-rpath,/usr/lib/llvm-15/lib -lLLVM-15
  mv "$bin.tmp" "$bin"
fi
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" exec "$bin"
