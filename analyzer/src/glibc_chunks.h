// What glibc's malloc makes of a request, as far as the trace can tell: the
// chunk a heap block occupies in an arena, and whether a large block was
// mapped on its own. The trace holds requested sizes and user addresses only;
// chunk headers, bins and the top chunk are glibc's and not recorded, so the
// fragmentation analysis models them with the rules below (x86-64 and
// aarch64 glibc: SIZE_SZ 8, MALLOC_ALIGNMENT 16).
#pragma once

#include <algorithm>
#include <cstdint>

#include "memtide_common/event.h"

namespace memtide::analysis::glibc {

inline constexpr uint64_t kChunkHeader = 8;  // the size field before the user bytes
inline constexpr uint64_t kChunkAlign = 16;
inline constexpr uint64_t kMinChunk = 32;
inline constexpr uint64_t kPage = 4096;
// M_MMAP_THRESHOLD's initial value. glibc raises it (up to 32 MiB) when a
// mapped chunk is freed, after which blocks this large may come from an arena.
inline constexpr uint64_t kMmapThreshold = 128 * 1024;
// HEAP_MAX_SIZE: a thread arena's heap is at most this large, so two arena
// blocks further apart than this cannot be in the same heap.
inline constexpr uint64_t kHeapMaxSize = 64ull << 20;

// request2size: the chunk a request of `bytes` takes in an arena. Two user
// pointers of adjacent chunks lie exactly this far apart, so the distance
// beyond it is free chunk space.
inline uint64_t chunk_size(uint64_t bytes) {
  return std::max(kMinChunk, (bytes + kChunkHeader + kChunkAlign - 1) & ~(kChunkAlign - 1));
}

// The alignment a heap allocation event asked for (16 when none).
inline uint64_t requested_alignment(EventKind kind, uint64_t aux) {
  switch (kind) {
    case EventKind::kPosixMemalign:
    case EventKind::kAlignedAlloc:
    case EventKind::kMemalign:
    case EventKind::kNew:
    case EventKind::kNewArray:
    case EventKind::kNewNothrow:
    case EventKind::kNewArrayNothrow:
      return std::max<uint64_t>(aux, kChunkAlign);
    case EventKind::kValloc:
    case EventKind::kPvalloc:
      return kPage;
    default:
      return kChunkAlign;  // aux is nmemb or 0 for the other kinds
  }
}

// A mapped chunk starts on a page with a 16-byte header, so its user pointer
// is 16 bytes past a page boundary, or the first address of the requested
// alignment past it. A block at least as large as the initial threshold
// there is taken as mapped; an arena block of that size sits there by chance
// one time in 256.
inline bool is_mapped_chunk(uint64_t address, uint64_t size, uint64_t alignment) {
  if (size < kMmapThreshold) return false;
  const uint64_t offset = alignment <= kChunkAlign ? kChunkAlign : alignment % kPage;
  return address % kPage == offset;
}

// Pages a mapped chunk takes: the chunk and its header, rounded up to pages.
inline uint64_t mapped_chunk_bytes(uint64_t size) {
  return (chunk_size(size) + kChunkHeader + kPage - 1) / kPage * kPage;
}

}  // namespace memtide::analysis::glibc
