#include "writer.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

#include "agent_state.h"
#include "event_clock.h"
#include "leak_scan.h"
#include "live_set.h"
#include "mapped_vector.h"
#include "memtide_common/node_page_codec.h"
#include "memtide_common/page_codec.h"
#include "memtide_common/trace_schema.h"
#include "module_map.h"
#include "name_tables.h"
#include "pending_pages.h"
#include "stack_table.h"
#include "thread_ring.h"
#include "writer_stacks.h"

#if MEMTIDE_GPU_TRACKING
#include "gpu/cuda_hooks.h"
#include "gpu/gpu_recorder.h"
#include "gpu/gpu_sampler.h"
#endif

namespace memtide::agent {
namespace {

// The writer takes events from a ring in batches of kBatchEvents (or half
// the ring, if smaller) and gathers a thread's batches into larger pages
// (pending_pages.h).
constexpr uint32_t kBatchEvents = 8192;
constexpr int kIdleWakeMs = 10;

// Requests from other threads to the writer, all lock-free.
struct Control {
  std::atomic<uint64_t> flush_requested{0};
  std::atomic<uint64_t> flush_done{0};  // futex word (low 32 bits used)
  std::atomic<bool> stop{false};
  std::atomic<bool> running{false};
  // How the process ends, set before a flush that is the last one.
  std::atomic<const char*> end_reason{nullptr};
  std::atomic<int> exit_status{0};
  std::atomic<bool> has_exit_status{false};
};

class Writer : public PageSink {
 public:
  bool open(const ProcessIdentity& identity, std::string& error);
  // Forked child: nodes [1, count] exist already; write them on demand.
  void inherit_stack_nodes(uint32_t count) {
    inherited_nodes_ = nodes_written_ = count;
    inherited_written_.assign(count + 1, false);
  }
  void run();

  std::mutex io_mutex;  // held while inside SQLite; taken by fork's prepare
  Control control;
  pthread_t thread{};

 private:
  bool exec(const char* sql);
  sqlite3_stmt* prepare(const char* sql);
  void write_meta(const char* key, const char* text);
  void write_meta(const char* key, int64_t value);
  // `whole`: every event now in the rings, and every pending page written;
  // otherwise only rings holding a full batch are drained, into pages that
  // fill up between commits (zstd and the codec's models do better on full
  // pages). Every commit follows a whole drain.
  void drain_rings(bool whole);
  void drain_ring(ThreadRing* ring, bool whole);
  void write_page(const PendingPage& page, const std::vector<uint8_t>& body,
                  size_t body_size) override;
  void drop_events(uint64_t count) override { events_dropped_ += count; }
  void write_thread_row(ThreadRing* ring);
  void finish_thread(ThreadRing* ring);
  void drain_tables();
  void write_node(uint32_t id);
  void flush_nodes();
  void write_inherited_stack(uint32_t id);
  void sample(uint64_t now);
  void write_counters();
  void write_end(uint64_t now);
  void refresh_thread_names();
  void commit();
  void leave_single_file();
  void finalize();
  void scan_for_leaks();
  void write_leak_scan(const LeakScanOutcome& outcome);

