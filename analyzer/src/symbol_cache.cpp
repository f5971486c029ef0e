#include "symbol_cache.h"

#include <sqlite3.h>

#include <string>

#include "sqlite_util.h"

namespace memtide::analysis {
namespace {

const char* kCreateCache = R"sql(
CREATE TABLE IF NOT EXISTS symbols(
  ip INTEGER NOT NULL, depth INTEGER NOT NULL, function TEXT, file TEXT, line INTEGER,
  module TEXT NOT NULL, module_offset INTEGER NOT NULL, inlined INTEGER NOT NULL,
  PRIMARY KEY(ip, depth)) WITHOUT ROWID;
)sql";

bool cache_is_current(const TraceFile& trace) {
  Statement table(trace.db(),
                  "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'symbols'");
  return table.step() && trace.meta("symbols_format") == std::to_string(kSymbolCacheFormat);
}

void exec(const TraceFile& trace, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(trace.db(), sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message ? message : sqlite3_errmsg(trace.db());
    sqlite3_free(message);
    throw TraceError(trace.path() + ": cannot write the symbol cache: " + why);
  }
}

void bind_text_or_null(sqlite3_stmt* statement, int index, const std::string& text) {
  if (text.empty())
    sqlite3_bind_null(statement, index);
  else
    sqlite3_bind_text(statement, index, text.c_str(), -1, SQLITE_TRANSIENT);
}

// A statement run many times with new bindings; errors name the trace.
class WriteStatement {
 public:
  WriteStatement(const TraceFile& trace, const char* sql) : trace_(trace) {
    if (sqlite3_prepare_v2(trace.db(), sql, -1, &statement_, nullptr) != SQLITE_OK) fail();
  }
  ~WriteStatement() { sqlite3_finalize(statement_); }
  WriteStatement(const WriteStatement&) = delete;
  WriteStatement& operator=(const WriteStatement&) = delete;

  sqlite3_stmt* get() { return statement_; }
  void run() {
    int rc = sqlite3_step(statement_);
    sqlite3_reset(statement_);
    if (rc != SQLITE_DONE) fail();
  }

 private:
  [[noreturn]] void fail() {
    throw TraceError(trace_.path() +
                     ": cannot write the symbol cache: " + sqlite3_errmsg(trace_.db()));
  }
  const TraceFile& trace_;
  sqlite3_stmt* statement_ = nullptr;
};

}  // namespace

void read_symbol_cache(const TraceFile& trace, FramesByIp& frames) {
  if (!cache_is_current(trace)) return;
  Statement s(trace.db(),
              "SELECT ip, function, file, line, module, module_offset, inlined FROM symbols "
              "ORDER BY ip, depth");
  std::vector<ReportFrame>* current = nullptr;
  uint64_t current_ip = 0;
  while (s.step()) {
    uint64_t ip = static_cast<uint64_t>(s.column_int64(0));
    if (!current || ip != current_ip) {
      current = &frames[ip];
      current->clear();
      current_ip = ip;
    }
    ReportFrame frame;
    frame.function = s.column_text(1);
    frame.file = s.column_text(2);
    frame.line = s.column_int(3);
    frame.module = s.column_text(4);
    frame.module_offset = static_cast<uint64_t>(s.column_int64(5));
    frame.inlined = s.column_int(6) != 0;
    current->push_back(std::move(frame));
  }
}

void write_symbol_cache(const TraceFile& trace, const FramesByIp& frames,
                        const std::vector<uint64_t>& ips) {
  exec(trace, "BEGIN IMMEDIATE");
  try {
    if (!cache_is_current(trace)) exec(trace, "DROP TABLE IF EXISTS symbols");
    exec(trace, kCreateCache);
    std::string format = "INSERT OR REPLACE INTO meta(key, value) VALUES('symbols_format', " +
                         std::to_string(kSymbolCacheFormat) + ")";
    exec(trace, format.c_str());
    WriteStatement forget(trace, "DELETE FROM symbols WHERE ip = ?");
    WriteStatement insert(trace,
                          "INSERT INTO symbols(ip, depth, function, file, line, module, "
                          "module_offset, inlined) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
    for (uint64_t ip : ips) {
      sqlite3_bind_int64(forget.get(), 1, static_cast<int64_t>(ip));
      forget.run();
      const std::vector<ReportFrame>& list = frames.at(ip);
      for (size_t depth = 0; depth < list.size(); ++depth) {
        const ReportFrame& frame = list[depth];
        sqlite3_stmt* row = insert.get();
        sqlite3_bind_int64(row, 1, static_cast<int64_t>(ip));
        sqlite3_bind_int64(row, 2, static_cast<int64_t>(depth));
        bind_text_or_null(row, 3, frame.function);
        bind_text_or_null(row, 4, frame.file);
        if (frame.line > 0)
          sqlite3_bind_int(row, 5, frame.line);
        else
          sqlite3_bind_null(row, 5);
        sqlite3_bind_text(row, 6, frame.module.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(row, 7, static_cast<int64_t>(frame.module_offset));
        sqlite3_bind_int(row, 8, frame.inlined ? 1 : 0);
        insert.run();
      }
    }
    exec(trace, "COMMIT");
  } catch (...) {
    sqlite3_exec(trace.db(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace memtide::analysis
