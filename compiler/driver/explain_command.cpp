// `netdslc explain FILE… --from VM[:NIC] --to ADDRESS [--dst-mac MAC]`: the path
// a packet takes, hop by hop, answered from the source — frontend, allocation
// (reading the lock, never writing it) and lowering of the VM's host — by
// walking the per-host IR. It prints the same hops and verdict as
// `netdsl tables trace` on that host's built image, which walks the binary
// tables instead; tests check the two against each other.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "common/net/address.h"
#include "compiler/driver/command.h"
#include "compiler/driver/support_frontend.h"
#include "compiler/lower/lower.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace netdsl::driver {
namespace {

constexpr const char* kUsage =
    "usage: netdslc explain FILE... --from VM[:NIC] --to ADDRESS [--dst-mac MAC] [--src-mac MAC]\n"
    "                       [--packet data|dhcp-offer|router-advertisement]\n"
    "                       [--lock PATH] [--diagnostics=text|json|sarif] [-Werror]\n"
    "\n"
    "Follows one packet from a VM NIC to ADDRESS through what the VM's host receives\n"
    "(its ports, VM subnets, lookup records, customer routes, NAT), naming every entry\n"
    "used, as `netdsl tables trace` does on the host's built table image. Reads\n"
    "the lock (NAME.lock beside the first FILE NAME.netdsl, or --lock PATH) but\n"
    "never writes it.\n"
    "exit status: 0 delivered or forwarded, 1 dropped or errors, 64 usage error\n";

std::string Quote(const std::string& s) { return "`" + s + "`"; }

const char* IsolationName(ir::Isolation i) {
  switch (i) {
    case ir::Isolation::None: return "none";
    case ir::Isolation::Vlan: return "vlan";
    case ir::Isolation::Vxlan: return "vxlan";
    case ir::Isolation::Nvgre: return "nvgre";
  }
  return "unknown";
}

std::string Ip(const std::optional<net::IpAddress>& ip) { return ip ? ip->ToString() : "-"; }
std::string Pfx(const net::Prefix& p) { return p.Canonical().ToString(); }
bool SameFamily(const net::IpAddress& a, const net::IpAddress& b) { return a.family == b.family; }
bool Contains(const net::Prefix& p, const net::IpAddress& a) { return SameFamily(p.address, a) && p.Contains(a); }

/// Walks the IR with the table image's semantics (first record for a key wins,
/// longest prefix, of equal prefixes the first).
class Explainer {
 public:
  explicit Explainer(const ir::HostIr& host) : host_(host) {}

  std::string out;

  enum class Kind { kData, kDhcpOffer, kRouterAdvertisement };

