// Helpers for building corrupted table images in tests: patch fields, then
// (optionally) recompute every checksum so the structural checks are reached.
#pragma once

#include <cstring>
#include <string>

#include "common/ndt/format.h"

namespace netdsl::testing {

template <typename T>
void Poke(std::string& bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

template <typename T>
T Peek(const std::string& bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

/// Offset of directory entry `index` (the writer puts the directory right after the header).
inline size_t DirEntry(size_t index) { return ndt::kHeaderSize + index * sizeof(ndt::SectionEntry); }
/// Directory index of a section type in images this writer produced.
inline size_t DirIndex(ndt::SectionType t) { return static_cast<uint32_t>(t) - 1; }

/// Recomputes section, body and header checksums wherever the fields allow.
inline void FixChecksums(std::string& bytes) {
  if (bytes.size() < sizeof(ndt::Header)) return;
  ndt::Header h = Peek<ndt::Header>(bytes, 0);
  uint64_t dir = h.directory_offset;
  for (uint64_t i = 0; i < h.section_count; ++i) {
    uint64_t at = dir + i * sizeof(ndt::SectionEntry);
    if (dir > bytes.size() || at + sizeof(ndt::SectionEntry) > bytes.size()) break;
    ndt::SectionEntry s = Peek<ndt::SectionEntry>(bytes, at);
    if (s.offset <= bytes.size() && s.length <= bytes.size() - s.offset) {
      s.checksum = ndt::Crc32c(bytes.data() + s.offset, s.length);
      Poke(bytes, at, s);
    }
  }
  uint32_t hs = h.header_size;
  if (hs >= sizeof(ndt::Header) && hs <= bytes.size())
    h.body_checksum = ndt::Crc32c(bytes.data() + hs, bytes.size() - hs);
  Poke(bytes, 0, h);
  h.header_checksum = ndt::Crc32c(bytes.data(), offsetof(ndt::Header, header_checksum));
  Poke(bytes, 0, h);
}

}  // namespace netdsl::testing