  sqlite3* db_ = nullptr;
  ProcessIdentity identity_;
  sqlite3_stmt* insert_page_ = nullptr;
  sqlite3_stmt* insert_thread_ = nullptr;
  sqlite3_stmt* end_thread_ = nullptr;
  sqlite3_stmt* insert_node_page_ = nullptr;
  sqlite3_stmt* insert_string_ = nullptr;
  sqlite3_stmt* insert_scope_ = nullptr;
  sqlite3_stmt* insert_pool_ = nullptr;
  sqlite3_stmt* insert_module_ = nullptr;
  sqlite3_stmt* unload_module_ = nullptr;
  sqlite3_stmt* insert_sample_ = nullptr;
  sqlite3_stmt* insert_gpu_sample_ = nullptr;
  void sample_gpus(uint64_t now);
  uint32_t nodes_written_ = 0, strings_written_ = 0, scopes_written_ = 0, pools_written_ = 0;
  uint32_t modules_written_ = 0;
  std::vector<bool> module_unload_written_;
  PendingPages pending_{*this};
  // One batch, copied out of a ring. Mapped, not malloc'd: the leak scan
  // leaves the agent's mappings out of its roots, and these records hold the
  // addresses of the program's blocks.
  MappedVector<EventRecord> batch_;
  std::vector<uint8_t> blob_;
  PageCompressor compressor_;
  // Stack nodes published since the last batch, written as one compressed
  // row of stack_node_pages before the next commit, or once there are
  // kNodesPerBatch of them: larger batches compress only slightly better
  // and cost the writer their rows and encoding in memory.
  static constexpr size_t kNodesPerBatch = 16384;
  std::vector<StackNodeRow> pending_nodes_;
  std::vector<uint8_t> node_body_, node_blob_;
  uint64_t events_written_ = 0, pages_written_ = 0;
  uint64_t events_dropped_ = 0;  // not encoded or compressed for want of memory
  uint64_t last_commit_ns_ = 0, last_sample_ns_ = 0, next_mallinfo_ns_ = 0;
  uint64_t live_at_retire_[3] = {0, 0, 0};  // heap, mmap, pool bytes of recycled rings
  bool single_file_ = false;
  // In a forked child: stack nodes inherited from the parent are written only
  // when an event of the child refers to them, so a child of a process with
  // millions of stacks does not copy them all.
  uint32_t inherited_nodes_ = 0;
  std::vector<bool> inherited_written_;
  LeakScanOutcome leak_outcome_;
  bool leak_scan_written_ = false;  // a process ends once; exec may fail and go on
};

// Termination requests end the process in an orderly way: the heap is sound
// and worth a leak scan. Faults and abort may come from a corrupt heap.
bool scans_leaks_at(const char* end_reason) {
  if (end_reason == nullptr) return true;  // exit, _exit
  for (const char* reason :
       {"_exit", "exit", "signal SIGTERM", "signal SIGINT", "signal SIGHUP", "signal SIGQUIT"})
    if (std::strcmp(end_reason, reason) == 0) return true;
  return false;
}

// Event ticks to ns, rounded down to MEMTIDE_TIME_RESOLUTION_NS.
uint64_t event_time_ns(uint64_t ticks) {
  const uint64_t ns = tick_converter().to_ns(ticks);
  const uint64_t resolution = options().time_resolution_ns;
  return resolution > 1 ? ns - ns % resolution : ns;
}

Writer* g_writer = nullptr;
pid_t g_writer_pid = 0;  // the process whose trace g_writer writes

// A vfork child shares the parent's memory, writer included, until it execs or
// exits: it must never flush or stop the parent's writer.
Writer* own_writer() {
  return g_writer != nullptr && getpid() == g_writer_pid ? g_writer : nullptr;
}

uint64_t monotonic_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

void futex_wait(std::atomic<int>* word, int expected, int timeout_ms) {
  struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, &ts, nullptr, 0);
}

bool Writer::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  if (!options().quiet || true)
    fprintf(stderr, "memtide: %s: %s\n", identity_.trace_path.c_str(), message ? message : "?");
  sqlite3_free(message);
  return false;
}

sqlite3_stmt* Writer::prepare(const char* sql) {
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
  return statement;
}

void Writer::write_meta(const char* key, const char* text) {
  sqlite3_stmt* s = prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
  sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, text, -1, SQLITE_TRANSIENT);
  sqlite3_step(s);
  sqlite3_finalize(s);
}

void Writer::write_meta(const char* key, int64_t value) {
  sqlite3_stmt* s = prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
  sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, value);
  sqlite3_step(s);
  sqlite3_finalize(s);
}

