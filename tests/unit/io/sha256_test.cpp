// SHA-256 against FIPS 180-4 / NIST vectors, incremental updates, and atomic writes.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "common/io/atomic_file.h"
#include "common/io/sha256.h"

using netdsl::io::Sha256;
using netdsl::io::Sha256Hex;

static void KnownVectors() {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(Sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                  "mnopqrstnopqrstu") == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  std::string million(1000000, 'a');
  CHECK(Sha256Hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 known vectors, hardware and portable") {
  KnownVectors();
  netdsl::io::Sha256ForcePortable(true);
  KnownVectors();
  netdsl::io::Sha256ForcePortable(false);
}

TEST_CASE("sha256 incremental updates equal one-shot at every split") {
  std::string text;
  for (int i = 0; i < 200; ++i) text.push_back(char('a' + i % 26));
  std::string expected = Sha256Hex(text);
  for (size_t split = 0; split <= text.size(); split += 7) {
    Sha256 h;
    h.Update(std::string_view(text).substr(0, split));
    h.Update(std::string_view(text).substr(split));
    CHECK(h.FinalHex() == expected);
  }
  // Lengths around the 55/56/64-byte padding boundaries.
  CHECK(Sha256Hex(std::string(55, 'a')) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(Sha256Hex(std::string(56, 'a')) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  CHECK(Sha256Hex(std::string(64, 'a')) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("atomic write replaces content and leaves no temp file") {
  auto dir = std::filesystem::temp_directory_path() / ("netdsl-io-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "file.txt").string();
  std::string error;
  REQUIRE(netdsl::io::WriteFileAtomic(path, "first", &error));
  REQUIRE(netdsl::io::WriteFileAtomic(path, "second", &error));
  std::string back;
  REQUIRE(netdsl::io::ReadFile(path, &back, &error));
  CHECK(back == "second");
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) (void)e, ++files;
  CHECK(files == 1);
  CHECK_FALSE(netdsl::io::WriteFileAtomic((dir / "missing" / "x").string(), "x", &error));
  CHECK(error.find("missing") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("atomic write: mode, a symlinked directory refused with no_follow, a file replaced not followed") {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("netdsl-io-mode-" + std::to_string(getpid()));
  fs::create_directories(dir / "real");
  std::string error;
  std::string path = (dir / "real" / "state").string();
  REQUIRE(netdsl::io::WriteFileAtomic(path, "x", &error, {.mode = 0600, .no_follow = true}));
  CHECK((fs::status(path).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  REQUIRE(netdsl::io::WriteFileAtomic(path, "y", &error));  // default 0644
  CHECK((fs::status(path).permissions() & fs::perms::group_read) != fs::perms::none);
  // A symlink in place of the directory: followed by default, refused with no_follow.
  fs::create_directory_symlink(dir / "real", dir / "link");
  CHECK(netdsl::io::WriteFileAtomic((dir / "link" / "state").string(), "z", &error));
  CHECK_FALSE(netdsl::io::WriteFileAtomic((dir / "link" / "state").string(), "w", &error, {.no_follow = true}));
  CHECK((errno == ELOOP || errno == ENOTDIR));  // O_DIRECTORY|O_NOFOLLOW on a symlink: ENOTDIR
  // A symlink in place of the file is replaced, never written through.
  std::string victim = (dir / "victim").string();
  REQUIRE(netdsl::io::WriteFileAtomic(victim, "keep", &error));
  fs::remove(path);
  fs::create_symlink(victim, path);
  REQUIRE(netdsl::io::WriteFileAtomic(path, "new", &error, {.mode = 0600, .no_follow = true}));
  std::string back;
  REQUIRE(netdsl::io::ReadFile(victim, &back, &error));
  CHECK(back == "keep");
  CHECK_FALSE(fs::is_symlink(path));
  fs::remove_all(dir);
}
