#include "memtide/analysis/allocation_index.h"

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "memtide_common/gpu_event.h"
#include "sqlite_util.h"

namespace memtide::analysis {

namespace {

constexpr int kIndexVersion = 1;

constexpr const char* kIndexSchema = R"sql(
DROP VIEW IF EXISTS live_at_end;
DROP VIEW IF EXISTS mismatched_frees;
DROP TABLE IF EXISTS allocations;
DROP TABLE IF EXISTS unmatched_frees;
DROP TABLE IF EXISTS steps;
CREATE TABLE allocations(
  id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, family INTEGER NOT NULL, device INTEGER,
  address INTEGER NOT NULL, size INTEGER NOT NULL, thread_id INTEGER NOT NULL,
  scope INTEGER NOT NULL, stack INTEGER NOT NULL, step INTEGER, pool INTEGER,
  alloc_seq INTEGER NOT NULL, alloc_time_ns INTEGER NOT NULL,
  free_seq INTEGER, free_time_ns INTEGER, free_kind INTEGER, free_thread_id INTEGER,
  free_stack INTEGER, free_step INTEGER, mismatch INTEGER NOT NULL);
CREATE TABLE unmatched_frees(
  seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, kind INTEGER NOT NULL,
  address INTEGER NOT NULL, thread_id INTEGER NOT NULL, scope INTEGER NOT NULL,
  stack INTEGER NOT NULL);
CREATE TABLE steps(step INTEGER NOT NULL, seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL,
  thread_id INTEGER NOT NULL, live_heap_bytes INTEGER NOT NULL);
CREATE VIEW live_at_end AS SELECT * FROM allocations WHERE free_seq IS NULL;
CREATE VIEW mismatched_frees AS SELECT * FROM allocations WHERE mismatch = 1;
)sql";

constexpr const char* kIndexIndexes = R"sql(
CREATE INDEX allocations_by_stack ON allocations(stack);
CREATE INDEX allocations_live ON allocations(address) WHERE free_seq IS NULL;
)sql";

// Address spaces: a heap block, a pool sub-allocation inside a heap block and
// a GPU pointer may share an address without being the same block.
enum class Space : int { kHeap = 0, kPool = 1, kGpuFirst = 2 };

int space_of_gpu(GpuMemoryClass c) {
  return static_cast<int>(Space::kGpuFirst) + static_cast<int>(c);
}
constexpr int kSpaces =
    static_cast<int>(Space::kGpuFirst) + static_cast<int>(GpuMemoryClass::kCount);

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

struct Row {
  int64_t id;
  EventKind kind;
  AllocFamily family;
  int64_t device;  // -1 for host
  uint64_t address, size;
  int64_t thread_id;
  uint32_t scope, stack;
  int64_t step;  // -1 before the first step
  int64_t pool;  // -1 for none
  uint64_t seq, time_ns;
};

std::string pages_signature(const TraceFile& trace) {
  Statement s(trace.db(),
              "SELECT count(*), coalesce(max(id), 0), coalesce(sum(event_count), 0) FROM pages");
  s.step();
  return std::to_string(s.column_int64(0)) + ":" + std::to_string(s.column_int64(1)) + ":" +
         std::to_string(s.column_int64(2)) + ":v" + std::to_string(kIndexVersion);
}

constexpr size_t kColumns = 20;
constexpr size_t kBatchRows = 64;

std::string insert_sql(size_t rows) {
  std::string sql =
      "INSERT INTO allocations(id, kind, family, device, address, size, thread_id, scope, stack, "
      "step, pool, alloc_seq, alloc_time_ns, free_seq, free_time_ns, free_kind, free_thread_id, "
      "free_stack, free_step, mismatch) VALUES";
  for (size_t r = 0; r < rows; ++r) {
    sql += r ? ",(" : "(";
    for (size_t c = 0; c < kColumns; ++c) sql += c ? ",?" : "?";
    sql += ")";
  }
  return sql;
}

class Indexer {
 public:
  explicit Indexer(sqlite3* db)
      : insert_(db, insert_sql(1).c_str()),
        batch_insert_(db, insert_sql(kBatchRows).c_str()),
        unmatched_(db,
                   "INSERT INTO unmatched_frees(seq, time_ns, kind, address, thread_id, scope, "
                   "stack) VALUES(?,?,?,?,?,?,?)"),
        step_row_(db,
                  "INSERT INTO steps(step, seq, time_ns, thread_id, live_heap_bytes) "
                  "VALUES(?,?,?,?,?)") {}

