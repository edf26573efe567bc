// The diagnostics engine: sorting, deduplication, -Werror, counts, output shapes.
#include "compiler/diag/diagnostics.h"

#include <doctest/doctest.h>

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace netdsl;

namespace {
struct Fixture {
  llvm::SourceMgr sources;
  DiagnosticEngine diags{sources};
  const char* a = nullptr;
  const char* b = nullptr;
  Fixture() {
    sources.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy("site a { vlan = 1 }\n", "a.netdsl"), {});
    sources.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy("site b { x = 1Gbs; }\n", "b.netdsl"), {});
    a = sources.getMemoryBuffer(1)->getBufferStart();
    b = sources.getMemoryBuffer(2)->getBufferStart();
  }
  llvm::SMRange R(const char* base, size_t begin, size_t end) {
    return {llvm::SMLoc::getFromPointer(base + begin), llvm::SMLoc::getFromPointer(base + end)};
  }
  std::string Emit(DiagFormat f) {
    std::string s;
    llvm::raw_string_ostream os(s);
    diags.Emit(f, os, false);
    return os.str();
  }
};
}  // namespace

TEST_CASE("registry: codes are unique, sorted, and formatted ND####") {
  const auto& all = AllDiagKinds();
  REQUIRE(!all.empty());
  for (size_t i = 1; i < all.size(); ++i) CHECK(Info(all[i - 1]).code < Info(all[i]).code);
  CHECK(CodeString(DiagKind::FileNotReadable) == "ND0001");
  CHECK(CodeString(DiagKind::MissingSemicolon) == "ND0021");
  CHECK(std::string(Info(DiagKind::ImportCycle).name) == "ImportCycle");
}

TEST_CASE("diagnostics are sorted by file then offset, and deduplicated") {
  Fixture f;
  f.diags.Report(DiagKind::UnknownBandwidthUnit, f.R(f.b, 14, 17), "unknown unit");
  f.diags.Report(DiagKind::MissingSemicolon, f.R(f.a, 17, 17), "missing semicolon");
  f.diags.Report(DiagKind::MissingSemicolon, f.R(f.a, 17, 17), "missing semicolon");  // duplicate
  f.diags.Report(DiagKind::FileNotReadable, llvm::SMRange(), "cannot read `x`");
  auto sorted = f.diags.Sorted();
  REQUIRE(sorted.size() == 3);
  CHECK(sorted[0].kind == DiagKind::FileNotReadable);  // no location first
  CHECK(sorted[1].kind == DiagKind::MissingSemicolon);
  CHECK(sorted[2].kind == DiagKind::UnknownBandwidthUnit);
  CHECK(f.diags.ErrorCount() == 3);
  std::string text = f.Emit(DiagFormat::Text);
  CHECK(text.find("netdslc: error[ND0001]: cannot read `x`") != std::string::npos);
  CHECK(text.find("a.netdsl:1:18: error[ND0021]: missing semicolon") != std::string::npos);
  CHECK(text.find("b.netdsl:1:15: error[ND0043]: unknown unit") < std::string::npos);
  CHECK(text.find("3 errors generated.") != std::string::npos);
}

TEST_CASE("JSON has one object per diagnostic with notes") {
  Fixture f;
  f.diags.Report(DiagKind::ImportCycle, f.R(f.b, 5, 6), "cycle").Note(f.R(f.a, 0, 4), "imported here");
  auto parsed = llvm::json::parse(f.Emit(DiagFormat::Json));
  REQUIRE(bool(parsed));
  auto* arr = parsed->getAsArray();
  REQUIRE(arr);
  REQUIRE(arr->size() == 1);
  auto* o = (*arr)[0].getAsObject();
  CHECK(o->getString("code") == llvm::StringRef("ND0061"));
  CHECK(o->getString("file") == llvm::StringRef("b.netdsl"));
  CHECK(*o->getInteger("column") == 6);
  CHECK(*o->getInteger("end_column") == 7);
  auto* notes = o->getArray("notes");
  REQUIRE(notes);
  CHECK((*notes)[0].getAsObject()->getString("file") == llvm::StringRef("a.netdsl"));
}

TEST_CASE("-Werror turns warnings into errors everywhere") {
  Fixture f;
  // Use whichever registered kind defaults to warning (sema has some).
  const DiagKind* warning = nullptr;
  for (const DiagKind& k : AllDiagKinds())
    if (Info(k).severity == Severity::Warning) {
      warning = &k;
      break;
    }
  if (!warning) return;
  f.diags.Report(*warning, f.R(f.a, 0, 4), "a warning");
  CHECK(!f.diags.HasErrors());
  CHECK(f.diags.WarningCount() == 1);
  CHECK(f.Emit(DiagFormat::Text).find("1 warning generated.") != std::string::npos);
  f.diags.SetWarningsAsErrors(true);
  CHECK(f.diags.HasErrors());
  CHECK(f.diags.WarningCount() == 0);
  CHECK(f.diags.ErrorCount() == 1);
  CHECK(f.Emit(DiagFormat::Sarif).find("\"level\": \"error\"") != std::string::npos);
  CHECK(f.Emit(DiagFormat::Text).find("1 error generated.") != std::string::npos);
}
