// Frontend, Compile, the next lock and backend validation (see pipeline.h).
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "backends/backend.h"
#include "common/io/atomic_file.h"
#include "common/io/sha256.h"
#include "compiler/alloc/alloc.h"
#include "compiler/pipeline/pipeline.h"
#include "compiler/sema/sema.h"
#include "compiler/syntax/parse.h"
#include "llvm/Support/FileSystem.h"

namespace netdsl::pipeline {

namespace fs = std::filesystem;

std::string DefaultLockPath(const std::string& root_file) {
  fs::path root(root_file);
  std::string name = root.filename().string();
  constexpr std::string_view kExt = ".netdsl";
  if (name.size() > kExt.size() && name.compare(name.size() - kExt.size(), kExt.size(), kExt) == 0)
    name.resize(name.size() - kExt.size());
  return (root.parent_path() / (name + ".lock")).string();
}

std::string LegacyLockPath(const std::string& root_file) {
  return (fs::path(root_file).parent_path() / "netdsl.lock").string();
}

ast::Program ParseSources(const CompileOptions& options, DiagnosticEngine& diags) {
  ParseOptions parse;
  parse.imports_anywhere = options.imports_anywhere;
  return Parse(options.files, diags, parse);
}

std::optional<model::Fabric> Frontend(const CompileOptions& options, DiagnosticEngine& diags) {
  ast::Program program = ParseSources(options, diags);
  if (diags.HasErrors()) return std::nullopt;
  auto fabric = Check(program, diags);
  if (diags.HasErrors()) return std::nullopt;
  return fabric;
}

std::string InputPath(const std::string& file, const std::string& root_file) {
  fs::path root_dir = fs::path(root_file).parent_path();
  std::error_code ec;
  fs::path rel = root_dir.empty() ? fs::path(file) : fs::relative(file, root_dir, ec);
  if (ec || rel.empty()) rel = file;
  return rel.generic_string();
}

namespace {

/// Hashes the bytes that were compiled (the SourceMgr's buffers, named by
/// path), not the files as they may be by now.
bool HashInputs(const std::vector<std::string>& files, const std::string& root_file, const std::string& lock_path,
                DiagnosticEngine& diags, std::vector<InputRecord>& inputs, io::Sha256& hasher) {
  llvm::SourceMgr& sources = diags.sources();
  std::map<std::string, llvm::StringRef> compiled;
  for (unsigned id = 1; id <= sources.getNumBuffers(); ++id)
    compiled.emplace(sources.getMemoryBuffer(id)->getBufferIdentifier().str(), sources.getMemoryBuffer(id)->getBuffer());
  for (const auto& file : files) {
    std::string text, error;
    if (auto it = compiled.find(file); it != compiled.end() && file != lock_path) {
      text = it->second.str();
    } else if (!io::ReadFile(file, &text, &error)) {
      diags.Report(DiagKind::FileNotReadable, llvm::SMRange(), error);
      return false;
    }
    InputRecord rec{InputPath(file, root_file), io::Sha256Hex(text)};
    hasher.Update(rec.sha256 + "\n");
    inputs.push_back(std::move(rec));
  }
  return true;
}

}  // namespace

CachedStatement StatementAt(llvm::SMRange range, const char* buffer_start, CachedStatement::Kind kind) {
  uint64_t begin = uint64_t(range.Start.getPointer() - buffer_start);
  uint64_t end = range.End.isValid() ? uint64_t(range.End.getPointer() - buffer_start) : begin + 1;
  return {begin, std::max(end, begin + 1), kind};
}

std::string RealPathUnderRoot(const std::string& file, const std::string& root_file) {
  llvm::SmallString<256> real, root;
  if (llvm::sys::fs::real_path(file, real) || llvm::sys::fs::real_path(root_file, root)) return "";
  return fs::path(real.str().str()).lexically_relative(fs::path(root.str().str()).parent_path()).generic_string();
}

/// Each file's top-level statements, for the build cache (build_cache.h).
std::vector<CachedFile> StatementsOf(const ast::Program& program, DiagnosticEngine& diags) {
  std::vector<CachedFile> files;
  for (const ast::File& file : program.files) {
    CachedFile f;
    f.path = file.path;
    f.buffer_id = file.buffer_id;
    f.real_path = RealPathUnderRoot(file.path, program.files.front().path);
    const llvm::MemoryBuffer* buf = diags.sources().getMemoryBuffer(file.buffer_id);
    f.size = buf->getBufferSize();
    for (const ast::Block& b : file.blocks)
      f.statements.push_back(StatementAt(b.range, buf->getBufferStart(),
                                         b.kind == "vm" ? CachedStatement::Kind::Vm : CachedStatement::Kind::Other));
    for (const ast::Import& i : file.imports)
      f.statements.push_back(StatementAt(i.statement.Start.isValid() ? i.statement : i.range, buf->getBufferStart(),
                                         CachedStatement::Kind::Import));
    std::sort(f.statements.begin(), f.statements.end(),
              [](const CachedStatement& a, const CachedStatement& b) { return a.begin < b.begin; });
    files.push_back(std::move(f));
  }
  return files;
}

std::optional<Compiled> Compile(const CompileOptions& options, DiagnosticEngine& diags) {
  ast::Program program = ParseSources(options, diags);
  if (diags.HasErrors()) return std::nullopt;
  std::vector<CachedFile> statements = StatementsOf(program, diags);
  auto fabric = Check(program, diags);
  program = ast::Program();
  if (diags.HasErrors() || !fabric) return std::nullopt;

  Compiled c;
  c.sources = std::move(statements);
  c.root_dir = fs::path(options.files.front()).parent_path().string();
  c.lock_path = options.lock_path.empty() ? DefaultLockPath(options.files.front()) : options.lock_path;
  std::error_code ec;
  std::string read_path = c.lock_path;
  // Migration (docs/lock.md "Where the lock lives"): without --lock, a root
  // file with no NAME.lock reads the directory's legacy netdsl.lock, but only
  // when that lock is this fabric's: every host it records is a host of this
  // source. Another root file's lock is refused, never read or released.
  if (options.lock_path.empty() && !fs::exists(c.lock_path, ec)) {
    std::string legacy = LegacyLockPath(options.files.front());
    if (legacy != c.lock_path && fs::exists(legacy, ec)) {
      read_path = legacy;
      c.legacy_lock_path = legacy;
    }
  }
  if (fs::exists(read_path, ec)) {
    std::string error;
    if (!io::ReadFile(read_path, &c.previous_lock_text, &error)) {
      diags.Report(DiagKind::FileNotReadable, llvm::SMRange(), error);
      return std::nullopt;
    }
    c.previous_lock = alloc::ParseLockFile(c.previous_lock_text, read_path, diags);
    if (!c.previous_lock) return std::nullopt;
  }
  if (!c.legacy_lock_path.empty()) {
    std::set<std::string> declared;
    for (const auto& host : fabric->hosts) declared.insert("host " + alloc::QuoteName(host.name));
    for (const auto& [key, host] : c.previous_lock->hosts) {
      if (declared.count(key)) continue;
      diags
          .Report(DiagKind::LockOfAnotherFabric, host.range,
                  c.legacy_lock_path + " records `" + key + "`, which " + options.files.front() +
                      " does not declare: it is the lock of another root file in this directory")
          .Note({}, "this fabric's lock is " + c.lock_path +
                        "; if " + c.legacy_lock_path + " is really this fabric's (a host was removed), rename it to " +
                        c.lock_path + " or pass --lock " + c.legacy_lock_path);
      return std::nullopt;
    }
  }

  // Inputs for the manifest and the source hash (read before allocation moves the model).
  io::Sha256 source_hasher;
  source_hasher.Update("netdsl source v1\n");
  std::vector<std::string> files = fabric->input_files;
  if (files.empty()) files = options.files;
  if (!HashInputs(files, options.files.front(), c.lock_path, diags, c.inputs, source_hasher)) return std::nullopt;
  if (c.inputs.size() == c.sources.size())
    for (size_t i = 0; i < c.sources.size(); ++i) c.sources[i].sha256 = c.inputs[i].sha256;

  auto allocated = alloc::Allocate(std::move(*fabric), c.previous_lock ? &*c.previous_lock : nullptr,
                                   alloc::AllocOptions{}, diags);
  if (!allocated) return std::nullopt;
  c.fabric = std::move(*allocated);
  // The backends' diagnostics name the lock: the one read, else the one to write.
  if (c.fabric.lock.path.empty()) c.fabric.lock.path = c.lock_path;

  // The source hash covers the inputs and the allocations (not the per-host
  // generations). Without copying the (possibly million-entry) lock: set the
  // hosts aside while printing.
  std::map<std::string, alloc::LockHost> hosts;
  hosts.swap(c.fabric.lock.hosts);
  source_hasher.Update(alloc::PrintLockFile(c.fabric.lock));
  hosts.swap(c.fabric.lock.hosts);
  c.source_hash = source_hasher.FinalHex();
  return c;
}

void ValidateBackends(const Compiled& compiled, DiagnosticEngine& diags) {
  for (const backends::Backend& backend : backends::AllBackends())
    if (backend.validate) backend.validate(compiled.fabric, diags);
}

uint64_t NextGeneration(const Compiled& compiled, std::string_view host, std::string_view ir_hash) {
  if (!compiled.previous_lock) return 1;
  auto it = compiled.previous_lock->hosts.find("host " + alloc::QuoteName(host));
  if (it == compiled.previous_lock->hosts.end()) return 1;
  return it->second.ir_hash == ir_hash ? it->second.generation : it->second.generation + 1;
}

alloc::LockFile NextLock(Compiled& compiled, const std::vector<HostProvenance>& built) {
  alloc::LockFile lock = std::move(compiled.fabric.lock);
  std::set<std::string> existing;
  for (const auto& h : compiled.fabric.fabric.hosts) existing.insert("host " + alloc::QuoteName(h.name));
  for (auto it = lock.hosts.begin(); it != lock.hosts.end();)
    it = existing.count(it->first) ? std::next(it) : lock.hosts.erase(it);
  for (const HostProvenance& h : built) {
    auto& entry = lock.hosts["host " + alloc::QuoteName(h.host)];
    entry.generation = h.generation;
    entry.ir_hash = h.ir_hash;
  }
  return lock;
}

}  // namespace netdsl::pipeline
