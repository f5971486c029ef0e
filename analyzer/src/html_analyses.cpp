#include "html_analyses.h"

#include <algorithm>
#include <cstdio>

#include "text_format.h"

namespace memtide::analysis {

namespace {

constexpr double kWidth = 1000;  // SVG user units; the element scales to the card

std::string fmt(const char* format, double value) {
  char text[64];
  snprintf(text, sizeof text, format, value);
  return text;
}

std::string bytes_cell(uint64_t bytes) {
  return "<td class=\"num\" title=\"" + std::to_string(bytes) + " bytes\">" + human_bytes(bytes) +
         "</td>";
}

std::string duration(uint64_t ns) {
  if (ns == 0) return "–";
  if (ns < 1000) return std::to_string(ns) + " ns";
  if (ns < 1000000) return fmt("%.1f µs", double(ns) / 1e3);
  if (ns < 1000000000) return fmt("%.1f ms", double(ns) / 1e6);
  return fmt("%.2f s", double(ns) / 1e9);
}

std::string innermost_text(const std::vector<ReportFrame>& frames) {
  for (const ReportFrame& f : frames) {
    if (f.function.empty()) continue;
    std::string text = f.function;
    if (!f.file.empty()) {
      const size_t slash = f.file.rfind('/');
      text += " (" + (slash == std::string::npos ? f.file : f.file.substr(slash + 1)) + ":" +
              std::to_string(f.line) + ")";
    }
    return text;
  }
  return frames.empty() ? "(no stack)" : frames.front().module;
}

void write_layers(std::string& out, const ProcessReport& p) {
  out += "<h3>Layers</h3>";
  if (p.layers.empty()) {
    out +=
        "<p class=\"empty\">No scopes in this run (annotate layers with memtide_scope or "
        "NVTX ranges).</p>";
    return;
  }
  uint64_t widest = 1;
  for (const LayerRow& row : p.layers) widest = std::max(widest, row.peak_live_bytes);
  out +=
      "<div class=\"table-wrap\"><table class=\"data sortable layers\"><thead><tr>"
      "<th>Scope</th><th>Phase</th><th class=\"num\">Blocks</th><th class=\"num\">Bytes</th>"
      "<th class=\"num\">Peak live</th><th>Peak live</th><th class=\"num\">Outlives scope</th>"
      "<th class=\"num\">Live at step end</th><th class=\"num\">Median life</th>"
      "<th class=\"num\">p95 life</th></tr></thead><tbody>";
  for (const LayerRow& row : p.layers) {
    const double share = 100.0 * double(row.peak_live_bytes) / double(widest);
    out += "<tr><td class=\"scope\" style=\"padding-left:" +
           std::to_string(10 + 14 * std::max(0, row.depth - 1)) + "px\">" +
           escape_markup(row.path) + "</td><td>" + escape_markup(row.phase) + "</td>" +
           "<td class=\"num\">" + std::to_string(row.allocations) + "</td>" +
           bytes_cell(row.bytes) + bytes_cell(row.peak_live_bytes) +
           "<td class=\"bar-cell\"><span class=\"bar\" style=\"width:" + fmt("%.1f", share) +
           "%\"></span></td>" + bytes_cell(row.outliving_bytes) +
           bytes_cell(row.live_at_step_end_bytes) + "<td class=\"num\">" +
           duration(row.median_lifetime_ns) + "</td><td class=\"num\">" +
           duration(row.p95_lifetime_ns) + "</td></tr>";
  }
  out += "</tbody></table></div>";
}

std::string memory_class(const std::string& memory) {
  if (memory == "pool") return "bar-pool";
  if (memory.rfind("cuda", 0) == 0) return "bar-gpu";
  return "bar-heap";
}

void write_gantt(std::string& out, const ProcessReport& p) {
  const StepGantt& g = p.gantt;
  if (g.step < 0 || g.bars.empty() || g.end_ns <= g.start_ns) return;
  out += "<h3>Lifetimes in step " + std::to_string(g.step) + "</h3>";
  const double label = 220, lane = 16, top = 8;
  const double plot = kWidth - label - 10;
  const double height = top + lane * double(g.layers.size()) + 24;
  const double span = double(g.end_ns - g.start_ns);
  auto x_of = [&](uint64_t t) {
    const double clipped = std::clamp(double(t) - double(g.start_ns), 0.0, span);
    return label + plot * clipped / span;
  };
  out += "<svg class=\"chart gantt\" viewBox=\"0 0 " + fmt("%.0f", kWidth) + " " +
         fmt("%.0f", height) + "\" role=\"img\" aria-label=\"block lifetimes by layer\">";
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const double y = top + lane * double(i);
    out += "<text class=\"tick lane\" x=\"" + fmt("%.0f", label - 6) + "\" y=\"" +
           fmt("%.1f", y + lane * 0.7) + "\" text-anchor=\"end\">" +
           escape_markup(g.layers[i].empty() ? "(no scope)" : g.layers[i]) + "</text>";
    out += "<line class=\"grid\" x1=\"" + fmt("%.0f", label) + "\" x2=\"" + fmt("%.0f", kWidth) +
           "\" y1=\"" + fmt("%.1f", y + lane) + "\" y2=\"" + fmt("%.1f", y + lane) + "\"/>";
  }
  for (const LifetimeBar& bar : g.bars) {
    const size_t lane_index =
        size_t(std::find(g.layers.begin(), g.layers.end(), bar.layer) - g.layers.begin());
    const bool outlives = bar.end_ns == 0 || bar.end_ns > g.end_ns;
    const double x1 = x_of(bar.start_ns), x2 = x_of(outlives ? g.end_ns : bar.end_ns);
    out += "<rect class=\"" + memory_class(bar.memory) + (outlives ? " outlives" : "") + "\" x=\"" +
           fmt("%.1f", x1) + "\" y=\"" + fmt("%.1f", top + lane * double(lane_index) + 2) +
           "\" width=\"" + fmt("%.1f", std::max(1.0, x2 - x1)) + "\" height=\"" +
           fmt("%.0f", lane - 4) + "\"><title>" +
           escape_markup((bar.layer.empty() ? "(no scope)" : bar.layer) + ": " +
                         human_bytes(bar.bytes) + " of " + bar.memory + ", " +
                         (bar.end_ns ? "lived " + duration(bar.end_ns - bar.start_ns)
                                     : std::string("never freed")) +
                         (outlives ? ", outlives the step" : "")) +
           "</title></rect>";
  }
  out += "<text class=\"tick\" x=\"" + fmt("%.0f", label) + "\" y=\"" + fmt("%.0f", height - 6) +
         "\">step start</text><text class=\"tick\" x=\"" + fmt("%.0f", kWidth - 2) + "\" y=\"" +
         fmt("%.0f", height - 6) + "\" text-anchor=\"end\">" + duration(g.end_ns - g.start_ns) +
         "</text></svg>";
  out +=
      "<ul class=\"legend\"><li><span class=\"swatch bar-heap\"></span>heap block</li>"
      "<li><span class=\"swatch bar-pool\"></span>pool sub-allocation</li>"
      "<li><span class=\"swatch bar-gpu\"></span>GPU block</li>"
      "<li><span class=\"swatch outlives-swatch\"></span>outlives the step</li></ul>";
  if (g.bars_left_out)
    out += "<p class=\"more\">" + std::to_string(g.bars_left_out) +
           " smaller blocks of the step are not drawn.</p>";
}

void write_peak(std::string& out, const ProcessReport& p) {
  const PeakBreakdown& b = p.peak_breakdown;
  if (!b.found) return;
  out += "<h3>The peak</h3><p>" + human_bytes(b.bytes) + " live (" + escape_markup(b.measure) +
         ")" + (b.step >= 0 ? " in step " + std::to_string(b.step) : std::string()) +
         (b.scope.empty() ? "" : ", while " + escape_markup(b.scope) + " ran") + ".</p>";
  if (!b.by_scope.empty()) {
    out +=
        "<div class=\"table-wrap\"><table class=\"data peak-scopes\"><thead><tr><th>Live at the "
        "peak, by scope</th><th class=\"num\">Bytes</th></tr></thead><tbody>";
    size_t shown = 0;
    for (const auto& [scope, bytes] : b.by_scope) {
      if (++shown > 15) break;
      out +=
          "<tr><td class=\"scope\">" + escape_markup(scope) + "</td>" + bytes_cell(bytes) + "</tr>";
    }
    out += "</tbody></table></div>";
  }
  if (b.icicle.empty() || b.icicle_bytes == 0) return;
  int depth = 0;
  for (const IcicleNode& n : b.icicle) depth = std::max(depth, n.depth + 1);
  const double row = 18;
  out +=
      "<p class=\"muted\">Stacks live at the peak, outermost frame at the top (width: bytes).</p>"
      "<svg class=\"chart icicle\" viewBox=\"0 0 " +
      fmt("%.0f", kWidth) + " " + fmt("%.0f", row * depth + 2) +
      "\" role=\"img\" aria-label=\"stacks live at the peak\">";
  for (const IcicleNode& n : b.icicle) {
    const double x = kWidth * double(n.offset) / double(b.icicle_bytes);
    const double w = kWidth * double(n.bytes) / double(b.icicle_bytes);
    if (w < 0.5) continue;
    const std::string title = n.name + ": " + human_bytes(n.bytes);
    out += "<g><rect class=\"frame d" + std::to_string(n.depth % 4) + "\" x=\"" + fmt("%.1f", x) +
           "\" y=\"" + fmt("%.0f", row * n.depth) + "\" width=\"" +
           fmt("%.1f", std::max(0.5, w - 0.5)) + "\" height=\"" + fmt("%.0f", row - 1) +
           "\"/><title>" + escape_markup(title) + "</title>";
    if (w > 60) {
      const size_t fits = size_t((w - 6) / 6.5);
      std::string text =
          n.name.size() > fits ? n.name.substr(0, fits > 1 ? fits - 1 : 0) + "…" : n.name;
      out += "<text class=\"frame-label\" x=\"" + fmt("%.1f", x + 3) + "\" y=\"" +
             fmt("%.1f", row * n.depth + 12.5) + "\">" + escape_markup(text) + "</text>";
    }
    out += "</g>";
  }
  out += "</svg>";
}

void write_temporaries(std::string& out, const ProcessReport& p) {
  out += "<h3>Temporaries</h3>";
  if (p.temporaries.empty()) {
    out += "<p class=\"empty\">No allocation was freed before its thread's next allocation.</p>";
    return;
  }
  out +=
      "<p class=\"muted\">Blocks freed before their thread allocated anything else: the "
      "cheapest wins for a pooled allocator.</p><div class=\"table-wrap\"><table class=\"data "
      "sortable temporaries\"><thead><tr><th class=\"num\">Temporaries</th><th "
      "class=\"num\">Bytes</th><th class=\"num\">Of allocations</th><th>Scope</th>"
      "<th>Allocated at</th></tr></thead><tbody>";
  for (const TemporaryRow& t : p.temporaries)
    out += "<tr><td class=\"num\">" + std::to_string(t.temporaries) + "</td>" +
           bytes_cell(t.temporary_bytes) + "<td class=\"num\">" + std::to_string(t.allocations) +
           "</td><td class=\"scope\">" + escape_markup(t.scope) + "</td><td class=\"stack\">" +
           escape_markup(innermost_text(t.frames)) + "</td></tr>";
  out += "</tbody></table></div>";
}

// One line chart of ratios over time; `series` are (css class, points).
void write_ratio_chart(
    std::string& out, const char* label,
    const std::vector<std::pair<const char*, std::vector<std::pair<uint64_t, double>>>>& series) {
  uint64_t t0 = UINT64_MAX, t1 = 0;
  double top = 0;
  for (const auto& [css, points] : series)
    for (const auto& [t, v] : points)
      t0 = std::min(t0, t), t1 = std::max(t1, t), top = std::max(top, v);
  if (t1 <= t0 || top <= 0) return;
  top *= 1.1;
  const double left = 50, height = 160, bottom = 20;
  out += "<svg class=\"chart ratios\" viewBox=\"0 0 " + fmt("%.0f", kWidth) + " " +
         fmt("%.0f", height + bottom) + "\" role=\"img\" aria-label=\"" + label + "\">";
  for (int i = 0; i <= 4; ++i) {
    const double y = height - height * i / 4.0;
    out += "<line class=\"grid\" x1=\"" + fmt("%.0f", left) + "\" x2=\"" + fmt("%.0f", kWidth) +
           "\" y1=\"" + fmt("%.1f", y) + "\" y2=\"" + fmt("%.1f", y) +
           "\"/><text class=\"tick\" x=\"" + fmt("%.0f", left - 6) + "\" y=\"" +
           fmt("%.1f", y + 4) + "\" text-anchor=\"end\">" + fmt("%.2f", top * i / 4.0) + "</text>";
  }
  for (const auto& [css, points] : series) {
    if (points.empty()) continue;
    out += "<polyline class=\"line " + std::string(css) + "\" points=\"";
    for (const auto& [t, v] : points)
      out += fmt("%.1f", left + (kWidth - left) * double(t - t0) / double(t1 - t0)) + "," +
             fmt("%.1f", height - height * v / top) + " ";
    out += "\"/>";
  }
  out += "<text class=\"tick\" x=\"" + fmt("%.0f", left) + "\" y=\"" + fmt("%.0f", height + 15) +
         "\">0 s</text><text class=\"tick\" x=\"" + fmt("%.0f", kWidth - 2) + "\" y=\"" +
         fmt("%.0f", height + 15) + "\" text-anchor=\"end\">" +
         fmt("%.3f s", double(t1 - t0) / 1e9) + "</text></svg>";
}

void write_fragmentation(std::string& out, const ProcessReport& p) {
  std::vector<std::pair<uint64_t, double>> heap, rss, external;
  for (const FragmentationSample& s : p.overhead) {
    if (s.heap_overhead > 0) heap.emplace_back(s.time_ns, s.heap_overhead);
    if (s.rss_overhead > 0) rss.emplace_back(s.time_ns, s.rss_overhead);
  }
  for (const ExternalFragmentationSample& s : p.fragmentation)
    external.emplace_back(s.time_ns, s.ratio);
  if (heap.empty() && rss.empty() && external.empty()) return;
  out += "<h3>Fragmentation over time</h3>";
  if (!heap.empty() || !rss.empty()) {
    out +=
        "<p class=\"muted\">Allocator overhead: bytes the allocator holds (arena + mapped chunks) "
        "and RSS, each divided by the live bytes the program asked for.</p>";
    write_ratio_chart(out, "allocator overhead", {{"line-heap", heap}, {"line-rss", rss}});
    out +=
        "<ul class=\"legend\"><li><span class=\"swatch line-heap\"></span>arena + mapped / "
        "live</li><li><span class=\"swatch line-rss\"></span>RSS / live</li></ul>";
  }
  if (!external.empty()) {
    out +=
        "<p class=\"muted\">External fragmentation of the heap arena: 1 − largest hole / free "
        "bytes in holes between live blocks.</p>";
    write_ratio_chart(out, "external fragmentation", {{"line-mmap", external}});
  }
}

}  // namespace

