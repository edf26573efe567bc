// Build (see build.h): lower and emit hosts in parallel, then the fabric
// artifacts, the manifest and the lock, all into a staged output.
#include "compiler/pipeline/build.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "common/io/atomic_file.h"
#include "common/io/sha256.h"
#include "common/ndt/format.h"
#include "compiler/alloc/alloc.h"
#include "compiler/lower/lower.h"
#include "compiler/pipeline/journal.h"
#include "compiler/pipeline/previous_output.h"

namespace netdsl::pipeline {

namespace fs = std::filesystem;

namespace {

/// A host name becomes a directory name: it must be one safe path component.
bool SafeDirectoryName(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 255) return false;
  for (char c : name)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

llvm::Error Failure(const std::string& message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

struct HostResult {
  std::string dump;
  std::string ir_hash;
  uint64_t generation = 1;
  std::set<std::string> backends;  ///< whose host artifacts it has
  std::vector<ArtifactRecord> artifacts;
  std::string refusal;   ///< a backend refused the host (ND3001)
  std::string io_error;  ///< writing an artifact failed
};

/// A host gets the host artifacts of the backends whose row lists its platform
/// (tables: both; linux: Linux; powershell: Hyper-V).
bool Serves(const backends::Backend& backend, const ir::HostIr& host) { return backend.platforms.Has(host.platform); }

/// A backend's fabric artifacts (scvmm/fabric.ps1) exist when it serves a host
/// of the fabric: a fabric without a Hyper-V host has no VMM script.
bool ServesAnyHost(const backends::Backend& backend, const model::Fabric& f) {
  for (const model::Host& h : f.hosts)
    if (backend.platforms.Has(h.platform)) return true;
  return false;
}

/// Test hook: NETDSL_TEST_REFUSE=BACKEND:HOST makes that backend refuse that
/// host, so that the path a compiler bug takes (ND3001, nothing written) is
/// tested (tests/lit/build/backend-refusal.test).
bool InjectedRefusal(const backends::Backend& backend, const std::string& host) {
  static const char* spec = std::getenv("NETDSL_TEST_REFUSE");
  return spec && std::string(spec) == std::string(backend.name) + ":" + host;
}

/// Fills `cache` with every VM of the compiled fabric and writes it, with a
/// copy of each input as compiled, into the staging directory.
bool WriteCache(const Compiled& compiled, DiagnosticEngine& diags, BuildCache& cache, StagedOutput& out,
                std::string* error) {
  const llvm::SourceMgr& sources = diags.sources();
  std::map<unsigned, uint32_t> file_of_buffer;
  for (uint32_t i = 0; i < cache.files.size(); ++i) file_of_buffer[cache.files[i].buffer_id] = i;
  const model::Fabric& f = compiled.fabric.fabric;
  cache.vms.reserve(f.vms.size());
  for (uint32_t v = 0; v < f.vms.size(); ++v) {
    llvm::SMLoc at = f.vms[v].name_range.Start;
    unsigned buffer = at.isValid() ? sources.FindBufferContainingLoc(at) : 0;
    auto it = file_of_buffer.find(buffer);
    if (it == file_of_buffer.end()) return true;  // not from a file this build read: no cache
    const CachedFile& file = cache.files[it->second];
    uint64_t offset = uint64_t(at.getPointer() - sources.getMemoryBuffer(buffer)->getBufferStart());
    auto st = std::upper_bound(file.statements.begin(), file.statements.end(), offset,
                               [](uint64_t o, const CachedStatement& s) { return o < s.begin; });
    if (st == file.statements.begin()) return true;
    cache.AddVm(compiled.fabric, v, it->second, uint32_t(st - file.statements.begin() - 1));
  }
  std::string dir = std::string(kCacheDir) + "/";
  for (uint32_t i = 0; i < cache.files.size(); ++i) {
    const llvm::MemoryBuffer* buf = sources.getMemoryBuffer(cache.files[i].buffer_id);
    cache.files[i].crc32c = ndt::Crc32c(buf->getBufferStart(), buf->getBufferSize());
    if (!out.WriteFile(dir + "src-" + std::to_string(i), std::string_view(buf->getBufferStart(), buf->getBufferSize()),
                       nullptr, error))
      return false;
  }
  std::array<RecordBytes, 3> records = RecordFileBytes(cache);
  for (size_t k = 0; k < records.size(); ++k)
    if (!out.WriteFile(dir + kRecordFiles[k], records[k].own, nullptr, error)) return false;
  return out.WriteFile(dir + "index", SerializeCacheIndex(cache), nullptr, error);
}

}  // namespace

llvm::Error Build(Compiled& compiled, const BuildOptions& options, DiagnosticEngine& diags, BuildResult& result) {
  auto phase = [&](const char* name) {
    if (options.on_phase) options.on_phase(name);
  };
  const model::Fabric& f = compiled.fabric.fabric;
  const bool writing = !options.output.empty();

  ValidateBackends(compiled, diags);
  if (diags.HasErrors()) return llvm::Error::success();

  // Sema restricts host names (ND1104); this guards the file system all the same.
  for (const auto& host : f.hosts)
    if (writing && !SafeDirectoryName(host.name))
      return Failure("host name `" + host.name + "` cannot be a directory name");

  // The previous lock's allocation sections are only needed again for --locked.
  if (compiled.previous_lock && !options.locked)
    for (auto& section : compiled.previous_lock->sections) std::map<std::string, alloc::LockEntry>().swap(section);

  std::set<std::string> wanted(options.hosts.begin(), options.hosts.end());
  std::vector<uint32_t> selected;
  for (uint32_t h = 0; h < f.hosts.size(); ++h)
    if (wanted.empty() || wanted.count(f.hosts[h].name)) selected.push_back(h);
  std::sort(selected.begin(), selected.end(),
            [&](uint32_t x, uint32_t y) { return f.hosts[x].name < f.hosts[y].name; });

  std::optional<StagedOutput> out;
  // What an earlier build left in the output directory: kept where it is
  // still exact (same compiler; a host whose IR and generation did not
  // change), never written again.
  std::optional<PreviousOutput> previous;
  if (writing) {
    out.emplace(options.output);
    std::string error;
    if (!RecoverCommit(options.output, &error)) return Failure(error);  // an interrupted in-place commit first
    if (!out->Begin(&error)) return Failure(error);
    previous = ReadPreviousOutput(options.output);
  }
  const bool same_compiler = previous && !previous->compiler_sha256.empty() &&
                             previous->compiler_sha256 == CompilerSha256();
  auto previous_host = [&](const std::string& name) -> const HostRecord* {
    if (!previous) return nullptr;
    auto it = previous->hosts.find(name);
    return it == previous->hosts.end() ? nullptr : &it->second;
  };

  lower::LowerIndex index = lower::BuildLowerIndex(compiled.fabric, compiled.source_hash);
  phase("index");
  std::vector<HostResult> results(selected.size());
  ParallelFor(
      selected.size(), options.jobs,
      [&](size_t k) {
        HostResult& r = results[k];
        uint32_t h = selected[k];
        try {
          ir::HostIr ir = lower::LowerHost(compiled.fabric, index, h);
          r.ir_hash = lower::HostIrHash(ir);
          r.generation = NextGeneration(compiled, f.hosts[h].name, r.ir_hash);
          ir.generation = r.generation;
          // A host's artifacts name what it received (its IR's hash), not the
          // whole source: a comment or another host's edit leaves them
          // byte-identical (issue 14, minimal churn).
          ir.source_hash = r.ir_hash;
          if (options.dump_ir) r.dump = lower::DumpHostIr(ir);
          if (!writing) return;
          std::string dir = "hosts/" + f.hosts[h].name + "/";
          for (const backends::Backend* backend : options.backends)
            if (backend->emit_host && Serves(*backend, ir)) r.backends.insert(std::string(backend->name));
          const HostRecord* before = same_compiler ? previous_host(f.hosts[h].name) : nullptr;
          const bool same_ir = before && before->ir_hash == r.ir_hash && before->generation == r.generation;
          std::vector<const ArtifactRecord*> kept;
          if (same_ir) kept = previous->HostArtifacts(f.hosts[h].name);
          const bool intact = std::all_of(kept.begin(), kept.end(),
                                          [&](const ArtifactRecord* a) { return previous->Intact(*a); });
          if (same_ir && intact &&
              std::includes(before->backends.begin(), before->backends.end(), r.backends.begin(),
                            r.backends.end())) {
            // Unchanged: its files stay as they are (byte-identical by
            // construction); a file edited since is written again instead.
            for (const ArtifactRecord* a : kept) {
              ArtifactRecord rec;
              if (!out->KeepFile(*a, true, &rec, &r.io_error)) return;
              r.artifacts.push_back(std::move(rec));
            }
            r.backends = before->backends;
            return;
          }
          for (const backends::Backend* backend : options.backends) {
            if (!backend->emit_host || !Serves(*backend, ir)) continue;
            llvm::Expected<std::vector<backends::Artifact>> artifacts =
                InjectedRefusal(*backend, ir.host)
                    ? llvm::Expected<std::vector<backends::Artifact>>(Failure("host `" + ir.host + "`: refused by NETDSL_TEST_REFUSE"))
                    : backend->emit_host(ir);
            if (!artifacts) {
              r.refusal = llvm::toString(artifacts.takeError());
              return;
            }
            for (const backends::Artifact& artifact : *artifacts) {
              ArtifactRecord rec;
              if (!out->WriteFile(dir + artifact.path, artifact.data, &rec, &r.io_error)) return;
              r.artifacts.push_back(std::move(rec));
            }
          }
          if (same_ir) {
            // Same IR: the other targets' files of an earlier build are still
            // exact (unless edited since: those go).
            std::set<std::string> written;
            for (const ArtifactRecord& a : r.artifacts) written.insert(a.path);
            for (const ArtifactRecord* a : kept) {
              if (written.count(a->path) || !previous->Intact(*a)) continue;
              ArtifactRecord rec;
              if (!out->KeepFile(*a, true, &rec, &r.io_error)) return;
              r.artifacts.push_back(std::move(rec));
            }
            r.backends.insert(before->backends.begin(), before->backends.end());
          }
        } catch (const std::exception& e) {
          r.refusal = "internal error while building host `" + f.hosts[h].name + "`: " + e.what();
        }
      },
      [&](size_t done) {
        if (options.on_host_done) options.on_host_done(done, selected.size());
      });
  phase("lower + emit hosts");

  std::vector<ArtifactRecord> artifacts;
  for (size_t k = 0; k < results.size(); ++k) {
    const HostResult& r = results[k];
    if (!r.io_error.empty()) return Failure(r.io_error);
    if (!r.refusal.empty())
      diags.Report(DiagKind::BackendRefused, f.hosts[selected[k]].name_range, r.refusal);
    artifacts.insert(artifacts.end(), r.artifacts.begin(), r.artifacts.end());
  }
  if (options.dump_ir)
    for (const auto& r : results) result.ir_dump += r.dump;
  if (diags.HasErrors()) return llvm::Error::success();

  if (writing) {
    for (const backends::Backend* backend : options.backends) {
      if (!backend->emit_fabric || !ServesAnyHost(*backend, f)) continue;
      llvm::Expected<std::vector<backends::Artifact>> fabric_artifacts = [&] {
        try {
          return backend->emit_fabric(compiled.fabric);
        } catch (const std::exception& e) {
          return llvm::Expected<std::vector<backends::Artifact>>(
              Failure(std::string("internal error in the ") + std::string(backend->name) + " backend: " + e.what()));
        }
      }();
      if (!fabric_artifacts) {
        diags.Report(DiagKind::BackendRefused, llvm::SMRange(), llvm::toString(fabric_artifacts.takeError()));
        return llvm::Error::success();
      }
      for (const backends::Artifact& artifact : *fabric_artifacts) {
        ArtifactRecord rec;
        std::string error;
        if (!out->WriteFile(artifact.path, artifact.data, &rec, &error)) return Failure(error);
        artifacts.push_back(std::move(rec));
      }
    }
  }

  std::vector<HostProvenance> built;
  for (size_t k = 0; k < selected.size(); ++k)
    built.push_back({f.hosts[selected[k]].name, results[k].generation, results[k].ir_hash});
  alloc::LockFile new_lock = NextLock(compiled, built);
  std::string new_lock_text = alloc::PrintLockFile(new_lock);
  phase("fabric artifacts + lock");
  const bool have_lock = compiled.previous_lock.has_value();
  // A lock read from the legacy netdsl.lock moves to the root file's own lock.
  const bool migrating = !compiled.legacy_lock_path.empty();
  bool lock_changes = !have_lock || migrating || new_lock_text != compiled.previous_lock_text;

  // --locked compares content, not bytes: comments or a hand-reformatted lock are fine.
  if (options.locked) {
    alloc::LockDiff diff = alloc::DiffLockFiles(have_lock ? *compiled.previous_lock : alloc::LockFile{}, new_lock);
    if (!have_lock || !diff.Empty()) {
      // The caret goes to the first entry that would change or go; notes name
      // each change (issue 11, defect 8: only counts, at netdsl.lock:1:1).
      llvm::SMRange where;
      for (const alloc::LockDiff::Change& c : diff.changes)
        if (c.range.Start.isValid()) {
          where = c.range;
          break;
        }
      std::string what = have_lock ? compiled.previous_lock->path + " would change: "
                                   : compiled.lock_path + " does not exist and would be created: ";
      what += std::to_string(diff.added) + (diff.added == 1 ? " entry" : " entries") + " added, " +
              std::to_string(diff.removed) + " removed";
      auto report = diags.Report(DiagKind::LockWouldChange, where,
                                 what + " — run netdslc build without --locked and commit the lock");
      constexpr size_t kShown = 10;
      for (size_t i = 0; i < diff.changes.size() && i < kShown; ++i) {
        const alloc::LockDiff::Change& c = diff.changes[i];
        report.Note(c.range, c.section + " `" + c.key + "`: " +
                                 (c.before.empty() ? "new, " + c.after
                                                   : c.after.empty() ? c.before + " released" : c.before + " -> " + c.after));
      }
      if (diff.changes.size() > kShown)
        report.Note(llvm::SMRange(), std::to_string(diff.changes.size() - kShown) + " more changes");
      return llvm::Error::success();
    }
    lock_changes = false;
  }

  if (!writing) return llvm::Error::success();
  std::string error;
  // The lock as it is on disk after this build.
  const std::string& lock_on_disk = migrating && !lock_changes ? compiled.legacy_lock_path : compiled.lock_path;
  std::error_code rel_ec;
  fs::path lock_rel = fs::path(lock_on_disk).lexically_relative(compiled.root_dir.empty() ? fs::path(".") : fs::path(compiled.root_dir));
  if (lock_rel.empty() || *lock_rel.begin() == "..") lock_rel = fs::absolute(lock_on_disk, rel_ec);
  InputRecord lock_record{lock_rel.generic_string(),
                          io::Sha256Hex(lock_changes ? new_lock_text : compiled.previous_lock_text)};

  // Hosts this build did not select (`--host`) keep what they had; fabric
  // artifacts no selected backend wrote (`--target`) are kept when they were
  // built from the same inputs and lock, so never stale.
  std::map<std::string, const HostResult*> built_hosts;
  for (size_t k = 0; k < selected.size(); ++k) built_hosts[f.hosts[selected[k]].name] = &results[k];
  std::vector<HostRecord> hosts;
  for (const model::Host& host : f.hosts) {
    HostRecord rec;
    rec.name = host.name;
    for (uint32_t g = host.host_group; g != model::kNone; g = f.host_groups[g].parent)
      rec.groups.insert(rec.groups.begin(), f.host_groups[g].name);
    auto it = new_lock.hosts.find("host " + alloc::QuoteName(host.name));
    if (it != new_lock.hosts.end()) {
      rec.generation = it->second.generation;
      rec.ir_hash = it->second.ir_hash;
    }
    if (auto b = built_hosts.find(host.name); b != built_hosts.end()) {
      rec.backends = b->second->backends;
    } else if (const HostRecord* before = previous_host(host.name)) {
      // Not selected (`--host`): kept as they are, described as they are.
      for (const ArtifactRecord* a : previous->HostArtifacts(host.name)) {
        ArtifactRecord kept;
        if (!out->KeepFile(*a, previous->Intact(*a), &kept, &error)) return Failure(error);
        artifacts.push_back(std::move(kept));
      }
      rec.backends = before->backends;
      rec.ir_hash = before->ir_hash;
      rec.generation = before->generation;
    }
    hosts.push_back(std::move(rec));
  }
  if (previous && same_compiler && previous->lock.sha256 == lock_record.sha256) {
    std::vector<InputRecord> a = previous->inputs, b = compiled.inputs;
    auto by_path = [](const InputRecord& x, const InputRecord& y) { return x.path < y.path; };
    std::sort(a.begin(), a.end(), by_path);
    std::sort(b.begin(), b.end(), by_path);
    bool same_inputs = a.size() == b.size();
    for (size_t i = 0; same_inputs && i < a.size(); ++i)
      same_inputs = a[i].path == b[i].path && a[i].sha256 == b[i].sha256;
    std::set<std::string> written;
    for (const ArtifactRecord& r : artifacts) written.insert(r.path);
    if (same_inputs)
      for (const auto& [path, record] : previous->artifacts) {
        if (path.rfind("hosts/", 0) == 0 || written.count(path) || !previous->Intact(record)) continue;
        ArtifactRecord kept;
        if (!out->KeepFile(record, true, &kept, &error)) return Failure(error);
        artifacts.push_back(std::move(kept));
      }
  }

  CachedManifest cached_manifest;
  if (!options.cache_key.empty()) cached_manifest = {0, 0, lock_record.path, hosts, artifacts};
  std::string manifest_text =
      ManifestJson(NETDSL_VERSION_STRING, CompilerSha256(), compiled.inputs, lock_record, std::move(hosts), artifacts);
  cached_manifest.size = manifest_text.size();
  cached_manifest.crc32c = ndt::Crc32c(manifest_text.data(), manifest_text.size());
  ArtifactRecord manifest;
  if (!out->WriteFile("manifest.json", manifest_text, &manifest, &error)) return Failure(error);
  // verify reads the staging directory as a build: the manifest lists its hosts.
  if (options.before_commit && !options.before_commit(out->staging(), diags)) return llvm::Error::success();
  // The build cache, for the next build into this directory: only after a
  // build that reported nothing (the incremental path never has to repeat a
  // diagnostic), of the whole fabric, with a lock this build owns.
  if (!options.cache_key.empty() && options.hosts.empty() && !migrating &&
      diags.ErrorCount() == 0 && diags.WarningCount() == 0 && compiled.sources.size() == f.input_files.size()) {
    BuildCache cache;
    cache.compiler_sha256 = CompilerSha256();
    cache.options_key = options.cache_key;
    cache.lock_sha256 = lock_record.sha256;
    const std::string& lock_text = lock_changes ? new_lock_text : compiled.previous_lock_text;
    cache.lock_size = lock_text.size();
    cache.lock_crc32c = ndt::Crc32c(lock_text.data(), lock_text.size());
    cache.files = compiled.sources;
    // Paths relative to the root file's directory: the cache describes the
    // same build wherever the tree is (every file is checked by content).
    const std::string root = cache.files.front().path;
    for (size_t i = 1; i < cache.files.size(); ++i) cache.files[i].path = InputPath(cache.files[i].path, root);
    cache.files.front().path = fs::path(root).filename().string();
    cache.lock_path = InputPath(compiled.lock_path, root);
    cache.manifest = std::move(cached_manifest);
    cache.manifest.Sort();
    std::string state;
    if (io::ReadFile(out->staging() + "/" + kCacheDir + "/verify.state", &state, &error)) {
      cache.verify_state = true;
      cache.verify_state_size = state.size();
      cache.verify_state_crc32c = ndt::Crc32c(state.data(), state.size());
    }
    error.clear();
    if (!WriteCache(compiled, diags, cache, *out, &error)) return Failure(error);
  } else if (!io::RemoveTree(out->staging() + "/" + kCacheDir, &error)) {
    return Failure(error);  // no cache: not even verify's state
  }
  phase("cache");
  if (lock_changes && !io::WriteFileAtomic(compiled.lock_path, new_lock_text, &error)) return Failure(error);
  if (!out->Commit(&error)) return Failure(error);
  // Only once the new lock is on disk: a crash before leaves the legacy lock
  // to migrate again, a crash after leaves both (NAME.lock wins).
  if (lock_changes && migrating) {
    std::error_code ec;
    if (!fs::remove(compiled.legacy_lock_path, ec) || ec)
      return Failure("wrote " + compiled.lock_path + " but cannot remove " + compiled.legacy_lock_path + ": " +
                     (ec ? ec.message() : std::string("it is gone")));
    result.migrated_lock_from = compiled.legacy_lock_path;
  }
  phase("write lock + commit");
  return llvm::Error::success();
}

}  // namespace netdsl::pipeline
