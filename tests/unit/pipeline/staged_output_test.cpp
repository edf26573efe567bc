// StagedOutput leaves nothing beside the output: a staging directory that a
// killed build left (no flock held on it) is removed by the next build's
// Begin; one a live build holds is kept; so are other outputs' ones.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "compiler/pipeline/output.h"

using netdsl::pipeline::StagedOutput;
namespace fs = std::filesystem;

namespace {

std::set<std::string> Names(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

}  // namespace

TEST_CASE("Begin removes the staging directories of killed builds, not a live build's") {
  char tmpl[] = "/tmp/staged-output-test-XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  fs::create_directories(dir / "out");
  std::ofstream(dir / "out/manifest.json") << "{}";
  fs::create_directories(dir / ".out.staging-dead01/hosts/a");
  std::ofstream(dir / ".out.staging-dead01/hosts/a/linux.yaml") << "partial";
  fs::create_directories(dir / ".out.staging-live01");
  fs::create_directories(dir / ".other.staging-dead02");
  // A live build's: held by a flock (another open file description, as another process's).
  int live = ::open((dir / ".out.staging-live01").c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(live >= 0);
  REQUIRE(::flock(live, LOCK_EX) == 0);

  std::string error;
  {
    StagedOutput out((dir / "out").string());
    REQUIRE_MESSAGE(out.Begin(&error), error);
    std::set<std::string> names = Names(dir);
    CHECK(!names.count(".out.staging-dead01"));
    CHECK(names.count(".out.staging-live01"));
    CHECK(names.count(".other.staging-dead02"));
    CHECK(names.count(fs::path(out.staging()).filename().string()));
    // Our own staging directory is held: a second build's Begin keeps it.
    StagedOutput second((dir / "out").string());
    REQUIRE(second.Begin(&error));
    CHECK(fs::exists(out.staging()));
    second.Abort();
    REQUIRE(out.WriteFile("manifest.json", "{\"new\": 1}", nullptr, &error));
    REQUIRE(out.Commit(&error));
  }
  CHECK(Names(dir) == std::set<std::string>{"out", ".out.staging-live01", ".other.staging-dead02"});
  ::close(live);
  fs::remove_all(dir);
}