  void event(const EventRecord& e, int64_t thread_id) {
    ++stats_.events;
    const EventKind k = e.kind;
    if (k == EventKind::kStep) {
      step_ = static_cast<int64_t>(e.aux);
      step_row_.reset();
      step_row_.bind(1, step_);
      step_row_.bind(2, int64_t(e.seq));
      step_row_.bind(3, int64_t(e.time_ns));
      step_row_.bind(4, thread_id);
      step_row_.bind(5, live_heap_);
      step_row_.step();
    } else if (is_allocation(k) && k != EventKind::kMmap && k != EventKind::kMremap) {
      open(e, thread_id, k == EventKind::kPoolAlloc ? Space::kPool : Space::kHeap);
    } else if (k == EventKind::kReallocInPlace) {
      // The block changes size where it is: one row ends, the resized one starts.
      close_in(static_cast<int>(Space::kHeap), e, thread_id);
      open(e, thread_id, Space::kHeap);
    } else if (k == EventKind::kPoolFree) {
      close_in(static_cast<int>(Space::kPool), e, thread_id);
    } else if (is_deallocation(k) && k != EventKind::kMunmap && k != EventKind::kMremapUnmap) {
      close_in(static_cast<int>(Space::kHeap), e, thread_id);
    } else if (is_gpu_allocation(k)) {
      open_gpu(e, thread_id);
    } else if (is_gpu_deallocation(k)) {
      close_gpu(e, thread_id);
    }
  }

  IndexStats finish() {
    for (auto& space : live_)
      for (auto& [address, row] : space) write(row, nullptr, 0, false);
    flush_rest();
    return stats_;
  }

 private:
  void open(const EventRecord& e, int64_t thread_id, Space space) {
    Row row{next_id_++,
            e.kind,
            space == Space::kPool ? AllocFamily::kPool : heap_family(e.kind),
            -1,
            e.address,
            e.size,
            thread_id,
            e.scope,
            e.stack,
            step_,
            space == Space::kPool ? static_cast<int64_t>(e.aux) : -1,
            e.seq,
            e.time_ns};
    auto& live = live_[static_cast<int>(space)];
    auto [it, inserted] = live.try_emplace(e.address, row);
    if (!inserted) {
      // A block allocated twice at one address without a free between: the
      // free was lost (a trace cut short). Keep the old row, never freed.
      write(it->second, nullptr, 0, false);
      it->second = row;
    }
    if (space == Space::kHeap) {
      live_heap_ += int64_t(e.size);
      if (live_heap_ > stats_.peak_heap_bytes) {
        stats_.peak_heap_bytes = live_heap_;
        stats_.peak_time_ns = e.time_ns;
        stats_.peak_seq = e.seq;
      }
    }
  }

  void open_gpu(const EventRecord& e, int64_t thread_id) {
    const GpuMemoryClass c = gpu_memory_class(e.kind);
    const int64_t device = unpack_gpu_aux(e.aux).device;
    Row row{next_id_++, e.kind,    AllocFamily::kGpu, device,  e.address,
            e.size,     thread_id, e.scope,           e.stack, step_,
            -1,         e.seq,     e.time_ns};
    auto& live = live_[space_of_gpu(c)];
    auto [it, inserted] = live.try_emplace(e.address, row);
    if (!inserted) {
      write(it->second, nullptr, 0, false);
      it->second = row;
    }
  }

  void close_gpu(const EventRecord& e, int64_t thread_id) {
    if (e.kind == EventKind::kCudaVmmUnmap) {
      auto& mapped = live_[space_of_gpu(GpuMemoryClass::kMapped)];
      bool any = false;
      for (auto it = mapped.lower_bound(e.address);
           it != mapped.end() && it->first < e.address + e.size;) {
        write(it->second, &e, thread_id, false);
        it = mapped.erase(it);
        any = true;
      }
      if (!any) unmatched(e, thread_id);
      return;
    }
    EventKind candidates[3];
    const int n = gpu_kinds_freed_by(e.kind, candidates);
    for (int i = 0; i < n; ++i) {
      auto& live = live_[space_of_gpu(gpu_memory_class(candidates[i]))];
      auto it = live.find(e.address);
      if (it == live.end()) continue;
      write(it->second, &e, thread_id, false);
      live.erase(it);
      return;
    }
    unmatched(e, thread_id);
  }

  void close_in(int space, const EventRecord& e, int64_t thread_id) {
    auto& live = live_[space];
    auto it = live.find(e.address);
    if (it == live.end()) {
      if (e.kind != EventKind::kReallocInPlace) unmatched(e, thread_id);
      return;
    }
    const bool heap = space == static_cast<int>(Space::kHeap);
    const bool mismatch =
        heap && e.kind != EventKind::kReallocInPlace && heap_family(e.kind) != it->second.family;
    if (heap) live_heap_ -= int64_t(it->second.size);
    write(it->second, &e, thread_id, mismatch);
    live.erase(it);
  }

  void unmatched(const EventRecord& e, int64_t thread_id) {
    ++stats_.unmatched_frees;
    Statement& s = unmatched_;
    s.reset();
    s.bind(1, int64_t(e.seq));
    s.bind(2, int64_t(e.time_ns));
    s.bind(3, int64_t(e.kind));
    s.bind(4, int64_t(e.address));
    s.bind(5, thread_id);
    s.bind(6, int64_t(e.scope));
    s.bind(7, int64_t(e.stack));
    s.step();
  }

