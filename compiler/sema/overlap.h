// Sort-and-sweep overlap detection over closed intervals: O(n log n), reports
// each interval that overlaps an earlier-starting one once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace netdsl::sema {

template <typename Key>
struct Interval {
  Key lo, hi;
  uint32_t tag;  ///< caller's id for the interval
};

/// Calls `report(a, b)` for overlapping intervals where `a` sorts first (by
/// lo, then tag); `b` overlaps the interval with the largest `hi` seen so far.
/// `compatible(a, b)` can exclude pairs (e.g. different address families).
template <typename Key, typename Report, typename Compatible>
void SweepOverlaps(std::vector<Interval<Key>> items, Report report, Compatible compatible) {
  std::sort(items.begin(), items.end(), [](const Interval<Key>& a, const Interval<Key>& b) {
    if (a.lo != b.lo) return a.lo < b.lo;
    return a.tag < b.tag;
  });
  const Interval<Key>* widest = nullptr;
  for (const Interval<Key>& it : items) {
    if (widest && compatible(*widest, it) && !(widest->hi < it.lo)) report(*widest, it);
    if (!widest || !compatible(*widest, it) || widest->hi < it.hi) widest = &it;
  }
}

}  // namespace netdsl::sema
