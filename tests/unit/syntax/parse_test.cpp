// The parse stage on in-memory buffers: AST shape, exact locations across
// chunk boundaries, and diagnostics.
#include "compiler/syntax/parse.h"

#include <doctest/doctest.h>

#include <string>

#include "compiler/syntax/format.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace netdsl;

namespace {
struct Parsed {
  llvm::SourceMgr sources;
  DiagnosticEngine diags{sources};
  ast::File file;
  unsigned id = 0;
  explicit Parsed(const std::string& text) {
    id = sources.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "t.netdsl"), llvm::SMLoc());
    file = ParseBuffer(id, diags);
  }
  std::pair<unsigned, unsigned> LineCol(llvm::SMLoc loc) { return sources.getLineAndColumn(loc, id); }
};
}  // namespace

TEST_CASE("blocks, labels, properties and ranges") {
  Parsed p("host_group g {\n  host h[1..3] { nic eth0 { switch = \"s w\"; } }\n  subnet 10.0.0.0/24;\n}\n");
  REQUIRE(!p.diags.HasErrors());
  REQUIRE(p.file.blocks.size() == 1);
  const ast::Block& g = p.file.blocks[0];
  CHECK(g.kind == "host_group");
  CHECK(g.label->text == "g");
  REQUIRE(g.blocks.size() == 2);
  const ast::Block& h = g.blocks[0];
  CHECK(h.name_range->first == 1);
  CHECK(h.name_range->last == 3);
  CHECK(h.name_range->width == 1);
  CHECK(h.blocks[0].properties[0].value.text == "s w");
  CHECK(p.LineCol(h.blocks[0].properties[0].value.range.Start) == std::make_pair(2u, 38u));
  CHECK(p.LineCol(h.blocks[0].properties[0].value.range.End) == std::make_pair(2u, 43u));
  const ast::Block& s = g.blocks[1];
  CHECK(!s.has_body);
  CHECK(s.label->kind == ast::Value::Kind::Prefix);
  CHECK(p.LineCol(s.range.End) == std::make_pair(3u, 22u));
  CHECK(p.LineCol(g.range.End) == std::make_pair(4u, 2u));
}

TEST_CASE("locations stay exact across chunk boundaries and non-ASCII text") {
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += "vm v" + std::to_string(i) + " { host = \"h\xc3\xa9\"; nic { ip = 10.0.0." + std::to_string(i % 250) +
            "; } }\n";
  text += "vm last { host = oops }\n";
  Parsed p(text);
  CHECK(p.file.blocks.size() == 20001);
  const ast::Block& v = p.file.blocks[19999];
  CHECK(v.label->text == "v19999");
  CHECK(p.LineCol(v.range.Start) == std::make_pair(20000u, 1u));
  CHECK(p.LineCol(v.blocks[0].properties[0].value.range.Start) == std::make_pair(20000u, 38u));
  CHECK(v.blocks[0].properties[0].value.address.ToString() == "10.0.0.249");
  auto diags = p.diags.Sorted();
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].kind == DiagKind::MissingSemicolon);
  CHECK(p.LineCol(diags[0].range.Start) == std::make_pair(20001u, 22u));
}

TEST_CASE("never crashes on hostile input") {
  for (std::string s : {std::string("\0\0\0", 3), std::string("{{{{{{"), std::string("}}}}"), std::string("\"\n\""),
                        std::string("a [ [ [ ] ] ] ;"), std::string("import;"), std::string("a 1 [..] {"), std::string("/*"), std::string(200, '[')}) {
    Parsed p(s);
    CHECK(p.diags.HasErrors());
  }
}

TEST_CASE("the formatter is idempotent and keeps tokens") {
  std::string messy = "a{b=1;c= [x,y] ;  // t\n d 1.2.3.4/8;e{}\n\n\n/* c */\n f=[ ];}";
  auto once = FormatSource(messy);
  REQUIRE(once);
  CHECK(*once == "a {\n  b = 1;\n  c = [x, y]; // t\n  d 1.2.3.4/8;\n  e {}\n\n  /* c */\n  f = [];\n}\n");
  CHECK(FormatSource(*once) == once);
}
