// The verify stage: read the manifest and every host's artifacts, build the
// fabric model, run the checks, report the findings.
#include "compiler/verify/verify.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <thread>

#include "compiler/verify/fabric.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

namespace netdsl::verify {

size_t CaKeyHash::operator()(const CaKey& k) const {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ k.vsid ^ (uint64_t(k.ca.family) << 32);
  for (uint8_t b : k.ca.bytes) h = (h ^ b) * 0x100000001b3ull;
  return size_t(h ^ (h >> 29));
}

void Findings::Add(Finding f) {
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
std::string PortName(const Image& image, const ndt::PortEntry& port) {
  return "vm " + Q(image.String(port.vm)) + " nic " + Q(image.String(port.nic));
}

namespace {

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
  std::map<std::string, Host> hosts;
  for (const llvm::json::Value& a : *artifacts) {
    const llvm::json::Object* o = a.getAsObject();
    if (!o || !o->getString("path")) continue;
    llvm::StringRef rel = *o->getString("path");
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
  if (const llvm::json::Array* listed = root->getArray("hosts"))
    for (const llvm::json::Value& v : *listed) {
      const llvm::json::Object* o = v.getAsObject();
      llvm::Optional<llvm::StringRef> name = o ? o->getString("name") : llvm::None;
      if (!name || name->empty() || name->contains('/') || *name == "." || *name == "..") continue;
      Host& h = hosts[name->str()];  // a host of the fabric without artifacts in this output
      h.name = name->str();
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
void IndexImages(Fabric& fabric) {
  for (uint32_t h = 0; h < fabric.hosts.size(); ++h) {
    const Host& host = fabric.hosts[h];
    if (!host.image) continue;
    for (const ndt::SegmentEntry& seg : host.image->segments()) {
      fabric.carriers[seg.vsid].push_back({h, &seg});
      net::IpAddress pa = ToIp(seg.local_pa);
      if (seg.local_pa.family != ndt::kFamilyNone && pa != net::IpAddress{}) {
        auto [it, inserted] = fabric.host_by_pa.emplace(pa, h);
        if (!inserted && it->second != h)
          fabric.findings.Add({DiagKind::VerifyIsolation, host.tables_path, 0, 0,
                               "provider address " + ToIp(seg.local_pa).ToString() + " of host " + Q(host.name) +
                                   " is also host " + Q(fabric.hosts[it->second].name) +
                                   "'s: tunnels to it reach two hosts",
                               {}});
      }
      fabric.rdid_of_vsid.emplace(seg.vsid, seg.rdid);
    }
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
  for (const auto& [vsid, rdid] : fabric.rdid_of_vsid) fabric.vsids_by_rdid[rdid].push_back(vsid);
}

/// Reports the findings: with a caret into linux.yaml when one names a line.
/// Returns whether any finding was reported as an error.
bool Report(Fabric& fabric, const VerifyOptions& options, DiagnosticEngine& diags) {
  const std::string& shown_as = options.shown_as;
  auto severity = [&](DiagKind kind) {
    return std::count(options.as_warnings.begin(), options.as_warnings.end(), kind) ? Severity::Warning
                                                                                      : Info(kind).severity;
  };
  bool errors = false;
  std::vector<Finding> findings = fabric.findings.Take();
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
        if (auto buffer = llvm::MemoryBuffer::getFile(f.file))
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
  for (DiagKind kind : AllDiagKinds())
    if (size_t dropped = fabric.findings.Dropped(kind))
      diags.Report(kind, llvm::SMRange(),
                   std::to_string(dropped) + " more " + CodeString(kind) + " findings not shown (" +
                       Info(kind).summary + ")")
          .As(severity(kind));
  return errors;
}

}  // namespace

bool Verify(const std::string& dir, const VerifyOptions& options, DiagnosticEngine& diags) {
  // Every host's plan is read, checked and freed in turn: keep the freed
  // memory instead of returning it to the kernel and faulting it in again.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  Fabric fabric;
  fabric.dir = dir;
  while (fabric.dir.size() > 1 && fabric.dir.back() == '/') fabric.dir.pop_back();
  unsigned jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::string error;
  bool complete = false;
  if (!ReadManifest(fabric, &error, &complete)) {
    diags.Report(DiagKind::VerifyArtifact, llvm::SMRange(), error);
    return false;
  }
  if (options.only_if_complete && !complete) return true;

  // Images first: every check needs the fabric-wide maps built from them.
  ParallelFor(fabric.hosts.size(), jobs, [&](size_t i) {
    Host& h = fabric.hosts[i];
    if (h.tables_path.empty()) {
      fabric.findings.Add({DiagKind::VerifyArtifact, "", 0, 0,
                           "host " + Q(h.name) + " has no tables.ndt in the manifest; build with --target=tables "
                           "(verify reads every host's table image)",
                           {}});
      return;
    }
    std::string image_error;
    h.image = Image::Open(h.tables_path, &image_error);
    if (!h.image)
      fabric.findings.Add({DiagKind::VerifyArtifact, h.tables_path, 0, 0, image_error, {}});
  });
  IndexImages(fabric);

  ParallelFor(fabric.hosts.size(), jobs, [&](size_t i) {
    if (fabric.hosts[i].image) CheckHost(fabric, uint32_t(i));
  });
  CheckFlooding(fabric);
  CheckL2Isolation(fabric);
  CheckReachability(fabric, jobs);
  if (!options.previous.empty()) CheckTransition(fabric, options.previous);

  return !Report(fabric, options, diags);
}

}  // namespace netdsl::verify