  // One row's 20 columns; nullopt is NULL.
  using Values = std::array<std::optional<int64_t>, kColumns>;

  void write(const Row& row, const EventRecord* freed, int64_t free_thread, bool mismatch) {
    ++stats_.allocations;
    if (freed == nullptr) ++stats_.live_at_end;
    Values& v = pending_[pending_count_++];
    v = {row.id,
         int64_t(row.kind),
         int64_t(row.family),
         row.device >= 0 ? std::optional<int64_t>(row.device) : std::nullopt,
         int64_t(row.address),
         int64_t(row.size),
         row.thread_id,
         int64_t(row.scope),
         int64_t(row.stack),
         row.step >= 0 ? std::optional<int64_t>(row.step) : std::nullopt,
         row.pool >= 0 ? std::optional<int64_t>(row.pool) : std::nullopt,
         int64_t(row.seq),
         int64_t(row.time_ns),
         std::nullopt,
         std::nullopt,
         std::nullopt,
         std::nullopt,
         std::nullopt,
         std::nullopt,
         int64_t(mismatch)};
    if (freed != nullptr) {
      v[13] = int64_t(freed->seq);
      v[14] = int64_t(freed->time_ns);
      v[15] = int64_t(freed->kind);
      v[16] = free_thread;
      v[17] = int64_t(freed->stack);
      if (step_ >= 0) v[18] = step_;
    }
    if (pending_count_ == kBatchRows) flush(batch_insert_, kBatchRows);
  }

  // Rows go in kBatchRows at a time: one statement per batch costs SQLite's
  // per-statement work once, not once per row.
  void flush(Statement& statement, size_t rows) {
    statement.reset();
    int index = 1;
    for (size_t r = 0; r < rows; ++r)
      for (const std::optional<int64_t>& value : pending_[r]) {
        if (value) statement.bind(index, *value);
        ++index;
      }
    statement.step();
    pending_count_ = 0;
  }

  void flush_rest() {
    const size_t rows = pending_count_;
    for (size_t r = 0; r < rows; ++r) {
      pending_[0] = pending_[r];
      pending_count_ = 1;
      flush(insert_, 1);
    }
  }

  Statement insert_, batch_insert_, unmatched_, step_row_;
  std::array<Values, kBatchRows> pending_;
  size_t pending_count_ = 0;
  int64_t live_heap_ = 0;
  std::map<uint64_t, Row> live_[kSpaces];
  int64_t next_id_ = 1;
  int64_t step_ = -1;
  IndexStats stats_;
};

}  // namespace

IndexStats ensure_index(const TraceFile& trace) {
  const auto start = std::chrono::steady_clock::now();
  const std::string signature = pages_signature(trace);
  IndexStats stats;
  if (trace.meta("index_signature") == signature) {
    Statement count(trace.db(),
                    "SELECT count(*), coalesce(sum(free_seq IS NULL), 0) FROM allocations");
    count.step();
    stats.allocations = uint64_t(count.column_int64(0));
    stats.live_at_end = uint64_t(count.column_int64(1));
    Statement unmatched(trace.db(), "SELECT count(*) FROM unmatched_frees");
    unmatched.step();
    stats.unmatched_frees = uint64_t(unmatched.column_int64(0));
    stats.peak_heap_bytes = std::stoll(trace.meta("index_peak_heap_bytes", "0"));
    stats.peak_time_ns = std::stoull(trace.meta("index_peak_time_ns", "0"));
    stats.peak_seq = std::stoull(trace.meta("index_peak_seq", "0"));
    return stats;
  }
  sqlite3* db = trace.db();
  // The index is derived data, rebuilt from the pages whenever in doubt: a
  // crash mid-build loses nothing that matters, so skip the fsyncs.
  exec_sql(db, "PRAGMA synchronous = OFF");
  exec_sql(db, "BEGIN IMMEDIATE");
  try {
    exec_sql(db, kIndexSchema);
    {
      Indexer indexer(db);
      trace.for_each_event([&](const EventRecord& e, int64_t thread) { indexer.event(e, thread); });
      stats = indexer.finish();
    }
    exec_sql(db, kIndexIndexes);
    Statement meta(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
    auto put = [&meta](const char* key, int64_t value) {
      meta.reset();
      meta.bind(1, std::string(key));
      meta.bind(2, value);
      meta.step();
    };
    put("index_peak_heap_bytes", stats.peak_heap_bytes);
    put("index_peak_time_ns", int64_t(stats.peak_time_ns));
    put("index_peak_seq", int64_t(stats.peak_seq));
    meta.reset();
    meta.bind(1, std::string("index_signature"));
    meta.bind(2, signature);
    meta.step();
    exec_sql(db, "COMMIT");
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  stats.rebuilt = true;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace memtide::analysis
