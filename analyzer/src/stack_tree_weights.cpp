// The measure per stack, as queries on the allocation index: each filter
// (time range, scope, leak category) is a WHERE on the block rows, so the
// GUI's re-query after a new selection costs one scan of the index, never a
// replay of the events. The peak and the temporaries need the order of
// events, which the rows also hold (alloc_seq, free_seq, per thread).
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>

#include "memtide/analysis/allocation_index.h"
#include "memtide/analysis/stack_tree.h"
#include "sqlite_util.h"

namespace memtide::analysis {

namespace {

// Heap blocks: what the host peak and the folded export count.
constexpr const char* kHeap = "a.family IN (1, 2, 3)";

// The parameters of FilteredQuery.
constexpr const char *kRangeStart = "?1", *kRangeEnd = "?2", *kScope = "?3";

// Lets a cancel stop a long query: SQLite calls back every few thousand
// instructions and an answer of 1 interrupts the statement.
class CancelWhileQuerying {
 public:
  explicit CancelWhileQuerying(const TraceFile& trace) : trace_(trace) {
    if (trace.scan_control())
      sqlite3_progress_handler(trace.db(), 10000, &CancelWhileQuerying::check,
                               trace.scan_control());
  }
  ~CancelWhileQuerying() {
    if (trace_.scan_control()) sqlite3_progress_handler(trace_.db(), 0, nullptr, nullptr);
  }
  CancelWhileQuerying(const CancelWhileQuerying&) = delete;
  CancelWhileQuerying& operator=(const CancelWhileQuerying&) = delete;

  // A query interrupted by the cancel throws a plain TraceError: this says why.
  static void rethrow_if_cancelled(const TraceFile& trace) {
    if (trace.scan_control() && trace.scan_control()->cancelled.load())
      throw ScanCancelled("cancelled: " + trace.path());
  }

 private:
  static int check(void* control) {
    return static_cast<ScanControl*>(control)->cancelled.load() ? 1 : 0;
  }
  const TraceFile& trace_;
};

// The WHERE clause (after the heap condition) for the blocks a filter keeps.
struct BlockFilter {
  const StackTreeOptions& options;
  bool by_alloc_time;  // false for the peak, whose range picks a moment

  std::string sql() const {
    std::string where;
    if (by_alloc_time && options.has_time_range)
      where += std::string(" AND a.alloc_time_ns >= ") + kRangeStart + " AND a.alloc_time_ns < " +
               kRangeEnd;
    if (!options.scope.empty())
      where += std::string(" AND a.scope IN (SELECT id FROM scope_paths WHERE path = ") + kScope +
               " OR substr(path, 1, length(" + kScope + ") + 1) = " + kScope + " || '/')";
    return where;
  }
};

// A statement with the parameters of BlockFilter bound: ?1 and ?2 the time
// range, ?3 the scope, ?4 the peak's seq. Binding a number a query does not
// use is harmless (SQLite answers SQLITE_RANGE and nothing changes).
class FilteredQuery {
 public:
  FilteredQuery(const TraceFile& trace, const std::string& sql, const StackTreeOptions& options,
                uint64_t peak_seq = 0)
      : statement_(trace.db(), sql.c_str()) {
    statement_.bind(1, int64_t(options.start_ns));
    statement_.bind(2, int64_t(options.end_ns));
    statement_.bind(3, options.scope);
    statement_.bind(4, int64_t(peak_seq));
  }
  Statement* operator->() { return &statement_; }

