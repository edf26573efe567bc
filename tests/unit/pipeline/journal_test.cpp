// JournaledOutput/RecoverCommit: a commit killed at every step (a forked child
// with NETDSL_TEST_KILL_COMMIT=N, _exit(9) there) and then recovered leaves
// exactly the old or exactly the new tree; a recovery killed at every step
// and recovered again too. Paths stay inside OUT: `..`, absolute paths,
// symlinked parents and a symlinked .netdsl-cache are refused.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <sstream>

#include "common/io/sha256.h"
#include "compiler/pipeline/journal.h"

using netdsl::pipeline::ArtifactRecord;
using netdsl::pipeline::JournaledOutput;
using netdsl::pipeline::RecoverCommit;
namespace fs = std::filesystem;

namespace {

/// Every file (with its content) and directory below `root`; symlinks as `-> target`.
using Tree = std::map<std::string, std::string>;

Tree Snapshot(const fs::path& root) {
  Tree tree;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = fs::relative(it->path(), root).generic_string();
    if (it->is_symlink()) tree[rel] = "-> " + fs::read_symlink(it->path()).string();
    else if (it->is_directory()) tree[rel + "/"] = "";
    else {
      std::ifstream in(it->path(), std::ios::binary);
      std::stringstream s;
      s << in.rdbuf();
      tree[rel] = s.str();
    }
  }
  return tree;
}

void Write(const fs::path& path, const std::string& data) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

