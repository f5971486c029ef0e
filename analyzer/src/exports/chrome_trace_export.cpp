// The Trace Event Format export, written as the tables and the event stream
// are read: metadata first, then the samples as counters, then scopes, steps
// and marks in sequence order (viewers sort by time; the order of the array
// does not matter to them, but B before its E on one thread does, and the
// stream gives that).
#include "memtide/analysis/chrome_trace_export.h"

#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "exports/json_stream.h"
#include "exports/scope_names.h"
#include "sqlite_util.h"

namespace memtide::analysis {

namespace {

int64_t meta_int(const TraceFile& trace, const char* key, int64_t fallback) {
  const std::string text = trace.meta(key);
  if (text.empty()) return fallback;
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return fallback;
  }
}

std::string basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

class ChromeTraceWriter {
 public:
  ChromeTraceWriter(const TraceFile& trace, std::ostream& out)
      : trace_(trace), json_(out), scopes_(trace) {
    pid_ = meta_int(trace, "pid", 0);
    start_ns_ = meta_int(trace, "start_time_ns", 0);
    last_ns_ = meta_int(trace, "end_time_ns", start_ns_);
  }

  ChromeTraceStats write() {
    json_.raw("{\"traceEvents\":[\n");
    process_metadata();
    thread_metadata();
    memory_counters();
    gpu_counters();
    trace_.for_each_event([this](const EventRecord& e, int64_t thread_id) { event(e, thread_id); });
    close_open_scopes();
    json_.raw("\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"source\":\"memtide\",\"trace\":");
    json_.string(trace_.path()).raw(",\"pid\":").integer(pid_);
    json_.raw(",\"start_time_ns\":").integer(start_ns_).raw("}}\n");
    json_.flush();
    return stats_;
  }

 private:
  // Writes `{"name":...,"cat":...,"ph":...,"ts":...,"pid":...,"tid":...`;
  // the caller adds what its phase needs and closes the object.
  void open_event(std::string_view phase, std::string_view name, std::string_view category,
                  int64_t time_ns, int64_t tid) {
    json_.raw(stats_.trace_events++ ? ",\n{\"name\":" : "{\"name\":").string(name);
    json_.raw(",\"cat\":\"").raw(category).raw("\",\"ph\":\"").raw(phase);
    json_.raw("\",\"ts\":").microseconds(time_ns - start_ns_);
    json_.raw(",\"pid\":").integer(pid_).raw(",\"tid\":").integer(tid);
  }

  void metadata_event(std::string_view kind, int64_t tid, const std::string& name) {
    open_event("M", kind, "__metadata", start_ns_, tid);
    json_.raw(",\"args\":{\"name\":").string(name).raw("}}");
  }

  void process_metadata() {
    Statement s(trace_.db(), "SELECT executable, command_line FROM processes LIMIT 1");
    std::string name = "pid " + std::to_string(pid_);
    if (s.step()) {
      const std::string executable = basename(s.column_text(0));
      if (!executable.empty()) name = executable;
    }
    metadata_event("process_name", pid_, name);
  }

  void thread_metadata() {
    Statement s(trace_.db(), "SELECT id, tid, name FROM threads ORDER BY id");
    while (s.step()) {
      const int64_t tid = s.column_int64(1);
      tid_by_thread_[s.column_int64(0)] = tid;
      const std::string name = s.is_null(2) ? "tid " + std::to_string(tid) : s.column_text(2);
      metadata_event("thread_name", tid, name);
    }
  }

  // One counter per quantity (not one with several series): chrome://tracing
  // stacks the series of a counter, and RSS stacked on the heap would mislead.
  void counter(std::string_view name, int64_t time_ns, int64_t bytes) {
    open_event("C", name, "memory", time_ns, pid_);
    json_.raw(",\"args\":{\"bytes\":").integer(bytes).raw("}}");
    note_time(time_ns);
  }

  void memory_counters() {
    Statement s(trace_.db(),
                "SELECT time_ns, live_heap_bytes, live_mmap_bytes, live_pool_bytes, rss_bytes "
                "FROM samples ORDER BY time_ns");
    static constexpr const char* kNames[] = {"live heap", "live mmap", "live pool", "RSS"};
    while (s.step()) {
      const int64_t time_ns = s.column_int64(0);
      for (int i = 0; i < 4; ++i)
        if (!s.is_null(i + 1)) counter(kNames[i], time_ns, s.column_int64(i + 1));
    }
  }

