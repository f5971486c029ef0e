#include "memtide/analysis/trace_file.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <queue>

#include "memtide_common/page_codec.h"
#include "sqlite_util.h"
#include "stack_node_expansion.h"

namespace memtide::analysis {
namespace {

// Reads one thread's pages in order, decoding one page at a time.
class ThreadCursor {
 public:
  ThreadCursor(const TraceFile& trace, std::vector<PageInfo> pages)
      : trace_(trace), pages_(std::move(pages)) {}

  bool valid() const { return index_ < events_.size(); }
  const EventRecord& current() const { return events_[index_]; }
  int64_t thread_id() const { return pages_.empty() ? 0 : pages_[0].thread_id; }

  void advance() {
    if (++index_ < events_.size()) return;
    events_.clear();
    index_ = 0;
    while (events_.empty() && next_page_ < pages_.size()) load(pages_[next_page_++]);
  }

 private:
  void load(const PageInfo& page) {
    if (ScanControl* control = trace_.scan_control()) {
      if (control->cancelled.load(std::memory_order_relaxed))
        throw ScanCancelled(trace_.path() + ": scan cancelled");
      control->events_scanned.fetch_add(page.event_count, std::memory_order_relaxed);
    }
    Statement s(trace_.db(), "SELECT encoding, body_bytes, data FROM pages WHERE id = ?");
    s.bind(1, page.id);
    if (!s.step())
      throw TraceError(trace_.path() + ": page " + std::to_string(page.id) + " vanished");
    std::string error;
    if (!decode_stored_page(s.column_int(0), s.column_blob(2), s.column_bytes(2),
                            static_cast<size_t>(s.column_int64(1)), events_, error))
      throw TraceError(trace_.path() + ": page " + std::to_string(page.id) + ": " + error);
  }

  const TraceFile& trace_;
  std::vector<PageInfo> pages_;
  size_t next_page_ = 0;
  std::vector<EventRecord> events_;
  size_t index_ = 0;
};

}  // namespace

TraceFile::TraceFile(const std::string& path) : path_(path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) throw TraceError(path + ": no such file");
  if (!S_ISREG(st.st_mode)) throw TraceError(path + ": not a regular file");
  if (st.st_size == 0) throw TraceError(path + ": empty file, not a memtide trace");
  // Read-write (never create) so SQLite can recover the WAL a killed run left.
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_close(db_);
    db_ = nullptr;
    rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
  }
  if (rc != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw TraceError(path + ": cannot open: " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  auto fail = [&](const std::string& why) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw TraceError(path + ": " + why);
  };
  sqlite3_stmt* probe = nullptr;
  rc = sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key = 'format'", -1, &probe, nullptr);
  if (rc == SQLITE_NOTADB) fail("not an SQLite database, so not a memtide trace");
  if (rc == SQLITE_CORRUPT) fail("the database is corrupt or truncated");
  if (rc != SQLITE_OK) {
    std::string why = sqlite3_errmsg(db_);
    if (why.find("no such table") != std::string::npos)
      fail("an SQLite database without a meta table: not a memtide trace");
    if (why.find("not a database") != std::string::npos)
      fail("not an SQLite database, so not a memtide trace");
    fail("cannot read: " + why);
  }
  rc = sqlite3_step(probe);
  std::string format = rc == SQLITE_ROW && sqlite3_column_text(probe, 0)
                           ? reinterpret_cast<const char*>(sqlite3_column_text(probe, 0))
                           : "";
  sqlite3_finalize(probe);
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) fail("the database is corrupt or truncated");
  if (format != kTraceFormatName) fail("not a memtide trace (meta.format is '" + format + "')");
  std::string version = meta("schema_version");
  schema_version_ = version.empty() ? 0 : std::stoi(version);
  if (schema_version_ != kSchemaVersion)
    fail("trace schema version " + version + ", but this memtide reads version " +
         std::to_string(kSchemaVersion));
  // A cheap structural check catches files cut short: SQLite notices missing
  // pages. Only the agent's tables: the analyzer's own caches (the index,
  // symbols) can be hundreds of MB, and every command opens the trace.
  for (const char* table :
       {"meta", "processes", "threads", "modules", "stack_nodes", "stack_node_pages", "strings",
        "scopes", "pools", "samples", "gpu_samples", "leak_scan", "pages", "counters"}) {
    const std::string sql = std::string("PRAGMA quick_check(") + table + ")";
    Statement check(db_, sql.c_str());
    if (!check.step() || check.column_text(0) != "ok")
      fail("the database is corrupt or truncated (" + check.column_text(0) + ")");
  }
  try {
    expand_stack_nodes(db_, path);
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

TraceFile::~TraceFile() {
  sqlite3_close(db_);
}

std::string TraceFile::meta(const std::string& key, const std::string& fallback) const {
  Statement s(db_, "SELECT value FROM meta WHERE key = ?");
  s.bind(1, key);
  return s.step() && !s.is_null(0) ? s.column_text(0) : fallback;
}

std::vector<PageInfo> TraceFile::pages() const {
  std::vector<PageInfo> out;
  Statement s(db_, "SELECT id, thread_id, first_seq, last_seq, event_count FROM pages ORDER BY id");
  while (s.step())
    out.push_back(PageInfo{
        s.column_int64(0), s.column_int64(1), static_cast<uint64_t>(s.column_int64(2)),
        static_cast<uint64_t>(s.column_int64(3)), static_cast<uint64_t>(s.column_int64(4))});
  return out;
}

void TraceFile::for_each_event(
    const std::function<void(const EventRecord&, int64_t thread_id)>& visit) const {
  for_each_event_between(0, UINT64_MAX, visit);
}

void TraceFile::for_each_event_between(
    uint64_t first_seq, uint64_t last_seq,
    const std::function<void(const EventRecord&, int64_t thread_id)>& visit) const {
  std::map<int64_t, std::vector<PageInfo>> by_thread;
  for (PageInfo& page : pages())
    if (page.last_seq >= first_seq && page.first_seq <= last_seq)
      by_thread[page.thread_id].push_back(page);
  std::vector<std::unique_ptr<ThreadCursor>> cursors;
  for (auto& [thread, list] : by_thread) {
    std::sort(list.begin(), list.end(),
              [](const PageInfo& a, const PageInfo& b) { return a.first_seq < b.first_seq; });
    auto cursor = std::make_unique<ThreadCursor>(*this, std::move(list));
    cursor->advance();
    if (cursor->valid()) cursors.push_back(std::move(cursor));
  }
  auto later = [](const ThreadCursor* a, const ThreadCursor* b) {
    return a->current().seq > b->current().seq;
  };
  std::priority_queue<ThreadCursor*, std::vector<ThreadCursor*>, decltype(later)> heap(later);
  for (auto& c : cursors) heap.push(c.get());
  while (!heap.empty()) {
    ThreadCursor* c = heap.top();
    heap.pop();
    const EventRecord& event = c->current();
    if (event.seq > last_seq) break;  // every other cursor is later still
    if (event.seq >= first_seq) visit(event, c->thread_id());
    c->advance();
    if (c->valid()) heap.push(c);
  }
}

}  // namespace memtide::analysis
