// LEB128 varints and zigzag mapping used by the page encoding.
#pragma once

#include <cstddef>
#include <cstdint>

namespace memtide::varint {

inline constexpr size_t kMaxBytes = 10;

inline uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Writes v at out (room for kMaxBytes); returns the bytes written.
inline size_t put(uint8_t* out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<uint8_t>(v) | 0x80;
    v >>= 7;
  }
  out[n++] = static_cast<uint8_t>(v);
  return n;
}

// Reads one varint from [*cursor, end); false on truncation or overlong input.
inline bool get(const uint8_t** cursor, const uint8_t* end, uint64_t& v) {
  const uint8_t* p = *cursor;
  uint64_t result = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (p == end) return false;
    uint8_t byte = *p++;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *cursor = p;
      v = result;
      return true;
    }
  }
  return false;
}

}  // namespace memtide::varint
