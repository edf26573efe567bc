// The incremental build (see incremental.h).
#include "compiler/pipeline/incremental.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <array>
#include <bitset>
#include <cstring>
#include <future>
#include <filesystem>
#include <map>
#include <unordered_set>

#include "common/fabric/names.h"
#include "common/io/atomic_file.h"
#include "common/io/sha256.h"
#include "common/ndt/format.h"
#include "compiler/alloc/alloc.h"
#include "compiler/alloc/lock_text.h"
#include "compiler/lower/lower.h"
#include "compiler/pipeline/build_cache.h"
#include "compiler/pipeline/journal.h"
#include "compiler/pipeline/previous_output.h"
#include "compiler/sema/sema.h"
#include "compiler/syntax/parse.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

namespace netdsl::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kNone = model::kNone;

/// Why the full path: `Result` converts to a failed IncrementalResult.
struct Fallback {
  std::string reason;
};

/// One input as this build sees it.
struct Input {
  unsigned buffer = 0;
  std::string_view text;        ///< as read now
  std::unique_ptr<llvm::MemoryBuffer> old_copy;  ///< src-N (released once diffed)
  std::string_view old_text;    ///< the cached copy
  uint64_t first_change = 0;    ///< first byte that differs from the copy
  bool edited = false;
  /// The statements the edit replaced: [first, last] of the cached file, and
  /// the byte range of the new text that replaces them.
  size_t first = 0, last = 0;
  uint64_t region_begin = 0, region_end = 0;
  int64_t delta = 0;  ///< new size - old size
  std::vector<CachedStatement> statements;  ///< of the new text
  std::string sha256;
};

bool IdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':' ||
         static_cast<unsigned char>(c) >= 0x80;
}

/// The byte range [begin, end) of statement `k`'s unit: from its start (the
/// file's start for the first) to the next statement's start (the end).
std::pair<uint64_t, uint64_t> Unit(const std::vector<CachedStatement>& st, size_t k, uint64_t size) {
  return {k == 0 ? 0 : st[k].begin, k + 1 < st.size() ? st[k + 1].begin : size};
}

size_t UnitContaining(const std::vector<CachedStatement>& st, uint64_t offset) {
  auto it = std::upper_bound(st.begin() + 1, st.end(), offset,
                             [](uint64_t o, const CachedStatement& s) { return o < s.begin; });
  return size_t(it - st.begin()) - 1;
}

/// Writes `data` to a new temporary file beside `path` (created exclusively,
/// mode 0644, fsynced when `sync`) and returns its name; "" with *error.
std::string WriteTemporary(const std::string& path, std::string_view data, bool sync, std::string* error) {
  fs::path target(path);
  std::string name = (target.parent_path().empty() ? fs::path(".") : target.parent_path()).string() + "/." +
                     target.filename().string() + ".tmp.XXXXXX";
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) {
    *error = name + ": " + std::strerror(errno);
    return "";
  }
  bool ok = ::fchmod(fd, 0644) == 0;
  for (size_t at = 0; ok && at < data.size();) {
    ssize_t n = ::write(fd, data.data() + at, data.size() - at);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) at += size_t(n);
  }
  ok = ok && (!sync || ::fsync(fd) == 0);
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    *error = name + ": " + std::strerror(errno);
    ::unlink(name.c_str());
    return "";
  }
  return name;
}

/// Makes the file at `path` hold `text`, writing only from byte `from` on
/// (the bytes before are already `text`'s).
bool UpdateCopy(const std::string& path, std::string_view text, uint64_t from) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  bool ok = true;
  for (uint64_t at = std::min<uint64_t>(from, text.size()); ok && at < text.size();) {
    ssize_t n = ::pwrite(fd, text.data() + at, text.size() - at, off_t(at));
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) at += uint64_t(n);
  }
  ok = ok && ::ftruncate(fd, off_t(text.size())) == 0;
  return ::close(fd) == 0 && ok;
}

class Incremental {
 public:
  Incremental(const CompileOptions& compile, const BuildOptions& options, const VerifyIncrementally& verify)
      : compile_(compile), options_(options), verify_(verify), diags_(sources_) {}

  IncrementalResult Run() {
    try {
      if (auto fallback = Load()) return {false, fallback->reason};
      Phase("incremental: read");
      if (auto fallback = Diff()) return {false, fallback->reason};
      if (std::none_of(inputs_.begin(), inputs_.end(), [](const Input& in) { return in.edited; }))
        return {true, "no input changed"};
      Phase("incremental: diff + parse");
      if (auto fallback = CheckAndAllocate()) return {false, fallback->reason};
      Phase("incremental: check + allocate");
      if (auto fallback = LowerAndEmit()) return {false, fallback->reason};
      Phase("incremental: lower + emit");
      if (auto fallback = Write()) return {false, fallback->reason};
      Phase("incremental: verify + write");
    } catch (const std::exception& e) {
      return {false, std::string("internal: ") + e.what()};
    }
    return {true, summary_};
  }

 private:
  void Phase(const char* name) {
    if (options_.on_phase) options_.on_phase(name);
  }
  bool Quiet() const { return diags_.ErrorCount() == 0 && diags_.WarningCount() == 0; }

  std::optional<Fallback> Load();
  /// What a build of this path killed midway leaves: its verify staging
  /// directory and index temporary in the cache, its lock temporary.
  void RemoveLeftovers() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(cache_dir_, ec)) {
      std::string name = entry.path().filename().string();
      if (name.rfind("stage-", 0) == 0 || name == "index.tmp") fs::remove_all(entry.path(), ec);
    }
  }
  std::optional<Fallback> Diff();
  std::optional<Fallback> DiffFile(uint32_t i);
  std::optional<Fallback> CheckAndAllocate();
  std::optional<Fallback> LowerAndEmit();
  std::optional<Fallback> Write();

  const CompileOptions& compile_;
  const BuildOptions& options_;
  const VerifyIncrementally& verify_;
  llvm::SourceMgr sources_;
  DiagnosticEngine diags_;

  std::string out_, cache_dir_;
  std::unique_ptr<llvm::MemoryBuffer> lock_buffer_;
  BuildCache cache_;
  std::optional<PreviousOutput> previous_;
  std::string lock_path_;
  std::string_view lock_text_;  ///< lock_buffer_
  std::vector<Input> inputs_;
  std::vector<std::string> paths_;  ///< each cached file's path for this build (root first)
  std::vector<std::pair<uint32_t, ast::File>> edited_blocks_;  ///< per edited file: its re-parsed statements

  // The edit.
  std::vector<bool> removed_;             ///< per cached VM
  std::vector<std::pair<uint32_t, uint32_t>> new_vms_;  ///< (file, new statement) per VM of the reduced model, in order
  uint32_t first_new_vm_ = 0;             ///< reduced model: VMs [first_new_vm_, end) are the edited ones (all of them)
  std::optional<alloc::AllocatedFabric> reduced_;
  std::optional<alloc::LockTextIndex> lock_;  ///< over lock_text_
  alloc::LockPatch patch_;                    ///< the next lock, as changes to lock_text_
  std::string new_lock_text_;

  // The result.
  std::vector<uint32_t> affected_;  ///< hosts lowered, by name
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> files_;  ///< host → (path, data) written
  std::vector<std::pair<std::string, std::string>> fabric_files_;  ///< (path, data) of the fabric artifacts
  std::map<std::string, std::pair<uint64_t, std::string>> provenance_;  ///< host → (generation, ir_hash) of lowered hosts
  BuildCache new_cache_;
  std::string summary_;
};

