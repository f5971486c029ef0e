// Text and JSON for `memtide frag`: they only format a FragmentationReport.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "memtide/analysis/fragmentation.h"
#include "memtide/analysis/frames_json.h"
#include "text_format.h"

namespace memtide::analysis {

namespace {

using Json = nlohmann::ordered_json;

std::string hex(uint64_t v) {
  char buffer[24];
  snprintf(buffer, sizeof buffer, "0x%" PRIx64, v);
  return buffer;
}

std::string seconds(uint64_t ns) {
  char buffer[32];
  snprintf(buffer, sizeof buffer, "%.3f s", double(ns) / 1e9);
  return buffer;
}

std::string fixed(double v, int digits = 3) {
  char buffer[32];
  snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

std::string holes_text(const HoleStats& h) {
  return human_bytes(h.free_bytes) + " free in " + std::to_string(h.holes) + " holes, largest " +
         human_bytes(h.largest_hole) + ", fragmentation " + fixed(h.fragmentation());
}

std::string pool_title(const PoolLayout& p) {
  return "pool " + std::to_string(p.id) + (p.name.empty() ? "" : " \"" + p.name + "\"") + " (" +
         p.backing + ")";
}

std::string frame_text(const ReportFrame& f) {
  std::string s = f.function.empty() ? f.module + "+" + hex(f.module_offset) : f.function;
  if (!f.file.empty()) s += " at " + f.file + ":" + std::to_string(f.line);
  return s;
}

void state_text(const FragmentationState& s, std::string& out) {
  const bool at = s.label.rfind("at ", 0) == 0;  // "at mark NAME", "at 123 ns"
  out += "\nState at " + (at ? s.label.substr(3) : "the " + s.label) + " (" + seconds(s.time_ns) +
         ", seq " + std::to_string(s.seq) + "): " + human_bytes(s.live_heap_bytes) +
         " of live heap blocks requested\n";
  const HoleStats& a = s.heap_arena;
  out += "  heap arena: " + std::to_string(a.extents) + " extent(s), " +
         std::to_string(a.live_blocks) + " blocks in " + human_bytes(a.used_bytes) +
         " of chunks; " + holes_text(a) + "\n";
  for (const Extent& e : s.arena_extents)
    out += "    [" + hex(e.start) + ", " + hex(e.end) +
           "): " + std::to_string(e.holes.live_blocks) + " blocks, " + holes_text(e.holes) + "\n";
  out += "  mapped chunks: " + std::to_string(s.mmapped_chunks) + " (" +
         human_bytes(s.mmapped_bytes) + "), each its own extent without holes\n";
  for (const PoolLayout& p : s.pools) {
    out += "  " + pool_title(p) + ": reserved " + human_bytes(p.reserved_bytes) + ", in use " +
           human_bytes(p.in_use_bytes) + " in " + std::to_string(p.live_blocks) + " blocks, " +
           std::to_string(p.segments) + " segment(s); " + holes_text(p.holes) + "\n";
    out += "    releasable " + human_bytes(p.releasable_bytes()) + ": " +
           std::to_string(p.free_segments) + " wholly free segment(s) of " +
           human_bytes(p.free_segment_bytes) + ", " + human_bytes(p.trailing_free_bytes) +
           " free at segment ends\n";
  }
  if (s.pinning.empty()) return;
  out += "  blocks pinning free space (freeing one merges the holes beside it):\n";
  for (const PinningBlock& b : s.pinning) {
    out += "    " + hex(b.address) + " " + human_bytes(b.size) + " in " + b.extent +
           (b.pool >= 0 ? " of pool " + std::to_string(b.pool) : "") + ": " +
           human_bytes(b.hole_before) + " + " + human_bytes(b.footprint) + " + " +
           human_bytes(b.hole_after) + " = " + human_bytes(b.merged_hole()) + ", allocated at " +
           seconds(b.alloc_time_ns) + (b.scope_path.empty() ? "" : " in " + b.scope_path) + "\n";
    for (size_t i = 0; i < b.frames.size() && i < 4; ++i)
      out += "      " + frame_text(b.frames[i]) + "\n";
  }
}

Json holes_json(const HoleStats& h) {
  return {{"extents", h.extents},
          {"live_blocks", h.live_blocks},
          {"used_bytes", h.used_bytes},
          {"span_bytes", h.span_bytes},
          {"holes", h.holes},
          {"free_bytes", h.free_bytes},
          {"largest_hole", h.largest_hole},
          {"fragmentation", h.fragmentation()}};
}

Json extent_block_json(const ExtentBlock& b) {
  Json frame = nullptr;
  if (b.top_frame) frame = frames_json({*b.top_frame})[0];
  return {{"address", b.address},
          {"size", b.size},
          {"footprint", b.footprint},
          {"hole_before", b.hole_before},
          {"hole_after", b.hole_after},
          {"pinning_rank", b.pinning_rank},
          {"pool", b.pool},
          {"alloc_time_ns", b.alloc_time_ns},
          {"scope", b.scope_path},
          {"top_frame", frame}};
}

Json extent_json(const Extent& e, bool with_blocks) {
  Json j = {{"kind", e.kind},
            {"start", e.start},
            {"end", e.end},
            {"holes", holes_json(e.holes)},
            {"trailing_free_bytes", e.trailing_free_bytes}};
  if (!with_blocks) return j;
  j["blocks"] = Json::array();
  for (const ExtentBlock& b : e.blocks) j["blocks"].push_back(extent_block_json(b));
  return j;
}

Json pool_json(const PoolLayout& p, bool with_blocks) {
  Json j = {{"id", p.id},
            {"name", p.name},
            {"handle", p.handle},
            {"backing", p.backing},
            {"reserved_bytes", p.reserved_bytes},
            {"in_use_bytes", p.in_use_bytes},
            {"live_blocks", p.live_blocks},
            {"segments", p.segments},
            {"free_segments", p.free_segments},
            {"free_segment_bytes", p.free_segment_bytes},
            {"trailing_free_bytes", p.trailing_free_bytes},
            {"releasable_bytes", p.releasable_bytes()},
            {"holes", holes_json(p.holes)}};
  if (!p.extents.empty()) {
    j["extents"] = Json::array();
    for (const Extent& e : p.extents) j["extents"].push_back(extent_json(e, with_blocks));
  }
  return j;
}

Json state_json(const FragmentationState& s, bool with_blocks) {
  Json j = {{"label", s.label},
            {"time_ns", s.time_ns},
            {"seq", s.seq},
            {"live_heap_bytes", s.live_heap_bytes},
            {"heap_arena", holes_json(s.heap_arena)}};
  j["arena_extents"] = Json::array();
  for (const Extent& e : s.arena_extents) j["arena_extents"].push_back(extent_json(e, with_blocks));
  j["mapped_chunks"] = {{"count", s.mmapped_chunks}, {"bytes", s.mmapped_bytes}};
  j["pools"] = Json::array();
  for (const PoolLayout& p : s.pools) j["pools"].push_back(pool_json(p, with_blocks));
  j["pinning"] = Json::array();
  for (const PinningBlock& b : s.pinning)
    j["pinning"].push_back({{"extent", b.extent},
                            {"pool", b.pool},
                            {"address", b.address},
                            {"size", b.size},
                            {"footprint", b.footprint},
                            {"hole_before", b.hole_before},
                            {"hole_after", b.hole_after},
                            {"merged_hole", b.merged_hole()},
                            {"alloc_time_ns", b.alloc_time_ns},
                            {"scope", b.scope_path},
                            {"frames", frames_json(b.frames)}});
  return j;
}

template <typename T>
Json optional_json(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json overhead_json(const OverheadPoint& p) {
  return {{"time_ns", p.time_ns},
          {"live_heap_bytes", p.live_heap_bytes},
          {"live_usable_bytes", p.live_usable_bytes},
          {"rss_bytes", p.rss_bytes},
          {"arena_bytes", optional_json(p.arena_bytes)},
          {"mmapped_bytes", optional_json(p.mmapped_bytes)},
          {"heap_ratio", optional_json(p.heap_ratio)},
          {"rss_ratio", optional_json(p.rss_ratio)}};
}

void overhead_text(const FragmentationReport& r, std::string& out) {
  size_t measured = 0;
  double low = 0, high = 0;
  for (const OverheadPoint& p : r.overhead) {
    if (!p.heap_ratio) continue;
    low = measured ? std::min(low, *p.heap_ratio) : *p.heap_ratio;
    high = measured ? std::max(high, *p.heap_ratio) : *p.heap_ratio;
    ++measured;
  }
  out += "\nAllocator overhead: " + std::to_string(r.overhead.size()) + " samples, " +
         std::to_string(measured) + " with mallinfo2\n";
  if (measured)
    out += "  (arena + mapped chunks) / live requested heap bytes: " + fixed(low, 2) + " to " +
           fixed(high, 2) + "\n";
  if (!r.overhead_at_peak) return;
  const OverheadPoint& p = r.overhead[*r.overhead_at_peak];
  out += "  nearest the peak (" + seconds(p.time_ns) + "): arena " + human_bytes(*p.arena_bytes) +
         " + mapped " + human_bytes(*p.mmapped_bytes) + " for " + human_bytes(p.live_heap_bytes) +
         " live: ratio " + fixed(*p.heap_ratio, 2) +
         (p.rss_ratio ? ", RSS " + human_bytes(p.rss_bytes) + " ratio " + fixed(*p.rss_ratio, 2)
                      : std::string()) +
         "\n";
}

void series_text(const FragmentationReport& r, std::string& out) {
  if (r.series.empty()) return;
  const auto worst = std::max_element(r.series.begin(), r.series.end(),
                                      [](const FragmentationPoint& a, const FragmentationPoint& b) {
                                        return a.heap_arena.free_bytes < b.heap_arena.free_bytes;
                                      });
  out += "\nFragmentation series: " + std::to_string(r.series.size()) +
         " points; most arena free space at " + seconds(worst->time_ns) + ": " +
         holes_text(worst->heap_arena) + "\n";
}

}  // namespace

std::string format_fragmentation_text(const FragmentationReport& r) {
  std::string out = r.trace_path + ": " + std::to_string(r.events) + " events\n";
  out += "heap peak: " + human_bytes(r.peak_heap_bytes) + " requested at " +
         seconds(r.peak_time_ns) + " (seq " + std::to_string(r.peak_seq) + ")\n";
  overhead_text(r, out);
  series_text(r, out);
  for (const PoolTotals& p : r.pools)
    out += "\npool " + std::to_string(p.id) + (p.name.empty() ? "" : " \"" + p.name + "\"") + ": " +
           std::to_string(p.allocations) + " sub-allocations, peak in use " +
           human_bytes(p.peak_in_use_bytes) + ", peak of its segments " +
           human_bytes(p.peak_segment_bytes) + (p.destroyed ? ", destroyed" : "") + "\n";
  for (const FragmentationState& s : r.states) state_text(s, out);
  for (const std::string& m : r.missing_modules) out += "\nno symbols: " + m + "\n";
  return out;
}

std::string format_fragmentation_json(const FragmentationReport& r) {
  Json j;
  j["trace"] = r.trace_path;
  j["events"] = r.events;
  j["peak"] = {{"heap_bytes", r.peak_heap_bytes}, {"time_ns", r.peak_time_ns}, {"seq", r.peak_seq}};
  j["overhead"] = Json::array();
  for (const OverheadPoint& p : r.overhead) j["overhead"].push_back(overhead_json(p));
  j["overhead_at_peak"] =
      r.overhead_at_peak ? overhead_json(r.overhead[*r.overhead_at_peak]) : Json(nullptr);
  j["series"] = Json::array();
  for (const FragmentationPoint& p : r.series) {
    Json point = {{"time_ns", p.time_ns},
                  {"heap_arena", holes_json(p.heap_arena)},
                  {"mapped_chunks", {{"count", p.mmapped_chunks}, {"bytes", p.mmapped_bytes}}}};
    point["pools"] = Json::array();
    for (const PoolLayout& pool : p.pools) point["pools"].push_back(pool_json(pool, false));
    j["series"].push_back(point);
  }
  j["pools"] = Json::array();
  for (const PoolTotals& p : r.pools)
    j["pools"].push_back({{"id", p.id},
                          {"name", p.name},
                          {"handle", p.handle},
                          {"allocations", p.allocations},
                          {"peak_in_use_bytes", p.peak_in_use_bytes},
                          {"peak_segment_bytes", p.peak_segment_bytes},
                          {"destroyed", p.destroyed}});
  j["states"] = Json::array();
  for (const FragmentationState& s : r.states)
    j["states"].push_back(state_json(s, r.extent_blocks));
  j["mark_found"] = r.mark_found;
  j["missing_modules"] = r.missing_modules;
  return j.dump(2) + "\n";
}

}  // namespace memtide::analysis
