// Identity of the bulk objects (addresses, routes, FDB entries, neighbours)
// as fixed-size keys, and an open-addressing index over them: the diff and
// the notification replay look up 100k objects without allocating per
// object (a std::string key cost one malloc each).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/linux/host_state.h"

namespace netdsl::runtime {

struct ObjectKey {
  std::array<uint64_t, 6> w{};
  bool operator==(const ObjectKey&) const = default;
  uint64_t Hash() const {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (uint64_t x : w) {
      h ^= x;
      h *= 0xff51afd7ed558ccdull;
      h ^= h >> 32;
    }
    return h;
  }
};

namespace object_key_detail {

/// Appends bytes to a key; interface names are at most 15 bytes (IFNAMSIZ
/// 16 with the NUL), so every field fits the key's 48 bytes.
class KeyWriter {
 public:
  explicit KeyWriter(uint8_t kind) { Put(&kind, 1); }
  KeyWriter& Name(const std::string& s) {
    char b[16] = {};
    std::memcpy(b, s.data(), s.size() < 16 ? s.size() : 16);
    return Put(b, 16);
  }
  KeyWriter& Ip(const net::IpAddress& a) {
    uint8_t f = static_cast<uint8_t>(a.family);
    Put(&f, 1);
    return Put(a.bytes.data(), 16);
  }
  KeyWriter& Mac(const net::MacAddress& m) { return Put(m.bytes.data(), 6); }
  KeyWriter& U32(uint32_t v) { return Put(&v, 4); }
  ObjectKey key() const { return k_; }

 private:
  KeyWriter& Put(const void* p, size_t n) {
    std::memcpy(reinterpret_cast<char*>(k_.w.data()) + at_, p, n);
    at_ += n;
    return *this;
  }
  ObjectKey k_;
  size_t at_ = 0;
};

}  // namespace object_key_detail

inline ObjectKey KeyOf(const Address& x) {
  return object_key_detail::KeyWriter(1).Name(x.dev).Ip(x.address).U32(x.prefix_length).key();
}
/// Routes are identified by table and destination (one route per prefix).
inline ObjectKey KeyOf(const Route& x) {
  return object_key_detail::KeyWriter(2).U32(x.table).Ip(x.dst.address).U32(x.dst.length).key();
}
/// An FDB entry per (device, MAC, remote): a MAC may have several remotes.
inline ObjectKey KeyOf(const FdbEntry& x) {
  return object_key_detail::KeyWriter(3).Name(x.dev).Mac(x.mac).Ip(x.dst).key();
}
inline ObjectKey KeyOf(const Neighbour& x) {
  return object_key_detail::KeyWriter(4).Name(x.dev).Ip(x.address).key();
}

/// Key → position, open addressing with linear probing over 8-byte slots
/// (32 bits of the hash and the position; the keys themselves sit in their
/// own array, touched only on a hash match). The first position inserted for
/// a key wins. No removal (callers keep tombstones).
class KeyIndex {
 public:
  explicit KeyIndex(size_t expected = 0) {
    keys_.reserve(expected);
    slots_.assign(Capacity(expected), Slot{});
  }

  /// Inserts `key` at `pos` unless present; returns the position it maps to.
  uint32_t Insert(const ObjectKey& key, uint32_t pos) {
    if ((keys_.size() + 1) * 2 > slots_.size()) Grow();
    uint64_t h = key.Hash();
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      Slot& s = slots_[i];
      if (s.entry == kEmpty) {
        s = {static_cast<uint32_t>(h >> 32), static_cast<uint32_t>(keys_.size())};
        keys_.push_back({key, pos});
        return pos;
      }
      if (s.tag == static_cast<uint32_t>(h >> 32) && keys_[s.entry].key == key) return keys_[s.entry].pos;
    }
  }
  /// Position of `key`, or -1.
  int64_t Find(const ObjectKey& key) const {
    uint64_t h = key.Hash();
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& s = slots_[i];
      if (s.entry == kEmpty) return -1;
      if (s.tag == static_cast<uint32_t>(h >> 32) && keys_[s.entry].key == key) return keys_[s.entry].pos;
    }
  }
  size_t size() const { return keys_.size(); }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;
  struct Slot {
    uint32_t tag = 0;         ///< high half of the key's hash
    uint32_t entry = kEmpty;  ///< index into keys_
  };
  struct Entry {
    ObjectKey key;
    uint32_t pos;
  };
  static size_t Capacity(size_t n) {
    size_t c = 16;
    while (c < n * 2) c *= 2;
    return c;
  }
  void Grow() {
    slots_.assign(slots_.size() * 2, Slot{});
    for (uint32_t e = 0; e < keys_.size(); ++e) {
      uint64_t h = keys_[e].key.Hash();
      size_t i = h & (slots_.size() - 1);
      while (slots_[i].entry != kEmpty) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = {static_cast<uint32_t>(h >> 32), e};
    }
  }
  std::vector<Slot> slots_;
  std::vector<Entry> keys_;
};

}  // namespace netdsl::runtime