 private:
  Statement statement_;
};

void add_rows(FilteredQuery& query, StackWeights& out) {
  while (query->step()) {
    StackWeight w;
    w.stack = uint32_t(query->column_int64(0));
    w.weight = uint64_t(query->column_int64(1));
    w.blocks = uint64_t(query->column_int64(2));
    if (w.weight == 0) continue;
    out.total += w.weight;
    out.stacks.push_back(w);
  }
}

bool has_table(const TraceFile& trace, const char* name) {
  Statement s(trace.db(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  s.bind(1, std::string(name));
  return s.step();
}

int leak_category_code(const std::string& category) {
  static const char* const kNames[] = {"not-freed", "definite", "indirect", "possible",
                                       "reachable"};
  for (int code = 0; code < 5; ++code)
    if (category == kNames[code]) return code;
  throw TraceError("unknown leak category '" + category +
                   "' (definite, indirect, possible, reachable, not-freed)");
}

// The live heap bytes after each event, from the rows: +size at alloc_seq,
// -size at free_seq (a realloc in place does both at one seq). Returns the
// first seq where the highest value was reached, and that value, over the
// events whose time is in the range; before any, the bytes live when the
// range began count as its peak (seq: the last event before it).
std::pair<uint64_t, uint64_t> find_peak_seq(const TraceFile& trace,
                                            const StackTreeOptions& options) {
  int64_t first = 1, last = INT64_MAX;
  if (options.has_time_range) {
    FilteredQuery bounds(
        trace,
        std::string("SELECT min(s), max(s) FROM (SELECT a.alloc_seq AS s, a.alloc_time_ns AS t "
                    "FROM allocations a WHERE ") +
            kHeap +
            " UNION ALL SELECT a.free_seq, a.free_time_ns FROM allocations a WHERE a.free_seq IS "
            "NOT NULL AND " +
            kHeap + ") WHERE t >= ?1 AND t < ?2",
        options);
    if (!bounds->step() || bounds->is_null(0)) return {0, 0};
    first = bounds->column_int64(0);
    last = bounds->column_int64(1);
  }
  Statement before(trace.db(),
                   "SELECT coalesce(sum(a.size), 0) FROM allocations a WHERE a.family IN (1, 2, 3) "
                   "AND a.alloc_seq < ?1 AND (a.free_seq IS NULL OR a.free_seq >= ?1)");
  before.bind(1, first);
  before.step();
  int64_t live = before.column_int64(0);
  uint64_t best_seq = uint64_t(first - 1);
  int64_t best = live;
  Statement changes(trace.db(),
                    "SELECT s, sum(d) FROM (SELECT a.alloc_seq AS s, a.size AS d FROM allocations "
                    "a WHERE a.family IN (1, 2, 3) AND a.alloc_seq BETWEEN ?1 AND ?2 UNION ALL "
                    "SELECT a.free_seq, -a.size FROM allocations a WHERE a.family IN (1, 2, 3) AND "
                    "a.free_seq BETWEEN ?1 AND ?2) GROUP BY s ORDER BY s");
  changes.bind(1, first);
  changes.bind(2, last);
  while (changes.step()) {
    live += changes.column_int64(1);
    if (live > best) {
      best = live;
      best_seq = uint64_t(changes.column_int64(0));
    }
  }
  return {best > 0 ? best_seq : 0, uint64_t(std::max<int64_t>(best, 0))};
}

uint64_t time_of_seq(const TraceFile& trace, uint64_t seq) {
  Statement s(trace.db(),
              "SELECT alloc_time_ns FROM allocations WHERE alloc_seq = ?1 UNION ALL "
              "SELECT free_time_ns FROM allocations WHERE free_seq = ?1 LIMIT 1");
  s.bind(1, int64_t(seq));
  return s.step() ? uint64_t(s.column_int64(0)) : 0;
}

void weigh_peak(const TraceFile& trace, const StackTreeOptions& options, StackWeights& out) {
  const auto [seq, bytes] = find_peak_seq(trace, options);
  if (bytes == 0) return;
  out.peak_seq = seq;
  out.peak_time_ns = time_of_seq(trace, seq);
  FilteredQuery q(trace,
                  std::string("SELECT a.stack, sum(a.size), count(*) FROM allocations a WHERE ") +
                      kHeap + " AND a.alloc_seq <= ?4 AND (a.free_seq IS NULL OR a.free_seq > ?4)" +
                      BlockFilter{options, false}.sql() + " GROUP BY a.stack",
                  options, seq);
  add_rows(q, out);
}

// Blocks whose free is the allocating thread's next event that allocates or
// frees (heap, pool or GPU; mappings are not such events), the rule of
// temporaries.h, read off the rows: a thread's events are the allocations it
// made, the frees it did and its unmatched frees. A realloc in place is one
// event (an allocation), not the free of the old block; VMM mappings and
// address reservations are not allocations there either.
constexpr const char* kTemporaryBlocks = R"sql(
  WITH events(thread, seq, block, allocates) AS (
    SELECT thread_id, alloc_seq, id, 1 FROM allocations WHERE kind NOT IN (101, 102)
    UNION ALL
    SELECT free_thread_id, free_seq, id, 0 FROM allocations
      WHERE free_seq IS NOT NULL AND free_kind != 36
    UNION ALL
    SELECT thread_id, seq, 0, 0 FROM unmatched_frees),
  ordered AS (
    SELECT block, allocates,
           lag(block) OVER per_thread AS previous_block,
           lag(allocates) OVER per_thread AS previous_allocates
    FROM events WINDOW per_thread AS (PARTITION BY thread ORDER BY seq))
  SELECT block FROM ordered
  WHERE allocates = 0 AND previous_allocates = 1 AND previous_block = block)sql";

void weigh_temporaries(const TraceFile& trace, const StackTreeOptions& options, StackWeights& out) {
  FilteredQuery q(trace,
                  std::string("SELECT a.stack, count(*), count(*) FROM allocations a WHERE ") +
                      kHeap + " AND a.id IN (" + kTemporaryBlocks + ")" +
                      BlockFilter{options, true}.sql() + " GROUP BY a.stack",
                  options);
  add_rows(q, out);
}

void weigh_leaks(const TraceFile& trace, const StackTreeOptions& options, StackWeights& out) {
  out.leak_scan_done = trace.meta("leak_scan") == "done" && has_table(trace, "leak_scan");
  std::string category;
  if (!options.leak_category.empty()) {
    const int code = leak_category_code(options.leak_category);
    // Without the scan every live block is "not freed".
    if (!out.leak_scan_done) {
      if (code != 0) return;
    } else {
      category =
          code == 0 ? " AND l.category IS NULL" : " AND l.category = " + std::to_string(code);
    }
  }
  const std::string scan_join =
      out.leak_scan_done ? " LEFT JOIN leak_scan l ON l.address = a.address" : "";
  FilteredQuery q(trace,
                  "SELECT a.stack, sum(a.size), count(*) FROM allocations a" + scan_join +
                      " WHERE " + kHeap + " AND a.free_seq IS NULL" + category +
                      BlockFilter{options, true}.sql() + " GROUP BY a.stack",
                  options);
  add_rows(q, out);
}

void weigh_allocations(const TraceFile& trace, const StackTreeOptions& options, StackWeights& out) {
  const char* weight = options.measure == StackMeasure::kAllocations ? "count(*)" : "sum(a.size)";
  FilteredQuery q(trace,
                  std::string("SELECT a.stack, ") + weight +
                      ", count(*) FROM allocations a WHERE " + kHeap +
                      BlockFilter{options, true}.sql() + " GROUP BY a.stack",
                  options);
  add_rows(q, out);
}

}  // namespace

const char* stack_measure_name(StackMeasure measure) {
  switch (measure) {
    case StackMeasure::kPeakBytes:
      return "peak";
    case StackMeasure::kAllocatedBytes:
      return "allocated";
    case StackMeasure::kAllocations:
      return "count";
    case StackMeasure::kLeakedBytes:
      return "leaked";
    case StackMeasure::kTemporaries:
      return "temporaries";
  }
  return "";
}

bool parse_stack_measure(const std::string& word, StackMeasure& out) {
  for (StackMeasure m :
       {StackMeasure::kPeakBytes, StackMeasure::kAllocatedBytes, StackMeasure::kAllocations,
        StackMeasure::kLeakedBytes, StackMeasure::kTemporaries})
    if (word == stack_measure_name(m)) {
      out = m;
      return true;
    }
  return false;
}

bool is_byte_measure(StackMeasure measure) {
  return measure == StackMeasure::kPeakBytes || measure == StackMeasure::kAllocatedBytes ||
         measure == StackMeasure::kLeakedBytes;
}

StackWeights weigh_stacks(const TraceFile& trace, const StackTreeOptions& options) {
  ensure_index(trace);
  StackWeights out;
  CancelWhileQuerying cancel(trace);
  try {
    switch (options.measure) {
      case StackMeasure::kPeakBytes:
        weigh_peak(trace, options, out);
        break;
      case StackMeasure::kAllocatedBytes:
      case StackMeasure::kAllocations:
        weigh_allocations(trace, options, out);
        break;
      case StackMeasure::kLeakedBytes:
        weigh_leaks(trace, options, out);
        break;
      case StackMeasure::kTemporaries:
        weigh_temporaries(trace, options, out);
        break;
    }
  } catch (const TraceError&) {
    CancelWhileQuerying::rethrow_if_cancelled(trace);
    throw;
  }
  return out;
}

}  // namespace memtide::analysis
