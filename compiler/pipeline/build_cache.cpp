// The build cache's index (see build_cache.h): a header of length-prefixed
// strings, the files and their statements, then the VM and NIC records as
// they are in memory and the string pool, sealed by a CRC32C of everything
// before it.
#include "compiler/pipeline/build_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "common/io/atomic_file.h"
#include "common/ndt/format.h"
#include "compiler/alloc/alloc.h"

namespace netdsl::pipeline {

namespace {

constexpr std::string_view kMagic = "netdsl build cache 5\n";

class Writer {
 public:
  void Bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void U8(uint8_t v) { Bytes(&v, 1); }
  void U32(uint32_t v) { Bytes(&v, 4); }
  void U64(uint64_t v) { Bytes(&v, 8); }
  void Str(std::string_view s) {
    U64(s.size());
    Bytes(s.data(), s.size());
  }
  void Strs(const auto& list) {
    U64(list.size());
    for (const auto& s : list) Str(s);
  }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Bytes(void* p, size_t n) {
    if (n > in_.size() - at_) return false;
    std::memcpy(p, in_.data() + at_, n);
    at_ += n;
    return true;
  }
  bool U8(uint8_t& v) { return Bytes(&v, 1); }
  bool U32(uint32_t& v) { return Bytes(&v, 4); }
  bool U64(uint64_t& v) { return Bytes(&v, 8); }
  bool Str(std::string& s) {
    uint64_t n;
    if (!U64(n) || n > in_.size() - at_) return false;
    s.assign(in_.data() + at_, n);
    at_ += n;
    return true;
  }
  template <typename List>
  bool Strs(List& list) {
    uint64_t n;
    if (!U64(n) || n > in_.size() - at_) return false;
    for (uint64_t i = 0; i < n; ++i) {
      std::string s;
      if (!Str(s)) return false;
      list.insert(list.end(), std::move(s));
    }
    return true;
  }
  bool AtEnd() const { return at_ == in_.size(); }

