// The verify stage: read the manifest and every host's artifacts, build the
// fabric model, run the checks, report the findings.
#include "compiler/verify/verify.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <tuple>
#include <unordered_map>
#include <thread>

#include "common/io/atomic_file.h"
#include "compiler/verify/fabric.h"
#include "compiler/verify/manifest_scan.h"
#include "compiler/verify/state.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

namespace netdsl::verify {

size_t CaKeyHash::operator()(const CaKey& k) const {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ k.vsid ^ (uint64_t(k.ca.family) << 32);
  for (uint8_t b : k.ca.bytes) h = (h ^ b) * 0x100000001b3ull;
  return size_t(h ^ (h >> 29));
}

namespace {
thread_local Scope current_scope{Scope::kFabric, 0};
}  // namespace

Scope CurrentScope() { return current_scope; }

ScopeGuard::ScopeGuard(Scope scope) : saved_(current_scope) { current_scope = scope; }
ScopeGuard::~ScopeGuard() { current_scope = saved_; }

void Findings::Add(Finding f) {
  if (f.scope.kind == Scope::kNone) f.scope = current_scope;
  std::lock_guard<std::mutex> lock(mu_);
  if (per_kind_[f.kind]++ >= kPerKind) return;
  findings_.push_back(std::move(f));
}

std::vector<Finding> Findings::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(findings_);
}

bool Findings::Full(DiagKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t& n = per_kind_[kind];
  if (n < kPerKind) return false;
  ++n;
  return true;
}

size_t Findings::Dropped(DiagKind kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_kind_.find(kind);
  return it == per_kind_.end() || it->second <= kPerKind ? 0 : it->second - kPerKind;
}

size_t Findings::Counted(DiagKind kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_kind_.find(kind);
  return it == per_kind_.end() ? 0 : it->second;
}

size_t Findings::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [kind, count] : per_kind_) n += count;
  return n;
}

net::IpAddress ToIp(uint8_t family, const uint8_t bytes[16]) {
  net::IpAddress ip;
  ip.family = family == ndt::kFamilyV6 ? net::IpAddress::Family::V6 : net::IpAddress::Family::V4;
  std::memcpy(ip.bytes.data(), bytes, 16);
  return ip;
}
net::IpAddress ToIp(const ndt::Ip& ip) { return ToIp(ip.family, ip.bytes); }
net::Prefix ToPrefix(const ndt::Prefix& p) {
  net::Prefix out;
  out.address = ToIp(p.family, p.bytes);
  out.length = p.length;
  return out;
}
net::MacAddress ToMac(const uint8_t mac[6]) {
  net::MacAddress m;
  std::memcpy(m.bytes.data(), mac, 6);
  return m;
}
std::string Q(std::string_view name) { return "`" + std::string(name) + "`"; }
std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  if (from.empty() || from == to) return text;
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
  return text;
}
std::string PortName(const Image& image, const ndt::PortEntry& port) {
  return "vm " + Q(image.String(port.vm)) + " nic " + Q(image.String(port.nic));
}

namespace {

/// Appends the wall time since the last mark to `stats.phases`.
class PhaseClock {
 public:
  explicit PhaseClock(VerifyStats& stats) : stats_(stats), last_(std::chrono::steady_clock::now()) {}
  void Mark(const char* phase) {
    auto now = std::chrono::steady_clock::now();
    stats_.phases.emplace_back(phase, std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }

 private:
  VerifyStats& stats_;
  std::chrono::steady_clock::time_point last_;
};

void ParallelFor(size_t n, unsigned jobs, const std::function<void(size_t)>& body) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) body(i);
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs && t < n; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
}

