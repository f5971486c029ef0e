// The event page: how a batch of one thread's events is stored in the trace
// (pages.data). Layout of the uncompressed body (all integers little-endian;
// "varint" is unsigned LEB128, "zz" a zigzag-mapped varint):
//
//   offset  size   field
//   0       4      magic "MTP4" (0x4d 0x54 0x50 0x34); "MTP3", "MTP2", "MTP1" still decode
//   4       4      u32 event count N (1 .. kMaxPageEvents)
//   8       8      u64 base sequence number (seq of the first event)
//   16      8      u64 base time in ns (time of the first event)
//   24      4      u32 time unit U in ns (>= 1): every time delta is a multiple of U
//   28      4      u32 flags: bit 0 (kPageTimeRuns) the time column holds runs;
//                    other bits 0 (MTP3 and older: reserved, 0)
//   32      N      kind column: one EventKind byte per event
//   ...     var    seq column: N varints, seq[i] - seq[i-1] (seq[-1] = base)
//   ...     var    time column: with d[i] = (time[i] - time[i-1]) / U
//                    (time[-1] = base), N zz d[i]; or, with kPageTimeRuns,
//                    runs: a varint count Z of events with d = 0, then,
//                    unless those end the page, a zz d != 0 for the next
//                    event, repeated until N events are covered (the encoder
//                    keeps the shorter)
//   ...     var    size column: per heap allocation (kinds 1-13) a site
//                    code S: S = 0: a new site, its size follows (its stack
//                    code is in the stack column); S >= 1: the size and
//                    stack of the S-th most recent of the page's last 16
//                    sites, (size, stack) pairs.
//                    Per deallocation a code C: C = 0: size 0; C = 1: the
//                    size of the event its address refers back to; C >= 2:
//                    size C - 2. Per other event its size.
//   ...     var    address column: per event a varint R:
//                    R = 0: a zz literal follows, address[i] - L, L the previous
//                           literal of the page (0 at first); L becomes address[i]
//                           (a heap allocation's literal is relative to where
//                           the previous one's block ends, FreshBlockBase)
//                    R = 1: a heap allocation that reuses the block most recently
//                           released in the page of its size class (the latest
//                           of up to 16 remembered per class, last in first out)
//                    R >= 2: address[i] = address[i - (R - 1)]
//   ...     var    stack column: per heap allocation of a new site a code:
//                    0 = the stack of the page's previous heap allocation of
//                    the same size, else stack id + 1; per other event that
//                    is not a heap allocation, the stack id
//   ...     var    scope column: N varints (scope id)
//   ...     var    aux column: N varints
//
// The size, address and stack columns are split: first the entries of the
// heap allocations in event order, then those of every other event. MTP3
// differs in two ways: its time column is always N zz d[i], and every heap
// allocation has its size in the size column and its stack code in the stack
// column. MTP2 has its size, address and stack columns in event order.
// Events mostly come faster than the time unit, so runs make most of them
// free; a program allocates from a few sites in turn, and a recent site costs
// one small code for both fields.
//
// Size classes model how allocators reuse memory (glibc hands the most
// recently freed chunk of a size class back first): class(s) = (s + 23) / 16,
// for s up to 16 KiB. A released block's size is that of the event its
// address refers back to when that is a heap allocation or an in-place
// realloc, else its own recorded size. Only heap frees (free, delete,
// delete[], realloc_free) register a released block.
//
// Columns keep like values together, so the whole body then compresses well
// with zstd (encoding 1: pages.data is one zstd frame of the body). With the
// back-references, freeing a block allocated earlier in the page and
// allocating a just-freed block cost a small repeating number each, not a
// pointer's worth of noise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "memtide_common/event.h"

namespace memtide {

// "MTP4"; bodies of the older "MTP3" (a time delta per event), "MTP2"
// (besides, size, address and stack columns in event order) and "MTP1"
// (besides, every address literal relative to the previous literal) still
// decode.
inline constexpr uint32_t kPageMagic = 0x3450544d;
inline constexpr uint32_t kPageMagicV3 = 0x3350544d;
inline constexpr uint32_t kPageMagicV2 = 0x3250544d;
inline constexpr uint32_t kPageMagicV1 = 0x3150544d;
inline constexpr uint32_t kMaxPageEvents = 1u << 20;
// MTP4 header flag (offset 28): the time column holds runs.
inline constexpr uint32_t kPageTimeRuns = 1;
inline constexpr int kPageEncodingZstd = 1;

// Worst-case body size for n events.
size_t page_body_bound(size_t n);

// Encodes pages, whole or a batch of events at a time: the writer gathers a
// thread's batches into one large page and encodes each batch as it arrives,
// so that closing the page leaves only the compression to do. Keeps its
// tables between pages so that encoding allocates nothing per page.
class PageEncoder {
 public:
  PageEncoder();
  ~PageEncoder();
  PageEncoder(const PageEncoder&) = delete;
  PageEncoder& operator=(const PageEncoder&) = delete;

  // Encodes events (in seq order, one thread) into `body`; returns its size,
  // 0 when memory is exhausted. `time_unit` divides every time delta (1 when
  // they are not all multiples).
  size_t encode(std::span<const EventRecord> events, uint32_t time_unit,
                std::vector<uint8_t>& body);

  // A page in batches: begin(), then add() for each batch, then finish().
  // `max_events` bounds the page; an event may refer back to any earlier
  // event of the page, of which the encoder keeps what it needs (17 bytes an
  // event), so the caller need not keep the batches.
  void begin(uint32_t time_unit, uint32_t max_events);
  // False, and nothing of the batch added, when memory is exhausted, the page
  // would exceed `max_events`, or a time delta is not a whole number of units
  // (begin a page with unit 1 for those).
  bool add(std::span<const EventRecord> batch);
  // Writes the body of every event added since begin() into `body` and
  // returns its size.
  size_t finish(std::vector<uint8_t>& body);
  uint32_t added() const;

 private:
  struct State;
  State* state_;
};

// Convenience: one-off encoding with time unit 1.
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

// Decompresses one zstd frame that must hold exactly `body_size` bytes;
// `what` names the data in the error ("page data").
bool decompress_frame(const void* blob, size_t blob_size, size_t body_size, const char* what,
                      std::vector<uint8_t>& body, std::string& error);

// Decompresses and decodes a stored page of the given encoding.
bool decode_stored_page(int encoding, const void* blob, size_t blob_size, size_t body_size,
                        std::vector<EventRecord>& out, std::string& error);

}  // namespace memtide
