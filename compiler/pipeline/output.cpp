// Staged build output, manifest.json and ParallelFor (see output.h).
#include "compiler/pipeline/output.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>

#include "common/io/atomic_file.h"
#include "common/io/sha256.h"

namespace netdsl::pipeline {

namespace fs = std::filesystem;

namespace {

/// Removes every `prefix*` directory in `parent` that no build holds a flock on.
void RemoveStaleStaging(int parent_fd, const std::string& parent, const std::string& prefix) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    std::string n = it->path().filename().string();
    if (n.compare(0, prefix.size(), prefix) == 0 && n.size() > prefix.size()) names.push_back(std::move(n));
  }
  for (const std::string& n : names) {
    int fd = ::openat(parent_fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      std::string ignored;
      io::RemoveTree(parent + "/" + n, &ignored);
    }
    ::close(fd);
  }
}

}  // namespace

StagedOutput::~StagedOutput() {
  if (!committed_) Abort();
  if (staging_lock_ >= 0) ::close(staging_lock_);
}

bool StagedOutput::Begin(std::string* error) {
  // `out/` and `out` name the same directory; the staging directory goes beside it.
  while (target_.size() > 1 && target_.back() == '/') target_.pop_back();
  if (target_.empty() || target_ == "/" || target_ == "." || target_ == "..") {
    *error = "`" + (target_.empty() ? std::string("") : target_) + "` cannot be an output directory; name a directory to create";
    return false;
  }
  std::error_code ec;
  fs::path target(target_);
  if (fs::exists(target, ec)) {
    if (!fs::is_directory(target, ec)) {
      *error = target_ + ": exists and is not a directory";
      return false;
    }
    if (!fs::is_empty(target, ec) && !fs::exists(target / "manifest.json", ec)) {
      *error = target_ + ": refusing to replace a non-empty directory that has no manifest.json "
                         "(not a netdslc build output); choose another -o directory";
      return false;
    }
  }
  fs::path parent = fs::absolute(target, ec).parent_path();
  fs::create_directories(parent, ec);
  if (ec) {
    *error = parent.string() + ": " + ec.message();
    return false;
  }
  std::string name = fs::absolute(target).filename().string();
  const std::string prefix = "." + name + ".staging-";
  // A killed build leaves its staging directory beside the output. Each
  // build holds a flock on its own from creation to removal; under a lock on
  // the parent (so that a new one is locked before another build looks),
  // those nobody holds are removed. Best effort: without locks, no cleanup.
  int parent_fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool parent_locked = parent_fd >= 0 && ::flock(parent_fd, LOCK_EX) == 0;
  if (parent_locked) RemoveStaleStaging(parent_fd, parent.string(), prefix);
  bool made = io::MakeTempDirectory(parent.string(), prefix, &staging_, error);
  if (made) {
    staging_lock_ = ::open(staging_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (staging_lock_ >= 0) ::flock(staging_lock_, LOCK_EX | LOCK_NB);
  }
  if (parent_fd >= 0) ::close(parent_fd);
  return made;
}

bool StagedOutput::WriteFile(const std::string& relative_path, std::string_view data, ArtifactRecord* record,
                             std::string* error) {
  fs::path path = fs::path(staging_) / relative_path;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    *error = path.parent_path().string() + ": " + ec.message();
    return false;
  }
  // No fsync per file: Commit() flushes the whole staging tree once.
  if (!io::WriteFileUnsynced(path.string(), data, error)) return false;
  if (record) {
    record->path = relative_path;
    record->sha256 = io::Sha256Hex(data);
    record->size = data.size();
  }
  return true;
}

bool StagedOutput::KeepFile(const ArtifactRecord& previous, bool intact, ArtifactRecord* record,
                            std::string* error) {
  fs::path from = fs::path(target_) / previous.path;
  fs::path to = fs::path(staging_) / previous.path;
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) {
    *error = to.parent_path().string() + ": " + ec.message();
    return false;
  }
  fs::create_hard_link(from, to, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      *error = from.string() + ": " + ec.message();
      return false;
    }
  }
  uint64_t size = fs::file_size(to, ec);
  if (ec) {
    *error = to.string() + ": " + ec.message();
    return false;
  }
  *record = previous;
  if (!intact || size != previous.size) {
    // Changed behind the manifest's back: describe the file as it is.
    std::string data;
    if (!io::ReadFile(to.string(), &data, error)) return false;
    record->sha256 = io::Sha256Hex(data);
    record->size = data.size();
  }
  return true;
}

