#include "stack_node_expansion.h"

#include <vector>

#include "memtide/analysis/trace_file.h"
#include "memtide_common/node_page_codec.h"
#include "memtide_common/trace_schema.h"
#include "sqlite_util.h"

namespace memtide::analysis {
namespace {

void exec(sqlite3* db, const std::string& path, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message ? message : "unknown error";
    sqlite3_free(message);
    throw TraceError(path + ": expanding stack nodes: " + why);
  }
}

// Decodes each batch `batches` selects (id, body_bytes, data) into `target`,
// calling `done(id)` after each.
template <typename Done>
void expand(sqlite3* db, const std::string& path, const char* batches, const char* target,
            Done done) {
  Statement select(db, batches);
  Statement insert(db, target);
  std::vector<StackNodeRow> rows;
  std::string error;
  while (select.step()) {
    const int64_t batch = select.column_int64(0);
    const void* blob = select.column_blob(2);  // before its size, as SQLite asks
    const size_t blob_size = static_cast<size_t>(select.column_bytes(2));
    if (!decode_stored_node_page(blob, blob_size, static_cast<size_t>(select.column_int64(1)), rows,
                                 error))
      throw TraceError(path + ": stack node batch " + std::to_string(batch) + ": " + error);
    for (const StackNodeRow& row : rows) {
      insert.bind(1, static_cast<int64_t>(row.id));
      insert.bind(2, static_cast<int64_t>(row.parent));
      insert.bind(3, static_cast<int64_t>(row.ip));
      insert.step();
      insert.reset();
    }
    done(batch);
  }
}

bool has_unexpanded_batches(sqlite3* db, bool writable) {
  const char* sql = writable ? "SELECT 1 FROM stack_node_pages WHERE id NOT IN "
                               "(SELECT id FROM expanded_node_pages) LIMIT 1"
                             : "SELECT 1 FROM stack_node_pages LIMIT 1";
  Statement probe(db, sql);
  return probe.step();
}

}  // namespace

void expand_stack_nodes(sqlite3* db, const std::string& path) {
  const bool writable = sqlite3_db_readonly(db, "main") == 0;
  if (writable)
    exec(db, path, "CREATE TABLE IF NOT EXISTS expanded_node_pages(id INTEGER PRIMARY KEY)");
  if (!has_unexpanded_batches(db, writable)) return;
  if (writable) {
    exec(db, path, "BEGIN IMMEDIATE");
    try {
      Statement mark(db, "INSERT INTO expanded_node_pages(id) VALUES(?)");
      expand(db, path,
             "SELECT id, body_bytes, data FROM stack_node_pages WHERE id NOT IN "
             "(SELECT id FROM expanded_node_pages) ORDER BY id",
             "INSERT OR IGNORE INTO stack_nodes(id, parent, ip) VALUES(?, ?, ?)",
             [&](int64_t batch) {
               mark.bind(1, batch);
               mark.step();
               mark.reset();
             });
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    exec(db, path, "COMMIT");
    return;
  }
  // Read-only: temporary copies shadow the stored table and view. The view
  // must be temporary too: a view of the main schema reads main's tables,
  // where a temporary view's unqualified names find the temporary table.
  exec(db, path,
       "CREATE TEMP TABLE stack_nodes(id INTEGER PRIMARY KEY, parent INTEGER NOT NULL, "
       "ip INTEGER NOT NULL);"
       "INSERT INTO temp.stack_nodes SELECT id, parent, ip FROM main.stack_nodes;"
       "CREATE TEMP VIEW stacks_flat AS " MEMTIDE_STACKS_FLAT_SELECT ";");
  expand(db, path, "SELECT id, body_bytes, data FROM main.stack_node_pages ORDER BY id",
         "INSERT OR IGNORE INTO temp.stack_nodes(id, parent, ip) VALUES(?, ?, ?)", [](int64_t) {});
}

}  // namespace memtide::analysis
