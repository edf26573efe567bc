// Unit tests of the apply sequence (runtime/linux/apply.h) against the
// in-memory kernel: commit, rollback on a failed step, hooks, the journal.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "runtime/linux/apply.h"
#include "runtime/linux/plan_reader.h"
#include "tests/unit/runtime/plan_of.h"
#include "tests/unit/runtime/fake_kernel.h"

using namespace netdsl::runtime;
using netdsl::runtime::testing::PlanOf;
using netdsl::runtime::testing::FakeKernel;

namespace {

const char* kPlan = R"(links:
  - {name: nd-br1, kind: bridge, mtu: 1450}
  - {name: nd-vx1, kind: vxlan, mtu: 1450, master: nd-br1, vxlan: {id: 1, local: 192.168.0.10}}
addresses:
  - {dev: nd-br1, address: 10.0.0.1/24}
fdb:
  - {dev: nd-vx1, mac: "00:00:00:00:00:00", dst: 192.168.0.11}
)";

/// Collects messages.
struct Collect : ApplyReport {
  std::vector<std::string> errors, warnings, notes;
  void Error(std::string_view t) override { errors.emplace_back(t); }
  void Warning(std::string_view t) override { warnings.emplace_back(t); }
  void Note(std::string_view t) override { notes.emplace_back(t); }
};

/// A fresh state directory per test, removed after.
struct TempStateDir {
  std::string path;
  TempStateDir() {
    char tmpl[] = "/tmp/netdsl-apply-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempStateDir() { std::filesystem::remove_all(path); }
  ApplyOptions Options() const {
    ApplyOptions o;
    o.target = {path, {1, 4026532000, 7}, ""};
    return o;
  }
  bool HasJournal() const { return std::filesystem::exists(path + "/net-1-4026532000.journal"); }
};

size_t Changes(FakeKernel& k, const HostState& desired) {
  HostState actual;
  std::string err;
  REQUIRE(k.Read(desired, &actual, &err, ReadScope()));
  return Diff(desired, actual).changes;
}

}  // namespace

TEST_CASE("apply converges, commits, and a second apply is in sync") {
  TempStateDir dir;
  FakeKernel k;
  HostState d = PlanOf(kPlan);
  Collect report;
  ApplyResult r = Apply(k, d, dir.Options(), ApplyHooks(), report);
  CHECK(r.outcome == ApplyOutcome::kApplied);
  CHECK(r.ExitCode() == 0);
  CHECK(Changes(k, d) == 0);
  CHECK_FALSE(dir.HasJournal());
  r = Apply(k, d, dir.Options(), ApplyHooks(), report);
  CHECK(r.outcome == ApplyOutcome::kInSync);
  CHECK(report.errors.empty());
}

TEST_CASE("another host's plan is refused where a host was applied, unless --host-override names it") {
  TempStateDir dir;
  FakeKernel k;
  Collect report;
  REQUIRE(Apply(k, PlanOf(kPlan), dir.Options(), ApplyHooks(), report).outcome == ApplyOutcome::kApplied);
  HostState other;
  std::vector<std::string> errors;
  REQUIRE(ReadPlan("format: 1\nhost: h2\n" + std::string(kPlan), "other.yaml", &other, &errors));
  ApplyOptions o = dir.Options();
  ApplyResult r = Apply(k, other, o, ApplyHooks(), report);
  CHECK(r.ExitCode() == 1);
  REQUIRE_FALSE(report.errors.empty());
  CHECK(report.errors.back().find("this machine is fabric host `h`") != std::string::npos);
  CHECK(report.errors.back().find("--host-override h2") != std::string::npos);
  PlanResult p = ::Plan(k, other, o.target, report);
  REQUIRE(p.read_ok);
  CHECK_FALSE(p.changes.conflicts.empty());
  o.host_override = "h3";  // must name the plan's host
  CHECK(Apply(k, other, o, ApplyHooks(), report).ExitCode() == 1);
  CHECK(report.errors.back().find("does not name the plan's host") != std::string::npos);
  o.host_override = "h2";
  CHECK(Apply(k, other, o, ApplyHooks(), report).outcome == ApplyOutcome::kInSync);
  // h2 is now the record: h's plan is the wrong one.
  CHECK(Apply(k, PlanOf(kPlan), dir.Options(), ApplyHooks(), report).ExitCode() == 1);
  CHECK(::Plan(k, other, o.target, report).changes.conflicts.empty());
}