  // Per device, the live bytes by memory class as the series of one counter:
  // the classes add up to the device's total, so stacking them is right.
  void gpu_counters() {
    Statement s(trace_.db(),
                "SELECT time_ns, device, live_device_bytes, live_managed_bytes, "
                "live_pinned_bytes, live_async_bytes, live_physical_bytes, live_static_bytes, "
                "live_graph_bytes, driver_used_bytes FROM gpu_samples ORDER BY time_ns, device");
    static constexpr const char* kClasses[] = {"device",   "managed", "pinned", "async",
                                               "physical", "static",  "graph"};
    while (s.step()) {
      const int64_t time_ns = s.column_int64(0);
      const std::string device = "GPU " + std::to_string(s.column_int64(1));
      open_event("C", device + " live", "memory", time_ns, pid_);
      json_.raw(",\"args\":{");
      bool first = true;
      for (int i = 0; i < 7; ++i) {
        if (s.is_null(i + 2)) continue;
        json_.raw(first ? "\"" : ",\"").raw(kClasses[i]).raw("\":").integer(s.column_int64(i + 2));
        first = false;
      }
      json_.raw("}}");
      if (!s.is_null(9)) counter(device + " driver used", time_ns, s.column_int64(9));
      note_time(time_ns);
    }
  }

  void event(const EventRecord& e, int64_t thread_id) {
    ++stats_.events_read;
    switch (e.kind) {
      case EventKind::kScopeEnter:
        scope_enter(e, thread_id);
        break;
      case EventKind::kScopeExit:
        scope_exit(e, thread_id);
        break;
      case EventKind::kStep:
        open_event("i", "step " + std::to_string(int64_t(e.aux)), "step", int64_t(e.time_ns),
                   tid_of(thread_id));
        json_.raw(",\"s\":\"p\",\"args\":{\"step\":").integer(int64_t(e.aux)).raw("}}");
        break;
      case EventKind::kMark:
        open_event("i", string_value(e.aux), "mark", int64_t(e.time_ns), tid_of(thread_id));
        json_.raw(",\"s\":\"t\"}");
        break;
      default:
        break;
    }
    note_time(int64_t(e.time_ns));
  }

  void scope_enter(const EventRecord& e, int64_t thread_id) {
    const uint32_t scope = uint32_t(e.aux);
    open_event("B", scope_name(scope), "scope", int64_t(e.time_ns), tid_of(thread_id));
    json_.raw(",\"args\":{\"path\":").string(scopes_.path(scope));
    json_.raw(",\"scope\":").integer(scope).raw("}}");
    open_scopes_[thread_id].push_back(scope);
    ++stats_.scopes;
  }

  // Scopes nest per thread, so an exit normally closes the innermost one; an
  // exit of an outer scope closes the inner ones first, so that every E
  // matches its B.
  void scope_exit(const EventRecord& e, int64_t thread_id) {
    std::vector<uint32_t>& open = open_scopes_[thread_id];
    const uint32_t scope = uint32_t(e.aux);
    size_t depth = open.size();
    while (depth > 0 && open[depth - 1] != scope) --depth;
    if (depth == 0) {
      ++stats_.unmatched_scope_exits;
      return;
    }
    while (open.size() >= depth) {
      const bool inner = open.size() > depth;
      end_scope(open.back(), int64_t(e.time_ns), tid_of(thread_id),
                inner ? "exit of an enclosing scope" : nullptr);
      open.pop_back();
    }
  }

  void end_scope(uint32_t scope, int64_t time_ns, int64_t tid, const char* closed_by) {
    open_event("E", scope_name(scope), "scope", time_ns, tid);
    if (closed_by) json_.raw(",\"args\":{\"closed_by\":\"").raw(closed_by).raw("\"}");
    json_.raw("}");
  }

  void close_open_scopes() {
    for (auto& [thread_id, open] : open_scopes_) {
      for (; !open.empty(); open.pop_back()) {
        end_scope(open.back(), last_ns_, tid_of(thread_id), "end of trace");
        ++stats_.scopes_open_at_end;
      }
    }
  }

  std::string_view scope_name(uint32_t scope) const {
    const std::string& name = scopes_.name(scope);
    return name.empty() ? std::string_view("(unnamed scope)") : std::string_view(name);
  }

  int64_t tid_of(int64_t thread_id) const {
    auto it = tid_by_thread_.find(thread_id);
    return it == tid_by_thread_.end() ? pid_ : it->second;
  }

  const std::string& string_value(uint64_t id) {
    auto cached = strings_.find(id);
    if (cached != strings_.end()) return cached->second;
    Statement s(trace_.db(), "SELECT value FROM strings WHERE id = ?");
    s.bind(1, int64_t(id));
    return strings_.emplace(id, s.step() ? s.column_text(0) : "(string " + std::to_string(id) + ")")
        .first->second;
  }

  void note_time(int64_t time_ns) {
    if (time_ns > last_ns_) last_ns_ = time_ns;
  }

  const TraceFile& trace_;
  JsonStream json_;
  ScopeNames scopes_;
  int64_t pid_ = 0;
  int64_t start_ns_ = 0;
  int64_t last_ns_ = 0;  // where scopes still open at the end are closed
  std::unordered_map<int64_t, int64_t> tid_by_thread_;
  std::unordered_map<int64_t, std::vector<uint32_t>> open_scopes_;
  std::unordered_map<uint64_t, std::string> strings_;
  ChromeTraceStats stats_;
};

}  // namespace

ChromeTraceStats write_chrome_trace(const TraceFile& trace, std::ostream& out) {
  return ChromeTraceWriter(trace, out).write();
}

}  // namespace memtide::analysis