 private:
  std::string_view in_;
  size_t at_ = 0;
};

uint32_t AddString(std::string& pool, size_t borrowed, std::string_view s) {
  uint32_t off = uint32_t(borrowed + pool.size());
  pool.append(s);
  return off;
}

}  // namespace

void CachedManifest::Sort() {
  std::sort(hosts.begin(), hosts.end(), [](const HostRecord& a, const HostRecord& b) { return a.name < b.name; });
  std::sort(artifacts.begin(), artifacts.end(),
            [](const ArtifactRecord& a, const ArtifactRecord& b) { return a.path < b.path; });
}

void BuildCache::AddVm(const alloc::AllocatedFabric& af, uint32_t v, uint32_t file, uint32_t statement) {
  const model::Vm& vm = af.fabric.vms[v];
  CachedVm r;
  r.file = file;
  r.statement = statement;
  r.host = vm.host;
  r.name_off = AddString(strings, borrowed_strings.size(), vm.name);
  r.name_len = uint32_t(vm.name.size());
  r.description_off = AddString(strings, borrowed_strings.size(), vm.description);
  r.description_len = uint32_t(vm.description.size());
  r.nic_first = uint32_t(NicCount());
  r.nic_count = uint32_t(vm.nics.size());
  for (uint32_t i = 0; i < vm.nics.size(); ++i) {
    const model::VmNic& nic = vm.nics[i];
    const alloc::NicAllocation& a = af.allocation.nics[v][i];
    CachedNic n;
    n.name_off = AddString(strings, borrowed_strings.size(), nic.name);
    n.name_len = uint32_t(nic.name.size());
    n.vm_network = nic.vm_network;
    n.vm_subnet = nic.vm_subnet;
    n.classification = nic.classification;
    n.mtu = nic.mtu.value_or(0);
    n.port_id = a.port_id;
    n.ip_pool = a.ip_pool;
    if (nic.ip) {
      n.flags |= CachedNic::kExplicitIp;
      n.ip_family = uint8_t(nic.ip->family);
      std::memcpy(n.ip, nic.ip->bytes.data(), 16);
    }
    if (nic.mac) {
      n.flags |= CachedNic::kExplicitMac;
      std::memcpy(n.mac, nic.mac->bytes.data(), 6);
    }
    n.ca_family = uint8_t(a.ca.family);
    std::memcpy(n.ca, a.ca.bytes.data(), 16);
    std::memcpy(n.allocated_mac, a.mac.bytes.data(), 6);
    nics.push_back(n);
  }
  vms.push_back(r);
}

void BuildCache::AppendVms(const BuildCache& from, uint32_t first, uint32_t end, int64_t statement_shift) {
  if (first >= end) return;
  std::span<const CachedVm> fvms = from.Vms();
  std::span<const CachedNic> fnics = from.Nics();
  std::string_view fstrings = from.Strings();
  const CachedVm& a = fvms[first];
  uint32_t nic_end = end < fvms.size() ? fvms[end].nic_first : uint32_t(fnics.size());
  uint64_t str_end = end < fvms.size() ? fvms[end].name_off : fstrings.size();
  const int64_t str_shift = int64_t(StringBytes()) - int64_t(a.name_off);
  const int64_t nic_shift = int64_t(NicCount()) - int64_t(a.nic_first);
  if (first == 0 && statement_shift == 0 && str_shift == 0 && nic_shift == 0 && vms.empty() && borrowed_vms.empty() &&
      from.mapped) {
    // The leading run, unchanged: borrowed, not copied.
    borrowed_from = from.mapped_records;
    borrowed_vms = fvms.subspan(0, end);
    borrowed_nics = fnics.subspan(0, nic_end);
    borrowed_strings = fstrings.substr(0, str_end);
    return;
  }
  strings.append(fstrings.substr(a.name_off, str_end - a.name_off));
  size_t n0 = nics.size();
  nics.insert(nics.end(), fnics.begin() + a.nic_first, fnics.begin() + nic_end);
  for (size_t k = n0; k < nics.size(); ++k) nics[k].name_off = uint32_t(int64_t(nics[k].name_off) + str_shift);
  size_t v0 = vms.size();
  vms.insert(vms.end(), fvms.begin() + first, fvms.begin() + end);
  for (size_t k = v0; k < vms.size(); ++k) {
    CachedVm& vm = vms[k];
    vm.statement = uint32_t(int64_t(vm.statement) + statement_shift);
    vm.name_off = uint32_t(int64_t(vm.name_off) + str_shift);
    vm.description_off = uint32_t(int64_t(vm.description_off) + str_shift);
    vm.nic_first = uint32_t(int64_t(vm.nic_first) + nic_shift);
  }
}

model::Vm ToModelVm(const BuildCache& cache, const CachedVm& c) {
  model::Vm vm;
  vm.name = std::string(cache.Name(c));
  vm.description = std::string(cache.Str(c.description_off, c.description_len));
  vm.host = c.host;
  vm.nics.reserve(c.nic_count);
  for (uint32_t i = 0; i < c.nic_count; ++i) {
    const CachedNic& n = cache.Nics()[c.nic_first + i];
    model::VmNic nic;
    nic.name = std::string(cache.Name(n));
    nic.vm_network = n.vm_network;
    nic.vm_subnet = n.vm_subnet;
    nic.classification = n.classification;
    if (n.flags & CachedNic::kExplicitIp) {
      net::IpAddress ip;
      ip.family = net::IpAddress::Family(n.ip_family);
      std::memcpy(ip.bytes.data(), n.ip, 16);
      nic.ip = ip;
    }
    if (n.flags & CachedNic::kExplicitMac) {
      net::MacAddress mac;
      std::memcpy(mac.bytes.data(), n.mac, 6);
      nic.mac = mac;
    }
    if (n.mtu) nic.mtu = n.mtu;
    vm.nics.push_back(std::move(nic));
  }
  return vm;
}

alloc::NicAllocation ToNicAllocation(const CachedNic& n) {
  alloc::NicAllocation a;
  a.ca.family = net::IpAddress::Family(n.ca_family);
  std::memcpy(a.ca.bytes.data(), n.ca, 16);
  std::memcpy(a.mac.bytes.data(), n.allocated_mac, 6);
  a.port_id = n.port_id;
  a.ifname = alloc::PortIfname(n.port_id);
  a.ip_pool = n.ip_pool;
  return a;
}

std::array<RecordBytes, 3> RecordFileBytes(const BuildCache& c) {
  auto bytes = [](auto span) { return std::string_view(reinterpret_cast<const char*>(span.data()), span.size_bytes()); };
  return {RecordBytes{bytes(c.borrowed_vms), bytes(c.Vms())}, RecordBytes{bytes(c.borrowed_nics), bytes(c.Nics())},
          RecordBytes{c.borrowed_strings, c.Strings()}};
}

std::string SerializeCacheIndex(const BuildCache& c) {
  Writer w;
  w.Bytes(kMagic.data(), kMagic.size());
  w.Str(c.compiler_sha256);
  w.Str(c.options_key);
  w.Str(c.lock_path);
  w.Str(c.lock_sha256);
  w.U64(c.lock_size);
  w.U32(c.lock_crc32c);
  w.U8(c.verify_state);
  w.U64(c.verify_state_size);
  w.U32(c.verify_state_crc32c);
  w.U64(c.files.size());
  for (const CachedFile& f : c.files) {
    w.Str(f.path);
    w.Str(f.real_path);
    w.Str(f.sha256);
    w.U64(f.size);
    w.U32(f.crc32c);
    w.U64(f.statements.size());
    for (const CachedStatement& s : f.statements) {
      w.U64(s.begin);
      w.U64(s.end);
      w.U8(uint8_t(s.kind));
    }
  }
  const CachedManifest& m = c.manifest;
  w.U64(m.size);
  w.U32(m.crc32c);
  w.Str(m.lock_path);
  w.U64(m.hosts.size());
  for (const HostRecord& h : m.hosts) {
    w.Str(h.name);
    w.Strs(h.groups);
    w.U64(h.generation);
    w.Str(h.ir_hash);
    w.Strs(h.backends);
  }
  w.U64(m.artifacts.size());
  for (const ArtifactRecord& a : m.artifacts) {
    w.Str(a.path);
    w.Str(a.sha256);
    w.U64(a.size);
  }
  for (const RecordBytes& r : RecordFileBytes(c)) {
    w.U64(r.size());
    uint32_t crc = ndt::Crc32c(r.borrowed.data(), r.borrowed.size());
    w.U32(ndt::Crc32c(r.own.data(), r.own.size(), crc));
  }
  w.U32(ndt::Crc32c(w.out_.data(), w.out_.size()));
  return std::move(w.out_);
}

std::string SerializeCacheText(const BuildCache& c) { return SerializeCacheIndex(c); }

bool WriteCacheIndex(const std::string& path, const BuildCache& cache, std::string* error) {
  return io::WriteFileUnsynced(path, SerializeCacheIndex(cache), error);
}

bool UpdateRecordFile(const std::string& path, const RecordBytes& bytes, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  bool ok = fd >= 0;
  std::string_view own = bytes.own;
  for (uint64_t at = bytes.borrowed.size(); ok && !own.empty();) {
    ssize_t n = ::pwrite(fd, own.data(), own.size(), off_t(at));
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) {
      own.remove_prefix(size_t(n));
      at += uint64_t(n);
    }
  }
  ok = ok && ::ftruncate(fd, off_t(bytes.size())) == 0;
  if (fd >= 0 && ::close(fd) != 0) ok = false;
  if (!ok) *error = path + ": " + std::strerror(errno);
  return ok;
}