bool Writer::open(const ProcessIdentity& identity, std::string& error) {
  identity_ = identity;
  const std::string& path = identity.trace_path;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) unlink((path + suffix).c_str());
  int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    error = "cannot create trace " + path + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
    return false;
  }
  // WAL keeps every commit cheap and leaves committed data readable after a
  // kill; synchronous=NORMAL only risks the last commits on an OS crash.
  // 2 KiB pages: an event page's compressed body is a few KiB (to a few
  // hundred), and a row spills into overflow pages and leaves its remainder
  // on a leaf page; with 4 KiB pages and pages of 8Ki events those
  // remainders packed so badly that a fifth of the tiny new/delete
  // benchmark's trace was empty space (docs/trace-format.md).
  // A 512 KiB page cache, not SQLite's 2 MiB: the writer mostly appends
  // rows, and the agent's memory counts against the program's.
  if (!exec("PRAGMA page_size=2048; PRAGMA cache_size=-512; PRAGMA journal_mode=WAL; "
            "PRAGMA synchronous=NORMAL;") ||
      !exec(kTraceSchemaSql)) {
    error = "cannot create the tables of " + path + ": " + sqlite3_errmsg(db_);
    return false;
  }
  exec("BEGIN");
  write_meta("format", kTraceFormatName);
  write_meta("schema_version", kSchemaVersion);
  write_meta("memtide_version", MEMTIDE_VERSION);
  write_meta("page_encoding", kPageEncodingZstd);
  write_meta("pid", identity.pid);
  write_meta("start_time_ns", static_cast<int64_t>(identity.start_time_ns));
  write_meta("stack_depth", static_cast<int64_t>(options().stack_depth));
  write_meta("sample_ms", static_cast<int64_t>(options().sample_ms));
  write_meta("time_resolution_ns", static_cast<int64_t>(options().time_resolution_ns));
  write_meta("ended_cleanly", int64_t{0});
  write_meta("clock", g_event_clock_is_tsc ? "CLOCK_MONOTONIC (from TSC)" : "CLOCK_MONOTONIC");
  write_meta("ip_semantics", "return-address");
  sqlite3_stmt* s = prepare(
      "INSERT INTO processes(pid, parent_pid, parent_trace, origin, command_line, executable, "
      "start_time_ns) VALUES(?, ?, ?, ?, ?, ?, ?)");
  sqlite3_bind_int64(s, 1, identity.pid);
  if (identity.parent_pid) sqlite3_bind_int64(s, 2, identity.parent_pid);
  if (!identity.parent_trace.empty())
    sqlite3_bind_text(s, 3, identity.parent_trace.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 4, identity.origin.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 5, identity.command_line.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 6, identity.executable.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 7, static_cast<int64_t>(identity.start_time_ns));
  sqlite3_step(s);
  sqlite3_finalize(s);
  exec("COMMIT");
  exec("BEGIN");

  insert_page_ = prepare(
      "INSERT INTO pages(thread_id, first_seq, last_seq, first_time_ns, last_time_ns, "
      "event_count, encoding, body_bytes, data) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert_thread_ =
      prepare("INSERT OR REPLACE INTO threads(id, tid, name, start_time_ns) VALUES(?, ?, ?, ?)");
  end_thread_ = prepare("UPDATE threads SET name = ?, end_time_ns = ? WHERE id = ?");
  insert_node_page_ =
      prepare("INSERT INTO stack_node_pages(node_count, body_bytes, data) VALUES(?, ?, ?)");
  insert_string_ = prepare("INSERT INTO strings(id, value) VALUES(?, ?)");
  insert_scope_ =
      prepare("INSERT INTO scopes(id, parent, name_id, depth, source) VALUES(?, ?, ?, ?, ?)");
  insert_pool_ = prepare("INSERT INTO pools(id, handle, name_id, create_seq) VALUES(?, ?, ?, ?)");
  insert_module_ = prepare(
      "INSERT INTO modules(id, path, build_id, base, size, load_bias, load_seq, load_time_ns) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
  unload_module_ = prepare("UPDATE modules SET unload_seq = ?, unload_time_ns = ? WHERE id = ?");
  insert_sample_ = prepare(
      "INSERT INTO samples(time_ns, rss_bytes, heap_arena_bytes, heap_mmap_bytes, "
      "heap_in_use_bytes, heap_free_bytes, live_heap_bytes, live_mmap_bytes, live_pool_bytes) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert_gpu_sample_ = prepare(
      "INSERT INTO gpu_samples(time_ns, device, live_device_bytes, live_managed_bytes, "
      "live_pinned_bytes, live_async_bytes, live_physical_bytes, live_static_bytes, "
      "live_graph_bytes, driver_used_bytes, driver_total_bytes) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!batch_.resize_zeroed(kBatchEvents)) {
    error = "out of memory for the writer's buffers";
    return false;
  }
  last_commit_ns_ = monotonic_ns();
  return true;
}

void Writer::write_thread_row(ThreadRing* ring) {
  sqlite3_bind_int64(insert_thread_, 1, ring->thread_id);
  sqlite3_bind_int64(insert_thread_, 2, ring->tid);
  sqlite3_bind_text(insert_thread_, 3, ring->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(insert_thread_, 4, static_cast<int64_t>(ring->start_time_ns));
  sqlite3_step(insert_thread_);
  sqlite3_reset(insert_thread_);
  ring->row_written = true;
}

void Writer::write_node(uint32_t id) {
  const StackNode& node = stack_table().node(id);
  pending_nodes_.push_back(StackNodeRow{id, node.parent, node.ip()});
  // A program creating stacks fast (importing PyTorch adds over a hundred
  // thousand nodes between two commits) would otherwise hold megabytes of
  // rows and body here.
  if (pending_nodes_.size() >= kNodesPerBatch) flush_nodes();
}

void Writer::flush_nodes() {
  if (pending_nodes_.empty()) return;
  encode_node_page(pending_nodes_, node_body_);
  if (compressor_.compress(node_body_, node_body_.size(), static_cast<int>(options().zstd_level),
                           node_blob_)) {
    sqlite3_stmt* s = insert_node_page_;
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(pending_nodes_.size()));
    sqlite3_bind_int64(s, 2, static_cast<int64_t>(node_body_.size()));
    sqlite3_bind_blob(s, 3, node_blob_.data(), static_cast<int>(node_blob_.size()), SQLITE_STATIC);
    sqlite3_step(s);
    sqlite3_reset(s);
  }
  pending_nodes_.clear();
}

void Writer::write_inherited_stack(uint32_t id) {
  for (; id != 0 && id <= inherited_nodes_ && !inherited_written_[id];
       id = stack_table().node(id).parent) {
    inherited_written_[id] = true;
    write_node(id);
  }
}

void Writer::write_page(const PendingPage& page, const std::vector<uint8_t>& body,
                        size_t body_size) {
  if (body_size == 0 ||
      !compressor_.compress(body, body_size, static_cast<int>(options().zstd_level), blob_)) {
    events_dropped_ += page.count;
    return;
  }
  sqlite3_stmt* s = insert_page_;
  sqlite3_bind_int64(s, 1, page.ring->thread_id);
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(page.first_seq));
  sqlite3_bind_int64(s, 3, static_cast<int64_t>(page.last_seq));
  sqlite3_bind_int64(s, 4, static_cast<int64_t>(page.first_time_ns));
  sqlite3_bind_int64(s, 5, static_cast<int64_t>(page.last_time_ns));
  sqlite3_bind_int64(s, 6, page.count);
  sqlite3_bind_int(s, 7, kPageEncodingZstd);
  sqlite3_bind_int64(s, 8, static_cast<int64_t>(body_size));
  sqlite3_bind_blob(s, 9, blob_.data(), static_cast<int>(blob_.size()), SQLITE_STATIC);
  sqlite3_step(s);
  sqlite3_reset(s);
  events_written_ += page.count;
  ++pages_written_;
}