std::optional<Fallback> Incremental::Load() {
  const BuildOptions& o = options_;
  if (o.output.empty() || o.cache_key.empty() || !o.hosts.empty() || o.dump_ir)
    return Fallback{"these options always build fully"};
  out_ = o.output;
  while (out_.size() > 1 && out_.back() == '/') out_.pop_back();
  cache_dir_ = out_ + "/" + kCacheDir;
  // A commit a killed build left is finished (or refused) first; a refusal
  // is the full path's to report.
  std::string recover_error;
  if (!RecoverCommit(out_, &recover_error)) return Fallback{"an interrupted commit: " + recover_error};
  RemoveLeftovers();
  auto read = [](const std::string& path) -> std::unique_ptr<llvm::MemoryBuffer> {
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
    return buffer ? std::move(*buffer) : nullptr;
  };
  auto crc = [](std::string_view text) { return ndt::Crc32c(text.data(), text.size()); };
  std::shared_ptr<llvm::MemoryBuffer> index = read(cache_dir_ + "/index");
  if (!index) return Fallback{"no build cache in " + out_};
  std::array<std::shared_ptr<const llvm::MemoryBuffer>, 3> records;
  for (size_t k = 0; k < records.size(); ++k) records[k] = read(cache_dir_ + "/" + kRecordFiles[k]);
  auto cache = ParseCache(std::move(index), std::move(records));
  if (!cache) return Fallback{"the build cache is damaged or of another format"};
  cache_ = std::move(*cache);
  Phase("incremental: cache index");
  Phase("incremental: cache index");
  if (cache_.compiler_sha256 != CompilerSha256()) return Fallback{"another netdslc built " + out_};
  if (cache_.options_key != o.cache_key) return Fallback{"other build options than the last build"};
  // The cache's paths are relative to the root file's directory.
  const std::string& root = compile_.files.empty() ? std::string() : compile_.files[0];
  if (compile_.files.size() != 1 || cache_.files.empty() || fs::path(root).filename().string() != cache_.files[0].path)
    return Fallback{"another root file than the last build"};
  lock_path_ = compile_.lock_path.empty() ? DefaultLockPath(root) : compile_.lock_path;
  if (InputPath(lock_path_, root) != cache_.lock_path) return Fallback{"another lock than the last build"};
  // The lock's temporary a killed build left beside it (`.NAME.tmp.XXXXXX`).
  {
    fs::path lock(lock_path_);
    std::string prefix = "." + lock.filename().string() + ".tmp.";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(lock.parent_path().empty() ? fs::path(".") : lock.parent_path(), ec)) {
      std::string name = entry.path().filename().string();
      if (name.size() == prefix.size() + 6 && name.rfind(prefix, 0) == 0 && entry.is_regular_file(ec))
        fs::remove(entry.path(), ec);
    }
  }
  if (std::getenv("NETDSL_TEST_REFUSE")) return Fallback{"NETDSL_TEST_REFUSE is set"};
  // verify's state, as the last build left it (and only when this build verifies).
  std::unique_ptr<llvm::MemoryBuffer> state = read(cache_dir_ + "/verify.state");
  if (bool(options_.before_commit) != cache_.verify_state || bool(state) != cache_.verify_state ||
      (state && (state->getBufferSize() != cache_.verify_state_size ||
                 crc(state->getBuffer()) != cache_.verify_state_crc32c)))
    return Fallback{"verify's state does not match the build cache"};
  state.reset();
  paths_.push_back(root);
  for (size_t i = 1; i < cache_.files.size(); ++i) {
    fs::path rel(cache_.files[i].path);
    if (rel.is_absolute()) paths_.push_back(rel.string());
    else paths_.push_back((fs::path(root).parent_path() / rel).string());
  }
  lock_buffer_ = read(lock_path_);
  if (!lock_buffer_) return Fallback{"the lock is not readable"};
  lock_text_ = lock_buffer_->getBuffer();
  if (lock_text_.size() != cache_.lock_size || crc(lock_text_) != cache_.lock_crc32c)
    return Fallback{"the lock changed since the last build"};
  lock_ = alloc::LockTextIndex::Index(lock_text_);
  if (!lock_) return Fallback{"the lock is not as netdslc writes it"};
  Phase("incremental: lock read + hashed");
  // The manifest as the cache describes it (not parsed again): the same bytes.
  std::unique_ptr<llvm::MemoryBuffer> manifest = read(out_ + "/manifest.json");
  struct stat st;
  if (!manifest || manifest->getBufferSize() != cache_.manifest.size ||
      crc(manifest->getBuffer()) != cache_.manifest.crc32c || ::lstat((out_ + "/manifest.json").c_str(), &st) != 0)
    return Fallback{"the manifest does not match the build cache"};
  manifest.reset();
  previous_.emplace();
  previous_->dir = out_;
  previous_->manifest_mtime_ns = int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  previous_->compiler_sha256 = cache_.compiler_sha256;
  previous_->lock = {cache_.manifest.lock_path, cache_.lock_sha256};
  for (const HostRecord& h : cache_.manifest.hosts) previous_->hosts.emplace(h.name, h);
  for (const ArtifactRecord& a : cache_.manifest.artifacts) previous_->artifacts.emplace(a.path, a);
  Phase("incremental: manifest read");
  for (const auto& [path, record] : previous_->artifacts)
    if (!previous_->Intact(record)) return Fallback{path + " changed since the last build"};
  Phase("incremental: manifest + stat");

  inputs_.resize(cache_.files.size());
  for (uint32_t i = 0; i < cache_.files.size(); ++i) {
    const CachedFile& f = cache_.files[i];
    if (f.real_path.empty() || RealPathUnderRoot(paths_[i], root) != f.real_path)
      return Fallback{f.path + " resolves to another file than in the last build"};
    auto buffer = llvm::MemoryBuffer::getFile(paths_[i], /*IsText=*/false, /*RequiresNullTerminator=*/true);
    if (!buffer) return Fallback{f.path + " is not readable"};
    Input& in = inputs_[i];
    in.buffer = sources_.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
    const llvm::MemoryBuffer* b = sources_.getMemoryBuffer(in.buffer);
    in.text = std::string_view(b->getBufferStart(), b->getBufferSize());
    in.old_copy = read(cache_dir_ + "/src-" + std::to_string(i));
    if (!in.old_copy) return Fallback{"the build cache has no copy of " + f.path};
    in.old_text = in.old_copy->getBuffer();
    if (in.old_text.size() != f.size || crc(in.old_text) != f.crc32c)
      return Fallback{"the build cache's copy of " + f.path + " is damaged"};
  }
  return std::nullopt;
}

