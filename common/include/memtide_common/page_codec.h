// The event page: how a batch of one thread's events is stored in the trace
// (pages.data). Layout of the uncompressed body (all integers little-endian;
// "varint" is unsigned LEB128, "zz" a zigzag-mapped varint):
//
//   offset  size   field
//   0       4      magic "MTP1" (0x4d 0x54 0x50 0x31)
//   4       4      u32 event count N (1 .. kMaxPageEvents)
//   8       8      u64 base sequence number (seq of the first event)
//   16      8      u64 base time in ns (time of the first event)
//   24      N      kind column: one EventKind byte per event
//   ...     var    seq column: N varints, seq[i] - seq[i-1] (seq[-1] = base)
//   ...     var    time column: N zz, time[i] - time[i-1] (time[-1] = base)
//   ...     var    address column: N zz, address[i] - address[i-1] (address[-1] = 0)
//   ...     var    size column: N varints
//   ...     var    stack column: N varints (stack id)
//   ...     var    scope column: N varints (scope id)
//   ...     var    aux column: N varints
//
// Columns keep like values together, so the whole body then compresses well
// with zstd (encoding 1: pages.data is one zstd frame of the body).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "memtide_common/event.h"

namespace memtide {

inline constexpr uint32_t kPageMagic = 0x3150544d;  // "MTP1"
inline constexpr uint32_t kMaxPageEvents = 1u << 20;
inline constexpr int kPageEncodingZstd = 1;

// Worst-case body size for n events.
size_t page_body_bound(size_t n);

// Encodes events (in seq order, one thread) into `body`; returns its size.
size_t encode_page_body(std::span<const EventRecord> events, std::vector<uint8_t>& body);

// Decodes a body; on failure returns false and says why in `error`.
bool decode_page_body(const uint8_t* body, size_t size, std::vector<EventRecord>& out,
                      std::string& error);

// Compresses a body into `blob` (zstd at `level`); false only on zstd failure.
bool compress_page(const std::vector<uint8_t>& body, size_t body_size, int level,
                   std::vector<uint8_t>& blob);

// The same with a reusable zstd context: the writer compresses a page every
// few milliseconds, and a fresh context per page costs an allocation of over
// a megabyte each time.
class PageCompressor {
 public:
  PageCompressor();
  ~PageCompressor();
  PageCompressor(const PageCompressor&) = delete;
  PageCompressor& operator=(const PageCompressor&) = delete;
  bool compress(const std::vector<uint8_t>& body, size_t body_size, int level,
                std::vector<uint8_t>& blob);

 private:
  void* context_;
};

// Decompresses and decodes a stored page of the given encoding.
bool decode_stored_page(int encoding, const void* blob, size_t blob_size, size_t body_size,
                        std::vector<EventRecord>& out, std::string& error);

}  // namespace memtide