/// The hosts of a build: every `hosts/NAME/tables.ndt` or `linux.yaml` the
/// manifest lists. `complete`: whether every host of the manifest's `hosts`
/// list (the whole fabric) has a table image among them.
bool ReadManifest(Fabric& fabric, std::string* error, bool* complete) {
  std::string path = fabric.dir + "/manifest.json";
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    *error = "cannot read " + path + ": " + buffer.getError().message() + " (is it the output of netdslc build?)";
    return false;
  }
  ManifestNames names;
  if (!ScanManifest((*buffer)->getBuffer(), &names)) {
    // Anything the scanner does not take (or an error): llvm::json, and its message.
    llvm::Expected<llvm::json::Value> json = llvm::json::parse((*buffer)->getBuffer());
    if (!json) {
      *error = path + " is not valid JSON: " + llvm::toString(json.takeError());
      return false;
    }
    const llvm::json::Object* root = json->getAsObject();
    const llvm::json::Array* artifacts = root ? root->getArray("artifacts") : nullptr;
    if (!artifacts) {
      *error = path + " has no `artifacts` list";
      return false;
    }
    for (const llvm::json::Value& a : *artifacts)
      if (const llvm::json::Object* o = a.getAsObject(); o && o->getString("path"))
        names.artifact_paths.push_back(o->getString("path")->str());
    if (const llvm::json::Array* listed = root->getArray("hosts")) {
      names.has_hosts = true;
      for (const llvm::json::Value& v : *listed)
        if (const llvm::json::Object* o = v.getAsObject(); o && o->getString("name"))
          names.host_names.push_back(o->getString("name")->str());
    }
  }
  std::map<std::string, Host> hosts;
  for (const std::string& path : names.artifact_paths) {
    llvm::StringRef rel = path;
    if (!rel.consume_front("hosts/")) continue;
    auto [name, file] = rel.split('/');
    if (name.empty() || file.contains('/') || name == "." || name == "..") continue;
    Host& h = hosts[name.str()];
    h.name = name.str();
    std::string full = fabric.dir + "/hosts/" + h.name + "/" + file.str();
    if (file == "tables.ndt") h.tables_path = full;
    if (file == "linux.yaml") h.linux_path = full;
  }
  *complete = !hosts.empty();
  for (const std::string& listed : names.host_names) {
    llvm::StringRef name = listed;
    if (name.empty() || name.contains('/') || name == "." || name == "..") continue;
    Host& h = hosts[name.str()];  // a host of the fabric without artifacts in this output
    h.name = name.str();
    if (h.tables_path.empty()) *complete = false;
  }
  for (const auto& [name, h] : hosts)
    if (h.tables_path.empty()) *complete = false;
  for (auto& [name, h] : hosts) {
    fabric.host_by_name[name] = uint32_t(fabric.hosts.size());
    fabric.hosts.push_back(std::move(h));
  }
  return true;
}

/// The image-wide maps every check uses: carriers, ports, provider addresses.
/// Provider addresses and each VSID's routing domain, from every host's
/// segments (`segments[h]`, in host order): a host that is not read in an
/// incremental verify gives them from the state.
void IndexSegments(Fabric& fabric, const std::vector<const std::vector<SegmentRef>*>& segments) {
  ScopeGuard scope({Scope::kFabric, 0});
  for (uint32_t h = 0; h < fabric.hosts.size(); ++h) {
    if (!segments[h]) continue;
    const Host& host = fabric.hosts[h];
    for (const SegmentRef& seg : *segments[h]) {
      if (seg.has_pa) {
        auto [it, inserted] = fabric.host_by_pa.emplace(seg.pa, h);
        if (!inserted && it->second != h)
          fabric.findings.Add({DiagKind::VerifyIsolation, host.tables_path, 0, 0,
                               "provider address " + seg.pa.ToString() + " of host " + Q(host.name) +
                                   " is also host " + Q(fabric.hosts[it->second].name) +
                                   "'s: tunnels to it reach two hosts",
                               {}});
      }
      fabric.rdid_of_vsid.emplace(seg.vsid, seg.rdid);
    }
  }
  for (const auto& [vsid, rdid] : fabric.rdid_of_vsid) fabric.vsids_by_rdid[rdid].push_back(vsid);
}

/// The image-wide maps every check uses: carriers, ports, gateways (of the
/// hosts whose images are read).
void IndexImages(Fabric& fabric) {
  for (uint32_t h = 0; h < fabric.hosts.size(); ++h) {
    const Host& host = fabric.hosts[h];
    if (!host.image) continue;
    for (const ndt::SegmentEntry& seg : host.image->segments()) fabric.carriers[seg.vsid].push_back({h, &seg});
    for (const ndt::NatEntry& n : host.image->nat()) fabric.gateway_hosts[n.rdid].insert(host.name);
    for (const ndt::RouteEntry& r : host.image->routes())
      if (r.kind == uint8_t(ndt::RouteKind::kGateway))
        fabric.gateway_hosts[r.rdid].insert(std::string(host.image->String(r.via_host)));
    for (const ndt::PortEntry& port : host.image->ports()) {
      if (port.vsid == 0) continue;
      fabric.ports_by_vsid[port.vsid].push_back({h, &port});
      if (port.ca.family == ndt::kFamilyNone) continue;
      auto [it, inserted] = fabric.port_by_ca.emplace(CaKey{port.vsid, ToIp(port.ca)}, PortRef{h, &port});
      if (!inserted) {
        ScopeGuard scope({Scope::kVsid, port.vsid});
        const PortRef& other = it->second;
        fabric.findings.Add({DiagKind::VerifyIsolation, host.tables_path, 0, 0,
                             "vsid " + std::to_string(port.vsid) + " has two ports with address " +
                                 ToIp(port.ca).ToString() + ": " + PortName(*host.image, port) + " on host " +
                                 Q(host.name) + " and " + PortName(*fabric.hosts[other.host].image, *other.port) +
                                 " on host " + Q(fabric.hosts[other.host].name),
                             {}});
      }
    }
  }
}