void Writer::drain_ring(ThreadRing* ring, bool whole) {
  const uint64_t head = ring->head.load(std::memory_order_acquire);
  uint64_t tail = ring->tail.load(std::memory_order_relaxed);
  // A small ring (MEMTIDE_RING_EVENTS) wakes the writer at half full, so half
  // of it counts as a full batch.
  const uint64_t capacity = ring->capacity.load(std::memory_order_relaxed);  // after `head`
  const uint64_t full_batch = std::min<uint64_t>(kBatchEvents, capacity / 2);
  if (head != tail && (whole || head - tail >= full_batch)) {
    if (!ring->row_written) write_thread_row(ring);
    const uint64_t elsewhere = options().leak_scan ? lowest_waiting_seq_except(ring) : 0;
    const uint32_t time_unit = static_cast<uint32_t>(options().time_resolution_ns);
    PendingPage& page = pending_.page_for(ring);
    while (tail < head) {
      const uint32_t wanted = static_cast<uint32_t>(std::min<uint64_t>(
          {head - tail, uint64_t{kBatchEvents}, uint64_t{PendingPages::room(page)}}));
      EventRecord* events = batch_.data();
      const TakenEvents taken = take_events(*ring, tail, wanted, capacity - 1, events);
      tail += taken.records;
      // The slots are copied: hand them back to the producer before encoding.
      ring->tail.store(tail, std::memory_order_release);
      const uint32_t count = taken.events;
      for (uint32_t i = 0; i < count; ++i) {
        EventRecord& e = events[i];
        if (e.reserved[0] & kEventTimeIsNs) {
          e.reserved[0] = 0;  // taken from another clock already in ns (CUPTI records)
          const uint64_t resolution = options().time_resolution_ns;
          if (resolution > 1) e.time_ns -= e.time_ns % resolution;
        } else {
          e.time_ns = event_time_ns(e.time_ns);
        }
      }
      if (options().leak_scan) live_set().apply_all(events, count, elsewhere);
      if (inherited_nodes_ != 0)
        for (uint32_t i = 0; i < count; ++i) write_inherited_stack(events[i].stack);
      pending_.add(page, {events, count}, time_unit);
    }
  }
  if (whole) pending_.write(ring);
}