TEST_CASE("a recreation is refused without --allow-disruptive: nothing changed, no journal") {
  TempStateDir dir;
  FakeKernel k;
  Collect report;
  REQUIRE(Apply(k, PlanOf(kPlan), dir.Options(), ApplyHooks(), report).outcome == ApplyOutcome::kApplied);
  std::string v2 = kPlan;
  v2.replace(v2.find("id: 1,"), 6, "id: 2,");
  HostState d = PlanOf(v2);
  const std::vector<Link> before = k.state.links;
  ApplyOptions o = dir.Options();
  ApplyResult r = Apply(k, d, o, ApplyHooks(), report);
  CHECK(r.outcome == ApplyOutcome::kRefused);
  CHECK(r.ExitCode() == 1);
  CHECK(r.steps_run == 0);
  REQUIRE_FALSE(report.errors.empty());
  CHECK(report.errors.back().find("`nd-vx1` (vxlan id 1 -> 2)") != std::string::npos);
  CHECK(report.errors.back().find("--allow-disruptive") != std::string::npos);
  CHECK(report.notes.back() == "nothing was changed");
  CHECK(k.state.links == before);
  CHECK_FALSE(dir.HasJournal());
  o.dry_run = true;  // a dry run shows it and warns
  CHECK(Apply(k, d, o, ApplyHooks(), report).outcome == ApplyOutcome::kDryRun);
  CHECK(report.warnings.back().find("--allow-disruptive") != std::string::npos);
  o.dry_run = false;
  o.allow_disruptive = true;
  CHECK(Apply(k, d, o, ApplyHooks(), report).outcome == ApplyOutcome::kApplied);
  CHECK(Changes(k, d) == 0);
}

TEST_CASE("a failed step rolls every executed step back") {
  TempStateDir dir;
  FakeKernel k;
  HostState d = PlanOf(kPlan);
  k.fault = [](const Op& op) { return op.kind == OpKind::AddFdb ? EPERM : 0; };
  Collect report;
  ApplyResult r = Apply(k, d, dir.Options(), ApplyHooks(), report);
  CHECK(r.outcome == ApplyOutcome::kRolledBack);
  CHECK(r.ExitCode() == 1);
  CHECK(r.failed_step > 0);
  CHECK(k.state.links.empty());
  CHECK(k.state.addresses.empty());
  CHECK_FALSE(dir.HasJournal());
  REQUIRE_FALSE(report.errors.empty());
  CHECK(report.errors[0].find("failed") != std::string::npos);
}

TEST_CASE("dry run changes nothing and takes no lock") {
  TempStateDir dir;
  FakeKernel k;
  ApplyOptions o = dir.Options();
  o.dry_run = true;
  Collect report;
  ApplyResult r = Apply(k, PlanOf(kPlan), o, ApplyHooks(), report);
  CHECK(r.outcome == ApplyOutcome::kDryRun);
  CHECK_FALSE(r.changes.lines.empty());
  CHECK(k.log.empty());
}

TEST_CASE("a missing kernel feature refuses before any change") {
  TempStateDir dir;
  FakeKernel k;
  k.missing_features = {"vxlan"};
  Collect report;
  ApplyResult r = Apply(k, PlanOf(kPlan), dir.Options(), ApplyHooks(), report);
  CHECK(r.outcome == ApplyOutcome::kRefused);
  CHECK(k.log.empty());
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors[0].find("kernel lacks `vxlan`") != std::string::npos);
}

TEST_CASE("hooks: before_change refuses with nothing changed; after_change refusal rolls back") {
  TempStateDir dir;
  HostState d = PlanOf(kPlan);
  {
    FakeKernel k;
    ApplyHooks hooks;
    bool before_saw_changes = false;
    hooks.before_change = [&](const ApplyContext& ctx, std::string* why) {
      before_saw_changes = !ctx.changes.steps.empty();
      *why = "probe `gateway` does not answer now";
      return false;
    };
    Collect report;
    ApplyResult r = Apply(k, d, dir.Options(), hooks, report);
    CHECK(before_saw_changes);
    CHECK(r.outcome == ApplyOutcome::kRefused);
    CHECK(k.log.empty());
    CHECK(report.errors == std::vector<std::string>{"probe `gateway` does not answer now"});
  }
  {
    FakeKernel k;
    ApplyHooks hooks;
    bool rolled = false;
    hooks.after_change = [&](const ApplyContext& ctx, std::string* why) {
      CHECK(Changes(static_cast<FakeKernel&>(ctx.kernel), ctx.desired) == 0);  // the change is in place
      *why = "probe `10.0.0.254` answered before the change and not after";
      return false;
    };
    hooks.on_rollback = [&](const ApplyContext&, bool ok, const std::string&) { rolled = ok; };
    Collect report;
    ApplyResult r = Apply(k, d, dir.Options(), hooks, report);
    CHECK(r.outcome == ApplyOutcome::kRolledBack);
    CHECK(rolled);
    CHECK(k.state.links.empty());
    CHECK(r.failure.find("probe") != std::string::npos);
  }
}

TEST_CASE("on_commit may keep the journal; the next apply rolls it back first") {
  TempStateDir dir;
  FakeKernel k;
  HostState d = PlanOf(kPlan);
  ApplyHooks hooks;
  hooks.on_commit = [](const ApplyContext&) { return CommitAction::kKeepJournal; };
  Collect report;
  ApplyResult r = Apply(k, d, dir.Options(), hooks, report);
  CHECK(r.outcome == ApplyOutcome::kApplied);
  CHECK(dir.HasJournal());
  CHECK(Changes(k, d) == 0);
  // Recovery alone undoes the kept change.
  CHECK(RecoverInterrupted(k, dir.Options().target, false, report));
  CHECK(k.state.links.empty());
  CHECK_FALSE(dir.HasJournal());
}