  int Run(const ir::Port& port, const net::IpAddress& dst, const std::optional<net::MacAddress>& dst_mac,
          const std::optional<net::MacAddress>& src_mac, Kind kind) {
    Hop("port " + std::to_string(port.id) + ": vm " + Quote(port.vm) + " nic " + Quote(port.nic) + " ca " +
        port.ca.ToString() + "/" + std::to_string(port.prefix_length) + " mac " + port.mac.ToString() + " vsid " +
        std::to_string(port.vsid) + " rdid " + std::to_string(port.rdid));
    if (port.policy < host_.policies.size()) {
      const ir::PortPolicy& pol = host_.policies[port.policy];
      std::string text = "policy " + Quote(pol.profile) + ":";
      text += std::string(" mac_spoofing ") + (pol.mac_spoofing ? "on" : "off");
      text += std::string(" dhcp_guard ") + (pol.dhcp_guard ? "on" : "off");
      text += std::string(" router_guard ") + (pol.router_guard ? "on" : "off");
      if (pol.maximum) text += " maximum " + net::FormatBandwidth(*pol.maximum);
      Hop(text);
    }
    // Guards act on what the VM sends; a port without a profile has the defaults (all off).
    ir::PortPolicy defaults;
    const ir::PortPolicy& pol = port.policy < host_.policies.size() ? host_.policies[port.policy] : defaults;
    std::string id = std::to_string(port.id);
    if (src_mac) {
      if (*src_mac != port.mac) {
        if (!pol.mac_spoofing)
          return Verdict(false, "guard: mac_spoofing is off and source mac " + src_mac->ToString() + " is not port " +
                                    id + "'s mac " + port.mac.ToString());
        Hop("source mac " + src_mac->ToString() + " is not the port's, allowed by mac_spoofing on");
      } else {
        Hop("source mac " + src_mac->ToString() + " is the port's");
      }
    }
    if (kind == Kind::kDhcpOffer && pol.dhcp_guard)
      return Verdict(false, "guard: dhcp_guard drops dhcp server messages from port " + id);
    if (kind == Kind::kRouterAdvertisement && pol.router_guard)
      return Verdict(false, "guard: router_guard drops router advertisements and redirects from port " + id);
    if (port.vsid == 0)
      return Verdict(true, "not virtualized: bridged onto switch " + Quote(port.switch_name) + " vlan " +
                               std::to_string(port.vlan) + " without table lookup");
    const ir::Segment* seg = FindSegment(port.vsid);
    if (!seg) return Verdict(false, "vsid " + std::to_string(port.vsid) + " has no entry in section `segments`");
    Hop("segment vsid " + std::to_string(seg->vsid) + ": rdid " + std::to_string(seg->rdid) + " vm network " +
        Quote(seg->vm_network) + " subnet " + Quote(seg->vm_subnet) + " " + Pfx(seg->prefix) + " isolation " +
        IsolationName(seg->isolation));
    if (Contains(seg->prefix, dst)) {
      Hop(dst.ToString() + " is in the port's subnet " + Pfx(seg->prefix));
      return Resolve(port, *seg, seg->vsid, dst, dst_mac);
    }
    const ir::CustomerRoute* route = LongestPrefix(seg->rdid, dst);
    // The NAT gateway host has no default route (it is where the route leads):
    // what its routes miss outside the VM network's prefixes is translated.
    const ir::NatRule* nat = nullptr;
    for (const ir::NatRule& n : host_.nat_rules)
      if (n.rdid == seg->rdid) {
        nat = &n;
        break;  // the first rule of the routing domain decides, as in the image
      }
    bool outside = false;
    if (nat) {
      outside = true;
      for (const net::Prefix& p : nat->inside_prefixes) outside &= !Contains(p, dst);
    }
    if (!route && !(nat && outside))
      return NotFound(seg->rdid, dst, "no route to " + dst.ToString() + " in rdid " + std::to_string(seg->rdid));
    if (route && route->kind == ir::CustomerRoute::Kind::OnLink) {
      Hop("route rdid " + std::to_string(route->rdid) + " " + Pfx(route->prefix) + ": on-link vsid " +
          std::to_string(route->vsid));
      return Resolve(port, *seg, route->vsid, dst, dst_mac);
    }
    std::string next_hop = route ? Ip(route->next_hop) : "";
    if (route)
      Hop("route rdid " + std::to_string(route->rdid) + " " + Pfx(route->prefix) + ": via gateway " + next_hop +
          " on host " + Quote(route->via_host));
    else
      Hop("no route to " + dst.ToString() + " in rdid " + std::to_string(seg->rdid) +
          ": this host is the routing domain's nat gateway");
    if (nat && outside) {
      Hop("nat vm network " + Quote(nat->vm_network) + ": source " + port.ca.ToString() + " → " +
          nat->external_ip.ToString() + " from pool " + Quote(nat->external_pool));
      return Verdict(true, "nat to " + nat->external_ip.ToString() + " and forward to the external network");
    }
    // The next hop lives in the route's subnet (the gateway's CA there): the
    // frame leaves in that VSID, whichever subnet of the domain sent it.
    const uint32_t via_vsid = route->vsid ? route->vsid : seg->vsid;
    if (route->next_hop) {
      if (const ir::LookupRecord* gw = FindRecord(via_vsid, *route->next_hop)) {
        Hop("lookup_ca (vsid " + std::to_string(via_vsid) + ", " + next_hop + ") → pa " + gw->pa.ToString() +
            " host " + Quote(gw->host));
        return Verdict(true, std::string("encapsulate ") + IsolationName(seg->isolation) + " vsid " +
                                 std::to_string(via_vsid) + " from pa " + seg->local_pa.ToString() +
                                 " to gateway pa " + gw->pa.ToString() + " (host " + Quote(gw->host) + ")");
      }
    }
    return Verdict(true, std::string("encapsulate ") + IsolationName(seg->isolation) + " vsid " +
                             std::to_string(seg->vsid) + " from pa " + seg->local_pa.ToString() + " to gateway " +
                             next_hop + " (host " + Quote(route->via_host) + ")");
  }

