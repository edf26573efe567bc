// Which underlay peers an apply probes (runtime/linux/probe.h UnderlayPeers):
// distinct, sorted, at most kMaxPeerProbes, the same every time, and chosen
// from a fixed-size sample of the plan, so that choosing costs the same at
// any plan size (docs/benchmarks.md "safety cost").
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "runtime/linux/probe.h"

namespace netdsl::runtime {
namespace {

net::IpAddress Pa(uint32_t i) { return net::IpAddress::V4(0xc0a80000u + i); }  // 192.168.0.0 + i

/// `n` FDB entries; entry i goes to PA `pa_of(i)`.
template <typename F>
HostState Fdb(size_t n, F pa_of) {
  HostState s;
  s.fdb.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    FdbEntry& f = s.fdb.emplace_back();
    f.dev = "nd-vx1";
    f.dst = pa_of(i);
  }
  return s;
}

bool SortedDistinct(const std::vector<net::IpAddress>& v) { return std::adjacent_find(v.begin(), v.end(), std::greater_equal<>()) == v.end(); }

TEST_CASE("underlay peers of a small plan: every remote PA, gretap remotes included") {
  HostState s = Fdb(100, [](size_t i) { return Pa(1 + i % 5); });
  Link gre;
  gre.name = "nd-gre1";
  gre.kind = "gretap";
  gre.gretap_remote = Pa(200);
  s.links.push_back(gre);
  std::vector<net::IpAddress> peers = UnderlayPeers(s);
  CHECK(peers == std::vector<net::IpAddress>{Pa(1), Pa(2), Pa(3), Pa(4), Pa(5), Pa(200)});
  CHECK(UnderlayPeers(HostState{}).empty());
}

TEST_CASE("underlay peers of a large plan: kMaxPeerProbes distinct PAs of the plan, spread, the same every time") {
  // 200k entries over 62,500 PAs (as bench/runtime/gen_plan.py writes them).
  HostState s = Fdb(200000, [](size_t i) { return Pa(static_cast<uint32_t>(1 + (i / 250) % 250 * 256 + i % 250)); });
  std::vector<net::IpAddress> peers = UnderlayPeers(s);
  REQUIRE(peers.size() == kMaxPeerProbes);
  CHECK(SortedDistinct(peers));
  std::set<net::IpAddress> in_plan;
  for (const FdbEntry& f : s.fdb) in_plan.insert(f.dst);
  for (const net::IpAddress& p : peers) CHECK(in_plan.count(p));
  // Spread: from the lowest quarter of the PAs to the highest.
  CHECK(peers.front() < Pa(250 / 4 * 256));
  CHECK(peers.back() > Pa(250 * 3 / 4 * 256));
  CHECK(UnderlayPeers(s) == peers);
}

TEST_CASE("underlay peers: entries off the sample do not change the choice") {
  // Choosing looks at kPeerSample entries, not at all of them: an entry
  // between two sampled positions may change without changing the peers.
  // (Sorting every destination made the choice, and its cost, depend on
  // every entry: the lowest PA anywhere in the plan was always probed.)
  const size_t n = 100 * kPeerSample;
  HostState s = Fdb(n, [](size_t i) { return Pa(static_cast<uint32_t>(1000 + i % 5000)); });
  std::vector<net::IpAddress> before = UnderlayPeers(s);
  REQUIRE(before.size() == kMaxPeerProbes);
  std::set<size_t> sampled;
  for (size_t k = 0; k < kPeerSample; ++k) sampled.insert(k * n / kPeerSample);
  size_t off = 1;
  while (sampled.count(off)) ++off;
  s.fdb[off].dst = Pa(1);  // lower than every other PA
  CHECK(UnderlayPeers(s) == before);
  s.fdb[*sampled.begin()].dst = Pa(1);  // a sampled entry: now the lowest peer
  CHECK(UnderlayPeers(s).front() == Pa(1));
}

}  // namespace
}  // namespace netdsl::runtime
