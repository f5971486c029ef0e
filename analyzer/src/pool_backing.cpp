#include "pool_backing.h"

namespace memtide::analysis {

namespace {

class BackingSink : public BlockSink {
 public:
  void opened(const Block& b) override {
    index.opened(b);
    if (b.family != AllocFamily::kPool) return;
    if (const Block* container = index.container_of(b)) backing.try_emplace(container->id, b.pool);
  }
  void block(const Block& b, const BlockEnd&) override { index.ended(b); }
  void unmatched_free(const EventRecord&, int64_t) override {}
  void step(int64_t, const EventRecord&, int64_t, int64_t) override {}

  PoolBackingIndex index;
  std::unordered_map<int64_t, int64_t> backing;
};

}  // namespace

std::unordered_map<int64_t, int64_t> find_pool_backing(const TraceFile& trace) {
  BackingSink sink;
  BlockReplay replay(sink);
  trace.for_each_event([&](const EventRecord& e, int64_t thread) { replay.event(e, thread); });
  replay.finish();
  return std::move(sink.backing);
}

}  // namespace memtide::analysis