 private:
  void Hop(const std::string& text) { out += std::to_string(++hop_) + ". " + text + "\n"; }
  int Verdict(bool ok, const std::string& text) {
    out += std::string(ok ? "verdict: " : "verdict: drop: ") + text + "\n";
    return ok ? 0 : 1;
  }

  const ir::Segment* FindSegment(uint32_t vsid) const {
    for (const ir::Segment& s : host_.segments)
      if (s.vsid == vsid) return &s;
    return nullptr;
  }
  const ir::LookupRecord* FindRecord(uint32_t vsid, const net::IpAddress& ca) const {
    for (const ir::LookupRecord& r : host_.lookup_records)
      if (r.vsid == vsid && r.ca == ca) return &r;
    return nullptr;
  }
  const ir::LookupRecord* FindRecordByMac(uint32_t vsid, const net::MacAddress& mac) const {
    for (const ir::LookupRecord& r : host_.lookup_records)
      if (r.vsid == vsid && r.mac == mac) return &r;
    return nullptr;
  }
  const ir::CustomerRoute* LongestPrefix(uint32_t rdid, const net::IpAddress& dst) const {
    const ir::CustomerRoute* best = nullptr;
    for (const ir::CustomerRoute& r : host_.customer_routes)
      if (r.rdid == rdid && Contains(r.prefix, dst) && (!best || r.prefix.length > best->prefix.length)) best = &r;
    return best;
  }

  int NotFound(uint32_t rdid, const net::IpAddress& dst, const std::string& what) {
    const ir::LookupRecord* other = nullptr;
    uint32_t other_rdid = 0;
    for (const ir::LookupRecord& r : host_.lookup_records) {
      if (r.ca != dst) continue;
      const ir::Segment* seg = FindSegment(r.vsid);
      uint32_t seg_rdid = seg ? seg->rdid : 0;
      if (seg_rdid != rdid && (!other || r.vsid < other->vsid)) other = &r, other_rdid = seg_rdid;
    }
    if (other)
      return Verdict(false, "isolated: " + dst.ToString() + " is vm " + Quote(other->vm) + " nic " + Quote(other->nic) +
                                " in vsid " + std::to_string(other->vsid) + " (rdid " + std::to_string(other_rdid) +
                                "), another routing domain");
    return Verdict(false, what);
  }