bool StagedOutput::Commit(std::string* error) {
  if (!io::SyncFilesystem(staging_, error)) return false;
  bool exchanged = false;
  // The previous output takes the staging directory's name: hold it too, so
  // that no other build's Begin removes it while this one does.
  int previous_lock = ::open(target_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (previous_lock >= 0) ::flock(previous_lock, LOCK_EX | LOCK_NB);
  if (!io::ReplaceDirectory(staging_, target_, &exchanged, error)) {
    if (previous_lock >= 0) ::close(previous_lock);
    return false;
  }
  committed_ = true;
  if (exchanged) {
    std::string ignored;
    io::RemoveTree(staging_, &ignored);  // now the previous output
  }
  if (previous_lock >= 0) ::close(previous_lock);
  return true;
}

void StagedOutput::Abort() {
  if (staging_.empty()) return;
  std::string ignored;
  io::RemoveTree(staging_, &ignored);
  staging_.clear();
}

std::string ManifestJson(std::string_view compiler_version, std::string_view compiler_sha256,
                         std::vector<InputRecord> inputs, const InputRecord& lock, std::vector<HostRecord> hosts,
                         std::vector<ArtifactRecord> artifacts) {
  std::sort(inputs.begin(), inputs.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  std::sort(hosts.begin(), hosts.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::sort(artifacts.begin(), artifacts.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  std::string o = "{\n  \"format\": 1,\n  \"compiler\": " + JsonString("netdslc " + std::string(compiler_version)) +
                  ",\n  \"inputs\": [";
  for (size_t i = 0; i < inputs.size(); ++i)
    o += std::string(i ? "," : "") + "\n    {\"path\": " + JsonString(inputs[i].path) +
         ", \"sha256\": " + JsonString(inputs[i].sha256) + "}";
  o += inputs.empty() ? "],\n" : "\n  ],\n";
  o += "  \"lock\": {\"path\": " + JsonString(lock.path) + ", \"sha256\": " + JsonString(lock.sha256) + "},\n";
  o += "  \"compiler_sha256\": " + JsonString(compiler_sha256) + ",\n";
  o += "  \"hosts\": [";
  for (size_t i = 0; i < hosts.size(); ++i) {
    o += std::string(i ? "," : "") + "\n    {\"name\": " + JsonString(hosts[i].name) + ", \"groups\": [";
    for (size_t g = 0; g < hosts[i].groups.size(); ++g) o += (g ? ", " : "") + JsonString(hosts[i].groups[g]);
    o += "], \"generation\": " + std::to_string(hosts[i].generation) + ", \"ir_hash\": " +
         JsonString(hosts[i].ir_hash) + ", \"backends\": [";
    size_t b = 0;
    for (const std::string& name : hosts[i].backends) o += (b++ ? ", " : "") + JsonString(name);
    o += "]}";
  }
  o += hosts.empty() ? "],\n" : "\n  ],\n";
  o += "  \"artifacts\": [";
  for (size_t i = 0; i < artifacts.size(); ++i)
    o += std::string(i ? "," : "") + "\n    {\"path\": " + JsonString(artifacts[i].path) +
         ", \"sha256\": " + JsonString(artifacts[i].sha256) + ", \"size\": " + std::to_string(artifacts[i].size) + "}";
  o += artifacts.empty() ? "]\n" : "\n  ]\n";
  o += "}\n";
  return o;
}

void ParallelFor(size_t n, unsigned jobs, const std::function<void(size_t)>& body,
                 const std::function<void(size_t done)>& on_done) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  size_t done = 0;
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      body(i);
      if (on_done) {
        std::lock_guard<std::mutex> lock(mu);
        on_done(++done);
      }
    }
  };
  jobs = std::max(1u, std::min<unsigned>(jobs, unsigned(std::max<size_t>(n, 1))));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
}

}  // namespace netdsl::pipeline
