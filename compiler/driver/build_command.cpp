// `netdslc build`: check, allocate (netdsl.lock), lower every selected host in
// parallel, run the backends, and replace the output directory all or nothing.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/io/atomic_file.h"
#include "common/io/sha256.h"
#include "compiler/alloc/alloc.h"
#include "compiler/driver/command.h"
#include "compiler/driver/support_artifacts.h"
#include "compiler/driver/support_frontend.h"
#include "compiler/lower/lower.h"
#include "llvm/Support/raw_ostream.h"

#if NETDSL_HAVE_BACKEND_TABLES
#include "backends/tables/table_writer.h"
#endif
#if NETDSL_HAVE_BACKEND_LINUX
#include "backends/linux/linux_backend.h"
#endif
#if NETDSL_HAVE_BACKEND_POWERSHELL
#include "backends/powershell/powershell_backend.h"
#endif

namespace netdsl::driver {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kUsage =
    "usage: netdslc build FILE... -o DIR [--target=all|tables|linux|powershell] [--host=NAME...]\n"
    "                     [--locked] [-j N] [--dump=ir] [--diagnostics=text|json|sarif] [-Werror]\n"
    "\n"
    "Checks the fabric, allocates what the source leaves open (recorded in netdsl.lock\n"
    "beside the first FILE), and writes DIR/manifest.json, DIR/hosts/NAME/{tables.ndt,\n"
    "linux.yaml,linux.batch,hyperv.ps1} and DIR/scvmm/fabric.ps1. DIR is replaced as a\n"
    "whole only when every artifact was produced.\n"
    "\n"
    "  -o DIR           output directory (may be omitted with --dump=ir: nothing is written)\n"
    "  --target=T       all (default), tables, linux or powershell; repeat or comma-separate\n"
    "  --host=NAME      build only these hosts (repeatable)\n"
    "  --locked         fail instead of changing netdsl.lock (for CI)\n"
    "  -j N             lower and emit hosts on N threads (default: number of CPUs)\n"
    "  --dump=ir        print every selected host's IR to stdout\n"
    "  --stats          print the time each phase took to stderr\n";

enum Target : unsigned { kTables = 1, kLinux = 2, kPowerShell = 4, kAllTargets = 7 };

struct BuildOptions {
  std::string output;
  unsigned targets = 0;
  bool explicit_targets = false;
  std::vector<std::string> hosts;
  bool locked = false;
  unsigned jobs = 0;
  bool dump_ir = false;
  bool stats = false;
};

/// Wall and process CPU time per phase, for `--stats`.
class PhaseTimer {
 public:
  explicit PhaseTimer(bool on) : on_(on) { Reset(); }
  void Mark(const char* phase) {
    if (!on_) return;
    auto wall = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    std::fprintf(stderr, "netdslc build: %-22s %9.3f s wall %9.3f s cpu\n", phase,
                 std::chrono::duration<double>(wall - wall_).count(), double(cpu - cpu_) / CLOCKS_PER_SEC);
    wall_ = wall;
    cpu_ = cpu;
  }

