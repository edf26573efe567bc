// Feature requirements and nftables fingerprints derived from a HostState.
#include "runtime/linux/host_state.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace netdsl::runtime {

const std::vector<std::string>& KnownFeatures() {
  static const std::vector<std::string> kFeatures(linux_yaml::kFeatures.begin(), linux_yaml::kFeatures.end());
  return kFeatures;
}

std::vector<std::pair<std::string, std::string>> NeededFeatures(const HostState& s) {
  std::map<std::string, std::string> need;
  for (const Link& l : s.links) need.emplace(l.kind, fmt::format("link `{}`", l.name));
  for (const Qdisc& q : s.qdiscs) need.emplace(q.kind, fmt::format("qdisc on `{}`", q.dev));
  if (s.nft.present) need.emplace("nft-bridge", fmt::format("nftables table `{}`", s.nft.table));
  if (s.nft_nat.present) need.emplace("nft-nat", fmt::format("nftables table `{}`", s.nft_nat.table));
  for (const std::string& f : s.requires_) need.emplace(f, "`requires`");
  return {need.begin(), need.end()};
}

namespace {
uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}
}  // namespace

uint32_t OwnerGroup(std::string_view owner_alias) {
  uint64_t h = Fnv1a64(owner_alias);
  return (static_cast<uint32_t>(h ^ (h >> 32)) & 0x7fffffffu) | 0x40000000u;  // positive in `ip link` too
}

std::string OwnerMarker(std::string_view owner_alias, std::string_view identity) {
  std::string m(owner_alias);
  if (identity.empty()) return m;
  constexpr size_t kMaxMarker = 255;  // IFALIASZ - 1
  m += ' ';
  if (m.size() + identity.size() <= kMaxMarker) return m.append(identity);
  const size_t keep = kMaxMarker - m.size() - 17;  // owner_alias is at most 64 bytes (plan_reader)
  return m.append(identity.substr(0, keep)) + fmt::format("~{:016x}", Fnv1a64(identity));
}

bool IsOwnerMarker(std::string_view alias, std::string_view owner_alias) {
  return alias.substr(0, owner_alias.size()) == owner_alias &&
         (alias.size() == owner_alias.size() || (alias.size() > owner_alias.size() + 1 && alias[owner_alias.size()] == ' '));
}

std::string_view MarkerIdentity(std::string_view alias, std::string_view owner_alias) {
  return IsOwnerMarker(alias, owner_alias) && alias.size() > owner_alias.size() ? alias.substr(owner_alias.size() + 1)
                                                                              : std::string_view();
}

std::string NftFingerprint(const NftTable& t) {
  // FNV-1a over the canonical text, fed piece by piece (no text is built:
  // a host's table has thousands of rules).
  uint64_t h = 1469598103934665603ull;
  auto feed = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  feed(t.family), feed("\n"), feed(t.table), feed("\n");
  for (const NftSet& set : t.sets) {
    feed("set "), feed(set.name), feed("\t"), feed(set.type), feed("\n");
    for (const std::vector<std::string>& e : set.elements) {
      for (const std::string& part : e) feed(part), feed("\t");
      feed("\n");
    }
  }
  for (const NftChain& c : t.chains)
    feed(fmt::format("chain {} {} {} {} {}\n", c.name, c.type, c.hook, c.priority, c.policy));
  for (const NftRule& r : t.rules)
    feed("rule "), feed(r.chain), feed("\t"), feed(r.rule), feed("\t"), feed(r.comment), feed("\n");
  return fmt::format("{:016x}", h);
}

}  // namespace netdsl::runtime