/// What the state keeps of a host's own artifacts (its findings are added later).
HostSummary Summarize(const Host& host) {
  HostSummary s;
  s.name = host.name;
  s.flags = uint8_t((host.tables_path.empty() ? 0 : HostSummary::kHasTables) |
                    (host.linux_path.empty() ? 0 : HostSummary::kHasLinux) |
                    (host.image ? HostSummary::kImageOk : 0) | (host.linux_ok ? HostSummary::kLinuxOk : 0));
  if (host.linux_ok) {
    s.domains = host.linux.domains;
    s.exits = host.linux.exits;
  }
  if (!host.image) return s;
  const Image& img = *host.image;
  std::set<uint32_t> vsids, rdids;
  std::set<std::string> gateways;
  std::set<net::IpAddress> pas;
  for (const ndt::SegmentEntry& seg : img.segments()) {
    net::IpAddress pa = ToIp(seg.local_pa);
    bool has_pa = seg.local_pa.family != ndt::kFamilyNone && pa != net::IpAddress{};
    s.segments.push_back({seg.vsid, seg.rdid, has_pa ? pa : net::IpAddress{}, has_pa});
    vsids.insert(seg.vsid);
    rdids.insert(seg.rdid);
  }
  for (const ndt::PortEntry& p : img.ports()) {
    if (p.vsid) vsids.insert(p.vsid);
    rdids.insert(p.rdid);
  }
  for (const ndt::CaSlot& c : img.ca_slots()) {
    if (!(c.flags & ndt::kSlotOccupied)) continue;
    vsids.insert(c.vsid);
    if (c.pa_family != ndt::kFamilyNone) pas.insert(ToIp(c.pa_family, c.pa));
  }
  for (const ndt::MacSlot& m : img.mac_slots())
    if (m.pa_family != ndt::kFamilyNone) pas.insert(ToIp(m.pa_family, m.pa));
  for (const ndt::RouteEntry& r : img.routes()) {
    if (r.vsid) vsids.insert(r.vsid);
    rdids.insert(r.rdid);
    if (r.next_hop.family != ndt::kFamilyNone) pas.insert(ToIp(r.next_hop));
    if (r.kind == uint8_t(ndt::RouteKind::kGateway)) gateways.insert(std::string(img.String(r.via_host)));
  }
  for (const ndt::NatEntry& n : img.nat()) rdids.insert(n.rdid);
  for (const ndt::RouteDomainEntry& rd : img.route_domains()) rdids.insert(rd.rdid);
  s.vsids.assign(vsids.begin(), vsids.end());
  s.rdids.assign(rdids.begin(), rdids.end());
  s.gateways.assign(gateways.begin(), gateways.end());
  s.pas.assign(pas.begin(), pas.end());
  return s;
}

/// Stands for the build directory in a kept finding's text (messages such
/// as a reader's error name the file): the state does not depend on where
/// the build was verified (build verifies a staging directory).
constexpr const char* kDirMark = "\x01dir\x01/";

KeptFinding Keep(const Fabric& fabric, const Finding& f) {
  std::string file = f.file;
  if (file.size() > fabric.dir.size() && file.compare(0, fabric.dir.size(), fabric.dir) == 0 &&
      file[fabric.dir.size()] == '/')
    file = file.substr(fabric.dir.size() + 1);
  std::string dir = fabric.dir + "/";
  KeptFinding k{f.kind, file, f.line, f.col, ReplaceAll(f.message, dir, kDirMark), f.path};
  for (std::string& hop : k.path) hop = ReplaceAll(std::move(hop), dir, kDirMark);
  return k;
}