void Writer::finish_thread(ThreadRing* ring) {
  if (!ring->row_written) write_thread_row(ring);
  sqlite3_bind_text(end_thread_, 1, ring->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(end_thread_, 2, static_cast<int64_t>(ring->end_time_ns));
  sqlite3_bind_int64(end_thread_, 3, ring->thread_id);
  sqlite3_step(end_thread_);
  sqlite3_reset(end_thread_);
  // Keep the exited thread's live bytes: its blocks may still be live.
  LiveCounters& live = ring->live;
  live_at_retire_[0] += live.heap_allocated.exchange(0) - live.heap_freed.exchange(0);
  live_at_retire_[1] += live.mmap_mapped.exchange(0) - live.mmap_unmapped.exchange(0);
  live_at_retire_[2] += live.pool_allocated.exchange(0) - live.pool_freed.exchange(0);
  ring->state.store(static_cast<int>(RingState::kFree), std::memory_order_release);
}

void Writer::drain_rings(bool whole) {
  uint64_t drained_below = UINT64_MAX;  // the smallest seq still waiting in a ring
  for (ThreadRing* ring = ring_list_head(); ring != nullptr; ring = ring->next) {
    const int state = ring->state.load(std::memory_order_acquire);
    if (state == static_cast<int>(RingState::kFree)) continue;
    if (state == static_cast<int>(RingState::kRetired)) {
      drain_ring(ring, true);
      drain_ring(ring, true);  // events published before the retire flag became visible
      finish_thread(ring);
      continue;
    }
    // A ring that got nothing new since the previous cycle is drained whole:
    // its part page would only wait for the commit, and hold back the release
    // of the live set's tombstones until then.
    const uint64_t head = ring->head.load(std::memory_order_acquire);
    drain_ring(ring, whole || head == ring->head_seen);
    ring->head_seen = head;
    const uint64_t tail = ring->tail.load(std::memory_order_relaxed);
    if (tail < ring->head.load(std::memory_order_acquire))
      drained_below = std::min(drained_below, ring->record_at(tail).seq);
  }
  if (options().leak_scan) live_set().end_cycle(drained_below);
}

void Writer::drain_tables() {
  StackTable& stacks = stack_table();
  for (uint32_t n = stacks.published_count(); nodes_written_ < n; ++nodes_written_) {
    write_node(nodes_written_ + 1);
    // A new node's parent may be an inherited one the child never used.
    if (inherited_nodes_ != 0) write_inherited_stack(stacks.node(nodes_written_ + 1).parent);
  }
  NameTables& names = name_tables();
  for (uint32_t n = names.string_count(); strings_written_ < n; ++strings_written_) {
    std::string_view text = names.string_at(strings_written_ + 1);
    sqlite3_bind_int64(insert_string_, 1, strings_written_ + 1);
    sqlite3_bind_text(insert_string_, 2, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
    sqlite3_step(insert_string_);
    sqlite3_reset(insert_string_);
  }
  for (uint32_t n = names.scope_count(); scopes_written_ < n; ++scopes_written_) {
    const ScopeRow& row = names.scope_row(scopes_written_ + 1);
    sqlite3_bind_int64(insert_scope_, 1, scopes_written_ + 1);
    sqlite3_bind_int64(insert_scope_, 2, row.parent);
    sqlite3_bind_int64(insert_scope_, 3, row.name);
    sqlite3_bind_int64(insert_scope_, 4, row.depth);
    sqlite3_bind_text(insert_scope_, 5, row.source == ScopeSource::kNvtx ? "nvtx" : "annotate", -1,
                      SQLITE_STATIC);
    sqlite3_step(insert_scope_);
    sqlite3_reset(insert_scope_);
  }
  for (uint32_t n = names.pool_count(); pools_written_ < n; ++pools_written_) {
    const PoolRow& row = names.pool_row(pools_written_ + 1);
    sqlite3_bind_int64(insert_pool_, 1, pools_written_ + 1);
    sqlite3_bind_int64(insert_pool_, 2, static_cast<int64_t>(row.handle));
    if (row.name)
      sqlite3_bind_int64(insert_pool_, 3, row.name);
    else
      sqlite3_bind_null(insert_pool_, 3);
    sqlite3_bind_int64(insert_pool_, 4, static_cast<int64_t>(row.create_seq));
    sqlite3_step(insert_pool_);
    sqlite3_reset(insert_pool_);
  }
  for (uint32_t n = module_count(); modules_written_ < n; ++modules_written_) {
    ModuleRecord& m = module_at(modules_written_);
    sqlite3_stmt* s = insert_module_;
    sqlite3_bind_int64(s, 1, modules_written_ + 1);
    sqlite3_bind_text(s, 2, m.path->c_str(), -1, SQLITE_TRANSIENT);
    if (m.build_id->empty())
      sqlite3_bind_null(s, 3);
    else
      sqlite3_bind_text(s, 3, m.build_id->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, static_cast<int64_t>(m.base));
    sqlite3_bind_int64(s, 5, static_cast<int64_t>(m.size));
    sqlite3_bind_int64(s, 6, static_cast<int64_t>(m.load_bias));
    sqlite3_bind_int64(s, 7, static_cast<int64_t>(m.load_seq));
    sqlite3_bind_int64(s, 8, static_cast<int64_t>(m.load_time_ns));
    sqlite3_step(s);
    sqlite3_reset(s);
    module_unload_written_.push_back(false);
  }
  for (uint32_t i = 0; i < modules_written_; ++i) {
    if (module_unload_written_[i]) continue;
    ModuleRecord& m = module_at(i);
    uint64_t seq = m.unload_seq.load(std::memory_order_acquire);
    if (seq == 0) continue;
    sqlite3_bind_int64(unload_module_, 1, static_cast<int64_t>(seq));
    sqlite3_bind_int64(unload_module_, 2, static_cast<int64_t>(m.unload_time_ns));
    sqlite3_bind_int64(unload_module_, 3, i + 1);
    sqlite3_step(unload_module_);
    sqlite3_reset(unload_module_);
    module_unload_written_[i] = true;
  }
}

uint64_t read_rss_bytes() {
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buffer[128];
  ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
  close(fd);
  if (n <= 0) return 0;
  buffer[n] = '\0';
  unsigned long long size = 0, resident = 0;
  if (sscanf(buffer, "%llu %llu", &size, &resident) != 2) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

void Writer::sample(uint64_t now) {
  // mallinfo2() walks glibc's free lists holding the arena lock, which stalls
  // the program's own malloc calls: on a large fragmented heap (a compiler's)
  // one call takes a third of a millisecond. It is skipped while it would
  // cost more than 1% of the time; those samples leave the heap columns NULL.
  struct mallinfo2 info {};
  const bool heap_stats = now >= next_mallinfo_ns_;
  if (heap_stats) {
    info = mallinfo2();
    const uint64_t took = monotonic_ns() - now;
    next_mallinfo_ns_ = now + took * 100;
  }
  uint64_t heap = live_at_retire_[0], mapped = live_at_retire_[1], pooled = live_at_retire_[2];
  for (ThreadRing* ring = ring_list_head(); ring != nullptr; ring = ring->next) {
    LiveCounters& live = ring->live;
    heap += live.heap_allocated.load(std::memory_order_relaxed) -
            live.heap_freed.load(std::memory_order_relaxed);
    mapped += live.mmap_mapped.load(std::memory_order_relaxed) -
              live.mmap_unmapped.load(std::memory_order_relaxed);
    pooled += live.pool_allocated.load(std::memory_order_relaxed) -
              live.pool_freed.load(std::memory_order_relaxed);
  }
  sqlite3_stmt* s = insert_sample_;
  sqlite3_bind_int64(s, 1, static_cast<int64_t>(now));
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(read_rss_bytes()));
  if (heap_stats) {
    sqlite3_bind_int64(s, 3, static_cast<int64_t>(info.arena));
    sqlite3_bind_int64(s, 4, static_cast<int64_t>(info.hblkhd));
    sqlite3_bind_int64(s, 5, static_cast<int64_t>(info.uordblks));
    sqlite3_bind_int64(s, 6, static_cast<int64_t>(info.fordblks));
  } else {
    for (int column = 3; column <= 6; ++column) sqlite3_bind_null(s, column);
  }
  sqlite3_bind_int64(s, 7, static_cast<int64_t>(heap));
  sqlite3_bind_int64(s, 8, static_cast<int64_t>(mapped));
  sqlite3_bind_int64(s, 9, static_cast<int64_t>(pooled));
  sqlite3_step(s);
  sqlite3_reset(s);
  sample_gpus(now);
  last_sample_ns_ = now;
}

// One row per device the program allocated on: memtide's own count by class,
// and the driver's view where NVML gives it.
void Writer::sample_gpus(uint64_t now) {
#if MEMTIDE_GPU_TRACKING
  for (const gpu::DeviceLive& row : gpu::live_by_device()) {
    if (row.device == kGpuDeviceUnknown) continue;
    sqlite3_stmt* s = insert_gpu_sample_;
    auto bytes = [&row](GpuMemoryClass c) {
      return static_cast<int64_t>(row.bytes[static_cast<int>(c)]);
    };
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(now));
    sqlite3_bind_int64(s, 2, row.device);
    sqlite3_bind_int64(s, 3, bytes(GpuMemoryClass::kDevice));
    sqlite3_bind_int64(s, 4, bytes(GpuMemoryClass::kManaged));
    sqlite3_bind_int64(s, 5, bytes(GpuMemoryClass::kPinned));
    sqlite3_bind_int64(s, 6, bytes(GpuMemoryClass::kAsync));
    sqlite3_bind_int64(s, 7, bytes(GpuMemoryClass::kPhysical));
    sqlite3_bind_int64(s, 8, bytes(GpuMemoryClass::kStatic));
    sqlite3_bind_int64(s, 9, bytes(GpuMemoryClass::kGraph));
    const gpu::DriverMemory driver = gpu::driver_memory(row.device);
    if (driver.known) {
      sqlite3_bind_int64(s, 10, static_cast<int64_t>(driver.used));
      sqlite3_bind_int64(s, 11, static_cast<int64_t>(driver.total));
    } else {
      sqlite3_bind_null(s, 10);
      sqlite3_bind_null(s, 11);
    }
    sqlite3_step(s);
    sqlite3_reset(s);
  }
#else
  (void)now;
#endif
}

void Writer::write_counters() {
  AgentCounters& c = agent_counters();
  const std::pair<const char*, uint64_t> rows[] = {
      {"events", events_written_},
      {"pages", pages_written_},
      {"dropped_events", events_dropped_},
      {"backpressure_waits", c.backpressure_waits.load()},
      {"stack_table_full", c.stack_table_full.load()},
  };
  auto write = [this](const char* name, uint64_t value) {
    sqlite3_stmt* s = prepare("INSERT OR REPLACE INTO counters(name, value) VALUES(?, ?)");
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, static_cast<int64_t>(value));
    sqlite3_step(s);
    sqlite3_finalize(s);
  };
  for (const auto& [name, value] : rows) write(name, value);
#if MEMTIDE_GPU_TRACKING
  // What GPU tracking did, so a trace without GPU events says why.
  for (const auto& [name, value] : gpu::counters()) write(name.c_str(), value);
  write("gpu_wrapped_lookups", gpu::wrapped_lookups());
  for (const auto& [key, value] : gpu::status_rows()) write_meta(key.c_str(), value.c_str());
#else
  write_meta("gpu_mode", "off");
  write_meta("gpu_detail", "this libmemtide.so was built without the CUDA headers");
#endif
}

