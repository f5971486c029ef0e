// Opening bad input: each case gets an error naming the file and the fault.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <fstream>

#include "memtide/analysis/trace_file.h"
#include "memtide_common/trace_schema.h"
#include "temp_files.h"

namespace memtide::analysis {
namespace {

using test_files::temp_path;

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void make_db(const std::string& path, const std::string& sql) {
  unlink(path.c_str());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  sqlite3_close(db);
}

std::string open_error(const std::string& path) {
  try {
    TraceFile trace(path);
  } catch (const TraceError& e) {
    return e.what();
  }
  return "";
}

TEST(TraceFile, MissingFile) {
  EXPECT_EQ(open_error("/nonexistent/x.db"), "/nonexistent/x.db: no such file");
}

TEST(TraceFile, NotSqlite) {
  std::string path = temp_path("text.db");
  write_file(path, std::string(4096, 'x'));
  EXPECT_EQ(open_error(path), path + ": not an SQLite database, so not a memtide trace");
}

TEST(TraceFile, ForeignDatabase) {
  std::string path = temp_path("foreign.db");
  make_db(path, "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  EXPECT_EQ(open_error(path),
            path + ": an SQLite database without a meta table: not a memtide trace");
  make_db(path, "CREATE TABLE meta(key, value); INSERT INTO meta VALUES('format', 'other');");
  EXPECT_EQ(open_error(path), path + ": not a memtide trace (meta.format is 'other')");
}

TEST(TraceFile, OtherSchemaVersion) {
  std::string path = temp_path("v99.db");
  make_db(path, std::string(kTraceSchemaSql) +
                    "INSERT INTO meta VALUES('format', 'memtide-trace');"
                    "INSERT INTO meta VALUES('schema_version', 99);");
  EXPECT_EQ(open_error(path), path + ": trace schema version 99, but this memtide reads version 3");
}

TEST(TraceFile, TruncatedDatabase) {
  std::string path = temp_path("cut.db");
  std::string sql =
      std::string(kTraceSchemaSql) +
      "INSERT INTO meta VALUES('format', 'memtide-trace');"
      "INSERT INTO meta VALUES('schema_version', 3);"
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
      " INSERT INTO pages(thread_id, first_seq, last_seq, first_time_ns, last_time_ns,"
      " event_count, encoding, body_bytes, data) SELECT 1, i, i, 0, 0, 1, 1, 1,"
      " randomblob(300) FROM n;";
  make_db(path, sql);
  ASSERT_EQ(truncate(path.c_str(), 64 * 1024), 0);
  std::string error = open_error(path);
  EXPECT_NE(error.find(path + ": the database is corrupt or truncated"), std::string::npos)
      << error;
}

}  // namespace
}  // namespace memtide::analysis