Finding Unkeep(const Fabric& fabric, const KeptFinding& k, Scope scope) {
  std::string file = k.file.empty() || k.file[0] == '/' ? k.file : fabric.dir + "/" + k.file;
  std::string dir = fabric.dir + "/";
  Finding f{k.kind, file, k.line, k.col, ReplaceAll(k.message, kDirMark, dir), k.path, scope};
  for (std::string& hop : f.path) hop = ReplaceAll(std::move(hop), kDirMark, dir);
  return f;
}

/// Opens host `i`'s table image (from where it is read), or reports why not.
void OpenImage(Fabric& fabric, uint32_t i) {
  ScopeGuard scope({Scope::kHost, i});
  Host& h = fabric.hosts[i];
  if (h.tables_path.empty()) {
    fabric.findings.Add({DiagKind::VerifyArtifact, "", 0, 0,
                         "host " + Q(h.name) + " has no tables.ndt in the manifest; build with --target=tables "
                         "(verify reads every host's table image)",
                         {}});
    return;
  }
  std::string error;
  std::string read = fabric.ReadPath(h, h.tables_path);
  h.image = Image::Open(read, &error);
  if (!h.image) {
    error = ReplaceAll(std::move(error), read, h.tables_path);
    fabric.findings.Add({DiagKind::VerifyArtifact, h.tables_path, 0, 0, error, {}});
  }
}

/// Every check, on the hosts whose images are open (all of them, or in an
/// incremental verify those an edit can affect, with the rest from the state).
void RunChecks(Fabric& fabric, const std::vector<uint32_t>& read, const VerifyOptions& options, unsigned jobs,
               PhaseClock* clock) {
  IndexImages(fabric);
  ParallelFor(read.size(), jobs, [&](size_t k) {
    uint32_t i = read[k];
    ScopeGuard scope({Scope::kHost, i});
    if (fabric.hosts[i].image) CheckHost(fabric, i);
  });
  if (clock) clock->Mark("per-host checks");
  CheckFlooding(fabric);
  CheckL2Isolation(fabric);
  if (clock) clock->Mark("flooding, layer 2");
  CheckReachability(fabric, jobs);
  if (!options.previous.empty()) CheckTransition(fabric, options.previous);
  if (clock) clock->Mark("reachability, transition");
}

/// Reports the findings, sorted (so the output does not depend on the order
/// the threads found them in): with a caret into linux.yaml when one names a
/// line. Returns whether any finding was reported as an error.
bool Report(Fabric& fabric, std::vector<Finding> findings, const std::map<DiagKind, size_t>& dropped,
            const VerifyOptions& options, DiagnosticEngine& diags) {
  const std::string& shown_as = options.shown_as;
  auto severity = [&](DiagKind kind) {
    return std::count(options.as_warnings.begin(), options.as_warnings.end(), kind) ? Severity::Warning
                                                                                      : Info(kind).severity;
  };
  std::sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.file, a.line, a.col, a.kind, a.message, a.path) <
           std::tie(b.file, b.line, b.col, b.kind, b.message, b.path);
  });
  std::unordered_map<std::string, const Host*> host_of_file;
  for (const Host& h : fabric.hosts)
    if (!h.read_dir.empty()) host_of_file[h.linux_path] = &h;
  bool errors = false;
  std::map<std::string, unsigned> buffers;
  llvm::SourceMgr& sm = diags.sources();
  auto shown = [&](const std::string& file) {
    if (shown_as.empty() || file.compare(0, fabric.dir.size(), fabric.dir) != 0) return file;
    return shown_as + file.substr(fabric.dir.size());
  };
  for (Finding& f : findings) {
    llvm::SMRange range;
    if (!f.file.empty() && f.line > 0) {
      auto it = buffers.find(f.file);
      if (it == buffers.end()) {
        unsigned id = 0;
        auto host = host_of_file.find(f.file);
        std::string read = host == host_of_file.end() ? f.file : fabric.ReadPath(*host->second, f.file);
        if (auto buffer = llvm::MemoryBuffer::getFile(read))
          id = sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy((*buffer)->getBuffer(), shown(f.file)),
                                     llvm::SMLoc());
        it = buffers.emplace(f.file, id).first;
      }
      if (it->second) {
        llvm::SMLoc loc = sm.FindLocForLineAndColumn(it->second, unsigned(f.line), unsigned(std::max(f.col, 1)));
        if (loc.isValid()) range = {loc, loc};
      }
    }
    std::string message = f.message;
    if (!range.Start.isValid() && !f.file.empty()) message = shown(f.file) + ": " + message;
    errors |= severity(f.kind) == Severity::Error;
    diags.Report(f.kind, range, std::move(message)).As(severity(f.kind)).Path(std::move(f.path));
  }
  for (const auto& [kind, count] : dropped)
    diags.Report(kind, llvm::SMRange(),
                 std::to_string(count) + " more " + CodeString(kind) + " findings not shown (" + Info(kind).summary +
                     ")")
        .As(severity(kind));
  return errors;
}