std::optional<BuildCache> ParseCache(std::shared_ptr<const llvm::MemoryBuffer> index,
                                     std::array<std::shared_ptr<const llvm::MemoryBuffer>, 3> records) {
  std::string_view bytes(index->getBufferStart(), index->getBufferSize());
  if (bytes.size() < kMagic.size() + 4 || bytes.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  uint32_t crc;
  std::memcpy(&crc, bytes.data() + bytes.size() - 4, 4);
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (ndt::Crc32c(body.data(), body.size()) != crc) return std::nullopt;
  Reader r(body);
  std::string magic(kMagic.size(), '\0');
  BuildCache c;
  uint64_t nfiles;
  uint8_t verify_state = 0;
  if (!r.Bytes(magic.data(), magic.size()) || !r.Str(c.compiler_sha256) || !r.Str(c.options_key) ||
      !r.Str(c.lock_path) || !r.Str(c.lock_sha256) || !r.U64(c.lock_size) || !r.U32(c.lock_crc32c) ||
      !r.U8(verify_state) || verify_state > 1 || !r.U64(c.verify_state_size) || !r.U32(c.verify_state_crc32c) ||
      !r.U64(nfiles) || nfiles > body.size())
    return std::nullopt;
  c.files.resize(nfiles);
  for (CachedFile& f : c.files) {
    uint64_t n;
    if (!r.Str(f.path) || !r.Str(f.real_path) || !r.Str(f.sha256) || !r.U64(f.size) || !r.U32(f.crc32c) || !r.U64(n) ||
        n > body.size())
      return std::nullopt;
    f.statements.resize(n);
    for (CachedStatement& s : f.statements) {
      uint8_t kind;
      if (!r.U64(s.begin) || !r.U64(s.end) || !r.U8(kind) || kind > 2 || s.end < s.begin || s.end > f.size)
        return std::nullopt;
      s.kind = CachedStatement::Kind(kind);
    }
  }
  c.verify_state = verify_state == 1;
  CachedManifest& m = c.manifest;
  uint64_t n;
  if (!r.U64(m.size) || !r.U32(m.crc32c) || !r.Str(m.lock_path) || !r.U64(n) || n > body.size()) return std::nullopt;
  m.hosts.resize(n);
  for (HostRecord& h : m.hosts)
    if (!r.Str(h.name) || !r.Strs(h.groups) || !r.U64(h.generation) || !r.Str(h.ir_hash) || !r.Strs(h.backends))
      return std::nullopt;
  if (!r.U64(n) || n > body.size()) return std::nullopt;
  m.artifacts.resize(n);
  for (ArtifactRecord& a : m.artifacts)
    if (!r.Str(a.path) || !r.Str(a.sha256) || !r.U64(a.size)) return std::nullopt;
  std::array<std::string_view, 3> views;
  for (size_t k = 0; k < 3; ++k) {
    uint64_t size;
    uint32_t file_crc;
    if (!r.U64(size) || !r.U32(file_crc) || !records[k] || records[k]->getBufferSize() != size) return std::nullopt;
    views[k] = std::string_view(records[k]->getBufferStart(), records[k]->getBufferSize());
    if (ndt::Crc32c(views[k].data(), views[k].size()) != file_crc) return std::nullopt;
  }
  if (!r.AtEnd()) return std::nullopt;
  auto aligned = [](std::string_view v, size_t a) { return reinterpret_cast<uintptr_t>(v.data()) % a == 0; };
  if (views[0].size() % sizeof(CachedVm) || views[1].size() % sizeof(CachedNic) || !aligned(views[0], alignof(CachedVm)) ||
      !aligned(views[1], alignof(CachedNic)))
    return std::nullopt;
  c.vm_view = std::span<const CachedVm>(reinterpret_cast<const CachedVm*>(views[0].data()), views[0].size() / sizeof(CachedVm));
  c.nic_view =
      std::span<const CachedNic>(reinterpret_cast<const CachedNic*>(views[1].data()), views[1].size() / sizeof(CachedNic));
  c.string_view = views[2];
  c.mapped = std::move(index);
  c.mapped_records = std::move(records);
  // Every reference stays inside its table: a damaged index is refused, never followed.
  for (const CachedVm& vm : c.vm_view) {
    if (vm.file >= c.files.size() || vm.statement >= c.files[vm.file].statements.size() ||
        uint64_t(vm.nic_first) + vm.nic_count > c.nic_view.size() ||
        uint64_t(vm.name_off) + vm.name_len > c.string_view.size() ||
        uint64_t(vm.description_off) + vm.description_len > c.string_view.size())
      return std::nullopt;
  }
  for (const CachedNic& nic : c.nic_view)
    if (uint64_t(nic.name_off) + nic.name_len > c.string_view.size()) return std::nullopt;
  return c;
}

}  // namespace netdsl::pipeline
