// ArenaAllocator: the `--pool` allocator.
//
// It takes memory from the system in large chunks and hands out blocks from them with a best-fit
// free list per chunk, kept sorted by offset so that a freed block merges with free neighbours
// (the scheme of ggml-alloc's dynamic allocator). Chunks are kept until the arena dies, so once
// the first training step has sized the arena, later steps make no calls to the C allocator.
//
// A profiler sees only the chunks as heap blocks. So every block handed out is reported through
// the annotate API (memtide_pool_allocated / memtide_pool_freed): layer-level blocks show up
// inside the pool, with the scope and stack of the code that asked for them.
//
//   engine::ArenaAllocator arena(4 << 20);   // 4 MiB chunks
//   engine::Tensor t = engine::Tensor::empty({64, 128}, engine::DType::F32, arena);
//   // t lives inside a chunk; when the last handle to it goes, its bytes rejoin the free list.
#pragma once

#include <cstddef>
#include <vector>

#include "allocator.h"

namespace engine {

class ArenaAllocator final : public Allocator {
 public:
  static constexpr size_t kDefaultChunkBytes = size_t{4} << 20;

  // `name` must outlive the arena (the profiler keeps the pointer until it copies the string).
  explicit ArenaAllocator(size_t chunk_bytes = kDefaultChunkBytes,
                          const char* name = "engine.arena");
  ~ArenaAllocator() override;

  size_t chunk_count() const { return chunks_.size(); }
  // Size of the largest free range, for fragmentation checks.
  size_t largest_free_range() const;

 protected:
  void* do_allocate(size_t bytes) override;
  void do_deallocate(void* p, size_t bytes) override;

 private:
  struct Range {
    size_t offset;
    size_t size;
  };
  struct Chunk {
    std::byte* base;
    size_t size;
    std::vector<Range> free;  // sorted by offset, never two touching ranges
  };

  Chunk& add_chunk(size_t min_bytes);
  Chunk& chunk_of(const void* p);

  std::vector<Chunk> chunks_;
  size_t chunk_bytes_;
};

}  // namespace engine