void WriteState(const std::string& path, const VerifyState& state, DiagnosticEngine& diags) {
  std::string error;
  if (!io::WriteFileAtomic(path, EncodeState(state), &error))
    diags.Report(DiagKind::VerifyArtifact, llvm::SMRange(), "cannot write verify's state: " + error);
}

/// Whether some kind has more findings than are shown.
bool Overflows(const Fabric& fabric) {
  for (DiagKind kind : AllDiagKinds())
    if (fabric.findings.Dropped(kind)) return true;
  return false;
}

/// The state of a verify that read every host.
VerifyState FullState(const Fabric& fabric, const std::vector<Finding>& findings) {
  VerifyState state;
  state.overflow = Overflows(fabric);
  state.hosts.reserve(fabric.hosts.size());
  for (const Host& h : fabric.hosts) state.hosts.push_back(Summarize(h));
  for (const Finding& f : findings) {
    if (f.scope.kind == Scope::kHost) state.hosts[f.scope.id].findings.push_back(Keep(fabric, f));
    if (f.scope.kind == Scope::kVsid) state.vsid_findings[f.scope.id].push_back(Keep(fabric, f));
    if (f.scope.kind == Scope::kRdid) state.rdid_findings[f.scope.id].push_back(Keep(fabric, f));
  }
  for (HostSummary& h : state.hosts) std::sort(h.findings.begin(), h.findings.end());
  for (auto* scoped : {&state.vsid_findings, &state.rdid_findings})
    for (auto& [id, kept] : *scoped) std::sort(kept.begin(), kept.end());
  return state;
}

std::map<DiagKind, size_t> DroppedCounts(const Fabric& fabric) {
  std::map<DiagKind, size_t> dropped;
  for (DiagKind kind : AllDiagKinds())
    if (size_t n = fabric.findings.Dropped(kind)) dropped[kind] = n;
  return dropped;
}

