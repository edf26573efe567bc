// The state file's encoding: little-endian varints, strings with their
// length, addresses as family + 16 bytes; a header with magic, format
// version, payload length and CRC32C (torn or foreign = not a state).
#include "compiler/verify/state.h"

#include <cstring>

#include "common/ndt/format.h"

namespace netdsl::verify {
namespace {

constexpr char kMagic[8] = {'N', 'D', 'V', 'S', 'T', 'A', 'T', 'E'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeader = 8 + 4 + 8 + 4;

class Writer {
 public:
  void U(uint64_t v) {
    while (v >= 0x80) out_.push_back(char(v | 0x80)), v >>= 7;
    out_.push_back(char(v));
  }
  void I(int64_t v) { U(uint64_t(v) << 1 ^ uint64_t(v >> 63)); }
  void S(std::string_view s) {
    U(s.size());
    out_.append(s);
  }
  void Ip(const net::IpAddress& a) {
    out_.push_back(char(a.family));
    out_.append(reinterpret_cast<const char*>(a.bytes.data()), 16);  // an IPv4 address is kept in bytes 12-15
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return at_ == in_.size(); }
  uint64_t U() {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (at_ >= in_.size()) return Fail();
      uint8_t b = uint8_t(in_[at_++]);
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return Fail();
  }
  int64_t I() {
    uint64_t v = U();
    return int64_t(v >> 1) ^ -int64_t(v & 1);
  }
  uint32_t U32() {
    uint64_t v = U();
    if (v > UINT32_MAX) return uint32_t(Fail());
    return uint32_t(v);
  }
  /// A count of items that each take at least one byte.
  size_t Count() {
    uint64_t n = U();
    if (n > in_.size() - at_) return size_t(Fail());
    return size_t(n);
  }
  std::string S() {
    size_t n = Count();
    if (!ok_) return {};
    std::string s(in_.substr(at_, n));
    at_ += n;
    return s;
  }
  net::IpAddress Ip() {
    net::IpAddress a;
    if (at_ >= in_.size()) return Fail(), a;
    uint8_t family = uint8_t(in_[at_++]);
    if (family != 4 && family != 6) return Fail(), a;
    a.family = net::IpAddress::Family(family);
    size_t n = 16;
    if (in_.size() - at_ < n) return Fail(), a;
    std::memcpy(a.bytes.data(), in_.data() + at_, n);
    at_ += n;
    return a;
  }

 private:
  uint64_t Fail() {
    ok_ = false;
    at_ = in_.size();
    return 0;
  }
  std::string_view in_;
  size_t at_ = 0;
  bool ok_ = true;
};

void PutFindings(Writer& w, const std::vector<KeptFinding>& findings) {
  w.U(findings.size());
  for (const KeptFinding& f : findings) {
    w.U(uint16_t(f.kind));
    w.S(f.file);
    w.I(f.line);
    w.I(f.col);
    w.S(f.message);
    w.U(f.path.size());
    for (const std::string& hop : f.path) w.S(hop);
  }
}

bool GetFindings(Reader& r, std::vector<KeptFinding>& findings) {
  size_t n = r.Count();
  const std::vector<DiagKind>& kinds = AllDiagKinds();
  for (size_t i = 0; i < n && r.ok(); ++i) {
    KeptFinding f;
    uint64_t kind = r.U();
    bool known = false;
    for (DiagKind k : kinds) known |= uint64_t(k) == kind;
    if (!known) return false;
    f.kind = DiagKind(kind);
    f.file = r.S();
    f.line = int(r.I());
    f.col = int(r.I());
    f.message = r.S();
    size_t hops = r.Count();
    for (size_t k = 0; k < hops && r.ok(); ++k) f.path.push_back(r.S());
    findings.push_back(std::move(f));
  }
  return r.ok();
}

void PutHost(Writer& w, const HostSummary& h) {
  w.S(h.name);
  w.U(h.flags);
  w.U(h.segments.size());
  for (const SegmentRef& s : h.segments) {
    w.U(s.vsid);
    w.U(s.rdid);
    w.U(s.has_pa);
    if (s.has_pa) w.Ip(s.pa);
  }
  w.U(h.vsids.size());
  for (uint32_t v : h.vsids) w.U(v);
  w.U(h.rdids.size());
  for (uint32_t v : h.rdids) w.U(v);
  w.U(h.gateways.size());
  for (const std::string& g : h.gateways) w.S(g);
  w.U(h.pas.size());
  for (const net::IpAddress& a : h.pas) w.Ip(a);
  w.U(h.domains.size());
  for (const L2Domain& d : h.domains) {
    w.S(d.bridge);
    w.U(d.ports.size());
    for (const L2Port& p : d.ports) {
      w.U(p.id);
      w.U(p.vsid);
      w.U(p.rdid);
      w.S(p.vm);
      w.S(p.nic);
      w.S(p.ifname);
      w.I(p.line);
      w.S(p.bridge);
    }
  }
  w.U(h.exits.size());
  for (const L2Exit& e : h.exits) {
    w.U(uint8_t(e.kind));
    w.U(e.domain);
    w.S(e.device);
    w.U(e.id);
    w.Ip(e.local);
    w.U(e.remote.has_value());
    if (e.remote) w.Ip(*e.remote);
    w.U(e.dsts.size());
    for (const net::IpAddress& a : e.dsts) w.Ip(a);
    w.S(e.wire);
    w.I(e.line);
  }
  PutFindings(w, h.findings);
}

bool GetHost(Reader& r, HostSummary& h) {
  h.name = r.S();
  h.flags = uint8_t(r.U());
  size_t n = r.Count();
  for (size_t i = 0; i < n && r.ok(); ++i) {
    SegmentRef s;
    s.vsid = r.U32();
    s.rdid = r.U32();
    s.has_pa = r.U() != 0;
    if (s.has_pa) s.pa = r.Ip();
    h.segments.push_back(s);
  }
  n = r.Count();
  for (size_t i = 0; i < n && r.ok(); ++i) h.vsids.push_back(r.U32());
  n = r.Count();
  for (size_t i = 0; i < n && r.ok(); ++i) h.rdids.push_back(r.U32());
  n = r.Count();
  for (size_t i = 0; i < n && r.ok(); ++i) h.gateways.push_back(r.S());
  n = r.Count();
  for (size_t i = 0; i < n && r.ok(); ++i) h.pas.push_back(r.Ip());
  n = r.Count();
  for (size_t i = 0; i < n && r.ok(); ++i) {
    L2Domain d;
    d.bridge = r.S();
    size_t ports = r.Count();
    for (size_t k = 0; k < ports && r.ok(); ++k) {
      L2Port p;
      p.id = r.U32();
      p.vsid = r.U32();
      p.rdid = r.U32();
      p.vm = r.S();
      p.nic = r.S();
      p.ifname = r.S();
      p.line = int(r.I());
      p.bridge = r.S();
      d.ports.push_back(std::move(p));
    }
    h.domains.push_back(std::move(d));
  }
  n = r.Count();
  for (size_t i = 0; i < n && r.ok(); ++i) {
    L2Exit e;
    uint64_t kind = r.U();
    if (kind > uint8_t(L2Exit::Kind::kWire)) return false;
    e.kind = L2Exit::Kind(kind);
    e.domain = r.U32();
    if (e.domain >= h.domains.size()) return false;
    e.device = r.S();
    e.id = r.U32();
    e.local = r.Ip();
    if (r.U()) e.remote = r.Ip();
    size_t dsts = r.Count();
    for (size_t k = 0; k < dsts && r.ok(); ++k) e.dsts.push_back(r.Ip());
    e.wire = r.S();
    e.line = int(r.I());
    h.exits.push_back(std::move(e));
  }
  return r.ok() && GetFindings(r, h.findings);
}

void Put32(std::string& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = char(v >> (8 * i));
}
void Put64(std::string& out, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[at + i] = char(v >> (8 * i));
}
uint64_t Get(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(uint8_t(in[at + i])) << (8 * i);
  return v;
}

}  // namespace

std::string EncodeState(const VerifyState& state) {
  Writer w;
  w.out().assign(kHeader, '\0');
  w.U(state.overflow);
  w.U(state.hosts.size());
  for (const HostSummary& h : state.hosts) PutHost(w, h);
  for (const auto* scoped : {&state.vsid_findings, &state.rdid_findings}) {
    w.U(scoped->size());
    for (const auto& [id, findings] : *scoped) {
      w.U(id);
      PutFindings(w, findings);
    }
  }
  std::string& out = w.out();
  std::memcpy(out.data(), kMagic, 8);
  Put32(out, 8, kVersion);
  Put64(out, 12, out.size() - kHeader);
  Put32(out, 20, ndt::Crc32c(out.data() + kHeader, out.size() - kHeader));
  return std::move(out);
}

bool DecodeState(std::string_view bytes, VerifyState* state) {
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, 8) != 0 || Get(bytes, 8, 4) != kVersion ||
      Get(bytes, 12, 8) != bytes.size() - kHeader)
    return false;
  std::string_view payload = bytes.substr(kHeader);
  if (Get(bytes, 20, 4) != ndt::Crc32c(payload.data(), payload.size())) return false;
  Reader r(payload);
  VerifyState s;
  s.overflow = r.U() != 0;
  size_t n = r.Count();
  s.hosts.resize(n);
  for (size_t i = 0; i < n; ++i)
    if (!GetHost(r, s.hosts[i])) return false;
  for (auto* scoped : {&s.vsid_findings, &s.rdid_findings}) {
    size_t scopes = r.Count();
    for (size_t i = 0; i < scopes && r.ok(); ++i) {
      uint32_t id = r.U32();
      if (!GetFindings(r, (*scoped)[id])) return false;
    }
  }
  if (!r.ok() || !r.done()) return false;
  for (size_t i = 1; i < s.hosts.size(); ++i)
    if (!(s.hosts[i - 1].name < s.hosts[i].name)) return false;
  *state = std::move(s);
  return true;
}

}  // namespace netdsl::verify
