// io::OpenRegularFile / ReadRegularFile: regular files within a limit only;
// a FIFO is refused without blocking, a device without reading it.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/io/regular_file.h"

using netdsl::io::OpenOptions;
using netdsl::io::ReadRegularFile;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/netdsl-io-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name) << text;
    return path + "/" + name;
  }
};

}  // namespace

TEST_CASE("a regular file is read whole") {
  TempDir dir;
  std::string text, error;
  CHECK(ReadRegularFile(dir.Write("a", "hello\n"), OpenOptions(), &text, &error));
  CHECK(text == "hello\n");
}

TEST_CASE("a FIFO is refused at once, a device without being read") {
  TempDir dir;
  std::string fifo = dir.path + "/fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  std::string text, error;
  OpenOptions o;
  o.what = "plan";
  CHECK_FALSE(ReadRegularFile(fifo, o, &text, &error));  // would block forever in open() without O_NONBLOCK
  CHECK(error == "not a regular file (a FIFO); a plan must be one");
  CHECK(errno == EINVAL);
  CHECK_FALSE(ReadRegularFile("/dev/zero", o, &text, &error));
  CHECK(error == "not a regular file (a character device); a plan must be one");
  CHECK_FALSE(ReadRegularFile(dir.path, o, &text, &error));
  CHECK(error == "not a regular file (a directory); a plan must be one");
}

TEST_CASE("the size limit is checked before reading") {
  TempDir dir;
  std::string path = dir.Write("big", std::string(3000, 'x'));
  std::string text, error;
  OpenOptions o;
  o.max_size = 2048;
  o.what = "journal";
  CHECK_FALSE(ReadRegularFile(path, o, &text, &error));
  CHECK(error == "2 KiB, above the limit of 2 KiB for a journal");
  CHECK(errno == EFBIG);
  o.max_size = 3000;
  CHECK(ReadRegularFile(path, o, &text, &error));
  CHECK(text.size() == 3000);
}

TEST_CASE("no_follow refuses a symlink; owned_by_me refuses a file others can write") {
  TempDir dir;
  std::string target = dir.Write("target", "x");
  std::string link = dir.path + "/link";
  REQUIRE(symlink(target.c_str(), link.c_str()) == 0);
  std::string text, error;
  OpenOptions o;
  o.what = "journal";
  CHECK(ReadRegularFile(link, o, &text, &error));
  o.no_follow = true;
  CHECK_FALSE(ReadRegularFile(link, o, &text, &error));
  CHECK(error == "a symbolic link; netdsl does not follow links for its journal");
  o.no_follow = false;
  o.owned_by_me = true;
  REQUIRE(chmod(target.c_str(), 0600) == 0);
  CHECK(ReadRegularFile(target, o, &text, &error));
  REQUIRE(chmod(target.c_str(), 0622) == 0);
  CHECK_FALSE(ReadRegularFile(target, o, &text, &error));
  CHECK(error.find("writable by others") != std::string::npos);
}

TEST_CASE("a missing file keeps errno for the caller") {
  std::string text, error;
  CHECK_FALSE(ReadRegularFile("/nonexistent/netdsl/x", OpenOptions(), &text, &error));
  CHECK(errno == ENOENT);
  CHECK(error == "No such file or directory");
}
