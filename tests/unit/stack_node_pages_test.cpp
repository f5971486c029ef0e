// Stack nodes in compressed batches: the codec round-trips exactly and names
// what is wrong with a bad batch, and opening a trace expands the batches into
// stack_nodes (incrementally; into temporary tables for a read-only handle).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <random>

#include "memtide/analysis/trace_file.h"
#include "memtide_common/event.h"
#include "memtide_common/node_page_codec.h"
#include "memtide_common/page_codec.h"
#include "memtide_common/trace_schema.h"
#include "stack_node_expansion.h"
#include "temp_files.h"

namespace memtide {
namespace {

std::vector<StackNodeRow> decode(const std::vector<uint8_t>& body, std::string& error) {
  std::vector<StackNodeRow> out;
  if (!decode_node_page(body.data(), body.size(), out, error)) out.clear();
  return out;
}

TEST(NodePageCodec, RoundTripsChainsRootsAndEveryKindOfAddress) {
  std::vector<StackNodeRow> nodes = {
      {1, 0, 0x401000},               // a root
      {2, 1, 0x7f12'3456'789a},       // a shared library
      {3, 2, 0xffff'ffff'ff60'0000},  // the vsyscall page: kernel half, sign-extended
      {7, 2, 0x55aa'0000'1234},       // ids need not be consecutive
      {5, 1, 0x401004},               // nor ascending (a forked child's inherited nodes)
      {16'000'000, 3, 0x7fff'ffff'fff0},
  };
  std::vector<uint8_t> body;
  encode_node_page(nodes, body);
  std::string error;
  EXPECT_EQ(decode(body, error), nodes) << error;
  EXPECT_EQ(std::string(body.begin(), body.begin() + 4), "MTN1");
}

TEST(NodePageCodec, RoundTripsARandomTrie) {
  std::mt19937_64 random(7);
  std::vector<StackNodeRow> nodes;
  for (uint64_t id = 1; id <= 20000; ++id) {
    const uint64_t parent =
        id == 1 || random() % 10 == 0 ? 0 : id - 1 - random() % std::min<uint64_t>(id - 1, 50);
    nodes.push_back({id, parent, 0x7f00'0000'0000 + (random() % 5000) * 16});
  }
  std::vector<uint8_t> body, blob;
  encode_node_page(nodes, body);
  ASSERT_TRUE(compress_page(body, body.size(), 3, blob));
  std::vector<StackNodeRow> out;
  std::string error;
  ASSERT_TRUE(decode_stored_node_page(blob.data(), blob.size(), body.size(), out, error)) << error;
  EXPECT_EQ(out, nodes);
}

TEST(NodePageCodec, NamesWhatIsWrongWithABadBatch) {
  std::vector<StackNodeRow> nodes = {{1, 0, 0x1000}, {2, 1, 0x2000}};
  std::vector<uint8_t> body;
  encode_node_page(nodes, body);
  std::string error;

  std::vector<uint8_t> wrong_magic = body;
  wrong_magic[3] = '9';
  EXPECT_TRUE(decode(wrong_magic, error).empty());
  EXPECT_EQ(error, "stack node batch does not start with MTN1");

  std::vector<uint8_t> cut(body.begin(), body.end() - 3);
  EXPECT_TRUE(decode(cut, error).empty());
  EXPECT_EQ(error, "stack node batch ends inside node 1 of 2");

  std::vector<uint8_t> longer = body;
  longer.push_back(0);
  EXPECT_TRUE(decode(longer, error).empty());
  EXPECT_EQ(error, "stack node batch has 1 bytes after its last node");

  std::vector<uint8_t> loop;
  encode_node_page(std::vector<StackNodeRow>{{4, 4, 0x1000}}, loop);
  EXPECT_TRUE(decode(loop, error).empty());
  EXPECT_EQ(error, "stack node batch has node 4 with parent 4 (a parent precedes its children)");

  std::vector<uint8_t> blob;
  ASSERT_TRUE(compress_page(body, body.size(), 3, blob));
  std::vector<StackNodeRow> out;
  EXPECT_FALSE(decode_stored_node_page(blob.data(), blob.size(), body.size() + 1, out, error));
  EXPECT_EQ(error, "stack node batch is not a zstd frame of the recorded size");
}

// A trace database as the agent leaves it: nodes only in batches.
class StackNodeExpansion : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = test_files::temp_path("nodes.db");
    unlink(path_.c_str());
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db_), SQLITE_OK);
    const std::string schema = std::string(kTraceSchemaSql) +
                               "INSERT INTO meta VALUES('format', 'memtide-trace');"
                               "INSERT INTO meta VALUES('schema_version', " +
                               std::to_string(kSchemaVersion) + ");";
    ASSERT_EQ(sqlite3_exec(db_, schema.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  }
  void TearDown() override {
    sqlite3_close(db_);
    unlink(path_.c_str());
  }
  void add_batch(const std::vector<StackNodeRow>& nodes) {
    std::vector<uint8_t> body, blob;
    encode_node_page(nodes, body);
    ASSERT_TRUE(compress_page(body, body.size(), 3, blob));
    add_blob(nodes.size(), body.size(), blob);
  }
  void add_blob(size_t count, size_t body_bytes, const std::vector<uint8_t>& blob) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_,
                       "INSERT INTO stack_node_pages(node_count, body_bytes, data) VALUES(?, ?, ?)",
                       -1, &s, nullptr);
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(count));
    sqlite3_bind_int64(s, 2, static_cast<int64_t>(body_bytes));
    sqlite3_bind_blob(s, 3, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
  }
  static std::string query(sqlite3* db, const char* sql) {
    sqlite3_stmt* s = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return sqlite3_errmsg(db);
    while (sqlite3_step(s) == SQLITE_ROW) {
      if (!out.empty()) out += ";";
      for (int i = 0; i < sqlite3_column_count(s); ++i)
        out +=
            (i ? "," : "") + std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)));
    }
    sqlite3_finalize(s);
    return out;
  }
  std::string path_;
  sqlite3* db_ = nullptr;
};

