// Longest-prefix match as sorted ranges: flattens a set of prefixes into
// disjoint address ranges, each resolved to its longest matching prefix.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/ndt/format.h"

namespace netdsl::backends::tables {

using U128 = unsigned __int128;

/// One prefix to place: [start, last] with its route index.
struct LpmInput {
  U128 start = 0, last = 0;
  uint8_t length = 0;
  uint32_t route = 0;
};

/// Breakpoint: addresses from `start` up to the next breakpoint resolve to `route`.
struct LpmRange {
  U128 start = 0;
  uint32_t route = ndt::kNoIndex;
};

/// Address bytes (v4 in bytes 12..15) as an integer of `bits` width.
inline U128 AddressValue(const uint8_t bytes[16], uint8_t family) {
  U128 v = 0;
  for (int i = family == ndt::kFamilyV4 ? 12 : 0; i < 16; ++i) v = v << 8 | bytes[i];
  return v;
}

inline LpmInput LpmInputFrom(const ndt::Prefix& p, uint32_t route) {
  unsigned bits = p.family == ndt::kFamilyV4 ? 32 : 128;
  LpmInput in;
  in.start = AddressValue(p.bytes, p.family);
  in.length = p.length;
  U128 host_mask = p.length >= bits ? 0 : ((U128(1) << (bits - p.length - 1)) << 1) - 1;
  in.start &= ~host_mask;
  in.last = in.start | host_mask;
  in.route = route;
  return in;
}

/// Disjoint ranges covering [0, 2^bits), first starting at 0, adjacent ranges
/// resolving to different routes. Of two identical prefixes the first wins.
inline std::vector<LpmRange> BuildLpmRanges(std::vector<LpmInput> prefixes, unsigned bits) {
  std::vector<LpmRange> out;
  if (prefixes.empty()) return out;
  std::stable_sort(prefixes.begin(), prefixes.end(), [](const LpmInput& a, const LpmInput& b) {
    return a.start != b.start ? a.start < b.start : a.length < b.length;
  });
  U128 max = bits == 128 ? ~U128(0) : (U128(1) << bits) - 1;
  out.push_back({0, ndt::kNoIndex});
  auto at = [&](U128 start, uint32_t route) {
    if (out.back().start == start) {
      out.back().route = route;
      if (out.size() >= 2 && out[out.size() - 2].route == route) out.pop_back();
    } else if (out.back().route != route) {
      out.push_back({start, route});
    }
  };
  std::vector<LpmInput> stack;  // nested prefixes enclosing the current position
  auto top_route = [&] { return stack.empty() ? ndt::kNoIndex : stack.back().route; };
  for (size_t i = 0; i < prefixes.size(); ++i) {
    const LpmInput& p = prefixes[i];
    if (i > 0 && p.start == prefixes[i - 1].start && p.length == prefixes[i - 1].length) continue;
    while (!stack.empty() && stack.back().last < p.start) {
      U128 next = stack.back().last + 1;
      stack.pop_back();
      at(next, top_route());
    }
    at(p.start, p.route);
    stack.push_back(p);
  }
  while (!stack.empty()) {
    if (stack.back().last == max) break;  // it and every enclosing prefix end at the top
    U128 next = stack.back().last + 1;
    stack.pop_back();
    at(next, top_route());
  }
  return out;
}

}  // namespace netdsl::backends::tables
