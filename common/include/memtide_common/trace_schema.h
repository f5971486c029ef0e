// The SQL layout of a trace database (schema version kSchemaVersion), as the
// agent creates it. docs/trace-format.md describes every column.
#pragma once

namespace memtide {

// The body of view stacks_flat, also created as a temporary view over a
// temporary stack_nodes when the analyzer reads a trace it cannot write.
#define MEMTIDE_STACKS_FLAT_SELECT                             \
  "  WITH RECURSIVE walk(stack_id, depth, node, ip) AS (\n"    \
  "    SELECT id, 0, parent, ip FROM stack_nodes\n"            \
  "    UNION ALL\n"                                            \
  "    SELECT walk.stack_id, walk.depth + 1, n.parent, n.ip\n" \
  "    FROM walk JOIN stack_nodes n ON n.id = walk.node)\n"    \
  "  SELECT stack_id, depth, ip FROM walk"

inline constexpr const char* kTraceSchemaSql = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE processes(
  pid INTEGER PRIMARY KEY, parent_pid INTEGER, parent_trace TEXT, origin TEXT NOT NULL,
  command_line TEXT, executable TEXT, start_time_ns INTEGER NOT NULL, end_time_ns INTEGER,
  exit_status INTEGER, end_reason TEXT);
CREATE TABLE threads(
  id INTEGER PRIMARY KEY, tid INTEGER NOT NULL, name TEXT, start_time_ns INTEGER,
  end_time_ns INTEGER);
CREATE TABLE modules(
  id INTEGER PRIMARY KEY, path TEXT NOT NULL, build_id TEXT, base INTEGER NOT NULL,
  size INTEGER NOT NULL, load_bias INTEGER NOT NULL, load_seq INTEGER, load_time_ns INTEGER,
  unload_seq INTEGER, unload_time_ns INTEGER);
CREATE TABLE stack_nodes(id INTEGER PRIMARY KEY, parent INTEGER NOT NULL, ip INTEGER NOT NULL);
CREATE TABLE stack_node_pages(
  id INTEGER PRIMARY KEY, node_count INTEGER NOT NULL, body_bytes INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE TABLE strings(id INTEGER PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE scopes(
  id INTEGER PRIMARY KEY, parent INTEGER NOT NULL, name_id INTEGER NOT NULL,
  depth INTEGER NOT NULL, source TEXT NOT NULL);
CREATE TABLE pools(id INTEGER PRIMARY KEY, handle INTEGER NOT NULL, name_id INTEGER,
  create_seq INTEGER);
CREATE TABLE samples(
  time_ns INTEGER NOT NULL, rss_bytes INTEGER, heap_arena_bytes INTEGER,
  heap_mmap_bytes INTEGER, heap_in_use_bytes INTEGER, heap_free_bytes INTEGER,
  live_heap_bytes INTEGER, live_mmap_bytes INTEGER, live_pool_bytes INTEGER);
CREATE TABLE gpu_samples(
  time_ns INTEGER NOT NULL, device INTEGER NOT NULL, live_device_bytes INTEGER,
  live_managed_bytes INTEGER, live_pinned_bytes INTEGER, live_async_bytes INTEGER,
  live_physical_bytes INTEGER, live_static_bytes INTEGER, live_graph_bytes INTEGER,
  driver_used_bytes INTEGER, driver_total_bytes INTEGER);
CREATE TABLE pages(
  id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL, first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL, first_time_ns INTEGER NOT NULL, last_time_ns INTEGER NOT NULL,
  event_count INTEGER NOT NULL, encoding INTEGER NOT NULL, body_bytes INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE TABLE leak_scan(
  address INTEGER PRIMARY KEY, size INTEGER NOT NULL, category INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE VIEW stacks_flat AS
)sql" MEMTIDE_STACKS_FLAT_SELECT R"sql(;
CREATE VIEW scope_paths AS
  WITH RECURSIVE path(id, name) AS (
    SELECT s.id, str.value FROM scopes s JOIN strings str ON str.id = s.name_id WHERE s.parent = 0
    UNION ALL
    SELECT s.id, path.name || '/' || str.value
    FROM scopes s JOIN path ON s.parent = path.id JOIN strings str ON str.id = s.name_id)
  SELECT id, name AS path FROM path;
)sql";

}  // namespace memtide