void write_analyses(std::string& out, const ProcessReport& p) {
  const bool any = !p.layers.empty() || p.gantt.step >= 0 || p.peak_breakdown.found ||
                   !p.temporaries.empty() || !p.overhead.empty() || !p.fragmentation.empty();
  if (!any) return;
  write_layers(out, p);
  write_gantt(out, p);
  write_peak(out, p);
  write_temporaries(out, p);
  write_fragmentation(out, p);
}

const char* const kAnalysesStyle = R"css(
table.data td.bar-cell { min-width: 120px; }
.bar { display: inline-block; height: 8px; border-radius: 2px; background: #93b4f5; vertical-align: middle; }
svg.gantt .bar-heap, .swatch.bar-heap { fill: #2563eb; background: #2563eb; }
svg.gantt .bar-pool, .swatch.bar-pool { fill: #7c3aed; background: #7c3aed; }
svg.gantt .bar-gpu, .swatch.bar-gpu { fill: #059669; background: #059669; }
svg.gantt .outlives { fill-opacity: .45; stroke: #111827; stroke-width: .6; stroke-dasharray: 2 2; }
.swatch.outlives-swatch { background: #9db5ea; height: 8px; outline: 1px dashed #111827; }
svg.icicle .frame { stroke: #fff; stroke-width: .5; }
svg.icicle .d0 { fill: #fca5a5; } svg.icicle .d1 { fill: #fdba74; }
svg.icicle .d2 { fill: #fcd34d; } svg.icicle .d3 { fill: #fde68a; }
svg.icicle .frame-label { font-size: 11px; fill: #1f2933; font-family: ui-monospace, monospace; pointer-events: none; }
)css";

}  // namespace memtide::analysis
