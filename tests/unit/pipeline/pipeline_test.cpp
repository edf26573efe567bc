// The pipeline as a library: Compile reads the lock and hashes the inputs,
// Build runs whatever backend rows it is given and writes all or nothing,
// NextLock keeps, updates and drops host provenance.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/io/atomic_file.h"
#include "compiler/pipeline/build.h"
#include "compiler/pipeline/pipeline.h"

using namespace netdsl;
namespace fs = std::filesystem;

namespace {

/// A fresh directory holding a copy of the seed demo.
struct SeedDemo {
  fs::path dir;
  SeedDemo() {
    dir = fs::temp_directory_path() / ("netdsl-pipeline-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::copy_file(fs::path(NETDSL_SOURCE_DIR) / "examples/seed-demo/fabric.netdsl", dir / "fabric.netdsl");
  }
  ~SeedDemo() { fs::remove_all(dir); }
  std::string root() const { return (dir / "fabric.netdsl").string(); }
  std::string out() const { return (dir / "out").string(); }
  static inline int counter = 0;
};

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

llvm::Expected<std::vector<backends::Artifact>> EchoHost(const ir::HostIr& host) {
  return std::vector<backends::Artifact>{{"echo.txt", host.host + " " + std::to_string(host.ports.size()) + "\n"}};
}
llvm::Expected<std::vector<backends::Artifact>> EchoFabric(const alloc::AllocatedFabric& fabric) {
  return std::vector<backends::Artifact>{{"fabric/echo.txt", std::to_string(fabric.fabric.hosts.size()) + " hosts\n"}};
}
llvm::Expected<std::vector<backends::Artifact>> RefuseHost02(const ir::HostIr& host) {
  if (host.host == "host02")
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "host `host02`: no");
  return EchoHost(host);
}

const backends::Backend kEcho{"echo", {fabric::Platform::Linux}, EchoHost, EchoFabric, nullptr};
const backends::Backend kRefuse{"refuse", {fabric::Platform::Linux}, RefuseHost02, nullptr, nullptr};

std::optional<pipeline::Compiled> CompileSeed(const SeedDemo& seed, DiagnosticEngine& diags) {
  pipeline::CompileOptions options;
  options.files = {seed.root()};
  return pipeline::Compile(options, diags);
}

}  // namespace

TEST_CASE("Compile hashes the inputs and reads the root file's own lock") {
  SeedDemo seed;
  llvm::SourceMgr sm;
  DiagnosticEngine diags(sm);
  auto c = CompileSeed(seed, diags);
  REQUIRE(c);
  CHECK(c->lock_path == (seed.dir / "fabric.lock").string());
  CHECK(!c->previous_lock);
  REQUIRE(c->inputs.size() == 1);
  CHECK(c->inputs[0].path == "fabric.netdsl");
  CHECK(c->source_hash.size() == 64);
  CHECK(c->fabric.fabric.hosts.size() == 3);
  CHECK(pipeline::NextGeneration(*c, "host02", "whatever") == 1);
}

TEST_CASE("each root file has its own lock: NAME.lock beside NAME.netdsl") {
  CHECK(pipeline::DefaultLockPath("/src/fabric.netdsl") == "/src/fabric.lock");
  CHECK(pipeline::DefaultLockPath("prod.netdsl") == "prod.lock");
  CHECK(pipeline::DefaultLockPath("dir/a.b.netdsl") == "dir/a.b.lock");
  // Not ending in .netdsl: the whole name + .lock, never the file itself.
  CHECK(pipeline::DefaultLockPath("dir/fabric") == "dir/fabric.lock");
  CHECK(pipeline::DefaultLockPath("dir/.netdsl") == "dir/.netdsl.lock");
  CHECK(pipeline::LegacyLockPath("/src/fabric.netdsl") == "/src/netdsl.lock");
  CHECK(pipeline::LegacyLockPath("fabric.netdsl") == "netdsl.lock");
}