/// A scratch directory removed at the end.
struct Scratch {
  fs::path dir;
  Scratch() {
    char tmpl[] = "/tmp/journal-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~Scratch() { fs::remove_all(dir); }
};

/// The old output: manifest, three hosts' files, a cache file.
void MakeOld(const fs::path& out) {
  fs::remove_all(out);
  Write(out / "manifest.json", "old manifest");
  Write(out / "hosts/a/linux.yaml", "old a");
  Write(out / "hosts/b/linux.yaml", "old b");
  Write(out / "hosts/b/tables.ndt", "old b tables");
  Write(out / "hosts/c/linux.yaml", "old c");
  Write(out / ".netdsl-cache/state", "old state");
}

/// The commit under test: a changes, b goes, d is new (a new directory), the
/// cache and the manifest change. Returns false on any error.
bool CommitNew(const fs::path& out, std::string* error) {
  JournaledOutput o(out.string());
  ArtifactRecord record;
  return o.Begin(error) && o.WriteFile("hosts/a/linux.yaml", "new a", &record, error) &&
         o.WriteFile("hosts/d/sub/linux.yaml", "new d", &record, error) &&
         o.Remove("hosts/b/linux.yaml", error) && o.Remove("hosts/b/tables.ndt", error) &&
         o.Remove("hosts/never/there", error) && o.WriteFile("manifest.json", "new manifest", &record, error) &&
         o.WriteFile(".netdsl-cache/state", "new state", &record, error) && o.Commit(error);
}

/// Runs `body` in a child with `variable`=`step`; returns its exit status (9 = killed by the hook).
int InChild(const char* variable, int step, const std::function<bool()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv(variable, std::to_string(step).c_str(), 1);
    ::_exit(body() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("a commit killed at any step is recovered to exactly the old or the new files") {
  Scratch scratch;
  fs::path out = scratch.dir / "out";
  MakeOld(out);
  const Tree old_tree = Snapshot(out);
  std::string error;
  REQUIRE_MESSAGE(CommitNew(out, &error), error);
  const Tree new_tree = Snapshot(out);
  REQUIRE(new_tree.at("hosts/a/linux.yaml") == "new a");
  REQUIRE(new_tree.at("hosts/d/sub/linux.yaml") == "new d");
  REQUIRE(!new_tree.count("hosts/b/"));  // emptied directories go too
  REQUIRE(!new_tree.count(".netdsl-cache/commit/"));
  REQUIRE(RecoverCommit(out.string(), &error));
  CHECK(Snapshot(out) == new_tree);

  int saw_old = 0, saw_new = 0;
  for (int step = 1;; ++step) {
    REQUIRE(step < 100);
    MakeOld(out);
    int status = InChild("NETDSL_TEST_KILL_COMMIT", step, [&] { return CommitNew(out, &error); });
    INFO("killed at step " << step);
    if (status == 0) {
      CHECK(Snapshot(out) == new_tree);
      break;
    }
    REQUIRE(status == 9);
    REQUIRE_MESSAGE(RecoverCommit(out.string(), &error), error);
    Tree after = Snapshot(out);
    CHECK((after == old_tree || after == new_tree));
    (after == old_tree ? saw_old : saw_new)++;
    // A recovery killed at each of its own steps, then recovered again, ends the same.
    if (after == new_tree) {
      for (int rstep = 1;; ++rstep) {
        REQUIRE(rstep < 100);
        MakeOld(out);
        REQUIRE(InChild("NETDSL_TEST_KILL_COMMIT", step, [&] { return CommitNew(out, &error); }) == 9);
        int r = InChild("NETDSL_TEST_KILL_RECOVER", rstep, [&] { return RecoverCommit(out.string(), &error); });
        REQUIRE((r == 0 || r == 9));
        REQUIRE(RecoverCommit(out.string(), &error));
        CHECK(Snapshot(out) == new_tree);
        if (r == 0) break;
      }
    }
  }
  // Killed with only temporaries (writes, before the journal) and past the commit point.
  CHECK(saw_old >= 4);
  CHECK(saw_new >= 5);
}

TEST_CASE("Abort and an unfinished commit leave the old files") {
  Scratch scratch;
  fs::path out = scratch.dir / "out";
  MakeOld(out);
  const Tree old_tree = Snapshot(out);
  std::string error;
  {
    JournaledOutput o(out.string());
    REQUIRE(o.Begin(&error));
    REQUIRE(o.WriteFile("hosts/a/linux.yaml", "new a", nullptr, &error));
    REQUIRE(o.Remove("hosts/c/linux.yaml", &error));
    CHECK(Snapshot(out) != old_tree);  // the temporaries exist
  }  // destroyed without Commit
  CHECK(Snapshot(out) == old_tree);
  {
    JournaledOutput o(out.string());
    REQUIRE(o.Begin(&error));
    REQUIRE(o.WriteFile("manifest.json", "new", nullptr, &error));
    o.Abort();
    CHECK(!o.Commit(&error));
  }
  CHECK(Snapshot(out) == old_tree);
}

TEST_CASE("paths stay inside the output directory") {
  Scratch scratch;
  fs::path out = scratch.dir / "out";
  MakeOld(out);
  fs::create_directories(scratch.dir / "elsewhere");
  fs::create_directory_symlink(scratch.dir / "elsewhere", out / "hosts/link");
  const Tree old_tree = Snapshot(out);
  std::string error;
  for (const char* bad : {"../escape", "/tmp/abs", "hosts/../../escape", "hosts/./a", "hosts//a", "", "hosts/a/",
                          ".netdsl-cache/commit/journal", ".netdsl-cache/commit/t0"}) {
    INFO(bad);
    JournaledOutput o(out.string());
    REQUIRE(o.Begin(&error));
    CHECK(!o.WriteFile(bad, "x", nullptr, &error));
    CHECK(!o.Remove(bad, &error));
  }
  // Through a symlinked parent: refused at once.
  Write(scratch.dir / "elsewhere/victim", "keep me");
  {
    JournaledOutput o(out.string());
    REQUIRE(o.Begin(&error));
    CHECK(!o.WriteFile("hosts/link/x", "x", nullptr, &error));
    CHECK_MESSAGE(error.find("symbolic link") != std::string::npos, error);
    CHECK(!o.Remove("hosts/link/victim", &error));
    CHECK(!o.WriteFile("hosts/a/linux.yaml/x", "x", nullptr, &error));  // a file as a parent
  }
  // A symlink planted between WriteFile/Remove and Commit: the commit stops
  // at it, and so does every recovery, until someone removes it.
  for (bool remove : {false, true}) {
    JournaledOutput o(out.string());
    REQUIRE(o.Begin(&error));
    if (remove) REQUIRE(o.Remove("hosts/late/victim", &error));
    else REQUIRE(o.WriteFile("hosts/late/x", "x", nullptr, &error));
    fs::create_directory_symlink(scratch.dir / "elsewhere", out / "hosts/late");
    CHECK(!o.Commit(&error));
    CHECK_MESSAGE(error.find("symbolic link") != std::string::npos, error);
    CHECK(!RecoverCommit(out.string(), &error));
    fs::remove(out / "hosts/late");
    CHECK(RecoverCommit(out.string(), &error));
    if (!remove) {
      CHECK(Snapshot(out).at("hosts/late/x") == "x");
      fs::remove_all(out / "hosts/late");
    }
    CHECK(Snapshot(out) == old_tree);
  }
  CHECK(fs::exists(scratch.dir / "elsewhere/victim"));
  CHECK(!fs::exists(scratch.dir / "elsewhere/x"));
  CHECK(Snapshot(out) == old_tree);
  // A symlinked .netdsl-cache is refused: nothing is written through it.
  fs::remove_all(out / ".netdsl-cache");
  fs::create_directory_symlink(scratch.dir / "elsewhere", out / ".netdsl-cache");
  {
    JournaledOutput o(out.string());
    CHECK(!o.Begin(&error));
  }
  CHECK(!RecoverCommit(out.string(), &error));
  CHECK(!fs::exists(scratch.dir / "elsewhere/commit"));
  // Not a build output: no manifest.json.
  fs::remove(out / ".netdsl-cache");
  fs::remove(out / "manifest.json");
  JournaledOutput o(out.string());
  CHECK(!o.Begin(&error));
  CHECK(error.find("manifest.json") != std::string::npos);
}

TEST_CASE("RecoverCommit refuses a damaged journal and ignores a missing output") {
  Scratch scratch;
  std::string error;
  CHECK(RecoverCommit((scratch.dir / "missing").string(), &error));
  fs::path out = scratch.dir / "out";
  MakeOld(out);
  CHECK(RecoverCommit(out.string(), &error));
  const Tree old_tree = Snapshot(out);
  // A journal whose checksum does not match (one byte changed).
  // Killed past the commit point: 2 writes + 4 commit steps + the first rename.
  int status = InChild("NETDSL_TEST_KILL_COMMIT", 7, [&] {
    JournaledOutput o(out.string());
    return o.Begin(&error) && o.WriteFile("hosts/a/linux.yaml", "new a", nullptr, &error) &&
           o.WriteFile("manifest.json", "new manifest", nullptr, &error) && o.Commit(&error);
  });
  REQUIRE(status == 9);
  fs::path journal = out / ".netdsl-cache/commit/journal";
  REQUIRE(fs::exists(journal));
  std::ifstream in(journal, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  text[text.find("hosts/a")] = 'H';
  Write(journal, text);
  CHECK(!RecoverCommit(out.string(), &error));
  CHECK(error.find("damaged") != std::string::npos);
}