 private:
  void Reset() {
    wall_ = std::chrono::steady_clock::now();
    cpu_ = std::clock();
  }
  bool on_;
  std::chrono::steady_clock::time_point wall_;
  std::clock_t cpu_;
};

bool TargetAvailable(Target t) {
  switch (t) {
    case kTables:
#if NETDSL_HAVE_BACKEND_TABLES
      return true;
#else
      return false;
#endif
    case kLinux:
#if NETDSL_HAVE_BACKEND_LINUX
      return true;
#else
      return false;
#endif
    case kPowerShell:
#if NETDSL_HAVE_BACKEND_POWERSHELL
      return true;
#else
      return false;
#endif
    default:
      return false;
  }
}

const char* TargetName(Target t) { return t == kTables ? "tables" : t == kLinux ? "linux" : "powershell"; }

/// `--opt=value` or `--opt value` / `-o DIR` / `-oDIR`.
bool TakeValue(int argc, char** argv, int& i, std::string_view name, std::string& value, std::string& error) {
  std::string_view arg = argv[i];
  if (arg == name) {
    if (i + 1 >= argc) {
      error = "option `" + std::string(name) + "` needs a value";
      return true;
    }
    value = argv[++i];
    return true;
  }
  if (arg.size() > name.size() && arg.substr(0, name.size()) == name) {
    std::string_view rest = arg.substr(name.size());
    if (rest[0] == '=') rest.remove_prefix(1);
    else if (name.size() != 2) return false;  // `--hostX` is not `--host`
    value = std::string(rest);
    return true;
  }
  return false;
}

bool HandleOption(BuildOptions& b, int argc, char** argv, int& i, std::string& error) {
  std::string_view arg = argv[i];
  std::string value;
  if (arg == "--locked") {
    b.locked = true;
    return true;
  }
  if (arg == "--stats") {
    b.stats = true;
    return true;
  }
  if (TakeValue(argc, argv, i, "-o", value, error) || TakeValue(argc, argv, i, "--output", value, error)) {
    if (error.empty() && value.empty()) error = "`-o` needs a directory";
    b.output = value;
    return true;
  }
  if (TakeValue(argc, argv, i, "--target", value, error)) {
    if (!error.empty()) return true;
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      std::string t = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (t == "all") b.targets |= kAllTargets;
      else if (t == "tables") b.targets |= kTables, b.explicit_targets = true;
      else if (t == "linux") b.targets |= kLinux, b.explicit_targets = true;
      else if (t == "powershell") b.targets |= kPowerShell, b.explicit_targets = true;
      else {
        error = "unknown target `" + t + "` (expected all, tables, linux or powershell)";
        return true;
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return true;
  }
  if (TakeValue(argc, argv, i, "--host", value, error)) {
    if (error.empty() && value.empty()) error = "`--host` needs a host name";
    b.hosts.push_back(value);
    return true;
  }
  if (TakeValue(argc, argv, i, "-j", value, error) || TakeValue(argc, argv, i, "--jobs", value, error)) {
    if (!error.empty()) return true;
    char* end = nullptr;
    unsigned long n = std::strtoul(value.c_str(), &end, 10);
    if (value.empty() || *end || n == 0 || n > 1024) error = "`-j` takes a number of threads from 1 to 1024";
    b.jobs = unsigned(n);
    return true;
  }
  if (TakeValue(argc, argv, i, "--dump", value, error)) {
    if (!error.empty()) return true;
    if (value != "ir") error = "unknown dump `" + value + "` (expected ir)";
    b.dump_ir = true;
    return true;
  }
  return false;
}

/// A host name becomes a directory name: it must be one safe path component.
bool SafeDirectoryName(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 255) return false;
  for (char c : name)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

struct HostResult {
  std::string dump;
  std::string ir_hash;
  uint64_t generation = 1;
  std::vector<ArtifactRecord> artifacts;
  std::string error;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "netdslc build: error: %s\n", message.c_str());
  return kExitErrors;
}

int BuildMain(int argc, char** argv) {
  FrontendOptions options;
  BuildOptions b;
  if (auto exit = ParseFrontendOptions(argc, argv, kUsage, options,
                                       [&](int ac, char** av, int& i, std::string& error) {
                                         return HandleOption(b, ac, av, i, error);
                                       }))
    return *exit;
  if (b.output.empty() && !b.dump_ir) {
    std::fprintf(stderr, "netdslc build: error: missing `-o DIR`\n\n%.*s", int(kUsage.size()), kUsage.data());
    return kExitUsage;
  }
  if (!b.targets) b.targets = kAllTargets;
  if (!b.jobs) b.jobs = std::max(1u, std::thread::hardware_concurrency());
  bool writing = !b.output.empty();

  // Targets whose backend this netdslc was built without are reported, never silently skipped.
  for (Target t : {kTables, kLinux, kPowerShell}) {
    if (!(b.targets & t) || TargetAvailable(t)) continue;
    if (b.explicit_targets)
      return Fail(std::string("target `") + TargetName(t) + "` is not available in this build of netdslc");
    if (writing)
      std::fprintf(stderr, "netdslc build: warning: target `%s` is not available in this build; its artifacts are not written\n",
                   TargetName(t));
    b.targets &= ~unsigned(t);
  }

  PhaseTimer timer(b.stats);
  llvm::SourceMgr sources;
  DiagnosticEngine diags(sources);
  auto fabric = RunFrontend(options, diags);
  if (!fabric) return FinishDiagnostics(options, diags), kExitErrors;
  timer.Mark("parse + check");

  // netdsl.lock beside the root file.
  fs::path root_dir = fs::path(options.files.front()).parent_path();
  std::string lock_path = (root_dir.empty() ? fs::path("netdsl.lock") : root_dir / "netdsl.lock").string();
  std::optional<alloc::LockFile> old_lock;
  std::string old_lock_text;
  bool have_lock = false;
  {
    std::error_code ec;
    if (fs::exists(lock_path, ec)) {
      std::string error;
      if (!io::ReadFile(lock_path, &old_lock_text, &error)) {
        FinishDiagnostics(options, diags);
        return Fail(error);
      }
      have_lock = true;
      old_lock = alloc::ParseLockFile(old_lock_text, lock_path, diags);
      if (!old_lock) return FinishDiagnostics(options, diags), kExitErrors;
    }
  }

  timer.Mark("read lock");

  // Inputs for the manifest and the source hash (read before allocation moves the model).
  std::vector<InputRecord> inputs;
  io::Sha256 source_hasher;
  source_hasher.Update("netdsl source v1\n");
  {
    std::vector<std::string> files = fabric->input_files;
    if (files.empty()) files = options.files;
    // Hash the bytes that were compiled (the SourceMgr's buffers, named by
    // path), not the files as they may be by now.
    std::map<std::string, llvm::StringRef> compiled;
    for (unsigned id = 1; id <= sources.getNumBuffers(); ++id)
      compiled.emplace(sources.getMemoryBuffer(id)->getBufferIdentifier().str(),
                       sources.getMemoryBuffer(id)->getBuffer());
    for (const auto& file : files) {
      std::string text, error;
      if (auto it = compiled.find(file); it != compiled.end() && file != lock_path) text = it->second.str();
      else if (!io::ReadFile(file, &text, &error)) return FinishDiagnostics(options, diags), Fail(error);
      std::error_code ec;
      fs::path rel = root_dir.empty() ? fs::path(file) : fs::relative(file, root_dir, ec);
      if (ec || rel.empty()) rel = file;
      InputRecord rec{rel.generic_string(), io::Sha256Hex(text)};
      source_hasher.Update(rec.sha256 + "\n");
      inputs.push_back(std::move(rec));
    }
  }

  // Host selection (before allocation so that typos fail fast).
  std::set<std::string> wanted(b.hosts.begin(), b.hosts.end());
  {
    std::set<std::string> known;
    for (const auto& h : fabric->hosts) known.insert(h.name);
    for (const auto& w : wanted)
      if (!known.count(w)) return FinishDiagnostics(options, diags), Fail("host `" + w + "` is not in the fabric");
  }

  auto allocated = alloc::Allocate(std::move(*fabric), old_lock ? &*old_lock : nullptr, alloc::AllocOptions{}, diags);
  if (!allocated) return FinishDiagnostics(options, diags), kExitErrors;
  const auto& f = allocated->fabric;
  timer.Mark("hash inputs + allocate");

  // Sema restricts host names (ND1104); this guards the file system all the same.
  for (const auto& host : f.hosts)
    if (writing && !SafeDirectoryName(host.name))
      return FinishDiagnostics(options, diags), Fail("host name `" + host.name + "` cannot be a directory name");

  // The source hash covers the inputs and the allocations (not the per-host generations).
  {
    // Without copying the (possibly million-entry) lock: set the hosts aside while printing.
    std::map<std::string, alloc::LockHost> hosts;
    hosts.swap(allocated->lock.hosts);
    source_hasher.Update(alloc::PrintLockFile(allocated->lock));
    hosts.swap(allocated->lock.hosts);
  }
  // The old lock's allocation sections are only needed again for --locked.
  if (old_lock && !b.locked)
    for (auto& section : old_lock->sections) std::map<std::string, alloc::LockEntry>().swap(section);
  std::string source_hash = source_hasher.FinalHex();

  std::vector<uint32_t> selected;
  for (uint32_t h = 0; h < f.hosts.size(); ++h)
    if (wanted.empty() || wanted.count(f.hosts[h].name)) selected.push_back(h);
  std::sort(selected.begin(), selected.end(),
            [&](uint32_t x, uint32_t y) { return f.hosts[x].name < f.hosts[y].name; });

  std::optional<StagedOutput> out;
  if (writing) {
    out.emplace(b.output);
    std::string error;
    if (!out->Begin(&error)) return FinishDiagnostics(options, diags), Fail(error);
  }

  lower::LowerIndex index = lower::BuildLowerIndex(*allocated, source_hash);
  timer.Mark("index");
  std::vector<HostResult> results(selected.size());
  bool progress = writing && isatty(STDERR_FILENO) && selected.size() > 1;
  ParallelFor(
      selected.size(), b.jobs,
      [&](size_t k) {
        HostResult& r = results[k];
        uint32_t h = selected[k];
        try {
          ir::HostIr ir = lower::LowerHost(*allocated, index, h);
          r.ir_hash = lower::HostIrHash(ir);
          std::string key = "host " + alloc::QuoteName(f.hosts[h].name);
          if (old_lock) {
            auto it = old_lock->hosts.find(key);
            if (it != old_lock->hosts.end())
              r.generation = it->second.ir_hash == r.ir_hash ? it->second.generation : it->second.generation + 1;
          }
          ir.generation = r.generation;
          if (b.dump_ir) r.dump = lower::DumpHostIr(ir);
          if (!writing) return;
          std::string dir = "hosts/" + f.hosts[h].name + "/";
          auto emit = [&](const std::string& name, const std::string& data) {
            if (!r.error.empty()) return;
            ArtifactRecord rec;
            if (out->WriteFile(dir + name, data, &rec, &r.error)) r.artifacts.push_back(std::move(rec));
          };
#if NETDSL_HAVE_BACKEND_TABLES
          if (b.targets & kTables) {
            std::string image = backends::WriteTableImage(ir);  // "" = refused; say why
            if (image.empty()) {
              r.error = "internal error: " + backends::CheckTableHostIr(ir);
              return;
            }
            emit("tables.ndt", image);
          }
#endif
#if NETDSL_HAVE_BACKEND_LINUX
          if (b.targets & kLinux) {
            // One state for both artifacts; a host the backend refuses (a name that could
            // break a batch line, an inconsistent IR) fails the build instead of writing
            // an empty file.
            llvm::Expected<backends::LinuxArtifacts> linux_artifacts = backends::EmitLinux(ir);
            if (!linux_artifacts) {
              r.error = llvm::toString(linux_artifacts.takeError());
              return;
            }
            emit("linux.yaml", linux_artifacts->yaml);
            emit("linux.batch", linux_artifacts->batch);
          }
#endif
#if NETDSL_HAVE_BACKEND_POWERSHELL
          if (b.targets & kPowerShell) emit("hyperv.ps1", backends::EmitHyperVScript(ir));
#endif
        } catch (const std::exception& e) {
          r.error = "internal error while building host `" + f.hosts[h].name + "`: " + e.what();
        }
      },
      [&](size_t done) {
        if (progress) std::fprintf(stderr, "\rnetdslc build: %zu/%zu hosts", done, selected.size());
      });
  if (progress) std::fprintf(stderr, "\n");

  timer.Mark("lower + emit hosts");
  std::vector<ArtifactRecord> artifacts;
  for (const auto& r : results) {
    if (!r.error.empty()) return FinishDiagnostics(options, diags), Fail(r.error);
    artifacts.insert(artifacts.end(), r.artifacts.begin(), r.artifacts.end());
  }
#if NETDSL_HAVE_BACKEND_POWERSHELL
  if (writing && (b.targets & kPowerShell)) {
    ArtifactRecord rec;
    std::string error;
    std::string script;
    try {
      script = backends::EmitFabricScript(*allocated);
    } catch (const std::exception& e) {
      return FinishDiagnostics(options, diags), Fail(std::string("internal error in scvmm/fabric.ps1: ") + e.what());
    }
    if (!out->WriteFile("scvmm/fabric.ps1", script, &rec, &error)) return FinishDiagnostics(options, diags), Fail(error);
    artifacts.push_back(std::move(rec));
  }
#endif

  // The new lock: allocations, plus per-host provenance of the hosts built now;
  // hosts not selected keep their entry, hosts that are gone lose it.
  alloc::LockFile new_lock = std::move(allocated->lock);  // not used after this
  {
    std::set<std::string> existing;
    for (const auto& h : f.hosts) existing.insert("host " + alloc::QuoteName(h.name));
    for (auto it = new_lock.hosts.begin(); it != new_lock.hosts.end();)
      it = existing.count(it->first) ? std::next(it) : new_lock.hosts.erase(it);
    for (size_t k = 0; k < selected.size(); ++k) {
      auto& entry = new_lock.hosts["host " + alloc::QuoteName(f.hosts[selected[k]].name)];
      entry.generation = results[k].generation;
      entry.ir_hash = results[k].ir_hash;
    }
  }
  std::string new_lock_text = alloc::PrintLockFile(new_lock);
  timer.Mark("fabric script + lock");
  bool lock_changes = !have_lock || new_lock_text != old_lock_text;

  if (b.dump_ir)
    for (const auto& r : results) std::fwrite(r.dump.data(), 1, r.dump.size(), stdout);
  std::fflush(stdout);

  // --locked compares content, not bytes: comments or a hand-reformatted lock are fine.
  alloc::LockDiff diff;
  if (b.locked) diff = alloc::DiffLockFiles(old_lock ? *old_lock : alloc::LockFile{}, new_lock);
  if (b.locked && (!have_lock || !diff.Empty())) {
    llvm::SMRange where;
    for (unsigned id = 1; have_lock && id <= sources.getNumBuffers(); ++id)
      if (sources.getMemoryBuffer(id)->getBufferIdentifier() == lock_path) {
        auto start = llvm::SMLoc::getFromPointer(sources.getMemoryBuffer(id)->getBufferStart());
        where = {start, start};
      }
    std::string what = have_lock ? "netdsl.lock would change: " : "netdsl.lock does not exist and would be created: ";
    what += std::to_string(diff.added) + " entries added, " + std::to_string(diff.removed) + " removed";
    diags.Report(DiagKind::LockWouldChange, where,
                 what + " — run netdslc build without --locked and commit the lock");
    return FinishDiagnostics(options, diags), kExitErrors;
  }
  if (b.locked) lock_changes = false;

  if (writing) {
    std::string error;
    ArtifactRecord manifest;
    // The lock as it is on disk after this build.
    InputRecord lock_record{"netdsl.lock", io::Sha256Hex(lock_changes ? new_lock_text : old_lock_text)};
    if (!out->WriteFile("manifest.json", ManifestJson(NETDSL_VERSION_STRING, inputs, lock_record, artifacts),
                        &manifest, &error))
      return FinishDiagnostics(options, diags), Fail(error);
    if (lock_changes && !io::WriteFileAtomic(lock_path, new_lock_text, &error))
      return FinishDiagnostics(options, diags), Fail(error);
    if (!out->Commit(&error)) return FinishDiagnostics(options, diags), Fail(error);
    timer.Mark("write lock + commit");
  }
  return FinishDiagnostics(options, diags);
}

}  // namespace
}  // namespace netdsl::driver

NETDSL_COMMAND("build", "check, allocate (netdsl.lock) and write every host's artifacts",
               netdsl::driver::BuildMain);