// Threads alive at the end may have been renamed after their first event.
void Writer::refresh_thread_names() {
  for (ThreadRing* ring = ring_list_head(); ring != nullptr; ring = ring->next) {
    if (!ring->row_written ||
        ring->state.load(std::memory_order_acquire) != static_cast<int>(RingState::kActive))
      continue;
    char path[64], name[32];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", ring->tid);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, name, sizeof name - 1);
    close(fd);
    if (n <= 0) continue;
    name[n] = '\0';
    if (name[n - 1] == '\n') name[n - 1] = '\0';
    sqlite3_stmt* s = prepare("UPDATE threads SET name = ? WHERE id = ?");
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, ring->thread_id);
    sqlite3_step(s);
    sqlite3_finalize(s);
  }
}

void Writer::write_end(uint64_t now) {
  const char* reason = control.end_reason.load();
  if (reason == nullptr) return;
  sqlite3_stmt* s = prepare(
      "UPDATE processes SET end_time_ns = ?, end_reason = ?, exit_status = "
      "coalesce(?, exit_status) WHERE pid = ?");
  sqlite3_bind_int64(s, 1, static_cast<int64_t>(now));
  sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
  if (control.has_exit_status.load()) sqlite3_bind_int(s, 3, control.exit_status.load());
  sqlite3_bind_int64(s, 4, identity_.pid);
  sqlite3_step(s);
  sqlite3_finalize(s);
  write_meta("end_time_ns", static_cast<int64_t>(now));
  write_meta("end_reason", reason);
  // A signal is an end too, but not a clean one.
  write_meta("ended_cleanly", int64_t{std::strncmp(reason, "signal", 6) != 0});
}

