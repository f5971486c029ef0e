// A prepared statement that finalizes itself and throws TraceError on misuse.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr) != SQLITE_OK)
      throw TraceError(std::string("query failed: ") + sqlite3_errmsg(db) + " in: " + sql);
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, int64_t value) { sqlite3_bind_int64(statement_, index, value); }
  void bind(int index, const std::string& value) {
    sqlite3_bind_text(statement_, index, value.c_str(), -1, SQLITE_TRANSIENT);
  }
  void bind_null(int index) { sqlite3_bind_null(statement_, index); }
  // Ready to run again with new bindings.
  void reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  bool step() {
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw TraceError(std::string("query failed: ") + sqlite3_errmsg(db_));
  }
  int column_int(int i) const { return sqlite3_column_int(statement_, i); }
  int64_t column_int64(int i) const { return sqlite3_column_int64(statement_, i); }
  bool is_null(int i) const { return sqlite3_column_type(statement_, i) == SQLITE_NULL; }
  std::string column_text(int i) const {
    const unsigned char* text = sqlite3_column_text(statement_, i);
    return text ? reinterpret_cast<const char*>(text) : "";
  }
  const void* column_blob(int i) const { return sqlite3_column_blob(statement_, i); }
  int column_bytes(int i) const { return sqlite3_column_bytes(statement_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

// Runs SQL with no results; throws TraceError naming the statement.
inline void exec_sql(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = error ? error : sqlite3_errmsg(db);
    sqlite3_free(error);
    throw TraceError("cannot update the trace (" + why + ") in: " + sql);
  }
}

}  // namespace memtide::analysis
