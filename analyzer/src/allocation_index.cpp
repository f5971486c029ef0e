#include "memtide/analysis/allocation_index.h"

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "block_replay.h"
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

// Writes each block as one row of `allocations`.
class SqlSink : public BlockSink {
 public:
  explicit SqlSink(sqlite3* db)
      : insert_(db, insert_sql(1).c_str()),
        batch_insert_(db, insert_sql(kBatchRows).c_str()),
        unmatched_(db,
                   "INSERT INTO unmatched_frees(seq, time_ns, kind, address, thread_id, scope, "
                   "stack) VALUES(?,?,?,?,?,?,?)"),
        step_row_(db,
                  "INSERT INTO steps(step, seq, time_ns, thread_id, live_heap_bytes) "
                  "VALUES(?,?,?,?,?)") {}

  void block(const Block& b, const BlockEnd& end) override {
    Values& v = pending_[pending_count_++];
    auto optional = [](int64_t x) { return x >= 0 ? std::optional<int64_t>(x) : std::nullopt; };
    v = {b.id,
         int64_t(b.kind),
         int64_t(b.family),
         optional(b.device),
         int64_t(b.address),
         int64_t(b.size),
         b.thread_id,
         int64_t(b.scope),
         int64_t(b.stack),
         optional(b.step),
         optional(b.pool),
         int64_t(b.seq),
         int64_t(b.time_ns),
         std::nullopt,
         std::nullopt,
         std::nullopt,
         std::nullopt,
         std::nullopt,
         std::nullopt,
         int64_t(end.mismatch)};
    if (end.freed != nullptr) {
      v[13] = int64_t(end.freed->seq);
      v[14] = int64_t(end.freed->time_ns);
      v[15] = int64_t(end.freed->kind);
      v[16] = end.thread_id;
      v[17] = int64_t(end.freed->stack);
      v[18] = optional(end.step);
    }
    if (pending_count_ == kBatchRows) flush(batch_insert_, kBatchRows);
  }

  void unmatched_free(const EventRecord& e, int64_t thread_id) override {
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

  void step(int64_t step, const EventRecord& e, int64_t thread_id, int64_t live_heap) override {
    Statement& s = step_row_;
    s.reset();
    s.bind(1, step);
    s.bind(2, int64_t(e.seq));
    s.bind(3, int64_t(e.time_ns));
    s.bind(4, thread_id);
    s.bind(5, live_heap);
    s.step();
  }

  // The rows still pending, one statement each.
  void flush_rest() {
    const size_t rows = pending_count_;
    for (size_t r = 0; r < rows; ++r) {
      pending_[0] = pending_[r];
      pending_count_ = 1;
      flush(insert_, 1);
    }
  }

 private:
  using Values = std::array<std::optional<int64_t>, kColumns>;

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

  Statement insert_, batch_insert_, unmatched_, step_row_;
  std::array<Values, kBatchRows> pending_;
  size_t pending_count_ = 0;
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
      SqlSink sink(db);
      BlockReplay replay(sink);
      trace.for_each_event([&](const EventRecord& e, int64_t thread) { replay.event(e, thread); });
      stats = replay.finish();
      sink.flush_rest();
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
