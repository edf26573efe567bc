// Writes the BLOCKS section of netdsl(5) from sema's schema table, so the man
// page lists exactly the block kinds and keys the compiler accepts.
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/sema/schema.h"

namespace {

using netdsl::sema::BlockSpec;
using netdsl::sema::KeySpec;
using netdsl::sema::LabelRule;

/// Escapes text for a roff line: backslashes, hyphens (so that they stay
/// ASCII hyphen-minus when copied), and a leading dot or quote.
std::string Roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else if (c == '`') out += "\\(ga";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string Label(const BlockSpec& spec) {
  switch (spec.label) {
    case LabelRule::None: return "";
    case LabelRule::Name: return spec.allow_name_range ? " \\fINAME\\fR[\\fB[\\fR\\fIA\\fR\\fB..\\fR\\fIB\\fR\\fB]\\fR]" : " \\fINAME\\fR";
    case LabelRule::OptionalName: return " [\\fINAME\\fR]";
    case LabelRule::Prefix: return " \\fIPREFIX\\fR";
  }
  return "";
}

void Block(const BlockSpec& spec) {
  std::string_view parent = spec.parent;
  std::printf(".SS %s%s\n", Roff(spec.kind).c_str(),
              parent.empty() ? "" : (" (in " + Roff(parent) + ")").c_str());
  std::printf(".B %s\\fR%s { ... }\n", Roff(spec.kind).c_str(), Label(spec).c_str());
  std::printf(".PP\nA%s %s", std::string_view("aeiouAEIOU").find(spec.what[0]) == std::string_view::npos ? "" : "n",
              Roff(spec.what).c_str());
  if (spec.at_most_once) std::printf(", at most one per %s", Roff(parent).c_str());
  if (spec.keys.empty()) std::printf("; it has no keys of its own");
  std::printf(".\n");
  for (const KeySpec& key : spec.keys)
    std::printf(".TP\n.B %s\n%s%s.\n", Roff(key.key).c_str(), Roff(netdsl::sema::DescribeExpected(key)).c_str(),
                key.required ? "; required" : "");
}

}  // namespace

int main() {
  // Breadth first from the top level; a kind that nests in itself (host_group)
  // is expanded once.
  std::vector<std::string_view> parents = {""};
  std::set<std::string_view> seen = {""};
  for (size_t i = 0; i < parents.size(); ++i)
    for (const BlockSpec* spec : netdsl::sema::ChildSpecs(parents[i])) {
      Block(*spec);
      if (seen.insert(spec->kind).second) parents.push_back(spec->kind);
    }
  return 0;
}