TEST_F(StackNodeExpansion, OpeningATraceFillsStackNodesOnceAndThenOnlyWithNewBatches) {
  add_batch({{1, 0, 4096}, {2, 1, 8192}});
  add_batch({{3, 2, 12288}});
  { analysis::TraceFile trace(path_); }
  EXPECT_EQ(query(db_, "SELECT id, parent, ip FROM stack_nodes ORDER BY id"),
            "1,0,4096;2,1,8192;3,2,12288");
  EXPECT_EQ(query(db_,
                  "SELECT group_concat(ip) FROM (SELECT ip FROM stacks_flat WHERE stack_id = 3 "
                  "ORDER BY depth)"),
            "12288,8192,4096");
  EXPECT_EQ(query(db_, "SELECT count(*) FROM expanded_node_pages"), "2");
  // A trace still being written: the next open adds the new batch only.
  add_batch({{4, 1, 16384}});
  { analysis::TraceFile trace(path_); }
  EXPECT_EQ(query(db_, "SELECT count(*), max(id) FROM stack_nodes"), "4,4");
  EXPECT_EQ(query(db_, "SELECT count(*) FROM expanded_node_pages"), "3");
}

TEST_F(StackNodeExpansion, AReadOnlyHandleGetsTemporaryTables) {
  add_batch({{1, 0, 4096}, {2, 1, 8192}});
  sqlite3* readonly = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &readonly, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  analysis::expand_stack_nodes(readonly, path_);
  EXPECT_EQ(query(readonly, "SELECT id, parent, ip FROM stack_nodes ORDER BY id"),
            "1,0,4096;2,1,8192");
  EXPECT_EQ(query(readonly, "SELECT count(*) FROM stacks_flat WHERE stack_id = 2"), "2");
  sqlite3_close(readonly);
  // The file itself is unchanged.
  EXPECT_EQ(query(db_, "SELECT count(*) FROM main.stack_nodes"), "0");
}

TEST_F(StackNodeExpansion, ABadBatchIsNamedAndNothingIsHalfExpanded) {
  add_batch({{1, 0, 4096}});
  add_blob(1, 10, std::vector<uint8_t>{1, 2, 3});
  try {
    analysis::TraceFile trace(path_);
    FAIL() << "opened a trace with a corrupt stack node batch";
  } catch (const analysis::TraceError& e) {
    EXPECT_EQ(
        std::string(e.what()),
        path_ + ": stack node batch 2: stack node batch is not a zstd frame of the recorded size");
  }
  EXPECT_EQ(query(db_, "SELECT count(*) FROM stack_nodes"), "0");
}

}  // namespace
}  // namespace memtide