bool FullVerify(Fabric& fabric, const VerifyOptions& options, unsigned jobs, DiagnosticEngine& diags,
                VerifyStats& stats) {
  // Images first: every check needs the fabric-wide maps built from them.
  ParallelFor(fabric.hosts.size(), jobs, [&](size_t i) { OpenImage(fabric, uint32_t(i)); });
  std::vector<HostSummary> summaries;
  std::vector<const std::vector<SegmentRef>*> segments(fabric.hosts.size());
  {
    std::vector<std::vector<SegmentRef>> own(fabric.hosts.size());
    for (uint32_t h = 0; h < fabric.hosts.size(); ++h) {
      if (!fabric.hosts[h].image) continue;
      for (const ndt::SegmentEntry& seg : fabric.hosts[h].image->segments()) {
        net::IpAddress pa = ToIp(seg.local_pa);
        bool has_pa = seg.local_pa.family != ndt::kFamilyNone && pa != net::IpAddress{};
        own[h].push_back({seg.vsid, seg.rdid, has_pa ? pa : net::IpAddress{}, has_pa});
      }
    }
    for (uint32_t h = 0; h < fabric.hosts.size(); ++h) segments[h] = &own[h];
    IndexSegments(fabric, segments);
  }
  std::vector<uint32_t> all(fabric.hosts.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  RunChecks(fabric, all, options, jobs, nullptr);
  stats.hosts = stats.hosts_checked = fabric.hosts.size();
  std::vector<Finding> findings = fabric.findings.Take();
  if (!options.state_out.empty()) WriteState(options.state_out, FullState(fabric, findings), diags);
  return !Report(fabric, std::move(findings), DroppedCounts(fabric), options, diags);
}

std::string Canonical(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(dir, ec);
  return ec ? dir : p.string();
}

/// The hosts that did not change are read from the base directory, in full or incremental verify alike.
void SetReadDirs(Fabric& fabric, const VerifyOptions& options) {
  if (options.changed_hosts && !options.base_dir.empty() && Canonical(options.base_dir) != Canonical(fabric.dir))
    for (Host& host : fabric.hosts)
      if (!options.changed_hosts->count(host.name)) host.read_dir = options.base_dir;
}

/// An incremental verify (docs/verify.md "Incremental"): nullopt, with the
/// reason in `stats.full_because`, when it cannot be exactly what a full
/// verify would report; the caller then runs the full verify on a fresh fabric.
std::optional<bool> IncrementalVerify(Fabric& fabric, const VerifyOptions& options, unsigned jobs,
                                      DiagnosticEngine& diags, VerifyStats& stats, PhaseClock& clock) {
  auto fail = [&](std::string why) -> std::optional<bool> {
    stats.full_because = std::move(why);
    return std::nullopt;
  };
  std::string bytes, error;
  VerifyState old;
  if (!io::ReadFile(options.state_in, &bytes, &error)) return fail("no state: " + error);
  if (!DecodeState(bytes, &old)) return fail("the state is not one of this format, or torn");
  clock.Mark("read state");
  bytes.clear();
  bytes.shrink_to_fit();
  if (old.overflow) return fail("the state's build had more findings of a kind than are shown");
  std::string base = options.base_dir.empty() ? fabric.dir : options.base_dir;
  if (!options.previous.empty() && Canonical(options.previous) != Canonical(base))
    return fail("--previous is not the base directory");
  const std::set<std::string>& changed = *options.changed_hosts;

  std::unordered_map<std::string_view, uint32_t> old_index;
  for (uint32_t i = 0; i < old.hosts.size(); ++i) old_index.emplace(old.hosts[i].name, i);
  const size_t n = fabric.hosts.size();
  std::vector<int64_t> old_of(n, -1);  // the host's summary in the state
  std::vector<uint32_t> changed_now;
  for (uint32_t h = 0; h < n; ++h) {
    Host& host = fabric.hosts[h];
    auto it = old_index.find(host.name);
    if (it != old_index.end()) old_of[h] = it->second;
    if (changed.count(host.name)) {
      changed_now.push_back(h);
      continue;
    }
    if (it == old_index.end()) return fail("host `" + host.name + "` is neither in the state nor changed");
    uint8_t flags = old.hosts[it->second].flags;
    if (bool(flags & HostSummary::kHasTables) != !host.tables_path.empty() ||
        bool(flags & HostSummary::kHasLinux) != !host.linux_path.empty())
      return fail("host `" + host.name + "` has other artifacts than the state says");
  }
  std::vector<uint32_t> removed;  // in the state, not in this build
  for (uint32_t i = 0; i < old.hosts.size(); ++i)
    if (!fabric.host_by_name.count(old.hosts[i].name)) {
      if (!changed.count(old.hosts[i].name)) return fail("host `" + old.hosts[i].name + "` left the build unchanged");
      removed.push_back(i);
    }

  // The changed hosts' images: what they now say about the rest of the fabric.
  ParallelFor(changed_now.size(), jobs, [&](size_t k) { OpenImage(fabric, changed_now[k]); });
  std::vector<HostSummary> now(n);
  std::vector<bool> is_changed(n, false);
  for (uint32_t h : changed_now) {
    now[h] = Summarize(fabric.hosts[h]);
    is_changed[h] = true;
  }
  auto summary = [&](uint32_t h) -> const HostSummary& { return is_changed[h] ? now[h] : old.hosts[old_of[h]]; };
  // Provider addresses decide which host a tunnel reaches: an edit that moves one is not incremental.
  auto pas = [](const HostSummary& s) {
    std::vector<net::IpAddress> out;
    for (const SegmentRef& seg : s.segments)
      if (seg.has_pa) out.push_back(seg.pa);
    return out;
  };
  for (uint32_t h : changed_now)
    if (pas(now[h]) != (old_of[h] >= 0 ? pas(old.hosts[old_of[h]]) : std::vector<net::IpAddress>{}))
      return fail("host `" + fabric.hosts[h].name + "`'s provider addresses changed");
  for (uint32_t i : removed)
    if (!pas(old.hosts[i]).empty()) return fail("host `" + old.hosts[i].name + "` left with its provider addresses");

  clock.Mark("read changed hosts' images");
  std::vector<const std::vector<SegmentRef>*> segments(n);
  for (uint32_t h = 0; h < n; ++h) segments[h] = &summary(h).segments;
  IndexSegments(fabric, segments);

  // What an edit of the changed hosts can reach: their hosts, VSIDs and
  // routing domains, closed under "a host whose image names a VSID or
  // routing domain", "the VSIDs of a routing domain", "the hosts a host's
  // records and gateway routes lead to"; plus every part with a finding.
  std::unordered_map<uint32_t, std::vector<uint32_t>> by_vsid, by_rdid;
  for (uint32_t h = 0; h < n; ++h) {
    for (uint32_t v : summary(h).vsids) by_vsid[v].push_back(h);
    for (uint32_t r : summary(h).rdids) by_rdid[r].push_back(h);
  }
  std::vector<bool> in_h(n, false);
  std::set<uint32_t> vsids, rdids;
  std::vector<uint32_t> host_queue, vsid_queue, rdid_queue;
  auto add_host = [&](uint32_t h) {
    if (!in_h[h]) in_h[h] = true, host_queue.push_back(h);
  };
  auto add_vsid = [&](uint32_t v) {
    if (vsids.insert(v).second) vsid_queue.push_back(v);
  };
  auto add_rdid = [&](uint32_t r) {
    if (rdids.insert(r).second) rdid_queue.push_back(r);
  };
  auto add_refs = [&](const HostSummary& s) {
    for (uint32_t v : s.vsids) add_vsid(v);
    for (uint32_t r : s.rdids) add_rdid(r);
    for (const std::string& g : s.gateways)
      if (auto it = fabric.host_by_name.find(g); it != fabric.host_by_name.end()) add_host(it->second);
    for (const net::IpAddress& pa : s.pas)
      if (auto it = fabric.host_by_pa.find(pa); it != fabric.host_by_pa.end()) add_host(it->second);
  };
  for (uint32_t h : changed_now) {
    add_host(h);
    if (old_of[h] >= 0) add_refs(old.hosts[old_of[h]]);
  }
  for (uint32_t i : removed) add_refs(old.hosts[i]);
  for (uint32_t h = 0; h < n; ++h)
    if (!is_changed[h] && !old.hosts[old_of[h]].findings.empty()) add_host(h);
  for (const auto& [v, kept] : old.vsid_findings) add_vsid(v);
  for (const auto& [r, kept] : old.rdid_findings) add_rdid(r);
  while (!host_queue.empty() || !vsid_queue.empty() || !rdid_queue.empty()) {
    if (!host_queue.empty()) {
      uint32_t h = host_queue.back();
      host_queue.pop_back();
      add_refs(summary(h));
    } else if (!vsid_queue.empty()) {
      uint32_t v = vsid_queue.back();
      vsid_queue.pop_back();
      if (auto it = fabric.rdid_of_vsid.find(v); it != fabric.rdid_of_vsid.end()) add_rdid(it->second);
      if (auto it = by_vsid.find(v); it != by_vsid.end())
        for (uint32_t h : it->second) add_host(h);
    } else {
      uint32_t r = rdid_queue.back();
      rdid_queue.pop_back();
      if (auto it = fabric.vsids_by_rdid.find(r); it != fabric.vsids_by_rdid.end())
        for (uint32_t v : it->second) add_vsid(v);
      if (auto it = by_rdid.find(r); it != by_rdid.end())
        for (uint32_t h : it->second) add_host(h);
    }
  }

  // Read the unchanged hosts among them; the others' layer-2 parts come from the state.
  std::vector<uint32_t> read, unchanged_read;
  for (uint32_t h = 0; h < n; ++h) {
    if (in_h[h]) {
      read.push_back(h);
      if (!is_changed[h]) unchanged_read.push_back(h);
      continue;
    }
    Host& host = fabric.hosts[h];
    HostSummary& s = old.hosts[old_of[h]];
    host.checked = false;
    host.linux_ok = s.flags & HostSummary::kLinuxOk;
    host.linux.domains = std::move(s.domains);
    host.linux.exits = std::move(s.exits);
  }
  clock.Mark("index, what an edit reaches");
  ParallelFor(unchanged_read.size(), jobs, [&](size_t k) { OpenImage(fabric, unchanged_read[k]); });
  RunChecks(fabric, read, options, jobs, &clock);
  stats.hosts = n;
  stats.hosts_checked = read.size();

  std::vector<Finding> findings = fabric.findings.Take();
  for (const Finding& f : findings) {
    bool inside = f.scope.kind == Scope::kFabric || f.scope.kind == Scope::kPrevious ||
                  (f.scope.kind == Scope::kHost && in_h[f.scope.id]) ||
                  (f.scope.kind == Scope::kVsid && vsids.count(f.scope.id)) ||
                  (f.scope.kind == Scope::kRdid && rdids.count(f.scope.id));
    if (!inside) return fail("a finding outside the parts an edit reaches");
  }
  // The state's findings of the parts not checked again.
  VerifyState next;
  next.hosts.resize(n);
  for (uint32_t h = 0; h < n; ++h) {
    if (in_h[h]) continue;
    for (const KeptFinding& k : old.hosts[old_of[h]].findings) findings.push_back(Unkeep(fabric, k, {Scope::kHost, h}));
  }
  for (auto& [v, kept] : old.vsid_findings)
    if (!vsids.count(v))
      for (const KeptFinding& k : kept) findings.push_back(Unkeep(fabric, k, {Scope::kVsid, v}));
  for (auto& [r, kept] : old.rdid_findings)
    if (!rdids.count(r))
      for (const KeptFinding& k : kept) findings.push_back(Unkeep(fabric, k, {Scope::kRdid, r}));
  std::map<DiagKind, size_t> total;
  for (const Finding& f : findings) ++total[f.kind];
  for (const auto& [kind, c] : total)
    if (c > Findings::kPerKind) return fail("more findings of a kind than are shown");
  for (DiagKind kind : AllDiagKinds())
    if (fabric.findings.Dropped(kind)) return fail("more findings of a kind than are shown");

  if (!options.state_out.empty()) {
    for (uint32_t h = 0; h < n; ++h) {
      if (in_h[h]) {
        next.hosts[h] = Summarize(fabric.hosts[h]);
      } else {
        HostSummary& s = old.hosts[old_of[h]];
        s.domains = std::move(fabric.hosts[h].linux.domains);
        s.exits = std::move(fabric.hosts[h].linux.exits);
        next.hosts[h] = std::move(s);
      }
    }
    for (const Finding& f : findings) {
      if (f.scope.kind == Scope::kHost && in_h[f.scope.id]) next.hosts[f.scope.id].findings.push_back(Keep(fabric, f));
      if (f.scope.kind == Scope::kVsid) next.vsid_findings[f.scope.id].push_back(Keep(fabric, f));
      if (f.scope.kind == Scope::kRdid) next.rdid_findings[f.scope.id].push_back(Keep(fabric, f));
    }
    for (uint32_t h = 0; h < n; ++h)
      if (in_h[h]) std::sort(next.hosts[h].findings.begin(), next.hosts[h].findings.end());
    for (auto* scoped : {&next.vsid_findings, &next.rdid_findings})
      for (auto& [id, kept] : *scoped) std::sort(kept.begin(), kept.end());
    clock.Mark("findings");
    WriteState(options.state_out, next, diags);
  }
  clock.Mark("write state");
  stats.incremental = true;
  bool proven = !Report(fabric, std::move(findings), {}, options, diags);
  clock.Mark("report");
  return proven;
}

}  // namespace