TEST_CASE("Build runs the backend rows it is given and writes the manifest and the lock") {
  SeedDemo seed;
  {
    llvm::SourceMgr sm;
    DiagnosticEngine diags(sm);
    auto c = CompileSeed(seed, diags);
    REQUIRE(c);
    pipeline::BuildOptions options;
    options.output = seed.out();
    options.backends = {&kEcho};
    options.jobs = 2;
    pipeline::BuildResult result;
    REQUIRE(!pipeline::Build(*c, options, diags, result));
    CHECK(!diags.HasErrors());
  }
  CHECK(Read(seed.dir / "out/hosts/host02/echo.txt") == "host02 1\n");
  CHECK(Read(seed.dir / "out/hosts/gateway/echo.txt") == "gateway 0\n");
  CHECK(Read(seed.dir / "out/fabric/echo.txt") == "3 hosts\n");
  CHECK(!fs::exists(seed.dir / "out/hosts/host02/linux.yaml"));
  std::string manifest = Read(seed.dir / "out/manifest.json");
  CHECK(manifest.find("\"path\": \"hosts/host01/echo.txt\"") != std::string::npos);
  CHECK(manifest.find("\"path\": \"fabric/echo.txt\"") != std::string::npos);
  std::string lock = Read(seed.dir / "fabric.lock");
  CHECK(lock.find("host host02: {generation: 1") != std::string::npos);

  // The next compile reads that lock: same IR, same generation.
  llvm::SourceMgr sm;
  DiagnosticEngine diags(sm);
  auto again = CompileSeed(seed, diags);
  REQUIRE(again);
  REQUIRE(again->previous_lock);
  std::string hash = again->previous_lock->hosts.at("host host02").ir_hash;
  CHECK(pipeline::NextGeneration(*again, "host02", hash) == 1);
  CHECK(pipeline::NextGeneration(*again, "host02", "changed") == 2);
}

TEST_CASE("a backend refusal is ND3001 at the host and nothing is written") {
  SeedDemo seed;
  llvm::SourceMgr sm;
  DiagnosticEngine diags(sm);
  auto c = CompileSeed(seed, diags);
  REQUIRE(c);
  pipeline::BuildOptions options;
  options.output = seed.out();
  options.backends = {&kEcho, &kRefuse};
  pipeline::BuildResult result;
  REQUIRE(!pipeline::Build(*c, options, diags, result));
  REQUIRE(diags.ErrorCount() == 1);
  Diagnostic d = diags.Sorted().front();
  CHECK(d.kind == DiagKind::BackendRefused);
  CHECK(d.message == "host `host02`: no");
  CHECK(d.range.isValid());
  CHECK(!fs::exists(seed.dir / "out"));
  CHECK(!fs::exists(seed.dir / "fabric.lock"));
  for (const auto& entry : fs::directory_iterator(seed.dir))
    CHECK(entry.path().filename().string().find("staging") == std::string::npos);
}

TEST_CASE("before_commit runs on the staged artifacts and can stop the build") {
  SeedDemo seed;
  llvm::SourceMgr sm;
  DiagnosticEngine diags(sm);
  auto c = CompileSeed(seed, diags);
  REQUIRE(c);
  pipeline::BuildOptions options;
  options.output = seed.out();
  options.backends = {&kEcho};
  std::string seen;
  options.before_commit = [&](const std::string& staging, DiagnosticEngine&) {
    seen = Read(fs::path(staging) / "hosts/host01/echo.txt");
    return false;
  };
  pipeline::BuildResult result;
  REQUIRE(!pipeline::Build(*c, options, diags, result));
  CHECK(seen == "host01 0\n");
  CHECK(!fs::exists(seed.dir / "out"));
  CHECK(!fs::exists(seed.dir / "fabric.lock"));
}

TEST_CASE("NextLock updates built hosts, keeps the others and drops hosts that are gone") {
  SeedDemo seed;
  llvm::SourceMgr sm;
  DiagnosticEngine diags(sm);
  auto c = CompileSeed(seed, diags);
  REQUIRE(c);
  c->fabric.lock.hosts["host host01"] = {4, "old01", {}};
  c->fabric.lock.hosts["host vanished"] = {9, "gone", {}};
  alloc::LockFile lock = pipeline::NextLock(*c, {{"host02", 3, "new02"}});
  CHECK(lock.hosts.size() == 2);
  CHECK(lock.hosts.at("host host01").generation == 4);
  CHECK(lock.hosts.at("host host02").generation == 3);
  CHECK(lock.hosts.at("host host02").ir_hash == "new02");
  CHECK(!lock.hosts.count("host vanished"));
  CHECK(!lock.Section(alloc::LockSection::Vsid).empty());
}

TEST_CASE("AllBackends is the one table: every target has a row with a host emitter") {
  std::vector<std::string> names;
  for (const backends::Backend& b : backends::AllBackends()) {
    names.emplace_back(b.name);
    CHECK(bool(b.emit_host));
  }
  CHECK(names == std::vector<std::string>{"tables", "linux", "powershell"});
  CHECK(backends::FindBackend("linux") == &backends::AllBackends()[1]);
  CHECK(backends::FindBackend("bogus") == nullptr);
}
