// The allocator's free list and the Linux interface name derivation.
#include <doctest/doctest.h>

#include <set>

#include "compiler/alloc/alloc.h"
#include "compiler/alloc/free_list.h"

using netdsl::alloc::FreeList;

TEST_CASE("free list hands out the lowest free values around reservations") {
  FreeList<uint64_t> list(10, 20);
  list.Reserve(10, 0);
  list.Reserve(12, 1);
  list.Reserve(13, 2);
  list.Reserve(99, 3);  // outside: ignored
  list.Seal();
  CHECK(list.reserved_count() == 3);
  CHECK(*list.Next() == 11);
  CHECK(*list.Next() == 14);
  CHECK(*list.Next() == 15);
}

TEST_CASE("free list reports exhaustion exactly at the end of the range") {
  FreeList<uint64_t> list(1, 4);
  list.Reserve(2, 0);
  list.Seal();
  CHECK(*list.Next() == 1);
  CHECK(*list.Next() == 3);
  CHECK(*list.Next() == 4);
  CHECK_FALSE(list.Next());
  CHECK_FALSE(list.Next());
  CHECK(list.handed_out() == 3);
}

TEST_CASE("free list at the top of its type does not wrap") {
  FreeList<uint64_t> list(UINT64_MAX - 1, UINT64_MAX);
  list.Seal();
  CHECK(*list.Next() == UINT64_MAX - 1);
  CHECK(*list.Next() == UINT64_MAX);
  CHECK_FALSE(list.Next());
}

TEST_CASE("free list conflicts keep the lowest owner and report the others") {
  FreeList<uint64_t> list(0, 100);
  list.Reserve(5, 7);
  list.Reserve(5, 3);
  list.Reserve(5, 9);
  list.Reserve(6, 1);
  std::vector<std::tuple<uint64_t, uint32_t, uint32_t>> conflicts;
  list.Seal([&](uint64_t v, uint32_t kept, uint32_t dropped) { conflicts.emplace_back(v, kept, dropped); });
  REQUIRE(conflicts.size() == 2);
  CHECK(conflicts[0] == std::tuple<uint64_t, uint32_t, uint32_t>(5, 3, 7));
  CHECK(conflicts[1] == std::tuple<uint64_t, uint32_t, uint32_t>(5, 3, 9));
  CHECK(list.reserved_count() == 2);
}

TEST_CASE("free list over 128-bit values (IPv6 pools)") {
  using U128 = unsigned __int128;
  U128 base = U128(0x20010db800000000ull) << 64;
  FreeList<U128> list(base, base + (U128(1) << 64) - 1);
  list.Reserve(base, 0);
  list.Seal();
  CHECK(*list.Next() == base + 1);
  CHECK(*list.Next() == base + 2);
}

TEST_CASE("a large range with many reservations stays fast and exact") {
  FreeList<uint64_t> list(0, 10'000'000);
  for (uint64_t v = 0; v < 2'000'000; v += 2) list.Reserve(v, 0);
  list.Seal();
  bool all_odd = true;
  for (uint64_t k = 0; k < 1'000'000; ++k) all_odd &= *list.Next() == 2 * k + 1;
  CHECK(all_odd);
  CHECK(*list.Next() == 2'000'000);
}

TEST_CASE("switch interface names are short, owned, stable and distinct per attempt") {
  using netdsl::alloc::DeriveSwitchIfname;
  std::string a = DeriveSwitchIfname("test logical switch", 0);
  CHECK(a.rfind("nd-testlo-", 0) == 0);
  CHECK(a.size() == 14);
  CHECK(a == DeriveSwitchIfname("test logical switch", 0));
  CHECK(a != DeriveSwitchIfname("test logical switch", 1));
  // Names without letters or digits, quotes, non-ASCII: still a valid ifname.
  for (const char* name : {"\"", "' $`", "Zürich Süd", "a/b:c d", "", "0123456789abcdef0123"}) {
    std::string n = DeriveSwitchIfname(name, 0);
    CHECK(n.size() <= 15);
    for (char c : n) CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '-'));
  }
  CHECK(DeriveSwitchIfname("' $`", 0).rfind("nd-sw-", 0) == 0);
  // Different names that sanitize alike get different hashes.
  CHECK(DeriveSwitchIfname("Switch A", 0) != DeriveSwitchIfname("switch-a", 0));
  CHECK(netdsl::alloc::BondIfnameFor(a) == "ndb-" + a.substr(3));
  CHECK(netdsl::alloc::BondIfnameFor(a).size() <= 15);
  CHECK(netdsl::alloc::PortIfname(999999999) == "nd-p999999999");
  CHECK(netdsl::alloc::PortIfname(999999999).size() + 1 <= 15);
}

TEST_CASE("names in lock keys are quoted like the source") {
  using netdsl::alloc::QuoteName;
  CHECK(QuoteName("web") == "web");
  CHECK(QuoteName("rack1-h01") == "rack1-h01");
  CHECK(QuoteName("tenant A") == "\"tenant A\"");
  CHECK(QuoteName("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(QuoteName("1abc") == "\"1abc\"");
}