  int Resolve(const ir::Port& port, const ir::Segment& src_seg, uint32_t vsid, const net::IpAddress& dst,
              const std::optional<net::MacAddress>& dst_mac) {
    // The subnet's gateway address belongs to the routing domain's router, which
    // every host carrying the subnet runs (a distributed router, as in Hyper-V NV).
    if (const ir::Segment* gw_seg = FindSegment(vsid); gw_seg && gw_seg->gateway && *gw_seg->gateway == dst) {
      Hop(dst.ToString() + " is the gateway address of vsid " + std::to_string(vsid));
      return Verdict(true, "deliver to the router of rdid " + std::to_string(gw_seg->rdid) +
                               " on this host (gateway address " + dst.ToString() + " of vsid " +
                               std::to_string(vsid) + ")");
    }
    const ir::LookupRecord* rec = FindRecord(vsid, dst);
    if (!rec)
      return NotFound(src_seg.rdid, dst, "no lookup record for (vsid " + std::to_string(vsid) + ", " + dst.ToString() + ")");
    Hop("lookup_ca (vsid " + std::to_string(vsid) + ", " + dst.ToString() + ") → pa " + rec->pa.ToString() + " mac " +
        rec->mac.ToString() + " host " + Quote(rec->host) + " vm " + Quote(rec->vm) + " nic " + Quote(rec->nic));
    if (dst_mac) {
      const ir::LookupRecord* m = FindRecordByMac(vsid, *dst_mac);
      if (!m) return Verdict(false, "no lookup record for (vsid " + std::to_string(vsid) + ", " + dst_mac->ToString() + ")");
      Hop("lookup_mac (vsid " + std::to_string(vsid) + ", " + dst_mac->ToString() + ") → pa " + m->pa.ToString());
      if (m->mac != rec->mac)
        return Verdict(false, "destination mac " + dst_mac->ToString() + " is not " + dst.ToString() + "'s mac " +
                                  rec->mac.ToString());
    }
    const ir::Segment* dst_seg = FindSegment(vsid);
    if (rec->local) {
      if (rec->port_id == port.id)
        return Verdict(true, "deliver to the sending port itself (port " + std::to_string(port.id) + ")");
      return Verdict(true, "deliver locally to port " + std::to_string(rec->port_id) + " (vm " + Quote(rec->vm) +
                               " nic " + Quote(rec->nic) + ")");
    }
    ir::Isolation isolation = dst_seg ? dst_seg->isolation : src_seg.isolation;
    if (isolation == ir::Isolation::Vlan || isolation == ir::Isolation::None)
      return Verdict(true, "forward unencapsulated on vlan " + std::to_string(dst_seg ? dst_seg->vlan : 0) +
                               " to host " + Quote(rec->host) + " (pa " + rec->pa.ToString() + ")");
    const net::IpAddress& local = dst_seg ? dst_seg->local_pa : src_seg.local_pa;
    return Verdict(true, std::string("encapsulate ") + IsolationName(isolation) + " vsid " + std::to_string(vsid) +
                             " from pa " + local.ToString() + " to pa " + rec->pa.ToString() + " (host " +
                             Quote(rec->host) + ")");
  }

  const ir::HostIr& host_;
  int hop_ = 0;
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "netdslc explain: error: %s\n\n%s", message.c_str(), kUsage);
  return kExitUsage;
}

/// What explain found, for the output formats.
struct Explanation {
  std::string vm, nic, host, to;
  std::string text;  ///< the hops and the verdict, one per line
  int status = kExitOk;
};

