// verify::Verify's severities: `as_warnings` demotes the findings of those
// kinds (build's default demotes reachability gaps) and the proof fails only
// on errors. On the builds kept in tests/lit/verify/Inputs/defects, which
// never change.
#include <doctest/doctest.h>

#include <map>

#include "compiler/verify/verify.h"

namespace netdsl::verify {
namespace {

const std::string kDefects = std::string(NETDSL_SOURCE_DIR) + "/tests/lit/verify/Inputs/defects/";

struct Outcome {
  bool proven = false;
  std::map<std::pair<unsigned, Severity>, int> count;  ///< (code, severity) -> findings
};

Outcome Run(const std::string& dir, std::vector<DiagKind> as_warnings) {
  llvm::SourceMgr sources;
  DiagnosticEngine diags(sources);
  VerifyOptions options;
  options.jobs = 1;
  options.as_warnings = std::move(as_warnings);
  Outcome out;
  out.proven = Verify(kDefects + dir, options, diags);
  for (const Diagnostic& d : diags.Sorted()) ++out.count[{Info(d.kind).code, d.severity}];
  return out;
}

TEST_CASE("every finding is an error by default") {
  Outcome o = Run("nat-two-tenants", {});
  CHECK_FALSE(o.proven);
  CHECK(o.count[{4002, Severity::Error}] >= 1);  // no external address
  CHECK(o.count[{4001, Severity::Error}] >= 1);  // main-table leak between the tenants
  CHECK(o.count[{4002, Severity::Warning}] == 0);
}

TEST_CASE("demoted kinds are warnings; the others still fail the proof") {
  Outcome o = Run("nat-two-tenants", {DiagKind::VerifyUnreachable, DiagKind::VerifyFloodMissing});
  CHECK_FALSE(o.proven);
  CHECK(o.count[{4002, Severity::Warning}] >= 1);
  CHECK(o.count[{4002, Severity::Error}] == 0);
  CHECK(o.count[{4001, Severity::Error}] >= 1);
}

TEST_CASE("a build whose findings are all demoted is proven, and says what it found") {
  // The seed demo as built at d59f784: no NAT external address (ND4002),
  // host02's default route via the gateway's provider address instead of
  // its customer address (ND4002, issue 13), both gateway NICs in one bridge
  // (ND4007), and (before 0b71672) no neighbour for host02's VM on the
  // routing gateway's bridge (ND4005).
  Outcome strict = Run("seed-demo", {});
  CHECK_FALSE(strict.proven);
  CHECK(strict.count[{4002, Severity::Error}] == 2);
  CHECK(strict.count[{4007, Severity::Error}] == 1);
  CHECK(strict.count[{4005, Severity::Error}] == 1);
  Outcome o = Run("seed-demo", {DiagKind::VerifyUnreachable, DiagKind::VerifyUplinksBridged,
                                DiagKind::VerifyDisagreement});
  CHECK(o.proven);
  CHECK(o.count[{4002, Severity::Warning}] == 2);
  CHECK(o.count[{4007, Severity::Warning}] == 1);
  CHECK(o.count[{4005, Severity::Warning}] == 1);
}

}  // namespace
}  // namespace netdsl::verify

namespace netdsl::verify {
namespace {

/// The text `netdslc verify` would print for `dir` on `jobs` threads.
std::string Text(const std::string& dir, unsigned jobs) {
  llvm::SourceMgr sources;
  DiagnosticEngine diags(sources);
  VerifyOptions options;
  options.jobs = jobs;
  Verify(kDefects + dir, options, diags);
  std::string text;
  llvm::raw_string_ostream os(text);
  diags.Emit(DiagFormat::Text, os, false);
  return os.str();
}

TEST_CASE("the same build gives the same diagnostics on any number of threads, every run") {
  // Findings are printed sorted, and a reachability finding that several
  // hosts find is the first host's (not the first thread's).
  for (const char* dir : {"seed-demo", "nat-two-tenants", "multi-site-pa-next-hop", "nvgre-three-hosts"}) {
    CAPTURE(dir);
    std::string one = Text(dir, 1);
    CHECK_FALSE(one.empty());
    for (int run = 0; run < 8; ++run) CHECK(Text(dir, 4) == one);
  }
}

}  // namespace
}  // namespace netdsl::verify