std::optional<Fallback> Incremental::DiffFile(uint32_t i) {
  Input& in = inputs_[i];
  const CachedFile& f = cache_.files[i];
  in.statements = f.statements;
  in.sha256 = f.sha256;
  if (in.text == in.old_text) return std::nullopt;
  const std::string_view a = in.old_text, b = in.text;
  size_t n = std::min(a.size(), b.size());
  // Common prefix and suffix, a page at a time with memcmp.
  constexpr size_t kStep = 4096;
  size_t p = 0;
  while (p + kStep <= n && std::memcmp(a.data() + p, b.data() + p, kStep) == 0) p += kStep;
  while (p < n && a[p] == b[p]) ++p;
  size_t s = 0;
  while (s + kStep <= n - p && std::memcmp(a.data() + a.size() - s - kStep, b.data() + b.size() - s - kStep, kStep) == 0)
    s += kStep;
  while (s < n - p && a[a.size() - 1 - s] == b[b.size() - 1 - s]) ++s;
  in.first_change = p;
  // The old bytes [p, e) became the new [p, b.size() - s). A statement is
  // touched when a changed byte is one of its own (an insertion: strictly
  // inside it); the blanks and comments between statements may change
  // freely. Re-parse from the end of the last untouched statement before the
  // change (a `vm` is re-parsed whole) to the start of the first untouched
  // one after it.
  const std::vector<CachedStatement>& st = f.statements;
  const uint64_t e = a.size() - s;
  auto touched = [&](const CachedStatement& x) { return e > p ? x.begin < e && p < x.end : x.begin < p && p < x.end; };
  size_t first = st.size(), last = 0;
  for (size_t k = 0; k < st.size() && st[k].begin <= e; ++k) {
    if (!touched(st[k])) continue;
    if (st[k].kind != CachedStatement::Kind::Vm) return Fallback{"an edit outside `vm` declarations in " + f.path};
    first = std::min(first, k);
    last = k;
  }
  // Statements [lo, hi) are re-parsed: the touched ones, or none when only
  // blanks and comments changed (the region is then the gap around the change).
  size_t lo = first, hi = last + 1;
  if (first == st.size()) {
    lo = 0;
    while (lo < st.size() && st[lo].end <= p) ++lo;
    hi = lo;
  }
  in.first = lo;
  in.last = hi;  // the statements [first, last) go
  in.delta = int64_t(b.size()) - int64_t(a.size());
  in.region_begin = lo > 0 ? st[lo - 1].end : 0;
  uint64_t old_end = hi < st.size() ? st[hi].begin : a.size();
  in.region_end = uint64_t(int64_t(old_end) + in.delta);
  if (in.region_begin > p || old_end < e) return Fallback{"internal: a region that misses the edit in " + f.path};
  // The text after the region lexes as before only if no token runs across.
  if (in.region_end < b.size() && in.region_end > in.region_begin && IdentifierChar(b[in.region_end - 1]))
    return Fallback{"an edit that runs into the next statement in " + f.path};
  ast::File parsed = ParseRegion(in.buffer, in.region_begin, in.region_end, diags_);
  if (!Quiet()) return Fallback{"a diagnostic in the edited statements"};
  if (!parsed.imports.empty()) return Fallback{"an edit of imports in " + f.path};
  std::vector<CachedStatement> region;
  for (const ast::Block& block : parsed.blocks) {
    if (block.kind != "vm") return Fallback{"an edit outside `vm` declarations in " + f.path};
    region.push_back(StatementAt(block.range, b.data(), CachedStatement::Kind::Vm));
  }
  // The file's statements now: before the region as they were, the region's, after it shifted.
  std::vector<CachedStatement> now(f.statements.begin(), f.statements.begin() + in.first);
  now.insert(now.end(), region.begin(), region.end());
  for (size_t k = in.last; k < f.statements.size(); ++k)
    now.push_back({uint64_t(int64_t(f.statements[k].begin) + in.delta), uint64_t(int64_t(f.statements[k].end) + in.delta),
                   f.statements[k].kind});
  in.statements = std::move(now);
  in.edited = true;
  edited_blocks_.push_back({i, std::move(parsed)});
  return std::nullopt;
}


std::optional<Fallback> Incremental::Diff() {
  for (uint32_t i = 0; i < inputs_.size(); ++i)
    if (auto fallback = DiffFile(i)) return fallback;
  for (Input& in : inputs_) {
    in.old_text = {};
    in.old_copy.reset();  // Write() updates src-N in place
  }
  removed_.assign(cache_.Vms().size(), false);
  for (uint32_t v = 0; v < cache_.Vms().size(); ++v) {
    const CachedVm& vm = cache_.Vms()[v];
    if (vm.file >= inputs_.size()) return Fallback{"the build cache is damaged"};
    const Input& in = inputs_[vm.file];
    removed_[v] = in.edited && vm.statement >= in.first && vm.statement < in.last;
  }
  return std::nullopt;
}

