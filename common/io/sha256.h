// SHA-256 (FIPS 180-4), std only, for manifests, source hashes and lock IR hashes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace netdsl::io {

/// Incremental SHA-256: Update() any number of times, then Final() once.
class Sha256 {
 public:
  Sha256();
  /// Feeds bytes into the hash.
  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  /// The 32-byte digest; the object must not be updated afterwards.
  std::array<uint8_t, 32> Final();
  /// Final() as 64 lowercase hex digits.
  std::string FinalHex();

 private:
  void Block(const uint8_t* p);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

/// Tests only: use the portable code even where the CPU has SHA instructions.
void Sha256ForcePortable(bool on);

/// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace netdsl::io
