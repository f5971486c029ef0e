#include "memtide/analysis/summary.h"

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <unordered_map>

#include "mapping_set.h"
#include "sqlite_util.h"

namespace memtide::analysis {
namespace {

uint64_t count_rows(const TraceFile& trace, const char* table) {
  Statement s(trace.db(), (std::string("SELECT count(*) FROM ") + table).c_str());
  return s.step() ? static_cast<uint64_t>(s.column_int64(0)) : 0;
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buffer[32];
  if (u == 0)
    snprintf(buffer, sizeof buffer, "%" PRIu64 " B", bytes);
  else
    snprintf(buffer, sizeof buffer, "%.1f %s", v, units[u]);
  return buffer;
}

}  // namespace

TraceSummary describe_trace(const TraceFile& trace) {
  TraceSummary s;
  s.path = trace.path();
  s.schema_version = trace.schema_version();
  s.threads = count_rows(trace, "threads");
  s.modules = count_rows(trace, "modules");
  s.stack_nodes = count_rows(trace, "stack_nodes");
  s.scopes = count_rows(trace, "scopes");
  s.pools = count_rows(trace, "pools");
  s.samples = count_rows(trace, "samples");
  s.pages = count_rows(trace, "pages");
  s.ended_cleanly = trace.meta("ended_cleanly", "0") == "1";
  s.end_reason = trace.meta("end_reason");
  {
    Statement q(trace.db(),
                "SELECT pid, parent_pid, origin, command_line, parent_trace, end_reason, "
                "exit_status FROM processes ORDER BY start_time_ns");
    while (q.step()) {
      ProcessRow p;
      p.pid = q.column_int64(0);
      p.parent_pid = q.column_int64(1);
      p.origin = q.column_text(2);
      p.command_line = q.column_text(3);
      p.parent_trace = q.column_text(4);
      p.end_reason = q.column_text(5);
      p.has_exit_status = !q.is_null(6);
      p.exit_status = q.column_int64(6);
      s.processes.push_back(p);
    }
  }
  {
    Statement q(trace.db(), "SELECT name, value FROM counters ORDER BY name");
    while (q.step()) s.counters[q.column_text(0)] = q.column_int64(1);
  }

  // The span of the run and the event count from the pages' own columns.
  Statement pages(trace.db(),
                  "SELECT coalesce(sum(event_count), 0), coalesce(min(first_time_ns), 0), "
                  "coalesce(max(last_time_ns), 0) FROM pages");
  if (pages.step()) {
    s.events = uint64_t(pages.column_int64(0));
    s.first_time_ns = uint64_t(pages.column_int64(1));
    s.last_time_ns = uint64_t(pages.column_int64(2));
  }
  return s;
}

TraceSummary summarize(const TraceFile& trace) {
  TraceSummary s = describe_trace(trace);
  s.events = 0;
  std::unordered_map<uint64_t, uint64_t> live_heap;  // address -> size
  MappingSet mappings;
  uint64_t live_bytes = 0;
  bool first = true;
  trace.for_each_event([&](const EventRecord& e, int64_t) {
    ++s.events;
    if (first) s.first_time_ns = e.time_ns, first = false;
    s.first_time_ns = std::min(s.first_time_ns, e.time_ns);
    s.last_time_ns = std::max(s.last_time_ns, e.time_ns);
    KindTotals& totals = s.by_kind[event_kind_name(e.kind)];
    ++totals.events;
    if (is_allocation(e.kind) || e.kind == EventKind::kReallocInPlace) totals.bytes += e.size;
    switch (e.kind) {
      case EventKind::kStep:
        ++s.steps;
        return;
      case EventKind::kMmap:
      case EventKind::kMremap:
        mappings.map(e.address, e.size);
        return;
      case EventKind::kMunmap:
      case EventKind::kMremapUnmap:
        mappings.unmap(e.address, e.size);
        return;
      case EventKind::kReallocInPlace: {
        auto it = live_heap.find(e.address);
        if (it != live_heap.end()) {
          live_bytes = live_bytes - it->second + e.size;
          it->second = e.size;
        }
        break;
      }
      default:
        if (e.kind == EventKind::kPoolAlloc || e.kind == EventKind::kPoolFree) return;
        if (is_allocation(e.kind)) {
          live_heap[e.address] = e.size;
          live_bytes += e.size;
        } else if (is_deallocation(e.kind)) {
          auto it = live_heap.find(e.address);
          if (it == live_heap.end()) {
            ++s.frees_of_unknown_pointers;
          } else {
            live_bytes -= it->second;
            live_heap.erase(it);
          }
        }
    }
    s.peak_heap_bytes = std::max(s.peak_heap_bytes, live_bytes);
    s.peak_live_blocks = std::max<uint64_t>(s.peak_live_blocks, live_heap.size());
  });
  s.unfreed_blocks = live_heap.size();
  s.unfreed_bytes = live_bytes;
  s.unfreed_mappings = mappings.count();
  s.unfreed_mapped_bytes = mappings.bytes();
  return s;
}

std::string format_summary_text(const TraceSummary& s) {
  std::string out;
  char line[512];
  auto add = [&](const char* fmt, auto... args) {
    snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  add("trace:          %s (schema %d)\n", s.path.c_str(), s.schema_version);
  for (const ProcessRow& p : s.processes) {
    add("process:        %" PRId64 " (%s", p.pid, p.origin.c_str());
    if (p.parent_pid) add(" of %" PRId64, p.parent_pid);
    add(") %s\n", p.command_line.c_str());
    if (p.has_exit_status) add("exit status:    %" PRId64 "\n", p.exit_status);
  }
  add("ended:          %s\n",
      s.end_reason.empty() ? "no (the process died before memtide's final flush; events up to "
                             "the last commit are present)"
                           : (s.ended_cleanly ? ("cleanly, by " + s.end_reason).c_str()
                                              : ("by " + s.end_reason).c_str()));
  add("duration:       %.3f s\n", s.duration_seconds());
  add("events:         %" PRIu64 " in %" PRIu64 " pages\n", s.events, s.pages);
  add("threads:        %" PRIu64 "\n", s.threads);
  add("scopes:         %" PRIu64 ", steps: %" PRIu64 ", pools: %" PRIu64 "\n", s.scopes, s.steps,
      s.pools);
  add("stacks:         %" PRIu64 " trie nodes, %" PRIu64 " modules\n", s.stack_nodes, s.modules);
  add("samples:        %" PRIu64 "\n", s.samples);
  add("peak heap:      %s requested; at most %" PRIu64 " blocks live at once\n",
      human_bytes(s.peak_heap_bytes).c_str(), s.peak_live_blocks);
  add("not freed:      %" PRIu64 " heap blocks (%s), %" PRIu64 " mappings (%s)\n", s.unfreed_blocks,
      human_bytes(s.unfreed_bytes).c_str(), s.unfreed_mappings,
      human_bytes(s.unfreed_mapped_bytes).c_str());
  add("unknown frees:  %" PRIu64 "\n", s.frees_of_unknown_pointers);
  add("\n%-18s %12s %14s\n", "kind", "events", "bytes");
  for (const auto& [kind, totals] : s.by_kind)
    add("%-18s %12" PRIu64 " %14" PRIu64 "\n", kind.c_str(), totals.events, totals.bytes);
  return out;
}

std::string format_summary_json(const TraceSummary& s) {
  nlohmann::json j;
  j["path"] = s.path;
  j["schema_version"] = s.schema_version;
  for (const ProcessRow& p : s.processes) {
    nlohmann::json row = {{"pid", p.pid},
                          {"parent_pid", p.parent_pid},
                          {"origin", p.origin},
                          {"command_line", p.command_line},
                          {"end_reason", p.end_reason}};
    row["exit_status"] = p.has_exit_status ? nlohmann::json(p.exit_status) : nlohmann::json();
    j["processes"].push_back(row);
  }
  j["ended_cleanly"] = s.ended_cleanly;
  j["end_reason"] = s.end_reason.empty() ? nlohmann::json() : nlohmann::json(s.end_reason);
  j["duration_seconds"] = s.duration_seconds();
  j["events"] = s.events;
  j["pages"] = s.pages;
  j["threads"] = s.threads;
  j["scopes"] = s.scopes;
  j["steps"] = s.steps;
  j["pools"] = s.pools;
  j["stack_nodes"] = s.stack_nodes;
  j["modules"] = s.modules;
  j["samples"] = s.samples;
  j["peak_heap_bytes"] = s.peak_heap_bytes;
  j["peak_live_blocks"] = s.peak_live_blocks;
  j["unfreed_blocks"] = s.unfreed_blocks;
  j["unfreed_bytes"] = s.unfreed_bytes;
  j["unfreed_mappings"] = s.unfreed_mappings;
  j["unfreed_mapped_bytes"] = s.unfreed_mapped_bytes;
  j["frees_of_unknown_pointers"] = s.frees_of_unknown_pointers;
  for (const auto& [kind, totals] : s.by_kind)
    j["by_kind"][kind] = {{"events", totals.events}, {"bytes", totals.bytes}};
  j["counters"] = s.counters;
  return j.dump(2) + "\n";
}

}  // namespace memtide::analysis
