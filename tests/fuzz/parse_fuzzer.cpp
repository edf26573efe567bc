// libFuzzer target: arbitrary bytes through the parse stage (and sema's Check
// when it is linked in). Must never crash, hang or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/diag/diagnostics.h"
#include "compiler/syntax/format.h"
#include "compiler/syntax/parse.h"
#include "llvm/Support/MemoryBuffer.h"
#ifdef NETDSL_FUZZ_SEMA
#include "compiler/sema/sema.h"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  llvm::SourceMgr sources;
  netdsl::DiagnosticEngine diags(sources);
  std::string text(reinterpret_cast<const char*>(data), size);
  unsigned id = sources.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "fuzz.netdsl"), llvm::SMLoc());
  netdsl::ast::File file = netdsl::ParseBuffer(id, diags);
  std::string out;
  llvm::raw_string_ostream os(out);
  diags.Emit(netdsl::DiagFormat::Text, os, false);
  diags.Emit(netdsl::DiagFormat::Json, os, false);
  diags.Emit(netdsl::DiagFormat::Sarif, os, false);
  if (!diags.HasErrors()) {
    // A clean parse must format, and formatting must be idempotent.
    auto once = netdsl::FormatSource(text);
    if (!once) __builtin_trap();
    auto twice = netdsl::FormatSource(*once);
    if (!twice || *twice != *once) __builtin_trap();
#ifdef NETDSL_FUZZ_SEMA
    netdsl::ast::Program program;
    program.files.push_back(std::move(file));
    (void)netdsl::Check(program, diags);
#endif
  }
  return 0;
}