std::optional<Fallback> Incremental::CheckAndAllocate() {
  // The infrastructure (every statement but `vm`s, parsed in runs) and the edited VMs.
  ast::Program program;
  for (uint32_t i = 0; i < inputs_.size(); ++i) {
    const Input& in = inputs_[i];
    ast::File file;
    file.path = paths_[i];
    file.buffer_id = in.buffer;
    const std::vector<CachedStatement>& st = in.statements;
    for (size_t k = 0; k < st.size();) {
      if (st[k].kind == CachedStatement::Kind::Vm) {
        ++k;
        continue;
      }
      size_t r = k;
      while (r < st.size() && st[r].kind != CachedStatement::Kind::Vm) ++r;
      ast::File part = ParseRegion(in.buffer, Unit(st, k, in.text.size()).first, Unit(st, r - 1, in.text.size()).second,
                                   diags_);
      for (auto& b : part.blocks) file.blocks.push_back(std::move(b));
      for (auto& imp : part.imports) file.imports.push_back(std::move(imp));
      k = r;
    }
    for (auto& [f, parsed] : edited_blocks_)
      if (f == i)
        for (auto& b : parsed.blocks) file.blocks.push_back(std::move(b));
    std::stable_sort(file.blocks.begin(), file.blocks.end(), [](const ast::Block& a, const ast::Block& b) {
      return a.range.Start.getPointer() < b.range.Start.getPointer();
    });
    program.files.push_back(std::move(file));
  }
  if (!Quiet()) return Fallback{"a diagnostic in the infrastructure"};
  Phase("incremental: parse infrastructure");
  auto model = Check(program, diags_);
  if (!model || !Quiet()) return Fallback{"a diagnostic in the edited VMs"};
  program = ast::Program();
  const model::Fabric& m = *model;
  Phase("incremental: check");

  // Where each edited VM was declared (file, statement of the new text).
  std::map<unsigned, uint32_t> file_of_buffer;
  for (uint32_t i = 0; i < inputs_.size(); ++i) file_of_buffer[inputs_[i].buffer] = i;
  for (const model::Vm& vm : m.vms) {
    unsigned buffer = sources_.FindBufferContainingLoc(vm.name_range.Start);
    auto it = file_of_buffer.find(buffer);
    if (it == file_of_buffer.end()) return Fallback{"internal: a VM from nowhere"};
    const Input& in = inputs_[it->second];
    uint64_t offset = uint64_t(vm.name_range.Start.getPointer() - in.text.data());
    new_vms_.push_back({it->second, uint32_t(UnitContaining(in.statements, offset))});
  }

  // The cached facts must fit this model (same infrastructure, same indices).
  auto fits = [](uint32_t index, size_t size) { return index == kNone || index < size; };
  for (uint32_t v = 0; v < cache_.Vms().size(); ++v) {
    const CachedVm& vm = cache_.Vms()[v];
    if (!fits(vm.host, m.hosts.size())) return Fallback{"the build cache does not fit the source"};
    for (uint32_t k = 0; k < vm.nic_count; ++k) {
      const CachedNic& n = cache_.Nics()[vm.nic_first + k];
      if (!fits(n.vm_network, m.vm_networks.size()) || !fits(n.vm_subnet, m.vm_subnets.size()) ||
          !fits(n.classification, m.port_classifications.size()) || !fits(n.ip_pool, m.ip_pools.size()))
        return Fallback{"the build cache does not fit the source"};
      if (removed_[v] && n.vm_network != kNone && n.vm_subnet == kNone)
        return Fallback{"an edited VM on a VM network without subnets"};
    }
  }

  // What sema checks across VMs, against the VMs the edit kept: names,
  // explicit addresses per VM network, explicit MACs. A value a kept NIC
  // holds (explicit or allocated) is contested: the full build decides.
  std::unordered_set<std::string_view> names;
  std::set<std::pair<uint32_t, net::IpAddress>> ips;
  std::set<uint64_t> macs;
  for (const model::Vm& vm : m.vms) {
    names.insert(vm.name);
    for (const model::VmNic& nic : vm.nics) {
      if (nic.vm_network != kNone && nic.vm_subnet == kNone) return Fallback{"a NIC on a VM network without subnets"};
      if (nic.ip) ips.insert({nic.vm_network, *nic.ip});
      if (nic.mac) macs.insert(nic.mac->Value());
    }
  }
  for (uint32_t v = 0; v < cache_.Vms().size(); ++v) {
    if (removed_[v]) continue;
    const CachedVm& vm = cache_.Vms()[v];
    if (names.count(cache_.Name(vm))) return Fallback{"VM `" + std::string(cache_.Name(vm)) + "` is declared twice"};
    for (uint32_t k = 0; k < vm.nic_count; ++k) {
      const CachedNic& n = cache_.Nics()[vm.nic_first + k];
      alloc::NicAllocation a = ToNicAllocation(n);
      if (!ips.empty() && ips.count({n.vm_network, a.ca})) return Fallback{"a contested address " + a.ca.ToString()};
      if (!macs.empty() && macs.count(a.mac.Value())) return Fallback{"a contested MAC " + a.mac.ToString()};
    }
  }

  // The lock, reduced to the edited VMs' entries (the infrastructure's and
  // the quarantine sections whole): a small text ParseLockFile reads.
  std::set<std::string> nic_keys, port_keys;
  for (uint32_t v = 0; v < cache_.Vms().size(); ++v) {
    if (!removed_[v]) continue;
    const CachedVm& vm = cache_.Vms()[v];
    for (uint32_t k = 0; k < vm.nic_count; ++k) {
      std::string key = fabric::VmNicIdentity(cache_.Name(vm), cache_.Name(cache_.Nics()[vm.nic_first + k]));
      if (vm.host != kNone) port_keys.insert("host " + alloc::QuoteName(m.hosts[vm.host].name) + "/" + key);
      nic_keys.insert(std::move(key));
    }
  }
  for (uint32_t v = 0; v < m.vms.size(); ++v)
    for (uint32_t k = 0; k < m.vms[v].nics.size(); ++k) {
      nic_keys.insert(alloc::NicKey(m, v, k));
      if (m.vms[v].host != kNone) port_keys.insert(alloc::PortKey(m, m.vms[v].host, v, k));
    }
  std::array<std::vector<std::string>, alloc::kLockSectionCount> prefixes;
  std::bitset<alloc::kLockSectionCount> filtered;
  for (auto section : {alloc::LockSection::CustomerAddress, alloc::LockSection::Mac, alloc::LockSection::PortId}) {
    const std::set<std::string>& keys = section == alloc::LockSection::PortId ? port_keys : nic_keys;
    prefixes[size_t(section)].assign(keys.begin(), keys.end());
    filtered.set(size_t(section));
  }
  std::string reduced_text = lock_->ReducedTo(prefixes, filtered);
  auto reduced = alloc::ParseLockFile(reduced_text, lock_path_, diags_);
  if (!reduced || !Quiet()) return Fallback{"a diagnostic in the lock"};
  Phase("incremental: lock reduced");
  // A prefix may also match a longer key of the same VM: the allocator would
  // release it. Only exact slice keys stay.
  for (auto section : {alloc::LockSection::CustomerAddress, alloc::LockSection::Mac, alloc::LockSection::PortId}) {
    const std::set<std::string>& keys = section == alloc::LockSection::PortId ? port_keys : nic_keys;
    auto& entries = reduced->Section(section);
    for (auto it = entries.begin(); it != entries.end();) it = keys.count(it->first) ? std::next(it) : entries.erase(it);
  }

  // Values every other NIC holds.
  alloc::RetainedValues retained;
  std::vector<bool> subnet_wanted(m.vm_subnets.size()), host_wanted(m.hosts.size());
  for (const model::Vm& vm : m.vms) {
    if (vm.host != kNone) host_wanted[vm.host] = true;
    for (const model::VmNic& nic : vm.nics)
      if (nic.vm_subnet != kNone) subnet_wanted[nic.vm_subnet] = true;
  }
  retained.macs.reserve(cache_.Nics().size());
  for (uint32_t v = 0; v < cache_.Vms().size(); ++v) {
    if (removed_[v]) continue;
    const CachedVm& vm = cache_.Vms()[v];
    for (uint32_t k = 0; k < vm.nic_count; ++k) {
      const CachedNic& n = cache_.Nics()[vm.nic_first + k];
      alloc::NicAllocation a = ToNicAllocation(n);
      retained.macs.push_back(a.mac.Value());
      if (n.vm_subnet != kNone && subnet_wanted[n.vm_subnet]) {
        if (n.flags & CachedNic::kExplicitIp) {
          for (uint32_t p : m.vm_subnets[n.vm_subnet].ip_pools) retained.ips.push_back({p, a.ca});
        } else if (n.ip_pool != kNone) {
          retained.ips.push_back({n.ip_pool, a.ca});
        }
      }
      if (vm.host != kNone && host_wanted[vm.host]) retained.ports.push_back({vm.host, n.port_id});
    }
  }
  std::sort(retained.macs.begin(), retained.macs.end());
  std::sort(retained.ports.begin(), retained.ports.end());
  Phase("incremental: retained");
  alloc::AllocOptions alloc_options;
  alloc_options.retained = &retained;
  reduced_ = alloc::Allocate(std::move(*model), &*reduced, alloc_options, diags_);
  if (!reduced_ || !Quiet()) return Fallback{"a diagnostic while allocating"};
  Phase("incremental: allocate");
  for (auto section : {alloc::LockSection::Vsid, alloc::LockSection::Rdid, alloc::LockSection::ProviderAddress,
                       alloc::LockSection::SwitchIfname, alloc::LockSection::GatewayAddress,
                       alloc::LockSection::GatewayCustomerAddress}) {
    const auto& before = reduced->Section(section);
    const auto& after = reduced_->lock.Section(section);
    if (before.size() != after.size() ||
        !std::equal(before.begin(), before.end(), after.begin(),
                    [](const auto& x, const auto& y) { return x.first == y.first && x.second.value == y.second.value; }))
      return Fallback{"the infrastructure's allocation would change"};
  }

  // The next lock: the edited VMs' entries replaced, the quarantine and the
  // revision as the reduced allocation decided (they depend on nothing else).
  patch_.revision = reduced_->lock.revision;
  for (auto section : {alloc::LockSection::CustomerAddress, alloc::LockSection::Mac, alloc::LockSection::PortId,
                       alloc::LockSection::ReleasedPortId, alloc::LockSection::ReleasedMac}) {
    auto& changes = patch_.entries[size_t(section)];
    for (const auto& [key, entry] : reduced->Section(section)) changes[key] = std::nullopt;
    for (const auto& [key, entry] : reduced_->lock.Section(section)) changes[key] = entry.value;
    // Unchanged entries need no patch.
    for (auto it = changes.begin(); it != changes.end();) {
      auto old = reduced->Section(section).find(it->first);
      bool same = old != reduced->Section(section).end() && it->second && old->second.value == *it->second;
      it = same ? changes.erase(it) : std::next(it);
    }
  }
  return std::nullopt;
}

