// kill_on_growth DIR BYTES CMD [ARGS...]: runs CMD and sends it SIGKILL as
// soon as a `*.journal` file in DIR has grown past BYTES bytes (inotify, with
// a 1 ms poll as a backstop). Exits with CMD's status, 137 when it was killed.
// For the torn-journal test (tests/e2e/adversarial/torn_journal_test.sh).
#include <dirent.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

/// The largest size of a `*.journal` file in `dir`.
off_t LargestJournal(const std::string& dir) {
  off_t largest = 0;
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 8 || name.compare(name.size() - 8, 8, ".journal") != 0) continue;
    struct stat st;
    if (stat((dir + "/" + name).c_str(), &st) == 0 && st.st_size > largest) largest = st.st_size;
  }
  closedir(d);
  return largest;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: kill_on_growth DIR BYTES CMD [ARGS...]\n");
    return 64;
  }
  const std::string dir = argv[1];
  const off_t limit = std::atoll(argv[2]);
  int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (in < 0 || inotify_add_watch(in, dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
    std::perror("inotify");
    return 1;
  }
  pid_t child = fork();
  if (child == 0) {
    execvp(argv[3], argv + 3);
    std::perror("exec");
    _exit(127);
  }
  bool killed = false;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) {
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return WEXITSTATUS(status);
    }
    if (!killed && LargestJournal(dir) > limit) {
      kill(child, SIGKILL);
      killed = true;
    }
    pollfd p{in, POLLIN, 0};
    if (poll(&p, 1, 1) > 0) {
      char buf[4096];
      while (read(in, buf, sizeof buf) > 0) {
      }
    }
  }
}
