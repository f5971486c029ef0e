#include "block_replay.h"

namespace memtide::analysis {

namespace {

AllocFamily heap_family(EventKind kind) {
  switch (kind) {
    case EventKind::kNew:
    case EventKind::kNewNothrow:
    case EventKind::kDelete:
      return AllocFamily::kNew;
    case EventKind::kNewArray:
    case EventKind::kNewArrayNothrow:
    case EventKind::kDeleteArray:
      return AllocFamily::kNewArray;
    default:
      return AllocFamily::kMalloc;
  }
}

bool is_mapping(EventKind k) {
  return k == EventKind::kMmap || k == EventKind::kMremap || k == EventKind::kMunmap ||
         k == EventKind::kMremapUnmap;
}

}  // namespace

void BlockReplay::event(const EventRecord& e, int64_t thread_id) {
  ++stats_.events;
  const EventKind k = e.kind;
  if (k == EventKind::kStep) {
    step_ = static_cast<int64_t>(e.aux);
    sink_.step(step_, e, thread_id, live_heap_);
  } else if (k == EventKind::kPoolAlloc) {
    open(e, thread_id, kPool, AllocFamily::kPool, -1, int64_t(e.aux));
  } else if (k == EventKind::kPoolFree) {
    close(kPool, e, thread_id);
  } else if (k == EventKind::kReallocInPlace) {
    // The block changes size where it is: one block ends, the resized one starts.
    close(kHeap, e, thread_id);
    open(e, thread_id, kHeap, AllocFamily::kMalloc, -1, -1);
  } else if (is_mapping(k)) {
    return;  // mappings are not blocks (see docs/trace-format.md)
  } else if (is_allocation(k)) {
    open(e, thread_id, kHeap, heap_family(k), -1, -1);
  } else if (is_deallocation(k)) {
    close(kHeap, e, thread_id);
  } else if (is_gpu_allocation(k)) {
    open(e, thread_id, space_of_gpu(gpu_memory_class(k)), AllocFamily::kGpu,
         int64_t(unpack_gpu_aux(e.aux).device), -1);
  } else if (is_gpu_deallocation(k)) {
    close_gpu(e, thread_id);
  }
}

void BlockReplay::open(const EventRecord& e, int64_t thread_id, int space, AllocFamily family,
                       int64_t device, int64_t pool) {
  const Block block{next_id_++, e.kind,  family, device, e.address, e.size,   thread_id,
                    e.scope,    e.stack, step_,  pool,   e.seq,     e.time_ns};
  if (space == space_of_gpu(GpuMemoryClass::kMapped)) {
    auto [it, inserted] = mapped_.try_emplace(e.address, block);
    if (!inserted) {
      end(it->second, nullptr, 0, false);
      it->second = block;
    }
    sink_.opened(block);
    return;
  }
  auto [it, inserted] = live_[space].try_emplace(e.address, block);
  if (!inserted) {
    // A block allocated again at an address whose block was never freed:
    // the free was lost (a trace cut short). The old block stays unfreed.
    if (space == kHeap) live_heap_ -= int64_t(it->second.size);
    end(it->second, nullptr, 0, false);
    it->second = block;
  }
  if (space == kHeap) {
    live_heap_ += int64_t(e.size);
    if (live_heap_ > stats_.peak_heap_bytes) {
      stats_.peak_heap_bytes = live_heap_;
      stats_.peak_time_ns = e.time_ns;
      stats_.peak_seq = e.seq;
    }
  }
  sink_.opened(block);
}

void BlockReplay::close(int space, const EventRecord& e, int64_t thread_id) {
  auto& live = live_[space];
  auto it = live.find(e.address);
  if (it == live.end()) {
    if (e.kind != EventKind::kReallocInPlace) {
      ++stats_.unmatched_frees;
      sink_.unmatched_free(e, thread_id);
    }
    return;
  }
  const bool mismatch = space == kHeap && e.kind != EventKind::kReallocInPlace &&
                        heap_family(e.kind) != it->second.family;
  if (space == kHeap) live_heap_ -= int64_t(it->second.size);
  end(it->second, &e, thread_id, mismatch);
  live.erase(it);
}

void BlockReplay::close_gpu(const EventRecord& e, int64_t thread_id) {
  if (e.kind == EventKind::kCudaVmmUnmap) {
    bool any = false;
    for (auto it = mapped_.lower_bound(e.address);
         it != mapped_.end() && it->first < e.address + e.size;) {
      end(it->second, &e, thread_id, false);
      it = mapped_.erase(it);
      any = true;
    }
    if (!any) {
      ++stats_.unmatched_frees;
      sink_.unmatched_free(e, thread_id);
    }
    return;
  }
  EventKind candidates[3];
  const int n = gpu_kinds_freed_by(e.kind, candidates);
  for (int i = 0; i < n; ++i) {
    auto& live = live_[space_of_gpu(gpu_memory_class(candidates[i]))];
    auto it = live.find(e.address);
    if (it == live.end()) continue;
    end(it->second, &e, thread_id, false);
    live.erase(it);
    return;
  }
  ++stats_.unmatched_frees;
  sink_.unmatched_free(e, thread_id);
}

void BlockReplay::end(const Block& block, const EventRecord* freed, int64_t thread_id,
                      bool mismatch) {
  ++stats_.allocations;
  if (freed == nullptr) ++stats_.live_at_end;
  sink_.block(block, BlockEnd{freed, thread_id, step_, mismatch});
}

IndexStats BlockReplay::finish() {
  for (auto& space : live_)
    for (auto& [address, block] : space) end(block, nullptr, 0, false);
  for (auto& [address, block] : mapped_) end(block, nullptr, 0, false);
  for (auto& space : live_) space.clear();
  mapped_.clear();
  return stats_;
}

}  // namespace memtide::analysis