std::optional<Fallback> Incremental::LowerAndEmit() {
  const model::Fabric& m = reduced_->fabric;
  // A backend's fabric artifacts (scvmm/fabric.ps1) list every VM: then the
  // lowering model below has them all.
  std::vector<const backends::Backend*> fabric_backends;
  for (const backends::Backend* backend : options_.backends)
    if (backend->emit_fabric &&
        std::any_of(m.hosts.begin(), m.hosts.end(), [&](const model::Host& h) { return backend->platforms.Has(h.platform); }))
      fabric_backends.push_back(backend);

  // Every VM of the new source in model order: the cached ones (their
  // statements renumbered after an edited region) and the edited ones in
  // their place.
  struct Entry {
    bool edited;
    uint32_t index;  ///< cached VM, or VM of the reduced model
    uint32_t file, statement;
  };
  std::vector<Entry> order;
  order.reserve(cache_.Vms().size() + m.vms.size());
  size_t next_new = 0;
  auto flush_new = [&](uint32_t file) {
    while (next_new < new_vms_.size() && new_vms_[next_new].first == file) {
      order.push_back({true, uint32_t(next_new), new_vms_[next_new].first, new_vms_[next_new].second});
      ++next_new;
    }
  };
  for (uint32_t v = 0; v < cache_.Vms().size(); ++v) {
    const CachedVm& vm = cache_.Vms()[v];
    // Edited VMs of earlier files, or of this file before this VM's statement.
    while (next_new < new_vms_.size() &&
           (new_vms_[next_new].first < vm.file ||
            (new_vms_[next_new].first == vm.file && inputs_[vm.file].edited && vm.statement >= inputs_[vm.file].last)))
      flush_new(new_vms_[next_new].first);
    if (removed_[v]) continue;
    const Input& in = inputs_[vm.file];
    uint32_t statement = vm.statement;
    if (in.edited && vm.statement >= in.last)
      statement = uint32_t(int64_t(vm.statement) + int64_t(in.statements.size()) - int64_t(cache_.files[vm.file].statements.size()));
    order.push_back({false, v, vm.file, statement});
  }
  while (next_new < new_vms_.size()) flush_new(new_vms_[next_new].first);
  Phase("incremental: order");

  // The hosts the edit reaches: the edited VMs' (before and after) and every
  // host that carries a subnet one of their NICs is on (before or after).
  std::vector<bool> subnet_edited(m.vm_subnets.size()), host_affected(m.hosts.size());
  auto mark_vm = [&](uint32_t host, auto&& each_nic) {
    if (host != kNone) host_affected[host] = true;
    each_nic([&](uint32_t subnet) {
      if (subnet != kNone) subnet_edited[subnet] = true;
    });
  };
  for (uint32_t v = 0; v < cache_.Vms().size(); ++v)
    if (removed_[v])
      mark_vm(cache_.Vms()[v].host, [&](auto&& f) {
        for (uint32_t k = 0; k < cache_.Vms()[v].nic_count; ++k) f(cache_.Nics()[cache_.Vms()[v].nic_first + k].vm_subnet);
      });
  for (const model::Vm& vm : m.vms)
    mark_vm(vm.host, [&](auto&& f) {
      for (const model::VmNic& nic : vm.nics) f(nic.vm_subnet);
    });
  // Each entry's host and NIC subnets, without materializing it.
  auto each = [&](const Entry& e, auto&& on_nic) -> uint32_t {
    if (e.edited) {
      const model::Vm& vm = m.vms[e.index];
      for (const model::VmNic& nic : vm.nics) on_nic(nic.vm_subnet);
      return vm.host;
    }
    const CachedVm& vm = cache_.Vms()[e.index];
    for (uint32_t k = 0; k < vm.nic_count; ++k) on_nic(cache_.Nics()[vm.nic_first + k].vm_subnet);
    return vm.host;
  };
  for (const Entry& e : order) {
    bool carries = false;
    uint32_t host = each(e, [&](uint32_t s) { carries |= s != kNone && subnet_edited[s]; });
    if (carries && host != kNone) host_affected[host] = true;
  }
  for (const model::VmNetwork& net : m.vm_networks)
    if (net.gateway && net.gateway->host != kNone)
      for (uint32_t s : net.vm_subnets)
        if (subnet_edited[s]) host_affected[net.gateway->host] = true;
  // What the affected hosts carry: their NICs' subnets and their gateways' VM networks' subnets.
  std::vector<bool> carried(m.vm_subnets.size());
  for (const Entry& e : order) {
    uint32_t host = each(e, [](uint32_t) {});
    if (host != kNone && host_affected[host]) each(e, [&](uint32_t s) {
        if (s != kNone) carried[s] = true;
      });
  }
  for (const model::VmNetwork& net : m.vm_networks)
    if (net.gateway && net.gateway->host != kNone && host_affected[net.gateway->host])
      for (uint32_t s : net.vm_subnets) carried[s] = true;

  // The model the affected hosts are lowered from: the infrastructure plus
  // every VM on an affected host or on a subnet one of them carries.
  alloc::AllocatedFabric lowering;
  lowering.fabric.host_groups = m.host_groups;
  lowering.fabric.hosts = m.hosts;
  lowering.fabric.logical_networks = m.logical_networks;
  lowering.fabric.sites = m.sites;
  lowering.fabric.ip_pools = m.ip_pools;
  lowering.fabric.mac_pools = m.mac_pools;
  lowering.fabric.vm_networks = m.vm_networks;
  lowering.fabric.vm_subnets = m.vm_subnets;
  lowering.fabric.port_classifications = m.port_classifications;
  lowering.fabric.port_profiles = m.port_profiles;
  lowering.fabric.uplink_port_profiles = m.uplink_port_profiles;
  lowering.fabric.logical_switches = m.logical_switches;
  lowering.fabric.input_files = m.input_files;
  lowering.allocation = reduced_->allocation;
  lowering.allocation.nics.clear();
  Phase("incremental: copy infrastructure");
  for (const Entry& e : order) {
    bool wanted = false;
    uint32_t host = each(e, [&](uint32_t s) { wanted |= s != kNone && carried[s]; });
    if (!wanted && !(host != kNone && host_affected[host]) && fabric_backends.empty()) continue;
    if (e.edited) {
      lowering.fabric.vms.push_back(m.vms[e.index]);
      lowering.allocation.nics.push_back(reduced_->allocation.nics[e.index]);
    } else {
      const CachedVm& vm = cache_.Vms()[e.index];
      lowering.fabric.vms.push_back(ToModelVm(cache_, vm));
      std::vector<alloc::NicAllocation> nics;
      for (uint32_t k = 0; k < vm.nic_count; ++k) nics.push_back(ToNicAllocation(cache_.Nics()[vm.nic_first + k]));
      lowering.allocation.nics.push_back(std::move(nics));
    }
  }

  // The next cache: every VM in order, the edited files' statements.
  new_cache_.compiler_sha256 = cache_.compiler_sha256;
  new_cache_.options_key = cache_.options_key;
  new_cache_.lock_path = cache_.lock_path;
  new_cache_.files = cache_.files;
  for (uint32_t i = 0; i < inputs_.size(); ++i)
    if (inputs_[i].edited) {
      new_cache_.files[i].statements = inputs_[i].statements;
      new_cache_.files[i].size = inputs_[i].text.size();
      new_cache_.files[i].crc32c = ndt::Crc32c(inputs_[i].text.data(), inputs_[i].text.size());
    }
  new_cache_.vms.reserve(order.size());
  new_cache_.nics.reserve(cache_.Nics().size() + 16);
  new_cache_.strings.reserve(cache_.Strings().size() + 256);
  for (size_t k = 0; k < order.size();) {
    const Entry& e = order[k];
    if (e.edited) {
      new_cache_.AddVm(*reduced_, e.index, e.file, e.statement);
      ++k;
      continue;
    }
    // A run of cached VMs, consecutive there and moved alike: copied as a block.
    const int64_t shift = int64_t(e.statement) - int64_t(cache_.Vms()[e.index].statement);
    size_t r = k + 1;
    while (r < order.size() && !order[r].edited && order[r].index == order[r - 1].index + 1 &&
           int64_t(order[r].statement) - int64_t(cache_.Vms()[order[r].index].statement) == shift)
      ++r;
    new_cache_.AppendVms(cache_, e.index, order[r - 1].index + 1, shift);
    k = r;
  }
  Phase("incremental: next cache");

  // Lower and emit the affected hosts.
  for (uint32_t h = 0; h < m.hosts.size(); ++h)
    if (host_affected[h]) affected_.push_back(h);
  std::sort(affected_.begin(), affected_.end(), [&](uint32_t x, uint32_t y) { return m.hosts[x].name < m.hosts[y].name; });
  lower::LowerIndex index = lower::BuildLowerIndex(lowering, "");
  Phase("incremental: lowering model + index");
  struct HostOut {
    std::string name, ir_hash, refusal;
    uint64_t generation = 1;
    bool changed = false;
    std::set<std::string> backends;
    std::vector<std::pair<std::string, std::string>> files;
  };
  std::vector<HostOut> outs(affected_.size());
  ParallelFor(affected_.size(), options_.jobs, [&](size_t k) {
    HostOut& o = outs[k];
    try {
      ir::HostIr ir = lower::LowerHost(lowering, index, affected_[k]);
      o.name = ir.host;
      o.ir_hash = lower::HostIrHash(ir);
      std::optional<alloc::LockHost> entry = lock_->Host("host " + alloc::QuoteName(ir.host));
      o.generation = !entry ? 1 : entry->ir_hash == o.ir_hash ? entry->generation : entry->generation + 1;
      ir.generation = o.generation;
      ir.source_hash = o.ir_hash;
      auto before = previous_->hosts.find(ir.host);
      o.changed = before == previous_->hosts.end() || before->second.ir_hash != o.ir_hash ||
                  before->second.generation != o.generation;
      for (const backends::Backend* backend : options_.backends) {
        if (!backend->emit_host || !backend->platforms.Has(ir.platform)) continue;
        o.backends.insert(std::string(backend->name));
        if (!o.changed) continue;
        llvm::Expected<std::vector<backends::Artifact>> artifacts = backend->emit_host(ir);
        if (!artifacts) {
          o.refusal = llvm::toString(artifacts.takeError());
          return;
        }
        for (backends::Artifact& a : *artifacts) o.files.push_back({"hosts/" + ir.host + "/" + a.path, std::move(a.data)});
      }
      if (before == previous_->hosts.end() || before->second.backends != o.backends) o.refusal = "other backends";
    } catch (const std::exception& e) {
      o.refusal = e.what();
    }
  });
  size_t rewritten = 0;
  for (HostOut& o : outs) {
    if (!o.refusal.empty()) return Fallback{"host `" + o.name + "`: " + o.refusal};
    std::optional<alloc::LockHost> before = lock_->Host("host " + alloc::QuoteName(o.name));
    if (!before || before->generation != o.generation || before->ir_hash != o.ir_hash)
      patch_.hosts["host " + alloc::QuoteName(o.name)] = alloc::LockHost{o.generation, o.ir_hash, {}};
    provenance_[o.name] = {o.generation, o.ir_hash};
    if (!o.changed) continue;
    ++rewritten;
    files_[o.name] = std::move(o.files);
  }
  for (const backends::Backend* backend : fabric_backends) {
    llvm::Expected<std::vector<backends::Artifact>> artifacts = [&] {
      try {
        return backend->emit_fabric(lowering);
      } catch (const std::exception& e) {
        return llvm::Expected<std::vector<backends::Artifact>>(
            llvm::createStringError(llvm::inconvertibleErrorCode(), e.what()));
      }
    }();
    if (!artifacts) return Fallback{std::string(backend->name) + ": " + llvm::toString(artifacts.takeError())};
    for (backends::Artifact& a : *artifacts) fabric_files_.push_back({a.path, std::move(a.data)});
  }
  new_lock_text_ = lock_->Patched(patch_);
  Phase("incremental: lock printed");
  size_t edited = 0;
  for (const Input& in : inputs_)
    if (in.edited) edited += in.last - in.first;
  summary_ = std::to_string(edited) + " statement(s) re-parsed, " + std::to_string(m.vms.size()) + " VM(s) checked, " +
             std::to_string(affected_.size()) + " host(s) lowered, " + std::to_string(rewritten) + " rewritten";
  return std::nullopt;
}

