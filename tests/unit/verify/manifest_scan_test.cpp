// verify's manifest scanner (compiler/verify/manifest_scan.h) gives what
// llvm::json gives for every text it takes, and leaves to llvm::json every
// text it cannot read exactly (escapes it does not decode, non-ASCII,
// repeated keys, anything malformed).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/verify/manifest_scan.h"
#include "llvm/Support/JSON.h"

namespace netdsl::verify {
namespace {

/// What ReadManifest took from llvm::json before the scanner; false when it refused the text.
bool ByLlvm(std::string_view text, ManifestNames* out) {
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(text);
  if (!json) {
    llvm::consumeError(json.takeError());
    return false;
  }
  const llvm::json::Object* root = json->getAsObject();
  const llvm::json::Array* artifacts = root ? root->getArray("artifacts") : nullptr;
  if (!artifacts) return false;
  for (const llvm::json::Value& a : *artifacts)
    if (const llvm::json::Object* o = a.getAsObject(); o && o->getString("path"))
      out->artifact_paths.push_back(o->getString("path")->str());
  if (const llvm::json::Array* listed = root->getArray("hosts")) {
    out->has_hosts = true;
    for (const llvm::json::Value& v : *listed)
      if (const llvm::json::Object* o = v.getAsObject(); o && o->getString("name"))
        out->host_names.push_back(o->getString("name")->str());
  }
  return true;
}

void Same(std::string_view text, bool scanned) {
  CAPTURE(text);
  ManifestNames fast, slow;
  CHECK(ScanManifest(text, &fast) == scanned);
  if (!scanned) return;
  REQUIRE(ByLlvm(text, &slow));
  CHECK(fast.artifact_paths == slow.artifact_paths);
  CHECK(fast.host_names == slow.host_names);
  CHECK(fast.has_hosts == slow.has_hosts);
}

TEST_CASE("the kept builds' manifests scan as llvm::json reads them") {
  int seen = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(std::string(NETDSL_SOURCE_DIR) +
                                                                          "/tests/lit/verify/Inputs/defects"))
    if (entry.path().filename() == "manifest.json") {
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      Same(text.str(), true);
      ++seen;
    }
  CHECK(seen >= 3);
}

TEST_CASE("what the scanner takes, and what it leaves to llvm::json") {
  Same(R"({"artifacts": [{"path": 3}, 5, {"path": "hosts/x/tables.ndt", "p": [1, {"a": null}, true, false, -0.5e+3]}],
          "hosts": {"a": 1}})", true);
  Same(R"({"hosts": [{"name": "h\"1\\\/\t"}, {"x": 1}, 2], "artifacts": []})", true);
  Same(R"( { "artifacts" : [ ] } )", true);
  Same(R"({"artifacts": [{"path": "hosts/\u00e9/tables.ndt"}]})", false);  // \u: llvm::json decodes it
  Same("{\"artifacts\": [{\"path\": \"hosts/\xc3\xa9/tables.ndt\"}]}", false);  // UTF-8: llvm::json checks it
  Same(R"({"artifacts": [], "artifacts": [{"path": "x"}]})", false);          // repeated key
  Same(R"({"artifacts": [{"path": "a", "path": "b"}]})", false);
  Same(R"({"artifacts": 3})", false);
  Same(R"([{"artifacts": []}])", false);
  Same(R"({"artifacts": [01]})", false);
  Same(R"({"artifacts": [1.]})", false);
  Same(R"({"artifacts": []} x)", false);
  Same(R"({"artifacts": [}])", false);
  Same(R"({"artifacts": [tru]})", false);
  Same("{\"artifacts\": [\"a\tb\"]}", false);  // a raw control character
  std::string text = R"({"artifacts": [{"path": "hosts/a/tables.ndt"}], "hosts": [{"name": "a"}]})";
  for (size_t n = 0; n < text.size(); ++n) Same(text.substr(0, n), false);
}

}  // namespace
}  // namespace netdsl::verify