/// Prints the diagnostics and the explanation (when there is one): text to
/// stderr and stdout; with --diagnostics=json one JSON object on stdout,
/// `{"diagnostics": [...], "explanation": {...} | null}`; with sarif the SARIF
/// log, the explanation in the run's property bag. Never plain text and a
/// document mixed on stdout.
int Finish(const FrontendOptions& options, DiagnosticEngine& diags, const Explanation* explanation) {
  if (options.format == DiagFormat::Text || options.verify_diagnostics) {
    int status = FinishDiagnostics(options, diags);
    if (!explanation) return status == kExitOk ? kExitErrors : status;
    std::printf("from vm `%s` nic `%s` on host `%s` (image hosts/%s/tables.ndt) to %s\n", explanation->vm.c_str(),
                explanation->nic.c_str(), explanation->host.c_str(), explanation->host.c_str(), explanation->to.c_str());
    std::fwrite(explanation->text.data(), 1, explanation->text.size(), stdout);
    return status != kExitOk ? status : explanation->status;
  }
  std::string doc;
  llvm::raw_string_ostream os(doc);
  diags.Emit(options.format, os, false);
  os.flush();
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(doc);
  if (!value) {  // cannot happen: the engine wrote it
    llvm::consumeError(value.takeError());
    return kExitErrors;
  }
  llvm::json::Value exp = nullptr;
  if (explanation) {
    llvm::json::Array hops;
    std::string verdict;
    for (llvm::StringRef rest = explanation->text; !rest.empty();) {
      auto [line, tail] = rest.split('\n');
      rest = tail;
      if (line.consume_front("verdict: ")) verdict = line.str();
      else hops.push_back(line.str());
    }
    exp = llvm::json::Object{{"from", llvm::json::Object{{"vm", explanation->vm}, {"nic", explanation->nic},
                                                         {"host", explanation->host}}},
                             {"to", explanation->to},
                             {"image", "hosts/" + explanation->host + "/tables.ndt"},
                             {"hops", std::move(hops)},
                             {"verdict", verdict},
                             {"delivered", explanation->status == kExitOk}};
  }
  llvm::json::Value out = nullptr;
  if (options.format == DiagFormat::Json) {
    out = llvm::json::Object{{"diagnostics", std::move(*value)}, {"explanation", std::move(exp)}};
  } else {
    out = std::move(*value);
    if (auto* runs = out.getAsObject() ? out.getAsObject()->getArray("runs") : nullptr; runs && !runs->empty())
      if (auto* run = (*runs)[0].getAsObject()) (*run)["properties"] = llvm::json::Object{{"explanation", std::move(exp)}};
  }
  llvm::outs() << llvm::formatv("{0:2}", out) << "\n";
  llvm::outs().flush();
  unsigned errors = diags.ErrorCount();
  if (errors) llvm::errs() << errors << (errors == 1 ? " error" : " errors") << " generated.\n";
  if (diags.HasErrors() || !explanation) return kExitErrors;
  return explanation->status;
}

