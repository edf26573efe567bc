// The live table image of a virtual switch: lookups read a snapshot, a reload
// swaps in a new verified image atomically. Readers see the old or the new
// image, never a mix; the old mapping is unmapped when its last reader drops it.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "runtime/tables/image.h"

namespace netdsl::runtime::tables {

class Dataplane {
 public:
  Dataplane() = default;
  explicit Dataplane(std::shared_ptr<const Image> image) : current_(std::move(image)) {}

  /// The current image (possibly null); hold it for the duration of one decision.
  std::shared_ptr<const Image> Snapshot() const { return current_.load(std::memory_order_acquire); }

  /// Publishes `image`; returns the one it replaced.
  std::shared_ptr<const Image> Swap(std::shared_ptr<const Image> image) {
    return current_.exchange(std::move(image), std::memory_order_acq_rel);
  }

  /// Maps and fully verifies `path`, then swaps it in. On failure the current
  /// image stays and `error` says why.
  bool Reload(const std::string& path, std::string* error) {
    std::shared_ptr<const Image> next = Image::Open(path, error);
    if (!next) return false;
    Swap(std::move(next));
    return true;
  }

 private:
  std::atomic<std::shared_ptr<const Image>> current_;
};

}  // namespace netdsl::runtime::tables
