// Reading an earlier build's manifest.json (see previous_output.h).
#include "compiler/pipeline/previous_output.h"

#include <sys/stat.h>

#include "common/io/atomic_file.h"
#include "common/io/sha256.h"
#include "llvm/Support/JSON.h"

namespace netdsl::pipeline {

namespace {

bool PlainRelativePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::optional<std::string> ReadAll(const std::string& path) {
  std::string data, error;
  if (!io::ReadFile(path, &data, &error)) return std::nullopt;
  return data;
}

}  // namespace

std::vector<const ArtifactRecord*> PreviousOutput::HostArtifacts(const std::string& host) const {
  std::vector<const ArtifactRecord*> out;
  std::string prefix = "hosts/" + host + "/";
  for (auto it = artifacts.lower_bound(prefix); it != artifacts.end() && it->first.rfind(prefix, 0) == 0; ++it)
    if (it->first.find('/', prefix.size()) == std::string::npos) out.push_back(&it->second);
  return out;
}

namespace {

int64_t MtimeNs(const struct stat& st) { return int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec; }

}  // namespace

bool PreviousOutput::Intact(const ArtifactRecord& artifact) const {
  struct stat st;
  if (lstat((dir + "/" + artifact.path).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  return uint64_t(st.st_size) == artifact.size && MtimeNs(st) <= manifest_mtime_ns;
}

std::optional<PreviousOutput> ReadPreviousOutput(const std::string& dir) {
  struct stat st;
  if (lstat((dir + "/manifest.json").c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::optional<std::string> text = ReadAll(dir + "/manifest.json");
  if (!text) return std::nullopt;
  llvm::Expected<llvm::json::Value> doc = llvm::json::parse(*text);
  if (!doc) {
    llvm::consumeError(doc.takeError());
    return std::nullopt;
  }
  const llvm::json::Object* root = doc->getAsObject();
  if (!root || root->getInteger("format").value_or(0) != 1) return std::nullopt;
  PreviousOutput out;
  out.dir = dir;
  out.manifest_mtime_ns = MtimeNs(st);
  if (auto id = root->getString("compiler_sha256")) out.compiler_sha256 = id->str();
  if (const llvm::json::Array* inputs = root->getArray("inputs"))
    for (const llvm::json::Value& v : *inputs) {
      const llvm::json::Object* o = v.getAsObject();
      if (!o || !o->getString("path") || !o->getString("sha256")) return std::nullopt;
      out.inputs.push_back({o->getString("path")->str(), o->getString("sha256")->str()});
    }
  if (const llvm::json::Object* lock = root->getObject("lock"))
    if (lock->getString("path") && lock->getString("sha256"))
      out.lock = {lock->getString("path")->str(), lock->getString("sha256")->str()};
  if (const llvm::json::Array* hosts = root->getArray("hosts"))
    for (const llvm::json::Value& v : *hosts) {
      const llvm::json::Object* o = v.getAsObject();
      if (!o || !o->getString("name")) return std::nullopt;
      HostRecord h;
      h.name = o->getString("name")->str();
      if (auto g = o->getInteger("generation")) h.generation = uint64_t(*g);
      if (auto hash = o->getString("ir_hash")) h.ir_hash = hash->str();
      if (const llvm::json::Array* groups = o->getArray("groups"))
        for (const llvm::json::Value& g : *groups)
          if (auto s = g.getAsString()) h.groups.push_back(s->str());
      if (const llvm::json::Array* backends = o->getArray("backends"))
        for (const llvm::json::Value& b : *backends)
          if (auto s = b.getAsString()) h.backends.insert(s->str());
      out.hosts[h.name] = std::move(h);
    }
  const llvm::json::Array* artifacts = root->getArray("artifacts");
  if (!artifacts) return std::nullopt;
  for (const llvm::json::Value& v : *artifacts) {
    const llvm::json::Object* o = v.getAsObject();
    if (!o || !o->getString("path") || !o->getString("sha256") || !o->getInteger("size")) return std::nullopt;
    ArtifactRecord a{o->getString("path")->str(), o->getString("sha256")->str(), uint64_t(*o->getInteger("size"))};
    if (!PlainRelativePath(a.path) || a.path == "manifest.json") return std::nullopt;
    out.artifacts[a.path] = std::move(a);
  }
  return out;
}

const std::string& CompilerSha256() {
  static const std::string id = [] {
    std::optional<std::string> exe = ReadAll("/proc/self/exe");
    return exe ? io::Sha256Hex(*exe) : std::string();
  }();
  return id;
}

}  // namespace netdsl::pipeline