int ExplainMain(int argc, char** argv) {
  std::string from, to, dst_mac_text, src_mac_text, kind_text = "data";
  FrontendOptions options;
  auto extra = [&](int ac, char** av, int& i, std::string& error) {
    if (TakeLockOption(ac, av, i, options, error)) return true;
    for (auto [flag, into] : {std::pair<const char*, std::string*>{"--from", &from}, {"--to", &to}, {"--dst-mac", &dst_mac_text},
                                {"--src-mac", &src_mac_text}, {"--packet", &kind_text}}) {
      size_t n = std::strlen(flag);
      if (!std::strncmp(av[i], flag, n) && av[i][n] == '=') {
        *into = av[i] + n + 1;
        return true;
      }
      if (!std::strcmp(av[i], flag)) {
        if (i + 1 >= ac) {
          error = std::string("`") + flag + "` needs a value";
          return true;
        }
        *into = av[++i];
        return true;
      }
    }
    return false;
  };
  if (auto exit = ParseFrontendOptions(argc, argv, kUsage, options, extra)) return *exit;
  if (from.empty() || to.empty()) return UsageError("`--from VM[:NIC]` and `--to ADDRESS` are required");
  std::optional<net::IpAddress> dst = net::ParseIp(to);
  if (!dst) return UsageError("`--to` must be an IPv4 or IPv6 address, not `" + to + "`");
  std::optional<net::MacAddress> dst_mac;
  if (!dst_mac_text.empty() && !(dst_mac = net::ParseMac(dst_mac_text)))
    return UsageError("`--dst-mac` must be a MAC address, not `" + dst_mac_text + "`");
  std::optional<net::MacAddress> src_mac;
  if (!src_mac_text.empty() && !(src_mac = net::ParseMac(src_mac_text)))
    return UsageError("`--src-mac` must be a MAC address, not `" + src_mac_text + "`");
  Explainer::Kind kind = Explainer::Kind::kData;
  if (kind_text == "dhcp-offer") kind = Explainer::Kind::kDhcpOffer;
  else if (kind_text == "router-advertisement") kind = Explainer::Kind::kRouterAdvertisement;
  else if (kind_text != "data")
    return UsageError("`--packet` must be `data`, `dhcp-offer` or `router-advertisement`, not `" + kind_text + "`");

  llvm::SourceMgr sources;
  DiagnosticEngine diags(sources);
  auto compiled = RunCompile(options, diags);
  if (!compiled || diags.HasErrors()) return Finish(options, diags, nullptr);
  NoteLegacyLock("explain", *compiled, false);
  const alloc::AllocatedFabric* allocated = &compiled->fabric;
  // What `--from` names is checked against the fabric: a diagnostic, so that
  // --diagnostics=json|sarif carry it (issue 11, defect 7).
  auto Fail = [&](std::string message) {
    diags.Report(DiagKind::UnknownVmNic, llvm::SMRange(), std::move(message));
    return Finish(options, diags, nullptr);
  };

  // `--from VM[:NIC]`: a VM whose name contains `:` is matched whole first.
  std::string vm_name = from, nic_name;
  auto has_vm = [&](const std::string& name) {
    return std::any_of(allocated->fabric.vms.begin(), allocated->fabric.vms.end(),
                       [&](const model::Vm& v) { return v.name == name; });
  };
  if (!has_vm(vm_name)) {
    size_t colon = from.rfind(':');
    if (colon != std::string::npos) vm_name = from.substr(0, colon), nic_name = from.substr(colon + 1);
    if (!has_vm(vm_name)) return Fail("vm `" + vm_name + "` is not in the fabric");
  }

  const model::Fabric& f = allocated->fabric;
  const model::Vm* vm = nullptr;
  for (const model::Vm& v : f.vms)
    if (v.name == vm_name) vm = &v;
  if (vm->host == model::kNone || vm->host >= f.hosts.size()) return Fail("vm `" + vm_name + "` is not placed on a host");
  const model::VmNic* nic = nullptr;
  if (nic_name.empty()) {
    if (vm->nics.size() != 1) {
      std::string names;
      for (const model::VmNic& n : vm->nics) names += (names.empty() ? "`" : ", `") + n.name + "`";
      return UsageError("vm `" + vm_name + "` has " + std::to_string(vm->nics.size()) + " NICs (" + names +
                        "): say which with `--from " + vm_name + ":NIC`");
    }
    nic = &vm->nics.front();
  } else {
    for (const model::VmNic& n : vm->nics)
      if (n.name == nic_name) nic = &n;
    if (!nic) return Fail("vm `" + vm_name + "` has no NIC `" + nic_name + "`");
  }

  lower::LowerIndex index = lower::BuildLowerIndex(*allocated, "");
  ir::HostIr host = lower::LowerHost(*allocated, index, vm->host);
  const ir::Port* port = nullptr;
  for (const ir::Port& p : host.ports)
    if (p.vm == vm->name && p.nic == nic->name) port = &p;
  if (!port) return Fail("vm `" + vm_name + "` nic `" + nic->name + "` has no port on host `" + host.host + "`");

  Explainer explainer(host);
  Explanation explanation;
  explanation.status = explainer.Run(*port, *dst, dst_mac, src_mac, kind);
  explanation.vm = vm->name;
  explanation.nic = nic->name;
  explanation.host = host.host;
  explanation.to = dst->ToString();
  explanation.text = std::move(explainer.out);
  return Finish(options, diags, &explanation);
}

}  // namespace

NETDSL_COMMAND("explain", "the path a packet takes from a VM NIC, hop by hop", ExplainMain);

}  // namespace netdsl::driver