void Writer::commit() {
  flush_nodes();
  write_counters();
  exec("COMMIT");
  exec("BEGIN");
  last_commit_ns_ = monotonic_ns();
}

// The process is about to end (exec, a fatal signal): fold the WAL into the
// database so one self-contained file is left. Later commits, if the process
// goes on after all (a failed exec), use a rollback journal.
void Writer::leave_single_file() {
  if (single_file_) return;
  flush_nodes();
  exec("COMMIT");
  exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
  exec("BEGIN");
  single_file_ = true;
}

void Writer::finalize() {
  flush_nodes();
  exec("COMMIT");
  if (!single_file_) exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

// The final scan: the world stops, recording ends, the blocks are classified
// and the world resumes before any SQLite call (a stopped thread may hold a
// malloc lock SQLite would need). Events published up to the stop are then
// drained as usual.
void Writer::scan_for_leaks() {
  const char* reason = control.end_reason.load();
  if (!options().leak_scan) {
    write_meta("leak_scan", "skipped: MEMTIDE_LEAK_SCAN=0");
    return;
  }
  if (!scans_leaks_at(reason)) {
    write_meta("leak_scan", (std::string("skipped: ") + reason).c_str());
    return;
  }
  run_leak_scan(leak_outcome_);
  drain_rings(true);
  drain_tables();
  write_leak_scan(leak_outcome_);
}

void Writer::write_leak_scan(const LeakScanOutcome& outcome) {
  exec("DELETE FROM leak_scan");
  if (outcome.done) {
    sqlite3_stmt* s =
        prepare("INSERT OR REPLACE INTO leak_scan(address, size, category) VALUES(?, ?, ?)");
    for (size_t i = 0; i < outcome.blocks.size(); ++i) {
      sqlite3_bind_int64(s, 1, static_cast<int64_t>(outcome.blocks[i].address));
      sqlite3_bind_int64(s, 2, static_cast<int64_t>(outcome.blocks[i].size));
      sqlite3_bind_int(s, 3, outcome.categories[i]);
      sqlite3_step(s);
      sqlite3_reset(s);
    }
    sqlite3_finalize(s);
  }
  write_meta("leak_scan", outcome.done ? "done" : outcome.skipped_reason);
  write_meta("leak_scan_ms", static_cast<int64_t>(outcome.elapsed_ms));
  write_meta("leak_scan_threads_stopped", static_cast<int64_t>(outcome.threads_stopped));
  write_meta("leak_scan_threads_unresponsive", static_cast<int64_t>(outcome.threads_unresponsive));
  write_meta("leak_scan_root_bytes", static_cast<int64_t>(outcome.root_bytes));
}

void Writer::run() {
  WriterSignal& signal = writer_signal();
  const uint64_t commit_ns = options().commit_ms * 1000000ull;
  const uint64_t sample_ns = options().sample_ms * 1000000ull;
  for (;;) {
    signal.sleeping.store(1, std::memory_order_release);
    if (signal.pending.load(std::memory_order_acquire) == 0 &&
        control.flush_requested.load() == control.flush_done.load() && !control.stop.load())
      futex_wait(&signal.pending, 0, kIdleWakeMs);
    signal.sleeping.store(0, std::memory_order_relaxed);
    signal.pending.store(0, std::memory_order_relaxed);

    const uint64_t flush_target = control.flush_requested.load(std::memory_order_acquire);
    const bool stopping = control.stop.load(std::memory_order_acquire);
    {
      std::lock_guard<std::mutex> lock(io_mutex);
      const bool flushing = flush_target != control.flush_done.load();
      // Commit every commit_ms / 2, so that nothing waits longer than
      // commit_ms (plus one idle wake) to be committed.
      const bool commit_due =
          flushing || stopping || monotonic_ns() - last_commit_ns_ >= commit_ns / 2;
      // Every event drained below was stamped before this point.
      if (g_event_clock_is_tsc) tick_converter().calibrate();
      drain_rings(commit_due);
      drain_tables();  // after the rings: every stack an event names is published
      uint64_t now = monotonic_ns();
      if (sample_ns && now - last_sample_ns_ >= sample_ns) sample(now);
      const bool ending = stopping || (flushing && control.end_reason.load() != nullptr);
      if (ending && !leak_scan_written_) {
        scan_for_leaks();
        leak_scan_written_ =
            std::strcmp(control.end_reason.load() ? control.end_reason.load() : "", "exec") != 0;
      }
      if (stopping) {
        if (sample_ns) sample(now);  // the state at the end, however short the run
        refresh_thread_names();
      }
      if (flushing || stopping) write_end(now);
      if (commit_due) commit();
      if (stopping)
        finalize();
      else if (flushing && control.end_reason.load() != nullptr)
        leave_single_file();
    }
    if (flush_target != control.flush_done.load()) {
      control.flush_done.store(flush_target, std::memory_order_release);
      syscall(SYS_futex, &control.flush_done, FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
    }
    if (stopping) return;
  }
}

void* writer_main(void* arg) {
  thread_state().guard = 1;  // nothing this thread does is the program's
  if (options().leak_scan) prepare_leak_scan();
  auto* writer = static_cast<Writer*>(arg);
  writer->run();
  return nullptr;
}

}  // namespace

bool start_writer(const ProcessIdentity& identity, std::string& error) {
  Guard guard;
  auto* writer = new Writer();  // deliberately never deleted (see fork)
  if (!writer->open(identity, error)) return false;
  if (identity.origin == "fork") writer->inherit_stack_nodes(stack_table().published_count());
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);  // the thread inherits: no signals
  int rc = pthread_create(&writer->thread, nullptr, writer_main, writer);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (rc != 0) {
    error = "cannot start the writer thread: " + std::string(strerror(rc));
    return false;
  }
  pthread_setname_np(writer->thread, "memtide-writer");
  writer->control.running.store(true, std::memory_order_release);
  g_writer_pid = getpid();
  g_writer = writer;
  return true;
}

