// The allocator's free list: hands out the lowest free value of a range, in
// increasing order, around values reserved up front (explicit values, values
// kept from netdsl.lock, a pool's gateway and reserved addresses).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace netdsl::alloc {

/// Reservations are collected first (Reserve), then sorted once (Seal), then
/// Next() walks a cursor upward past the sorted reservations. All allocations
/// of one run are therefore O((r + n) log r) with no scans of the whole range,
/// and a new object never takes a value reserved for another one.
template <typename T>
class FreeList {
 public:
  FreeList(T first, T last) : first_(first), last_(last), cursor_(first), exhausted_(last < first) {}

  bool InRange(T v) const { return first_ <= v && v <= last_; }
  T first() const { return first_; }
  T last() const { return last_; }

  /// Marks `v` as taken by `owner` (any id meaningful to the caller); lower
  /// owner ids win when two owners reserve the same value. Ignores values
  /// outside the range. Must precede Seal().
  void Reserve(T v, uint32_t owner) {
    if (InRange(v)) reserved_.push_back({v, owner});
  }

  /// Sorts the reservations and drops duplicates, calling
  /// `on_conflict(value, kept_owner, dropped_owner)` for each dropped one.
  template <typename F>
  void Seal(F&& on_conflict) {
    std::sort(reserved_.begin(), reserved_.end());
    size_t out = 0;
    for (size_t i = 0; i < reserved_.size(); ++i) {
      if (out > 0 && reserved_[out - 1].first == reserved_[i].first) {
        on_conflict(reserved_[i].first, reserved_[out - 1].second, reserved_[i].second);
        continue;
      }
      reserved_[out++] = reserved_[i];
    }
    reserved_.resize(out);
    sealed_ = true;
  }
  void Seal() {
    Seal([](T, uint32_t, uint32_t) {});
  }

  /// The lowest value not reserved and not handed out before, or nullopt when
  /// the range is used up. Requires Seal().
  std::optional<T> Next() {
    while (!exhausted_) {
      while (next_reserved_ < reserved_.size() && reserved_[next_reserved_].first < cursor_) ++next_reserved_;
      bool taken = next_reserved_ < reserved_.size() && reserved_[next_reserved_].first == cursor_;
      T v = cursor_;
      if (cursor_ == last_) exhausted_ = true;
      else ++cursor_;
      if (!taken) {
        ++handed_out_;
        return v;
      }
    }
    return std::nullopt;
  }

  /// Number of values reserved up front (after Seal, duplicates removed).
  size_t reserved_count() const { return reserved_.size(); }
  size_t handed_out() const { return handed_out_; }
  bool sealed() const { return sealed_; }

 private:
  T first_, last_, cursor_;
  bool exhausted_;
  bool sealed_ = false;
  std::vector<std::pair<T, uint32_t>> reserved_;
  size_t next_reserved_ = 0;
  size_t handed_out_ = 0;
};

}  // namespace netdsl::alloc