bool Verify(const std::string& dir, const VerifyOptions& options, DiagnosticEngine& diags, VerifyStats* stats_out) {
  // Every host's plan is read, checked and freed in turn: keep the freed
  // memory instead of returning it to the kernel and faulting it in again.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  VerifyStats local;
  VerifyStats& stats = stats_out ? *stats_out : local;
  stats = {};
  auto fabric = std::make_unique<Fabric>();
  fabric->dir = dir;
  while (fabric->dir.size() > 1 && fabric->dir.back() == '/') fabric->dir.pop_back();
  unsigned jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::string error;
  bool complete = false;
  PhaseClock clock(stats);
  if (!ReadManifest(*fabric, &error, &complete)) {
    diags.Report(DiagKind::VerifyArtifact, llvm::SMRange(), error);
    return false;
  }
  clock.Mark("manifest");
  if (options.only_if_complete && !complete) return true;
  SetReadDirs(*fabric, options);
  if (options.changed_hosts && !options.state_in.empty()) {
    if (std::optional<bool> proven = IncrementalVerify(*fabric, options, jobs, diags, stats, clock)) return *proven;
    // A full verify after all, on a fresh fabric (the manifest read again: rare, and cheaper than a copy each time).
    std::string because = stats.full_because;
    auto fresh = std::make_unique<Fabric>();
    fresh->dir = fabric->dir;
    fabric = std::move(fresh);
    if (!ReadManifest(*fabric, &error, &complete)) {
      diags.Report(DiagKind::VerifyArtifact, llvm::SMRange(), error);
      return false;
    }
    SetReadDirs(*fabric, options);
    stats = {};
    stats.full_because = because;
  } else if (options.changed_hosts || !options.state_in.empty()) {
    stats.full_because = options.state_in.empty() ? "no state" : "all hosts changed";
  }
  return FullVerify(*fabric, options, jobs, diags, stats);
}

}  // namespace netdsl::verify