bool flush_writer(const char* end_reason, int exit_status, bool has_status, int timeout_ms) {
  Writer* writer = own_writer();
  if (writer == nullptr || !writer->control.running.load()) return false;
  if (end_reason) {
    writer->control.exit_status.store(exit_status);
    writer->control.has_exit_status.store(has_status);
    writer->control.end_reason.store(end_reason);
  }
  const uint64_t target = writer->control.flush_requested.fetch_add(1) + 1;
  wake_writer();
  const uint64_t deadline = monotonic_ns() + uint64_t(timeout_ms) * 1000000ull;
  for (;;) {
    uint64_t done = writer->control.flush_done.load(std::memory_order_acquire);
    if (done >= target) return true;
    uint64_t now = monotonic_ns();
    if (now >= deadline) return false;
    struct timespec ts = {0, 5 * 1000000L};
    syscall(SYS_futex, &writer->control.flush_done, FUTEX_WAIT_PRIVATE, static_cast<int>(done), &ts,
            nullptr, 0);
  }
}

void stop_writer(const char* end_reason, int exit_status, bool has_status) {
  Writer* writer = own_writer();
  if (writer == nullptr || !writer->control.running.exchange(false)) return;
  if (writer->control.end_reason.load() == nullptr ||
      std::strcmp(writer->control.end_reason.load(), "exec") == 0 || end_reason != nullptr) {
    writer->control.end_reason.store(end_reason ? end_reason : "exit");
  }
  if (has_status) {
    writer->control.exit_status.store(exit_status);
    writer->control.has_exit_status.store(true);
  }
  writer->control.stop.store(true, std::memory_order_release);
  wake_writer();
  pthread_join(writer->thread, nullptr);
}

void writer_lock_for_fork() {
  if (g_writer) g_writer->io_mutex.lock();
}

void writer_unlock_after_fork() {
  if (g_writer) g_writer->io_mutex.unlock();
}

void writer_forget_in_child() {
  g_writer = nullptr;
}

bool writer_owned_by_this_process() {
  return own_writer() != nullptr;
}

bool writer_running() {
  return g_writer != nullptr && g_writer->control.running.load();
}

}  // namespace memtide::agent