std::optional<Fallback> Incremental::Write() {
  const bool lock_changes = new_lock_text_ != lock_text_;
  // --locked: a lock that would change is the full path's to report (ND2021).
  if (options_.locked && lock_changes) return Fallback{"the lock would change (--locked)"};
  const std::string_view lock_after = lock_changes ? std::string_view(new_lock_text_) : lock_text_;

  // In the background while the manifest is made and verify runs: the new
  // lock's hash, CRC32C and fsynced temporary file; the edited inputs' hashes.
  std::vector<std::string> temporaries;  // removed unless committed
  std::string lock_temporary;            // (set by its writer)
  struct Remove {
    std::vector<std::string>& paths;
    std::string& lock;
    ~Remove() {
      for (const std::string& p : paths) ::unlink(p.c_str());
      if (!lock.empty()) ::unlink(lock.c_str());
    }
  } remove_temporaries{temporaries, lock_temporary};
  auto lock_sha = std::async(std::launch::async, [&] {
    return lock_changes ? io::Sha256Hex(new_lock_text_) : cache_.lock_sha256;
  });
  auto lock_crc = std::async(std::launch::async, [&] { return ndt::Crc32c(lock_after.data(), lock_after.size()); });
  std::string lock_error;
  auto lock_temp = std::async(std::launch::async, [&] {
    if (lock_changes) lock_temporary = WriteTemporary(lock_path_, new_lock_text_, true, &lock_error);
  });
  for (Input& in : inputs_)
    if (in.edited) in.sha256 = io::Sha256Hex(in.text);

  const std::string& root = compile_.files[0];
  std::vector<InputRecord> inputs;
  for (uint32_t i = 0; i < inputs_.size(); ++i) inputs.push_back({InputPath(paths_[i], root), inputs_[i].sha256});
  for (uint32_t i = 0; i < inputs_.size(); ++i) new_cache_.files[i].sha256 = inputs_[i].sha256;
  InputRecord lock_record{previous_->lock.path, lock_sha.get()};
  new_cache_.lock_sha256 = lock_record.sha256;
  new_cache_.lock_size = lock_after.size();
  new_cache_.lock_crc32c = lock_crc.get();
  std::vector<HostRecord> hosts;
  for (const auto& [name, record] : previous_->hosts) {
    HostRecord r = record;
    if (auto it = provenance_.find(name); it != provenance_.end()) {
      r.generation = it->second.first;
      r.ir_hash = it->second.second;
    }
    hosts.push_back(std::move(r));
  }
  std::vector<ArtifactRecord> artifacts;
  std::set<std::string> fabric_paths;
  for (const auto& [path, data] : fabric_files_) fabric_paths.insert(path);
  for (const auto& [path, record] : previous_->artifacts) {
    bool host = path.rfind("hosts/", 0) == 0;
    // A fabric artifact this build does not write (another target's) is
    // kept by a full build only while the inputs stay the same: not here.
    if (!host && !fabric_paths.count(path)) return Fallback{path + " is built from the whole fabric"};
    bool replaced = fabric_paths.count(path) > 0;
    for (const auto& [name, files] : files_) replaced |= path.rfind("hosts/" + name + "/", 0) == 0;
    if (!replaced) artifacts.push_back(record);
  }
  for (const auto& [host, files] : files_)
    for (const auto& [path, data] : files) artifacts.push_back({path, io::Sha256Hex(data), data.size()});
  std::vector<std::pair<std::string, std::string>> fabric_changed;
  for (auto& [path, data] : fabric_files_) {
    ArtifactRecord r{path, io::Sha256Hex(data), data.size()};
    auto before = previous_->artifacts.find(path);
    if (before == previous_->artifacts.end() || before->second.sha256 != r.sha256 || before->second.size != r.size)
      fabric_changed.push_back({path, std::move(data)});
    artifacts.push_back(std::move(r));
  }
  new_cache_.manifest.lock_path = lock_record.path;
  new_cache_.manifest.hosts = hosts;
  new_cache_.manifest.artifacts = artifacts;
  new_cache_.manifest.Sort();
  std::string manifest =
      ManifestJson(NETDSL_VERSION_STRING, CompilerSha256(), std::move(inputs), lock_record, std::move(hosts), artifacts);
  new_cache_.manifest.size = manifest.size();
  new_cache_.manifest.crc32c = ndt::Crc32c(manifest.data(), manifest.size());
  Phase("incremental: manifest");

  // The changed hosts' files and the manifest, staged for verify.
  std::string error, staging;
  if (!io::MakeTempDirectory(cache_dir_, "stage-", &staging, &error)) return Fallback{error};
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::string ignored;
      io::RemoveTree(dir, &ignored);
    }
  } cleanup{staging};
  auto stage = [&](const std::string& path, std::string_view data) {
    std::error_code ec;
    fs::create_directories(fs::path(staging + "/" + path).parent_path(), ec);
    return !ec && io::WriteFileUnsynced(staging + "/" + path, data, &error);
  };
  std::set<std::string> changed;
  for (const auto& [host, files] : files_) {
    changed.insert(host);
    for (const auto& [path, data] : files)
      if (!stage(path, data)) return Fallback{error};
  }
  for (const auto& [path, data] : fabric_changed)
    if (!stage(path, data)) return Fallback{error};
  if (!stage("manifest.json", manifest)) return Fallback{error};
  Phase("incremental: staged");
  if (options_.before_commit) {
    if (!verify_) return Fallback{"verify cannot run incrementally"};
    std::optional<bool> ok = verify_(staging, out_, changed, diags_);
    if (!ok) return Fallback{"verify cannot run incrementally"};
    if (!*ok || !Quiet()) return Fallback{"verify found something"};
    std::string state;
    if (!io::ReadFile(staging + "/verify.state", &state, &error)) return Fallback{error};
    new_cache_.verify_state = true;
    new_cache_.verify_state_size = state.size();
    new_cache_.verify_state_crc32c = ndt::Crc32c(state.data(), state.size());
  }
  // The next index, in the background while the rest goes in place (not
  // fsynced: a torn index fails its CRC32C).
  std::string index_error;
  const std::string index_temp = cache_dir_ + "/index.tmp";
  temporaries.push_back(index_temp);
  auto index_written =
      std::async(std::launch::async, [&] { return WriteCacheIndex(index_temp, new_cache_, &index_error); });
  lock_temp.get();
  if (lock_changes && lock_temporary.empty()) return Fallback{lock_error};
  Phase("incremental: verified, lock written");

  // In place: the lock, then the changed hosts' and fabric files with the
  // manifest through the journal (all or nothing), the cache last (until the
  // index names the new lock, the next build takes the full path).
  JournaledOutput journal(out_);
  if (!journal.Begin(&error)) return Fallback{error};
  for (const auto& [host, files] : files_) {
    std::set<std::string> written;
    for (const auto& [path, data] : files) {
      if (!journal.WriteFile(path, data, nullptr, &error)) return Fallback{error};
      written.insert(path);
    }
    for (const ArtifactRecord* a : previous_->HostArtifacts(host))
      if (!written.count(a->path) && !journal.Remove(a->path, &error)) return Fallback{error};
  }
  for (const auto& [path, data] : fabric_changed)
    if (!journal.WriteFile(path, data, nullptr, &error)) return Fallback{error};
  if (!journal.WriteFile("manifest.json", manifest, nullptr, &error)) return Fallback{error};
  if (lock_changes) {
    if (std::rename(lock_temporary.c_str(), lock_path_.c_str()) != 0 ||
        !io::FsyncDirectory(fs::path(lock_path_).parent_path().empty() ? "." : fs::path(lock_path_).parent_path().string(),
                            &error))
      return Fallback{"cannot write " + lock_path_};
    lock_temporary.clear();
  }
  if (!journal.Commit(&error)) return Fallback{error};
  if (options_.before_commit &&
      std::rename((staging + "/verify.state").c_str(), (cache_dir_ + "/verify.state").c_str()) != 0)
    return Fallback{"cannot write " + cache_dir_ + "/verify.state"};
  for (uint32_t i = 0; i < inputs_.size(); ++i)
    if (inputs_[i].edited) {
      // From the first changed byte on (an append writes only its tail); a
      // crash midway leaves a copy the index's CRC32C refuses.
      std::string path = cache_dir_ + "/src-" + std::to_string(i);
      if (!UpdateCopy(path, inputs_[i].text, inputs_[i].first_change)) return Fallback{"cannot write " + path};
    }
  if (!index_written.get()) return Fallback{index_error};
  // The records from their first changed byte on (the leading run the new
  // cache borrowed is already there); until the index below names them, a
  // crash leaves record files whose CRC32C the old index refuses.
  std::array<RecordBytes, 3> records = RecordFileBytes(new_cache_);
  for (size_t k = 0; k < records.size(); ++k)
    if (!UpdateRecordFile(cache_dir_ + "/" + kRecordFiles[k], records[k], &error)) return Fallback{error};
  if (std::rename(index_temp.c_str(), (cache_dir_ + "/index").c_str()) != 0)
    return Fallback{"cannot write " + cache_dir_ + "/index"};
  temporaries.clear();
  return std::nullopt;
}

}  // namespace

IncrementalResult BuildIncrementally(const CompileOptions& compile, const BuildOptions& options,
                                     const VerifyIncrementally& verify) {
  return Incremental(compile, options, verify).Run();
}

}  // namespace netdsl::pipeline
