#include "synthetic_trace.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include "memtide_common/page_codec.h"
#include "memtide_common/trace_schema.h"

namespace memtide::test {

SyntheticTrace::SyntheticTrace(const std::string& name)
    : path_(::testing::TempDir() + "/" + name + "-" + std::to_string(getpid()) + ".db") {}

SyntheticTrace::~SyntheticTrace() {
  unlink(path_.c_str());
}

void SyntheticTrace::add(EventKind kind, uint64_t address, uint64_t size, uint64_t aux,
                         uint32_t stack, uint32_t scope) {
  EventRecord e{};
  e.seq = events_.size() + 1;
  e.time_ns = 1000 * e.seq;
  e.kind = kind;
  e.address = address;
  e.size = size;
  e.aux = aux;
  e.stack = stack;
  e.scope = scope;
  events_.push_back(e);
}

void SyntheticTrace::classify(uint64_t address, uint64_t size, int category) {
  scanned_ = true;
  sql_ += "INSERT INTO leak_scan VALUES(" + std::to_string(address) + ", " + std::to_string(size) +
          ", " + std::to_string(category) + ");";
}

const std::string& SyntheticTrace::write() {
  unlink(path_.c_str());
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  const std::string sql =
      std::string(kTraceSchemaSql) +
      "INSERT INTO meta VALUES('format', 'memtide-trace');"
      "INSERT INTO meta VALUES('schema_version', " +
      std::to_string(kSchemaVersion) +
      ");"
      "INSERT INTO meta VALUES('pid', 42);"
      "INSERT INTO meta VALUES('start_time_ns', 0);"
      "INSERT INTO meta VALUES('end_time_ns', 1000000);"
      "INSERT INTO meta VALUES('ended_cleanly', 1);" +
      std::string(scanned_ ? "INSERT INTO meta VALUES('leak_scan', 'done');" : "") +
      "INSERT INTO processes(pid, origin, command_line, executable, start_time_ns, end_time_ns, "
      "end_reason) VALUES(42, 'root', 'synthetic', '/bin/synthetic', 0, 1000000, 'exit');"
      "INSERT INTO threads(id, tid, name) VALUES(1, 4242, 'main');" +
      sql_;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::vector<uint8_t> body, blob;
  const size_t body_size = encode_page_body(events_, body);
  EXPECT_TRUE(compress_page(body, body_size, 3, blob));
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO pages(thread_id, first_seq, last_seq, first_time_ns, "
                     "last_time_ns, event_count, encoding, body_bytes, data) "
                     "VALUES(1, ?, ?, ?, ?, ?, ?, ?, ?)",
                     -1, &s, nullptr);
  sqlite3_bind_int64(s, 1, int64_t(events_.front().seq));
  sqlite3_bind_int64(s, 2, int64_t(events_.back().seq));
  sqlite3_bind_int64(s, 3, int64_t(events_.front().time_ns));
  sqlite3_bind_int64(s, 4, int64_t(events_.back().time_ns));
  sqlite3_bind_int64(s, 5, int64_t(events_.size()));
  sqlite3_bind_int(s, 6, kPageEncodingZstd);
  sqlite3_bind_int64(s, 7, int64_t(body_size));
  sqlite3_bind_blob(s, 8, blob.data(), int(blob.size()), SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(s), SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return path_;
}

}  // namespace memtide::test
