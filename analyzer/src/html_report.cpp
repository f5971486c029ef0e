#include "memtide/analysis/html_report.h"

#include "html_analyses.h"
#include "text_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

namespace memtide::analysis {
namespace {

// ---- Text ----

// Every trace string goes through here, whatever the context (element text,
// attribute value, SVG): attributes are always double-quoted, and escaping
// both quotes keeps one function right for all of them.
std::string escape_html(std::string_view text) {
  return escape_markup(text);
}

template <typename... Args>
std::string printf_string(const char* format, Args... args) {
  char buffer[128];
  snprintf(buffer, sizeof buffer, format, args...);
  return buffer;
}

std::string group_digits(uint64_t n) {
  std::string digits = std::to_string(n), grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

// "1 block", "2 blocks", with the count's digits grouped.
std::string count_of(uint64_t n, std::string_view noun) {
  return group_digits(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::string format_duration(double seconds) {
  if (seconds < 60) return printf_string("%.2f s", seconds);
  auto whole = uint64_t(seconds);
  if (whole < 3600) return printf_string("%um %02us", unsigned(whole / 60), unsigned(whole % 60));
  return printf_string("%uh %02um", unsigned(whole / 3600), unsigned(whole / 60 % 60));
}

std::string_view basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// ---- Table cells ----

// Sizes read as KiB/MiB, give the exact count on hover and sort by the
// exact value (data-sort), not by the rounded text.
std::string bytes_cell(uint64_t bytes) {
  return "<td class=\"num\" data-sort=\"" + std::to_string(bytes) + "\" title=\"" +
         group_digits(bytes) + " bytes\">" + human_bytes(bytes) + "</td>";
}

std::string count_cell(uint64_t count) {
  return "<td class=\"num\" data-sort=\"" + std::to_string(count) + "\">" + group_digits(count) +
         "</td>";
}

// `css_class` is one of the renderer's own names, never trace text.
std::string text_cell(std::string_view text, const char* css_class = nullptr,
                      std::string_view when_empty = "") {
  std::string classes = css_class ? css_class : "";
  if (text.empty()) classes += classes.empty() ? "muted" : " muted";
  std::string open = classes.empty() ? "<td>" : "<td class=\"" + classes + "\">";
  return open + escape_html(text.empty() ? when_empty : text) + "</td>";
}

// A CSS class from a fixed list: category and kind strings come from the
// trace side, so they never become class names themselves.
std::string_view category_class(std::string_view category) {
  if (category == "definite") return "cat-definite";
  if (category == "indirect") return "cat-indirect";
  if (category == "possible") return "cat-possible";
  if (category == "reachable") return "cat-reachable";
  if (category == "not freed") return "cat-unfreed";
  if (category == "mismatch") return "cat-definite";
  if (category == "unknown free") return "cat-indirect";
  return "cat-other";
}

std::string category_badge(std::string_view category) {
  return "<span class=\"badge " + std::string(category_class(category)) + "\">" +
         escape_html(category) + "</span>";
}

// ---- Stacks ----

std::string frame_location(const ReportFrame& frame) {
  if (!frame.file.empty()) {
    std::string location = escape_html(frame.file);
    if (frame.line > 0) location += ":" + std::to_string(frame.line);
    return "<span class=\"loc\">" + location + "</span>";
  }
  return "<span class=\"loc\" title=\"" + escape_html(frame.module) + "\">" +
         escape_html(basename_of(frame.module)) +
         printf_string("+0x%llx", static_cast<unsigned long long>(frame.module_offset)) + "</span>";
}

std::string frame_html(const ReportFrame& frame) {
  std::string function = frame.function.empty() ? "??" : frame.function;
  std::string html =
      "<span class=\"fn\">" + escape_html(function) + "</span> " + frame_location(frame);
  if (frame.inlined) html += " <span class=\"tag\">inlined</span>";
  return html;
}

// The collapsed line names the first frame with source information: the
// innermost frames are usually the allocator, in system libraries without
// line tables, and the first one with a file is usually the caller's code.
const ReportFrame& headline_frame(const std::vector<ReportFrame>& frames) {
  for (const ReportFrame& frame : frames) {
    if (!frame.file.empty()) return frame;
  }
  return frames.front();
}

std::string stack_cell(const std::vector<ReportFrame>& frames, const HtmlReportLimits& limits,
                       bool open = false) {
  if (frames.empty()) return "<td class=\"stack muted\">no stack</td>";
  std::string html = std::string("<td class=\"stack\"><details") + (open ? " open" : "") +
                     "><summary>" + frame_html(headline_frame(frames)) +
                     "</summary><ol class=\"frames\">";
  size_t shown = std::min(frames.size(), limits.max_stack_frames);
  for (size_t i = 0; i < shown; ++i) html += "<li>" + frame_html(frames[i]) + "</li>";
  html += "</ol>";
  if (shown < frames.size())
    html +=
        "<p class=\"more\">" + count_of(frames.size() - shown, "outer frame") + " not shown</p>";
  return html + "</details></td>";
}

// ---- Tables ----

struct Column {
  const char* label;
  const char* sort_type;  // "num", "text", or nullptr for a column that does not sort
};

std::string table_head(const char* table_class, const std::vector<Column>& columns) {
  std::string html = "<div class=\"table-wrap\"><table class=\"data sortable " +
                     std::string(table_class) + "\"><thead><tr>";
  for (const Column& column : columns) {
    bool numeric = column.sort_type && std::string_view(column.sort_type) == "num";
    html += numeric ? "<th class=\"num\"" : "<th";
    if (column.sort_type) html += std::string(" data-sort-type=\"") + column.sort_type + "\"";
    html += std::string(">") + column.label + "</th>";
  }
  return html + "</tr></thead><tbody>";
}

// `what` in the singular: "leak group".
std::string table_tail(size_t total, size_t shown, const char* what) {
  std::string html = "</tbody></table></div>";
  if (shown < total) {
    html += "<p class=\"more\">" + count_of(total - shown, std::string("more ") + what) +
            " not shown (the report lists the first " + group_digits(shown) + ").</p>";
  }
  return html;
}

std::string empty_note(std::string_view text) {
  return "<p class=\"empty\">" + escape_html(text) + "</p>";
}

// ---- Header, gates, summary ----

std::string page_title(const ReportData& data) {
  return data.title.empty() ? "memtide report" : data.title;
}

void write_gates(std::string& out, const ReportData& data) {
  out += "<section id=\"gates\" class=\"card\"><h2>Gates</h2>";
  size_t failed = size_t(
      std::count_if(data.gates.begin(), data.gates.end(), [](auto& g) { return !g.passed; }));
  if (data.gates_passed) {
    out += "<p class=\"verdict verdict-passed\">All gates passed</p>";
  } else {
    out += "<p class=\"verdict verdict-failed\">Gates failed: " + std::to_string(failed) + " of " +
           std::to_string(data.gates.size()) + "</p>";
  }
  if (data.gates.empty()) {
    out += empty_note("No gates were set for this report.");
    out += "</section>";
    return;
  }
  // Failed gates first: they are what the reader came for.
  std::vector<const GateVerdict*> ordered;
  for (const GateVerdict& gate : data.gates) ordered.push_back(&gate);
  std::stable_partition(ordered.begin(), ordered.end(), [](auto* g) { return !g->passed; });
  out += "<ul class=\"gates\">";
  for (const GateVerdict* gate : ordered) {
    const char* state = gate->passed ? "passed" : "failed";
    out += std::string("<li class=\"gate gate-") + state + "\"><span class=\"badge badge-" + state +
           "\">" + state + "</span> <span class=\"gate-name\">" + escape_html(gate->name) +
           "</span> <span class=\"gate-detail\">" + escape_html(gate->detail) + "</span></li>";
  }
  out += "</ul></section>";
}

uint64_t listed_leak_bytes(const ProcessReport& process) {
  uint64_t bytes = 0;
  for (const LeakGroup& leak : process.leaks) {
    if (!leak.suppressed) bytes += leak.bytes;
  }
  return bytes;
}

std::string end_cell(const ProcessReport& process) {
  std::string html = "<td>" + escape_html(process.end_reason);
  if (!process.ended_cleanly) html += " <span class=\"badge cat-indirect\">not clean</span>";
  return html + "</td>";
}

void write_summary(std::string& out, const ReportData& data) {
  out += "<section id=\"summary\" class=\"card\"><h2>Processes</h2>";
  if (data.processes.empty()) {
    out += empty_note("The report holds no process.") + "</section>";
    return;
  }
  out += table_head("summary", {{"Process", "num"},
                                {"Command", "text"},
                                {"Duration", "num"},
                                {"End", "text"},
                                {"Allocations", "num"},
                                {"Frees", "num"},
                                {"Peak", "num"},
                                {"Unfreed at exit", "num"}});
  for (size_t i = 0; i < data.processes.size(); ++i) {
    const ProcessReport& p = data.processes[i];
    out += "<tr><td class=\"num\" data-sort=\"" + std::to_string(p.pid) + "\"><a href=\"#process-" +
           std::to_string(i) + "\">" + std::to_string(p.pid) + "</a></td>";
    out += "<td class=\"cmd\">" + escape_html(p.command_line) + "</td>";
    out += "<td class=\"num\" data-sort=\"" + printf_string("%.6f", p.duration_seconds) + "\">" +
           format_duration(p.duration_seconds) + "</td>";
    out += end_cell(p) + count_cell(p.allocations) + count_cell(p.frees) +
           bytes_cell(p.peak_bytes) + bytes_cell(listed_leak_bytes(p)) + "</tr>";
  }
  out += table_tail(data.processes.size(), data.processes.size(), "process") + "</section>";
}

// ---- Memory-over-time chart ----

struct ChartPoint {
  uint64_t time_ns;
  uint64_t bytes;
};

struct ChartSeries {
  const char* label;
  const char* css_class;
  std::vector<ChartPoint> points;
};

// Keeps, in each of max_points/2 equal buckets, the lowest and the highest
// point (in time order): spikes and the peak survive, where striding or
// averaging would smooth them away. Every bucket has at least two points, so
// a downsampled line has exactly 2 * (max_points / 2) points.
std::vector<ChartPoint> downsample_min_max(const std::vector<ChartPoint>& points,
                                           size_t max_points) {
  size_t buckets = std::max<size_t>(max_points / 2, 1);
  if (points.size() <= 2 * buckets) return points;
  std::vector<ChartPoint> kept;
  kept.reserve(2 * buckets);
  for (size_t b = 0; b < buckets; ++b) {
    size_t begin = b * points.size() / buckets, end = (b + 1) * points.size() / buckets;
    size_t low = begin, high = begin;
    for (size_t i = begin; i < end; ++i) {
      if (points[i].bytes < points[low].bytes) low = i;
      // The last maximum: it can equal the first minimum only in a flat bucket,
      // and there it is the bucket's last point.
      if (points[i].bytes >= points[high].bytes) high = i;
    }
    kept.push_back(points[std::min(low, high)]);
    kept.push_back(points[std::max(low, high)]);
  }
  return kept;
}

std::vector<ChartSeries> chart_series(const ProcessReport& p, size_t max_points) {
  std::vector<ChartSeries> series = {{"live heap", "line-heap", {}},
                                     {"mmap", "line-mmap", {}},
                                     {"GPU", "line-gpu", {}},
                                     {"RSS", "line-rss", {}}};
  for (const TimelinePoint& t : p.timeline) {
    series[0].points.push_back({t.time_ns, t.heap_bytes});
    series[1].points.push_back({t.time_ns, t.mmap_bytes});
    series[2].points.push_back({t.time_ns, t.gpu_bytes});
    // RSS is 0 where it was not sampled: a gap, not a drop to nothing.
    if (t.rss_bytes != 0) series[3].points.push_back({t.time_ns, t.rss_bytes});
  }
  // A line that is zero throughout (no GPU, no mmap) only hides the others.
  std::erase_if(series, [](const ChartSeries& s) {
    return std::none_of(s.points.begin(), s.points.end(), [](auto& q) { return q.bytes != 0; });
  });
  for (ChartSeries& s : series) s.points = downsample_min_max(s.points, max_points);
  return series;
}

double nice_step(double raw) {
  if (!(raw > 0)) return 1;
  double power = std::pow(10, std::floor(std::log10(raw)));
  double fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

// The one place that maps time and bytes to chart coordinates.
struct ChartFrame {
  static constexpr double kWidth = 960, kHeight = 300;
  static constexpr double kLeft = 72, kRight = 16, kTop = 16, kBottom = 32;
  uint64_t t0 = 0, t1 = 1;
  double y_max = 1;  // bytes at the top edge

  double x_of(uint64_t time_ns) const {
    uint64_t t = std::clamp(time_ns, t0, t1);
    return kLeft + double(t - t0) / double(t1 - t0) * (kWidth - kLeft - kRight);
  }
  double y_of(double bytes) const {
    return kTop + (1 - bytes / y_max) * (kHeight - kTop - kBottom);
  }
  double seconds_at(uint64_t time_ns) const { return double(time_ns - t0) / 1e9; }
};

ChartFrame chart_frame(const ProcessReport& p, const std::vector<ChartSeries>& series) {
  ChartFrame frame;
  uint64_t first = UINT64_MAX, last = 0, top = p.peak_bytes;
  for (const ChartSeries& s : series) {
    first = std::min(first, s.points.front().time_ns);
    last = std::max(last, s.points.back().time_ns);
    for (const ChartPoint& q : s.points) top = std::max(top, q.bytes);
  }
  frame.t0 = p.start_time_ns != 0 && p.start_time_ns <= first ? p.start_time_ns : first;
  frame.t1 = std::max({last, p.peak_time_ns, frame.t0 + 1});
  frame.y_max = double(std::max<uint64_t>(top, 1));
  return frame;
}

// Byte ticks in one binary unit (0, 256 MiB, 512 MiB, ...), and the top of
// the axis rounded up to the last tick so the highest line stays inside.
void write_y_axis(std::string& out, ChartFrame& frame) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  double scale = 1;
  while (unit < 4 && frame.y_max >= scale * 1024) scale *= 1024, ++unit;
  double step = std::max(nice_step(frame.y_max / scale / 4), unit == 0 ? 1.0 : 0.0);
  double ticks = std::ceil(frame.y_max / scale / step);
  frame.y_max = ticks * step * scale;
  for (int i = 0; i <= int(ticks); ++i) {
    double y = frame.y_of(i * step * scale);
    out += printf_string("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                         ChartFrame::kLeft, y, ChartFrame::kWidth - ChartFrame::kRight, y);
    out +=
        printf_string("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g %s</text>",
                      ChartFrame::kLeft - 8, y + 4, i * step, kUnits[unit]);
  }
}

void write_x_axis(std::string& out, const ChartFrame& frame) {
  double span = frame.seconds_at(frame.t1);
  double step = nice_step(span / 6);
  double baseline = ChartFrame::kHeight - ChartFrame::kBottom;
  for (double s = 0; s <= span * (1 + 1e-9); s += step) {
    double x = frame.x_of(frame.t0 + uint64_t(s * 1e9));
    out +=
        printf_string("<line class=\"tick-mark\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                      x, baseline, x, baseline + 4);
    out += printf_string(
        "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g s</text>", x,
        baseline + 18, s);
  }
}

// Thousands of steps would be a grey block: beyond the limit every k-th step
// is drawn, and the legend says so.
size_t step_marker_stride(const ProcessReport& p, const HtmlReportLimits& limits) {
  size_t limit = std::max<size_t>(limits.max_step_markers, 1);
  return (p.step_times_ns.size() + limit - 1) / limit;
}

void write_step_markers(std::string& out, const ProcessReport& p, const ChartFrame& frame,
                        const HtmlReportLimits& limits) {
  if (p.step_times_ns.empty()) return;
  size_t stride = step_marker_stride(p, limits);
  out += "<g class=\"steps\">";
  for (size_t i = 0; i < p.step_times_ns.size(); i += stride) {
    double x = frame.x_of(p.step_times_ns[i]);
    out += printf_string("<line class=\"step\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\">", x,
                         ChartFrame::kTop, x, ChartFrame::kHeight - ChartFrame::kBottom);
    out += "<title>step " + std::to_string(i) +
           printf_string(" at %.3f s", frame.seconds_at(std::max(p.step_times_ns[i], frame.t0))) +
           "</title></line>";
  }
  out += "</g>";
}

void write_polyline(std::string& out, const ChartSeries& series, const ChartFrame& frame) {
  out += std::string("<polyline class=\"line ") + series.css_class + "\" points=\"";
  for (size_t i = 0; i < series.points.size(); ++i) {
    if (i) out += ' ';
    out += printf_string("%.1f,%.1f", frame.x_of(series.points[i].time_ns),
                         frame.y_of(double(series.points[i].bytes)));
  }
  out += "\"><title>" + std::string(series.label) + "</title></polyline>";
}

void write_peak_marker(std::string& out, const ProcessReport& p, const ChartFrame& frame) {
  if (p.peak_bytes == 0 || p.peak_time_ns == 0) return;
  double x = frame.x_of(p.peak_time_ns), y = frame.y_of(double(p.peak_bytes));
  // Keep the label inside the plot near the right and top edges.
  bool label_left = x > ChartFrame::kWidth * 0.8;
  double label_y = y < ChartFrame::kTop + 14 ? y + 16 : y - 8;
  out += printf_string("<g class=\"peak\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\"/>", x, y);
  out += printf_string("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">peak ",
                       x + (label_left ? -8 : 8), label_y, label_left ? "end" : "start");
  out += human_bytes(p.peak_bytes) + "</text><title>peak " + group_digits(p.peak_bytes) +
         printf_string(" bytes at %.3f s", frame.seconds_at(p.peak_time_ns)) + "</title></g>";
}

void write_legend(std::string& out, const ProcessReport& p, const std::vector<ChartSeries>& series,
                  const HtmlReportLimits& limits) {
  out += "<ul class=\"legend\">";
  for (const ChartSeries& s : series) {
    out +=
        std::string("<li><span class=\"swatch ") + s.css_class + "\"></span>" + s.label + "</li>";
  }
  if (!p.step_times_ns.empty()) {
    size_t stride = step_marker_stride(p, limits);
    out += "<li><span class=\"swatch swatch-step\"></span>" +
           count_of(p.step_times_ns.size(), "step") +
           (stride > 1 ? ", one line per " + std::to_string(stride) : std::string()) + "</li>";
  }
  if (p.peak_bytes != 0 && p.peak_time_ns != 0)
    out +=
        "<li><span class=\"swatch swatch-peak\"></span>peak " + human_bytes(p.peak_bytes) + "</li>";
  out += "</ul>";
}

void write_chart(std::string& out, const ProcessReport& p, size_t index,
                 const HtmlReportLimits& limits) {
  out += "<h3>Memory over time</h3>";
  std::vector<ChartSeries> series = chart_series(p, limits.max_timeline_points);
  if (series.empty()) {
    out += empty_note("No memory samples in this trace.");
    return;
  }
  ChartFrame frame = chart_frame(p, series);
  std::string title_id = "chart-title-" + std::to_string(index);
  out += printf_string(
      "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-labelledby=\"",
      ChartFrame::kWidth, ChartFrame::kHeight);
  out += title_id + "\"><title id=\"" + title_id + "\">Memory over time of process " +
         std::to_string(p.pid) + ": " + escape_html(p.command_line) + "</title>";
  write_y_axis(out, frame);  // first: it rounds y_max up to the top tick
  write_x_axis(out, frame);
  write_step_markers(out, p, frame, limits);
  for (const ChartSeries& s : series) write_polyline(out, s, frame);
  write_peak_marker(out, p, frame);
  out += "</svg>";
  write_legend(out, p, series, limits);
}

// ---- Per-process tables ----

void write_leaks(std::string& out, const ProcessReport& p, const HtmlReportLimits& limits) {
  out += "<h3>Leaks</h3>";
  if (!p.leak_scan_done) {
    out +=
        "<p class=\"note\">The leak scan did not run for this process: blocks still live at "
        "the end are listed as \"not freed\", unclassified.</p>";
  }
  std::vector<const LeakGroup*> listed;
  for (const LeakGroup& leak : p.leaks) {
    if (!leak.suppressed) listed.push_back(&leak);
  }
  if (listed.empty()) {
    out += empty_note("No unfreed blocks.");
    return;
  }
  out += table_head("leaks", {{"Category", "text"},
                              {"Size", "num"},
                              {"Blocks", "num"},
                              {"Scope", "text"},
                              {"Device", "text"},
                              {"Allocated at", nullptr}});
  size_t shown = std::min(listed.size(), limits.max_table_rows);
  // The largest group's stack starts open: it is the one most readers want.
  for (size_t i = 0; i < shown; ++i) {
    const LeakGroup& leak = *listed[i];
    out += "<tr class=\"leak-row\"><td>" + category_badge(leak.category) + "</td>" +
           bytes_cell(leak.bytes) + count_cell(leak.blocks) +
           text_cell(leak.scope, "scope", "none") + text_cell(leak.device, "device") +
           stack_cell(leak.frames, limits, /*open=*/i == 0) + "</tr>";
  }
  out += table_tail(listed.size(), shown, "leak group");
}

void write_growth(std::string& out, const ProcessReport& p, const HtmlReportLimits& limits) {
  out += "<h3>Growth per step</h3>";
  if (p.growth.empty()) {
    out += empty_note("No allocation grew from step to step.");
    return;
  }
  out += table_head("growth", {{"Scope", "text"},
                               {"Per step", "num"},
                               {"Steps", "num"},
                               {"Live at end", "num"},
                               {"Allocated at", nullptr}});
  size_t shown = std::min(p.growth.size(), limits.max_table_rows);
  for (size_t i = 0; i < shown; ++i) {
    const GrowthGroup& g = p.growth[i];
    out += "<tr class=\"growth-row\">" + text_cell(g.scope, "scope", "none") +
           bytes_cell(g.bytes_per_step) + count_cell(g.steps) + bytes_cell(g.live_bytes) +
           stack_cell(g.frames, limits) + "</tr>";
  }
  out += table_tail(p.growth.size(), shown, "growth group");
}

void write_errors(std::string& out, const ProcessReport& p, const HtmlReportLimits& limits) {
  out += "<h3>Errors</h3>";
  if (p.errors.empty()) {
    out += empty_note("No mismatched or unknown frees.");
    return;
  }
  out += table_head("errors",
                    {{"Kind", "text"}, {"Detail", "text"}, {"Count", "num"}, {"Stack", nullptr}});
  size_t shown = std::min(p.errors.size(), limits.max_table_rows);
  for (size_t i = 0; i < shown; ++i) {
    const ErrorGroup& e = p.errors[i];
    out += "<tr class=\"error-row\"><td>" + category_badge(e.kind) + "</td>" + text_cell(e.detail) +
           count_cell(e.count) + stack_cell(e.frames, limits) + "</tr>";
  }
  out += table_tail(p.errors.size(), shown, "error group");
}

void write_suppressed(std::string& out, const ProcessReport& p) {
  out += "<h3>Suppressed</h3>";
  if (p.suppressed_blocks == 0 && p.suppressed_bytes == 0) {
    out += empty_note("Nothing matched a suppression.");
    return;
  }
  out += "<p class=\"suppressed\">" + count_of(p.suppressed_blocks, "block") + " (<span title=\"" +
         group_digits(p.suppressed_bytes) + " bytes\">" + human_bytes(p.suppressed_bytes) +
         "</span>) matched suppressions and are not listed.</p>";
}

void write_process(std::string& out, const ProcessReport& p, size_t index,
                   const HtmlReportLimits& limits) {
  out += "<section class=\"card process\" id=\"process-" + std::to_string(index) + "\">";
  out += "<h2>Process " + std::to_string(p.pid);
  if (p.parent_pid != 0)
    out += " <span class=\"muted\">child of " + std::to_string(p.parent_pid) + "</span>";
  out += "</h2><p class=\"cmdline\"><code>" + escape_html(p.command_line) + "</code></p>";
  if (!p.trace_path.empty())
    out += "<p class=\"muted\">Trace <code>" + escape_html(p.trace_path) + "</code></p>";
  write_leaks(out, p, limits);
  write_chart(out, p, index, limits);
  write_analyses(out, p);
  write_growth(out, p, limits);
  write_errors(out, p, limits);
  write_suppressed(out, p);
  out += "</section>";
}

// ---- Page ----

constexpr const char* kStyle = R"css(
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --bg: #f5f7fa; --card: #fff;
  --accent: #2563eb; --bad: #c81e1e; --bad-bg: #fdecec; --good: #0e7a3d; --good-bg: #e6f6ec; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); line-height: 1.45;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; padding-bottom: 8px; }
h1 { font-size: 24px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 0 0 12px; overflow-wrap: anywhere; }
h3 { font-size: 15px; margin: 24px 0 8px; color: var(--ink); }
code, .stack, .cmd { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
a { color: var(--accent); }
.subtitle, .muted { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 20px 24px; margin: 16px 0; box-shadow: 0 1px 2px rgba(31,41,51,.04); }
.verdict { font-size: 16px; font-weight: 600; padding: 10px 14px; border-radius: 6px; margin: 0 0 12px; }
.verdict-passed { background: var(--good-bg); color: var(--good); }
.verdict-failed { background: var(--bad-bg); color: var(--bad); border-left: 4px solid var(--bad); }
.gates { list-style: none; margin: 0; padding: 0; }
.gate { padding: 8px 10px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
.gate:last-child { border-bottom: 0; }
.gate-failed { background: #fff7f7; }
.gate-failed .gate-detail { color: var(--bad); }
.gate-name { font-weight: 600; margin: 0 8px 0 4px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; white-space: nowrap; background: #eef0f3; color: var(--muted); }
.badge-failed, .cat-definite { background: var(--bad-bg); color: var(--bad); }
.badge-passed { background: var(--good-bg); color: var(--good); }
.cat-indirect { background: #fff1e0; color: #b45309; }
.cat-possible { background: #fef9c3; color: #854d0e; }
.cat-unfreed { background: #e0ecff; color: #1d4ed8; }
.table-wrap { overflow-x: auto; }
table.data { border-collapse: collapse; width: 100%; }
table.data th, table.data td { text-align: left; vertical-align: top; padding: 6px 10px;
  border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
table.data th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted);
  background: #fafbfc; white-space: nowrap; }
table.data tbody tr:hover { background: #f8fafc; }
table.data .num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
th.sort-header { cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " \25B2"; }
th[aria-sort="descending"]::after { content: " \25BC"; }
/* Long trace strings wrap anywhere; these keep ordinary names on one line. */
table.data td.stack { min-width: 420px; }
table.data td.scope { min-width: 190px; }
table.data td.device { min-width: 70px; }
details summary { cursor: pointer; }
ol.frames { margin: 6px 0 2px; padding-left: 28px; color: var(--ink); }
ol.frames li { padding: 1px 0; }
.fn { color: #111827; }
.loc { color: var(--muted); margin-left: 4px; }
.tag { font-family: system-ui, sans-serif; font-size: 11px; color: #7c3aed; }
.more, .empty, .note { color: var(--muted); margin: 8px 0; }
.note { background: #fffbea; border-left: 3px solid #d69e2e; padding: 6px 10px; color: #744210; }
.cmdline { margin: 0 0 4px; overflow-wrap: anywhere; }
svg.chart { width: 100%; height: auto; display: block; background: #fff; }
svg.chart .grid { stroke: #edf0f3; }
svg.chart .tick-mark { stroke: #9aa5b1; }
svg.chart .tick { fill: var(--muted); font-size: 11px; font-family: system-ui, sans-serif; }
svg.chart .step { stroke: #cbd2d9; stroke-dasharray: 2 3; }
svg.chart .line { fill: none; stroke-width: 1.6; stroke-linejoin: round; }
.line-heap { stroke: #2563eb; background: #2563eb; }
.line-mmap { stroke: #d97706; background: #d97706; }
.line-gpu { stroke: #059669; background: #059669; }
.line-rss { stroke: #7c8794; background: #7c8794; stroke-dasharray: 5 3; }
svg.chart .peak circle { fill: var(--bad); stroke: #fff; stroke-width: 1.5; }
svg.chart .peak text { fill: var(--bad); font-size: 12px; font-weight: 600; font-family: system-ui, sans-serif;
  paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 18px; padding: 0; margin: 6px 0 0;
  color: var(--muted); font-size: 12.5px; }
.swatch { display: inline-block; width: 14px; height: 3px; margin-right: 6px; vertical-align: middle; }
.swatch-step { background: #cbd2d9; }
.swatch-peak { width: 9px; height: 9px; border-radius: 50%; background: var(--bad); }
.toolbar { margin: 8px 0 0; }
.toolbar button { font: inherit; font-size: 12.5px; padding: 4px 10px; border: 1px solid var(--line);
  background: #fff; border-radius: 5px; cursor: pointer; }
footer { color: var(--muted); font-size: 12px; padding-bottom: 32px; }
@media print { .card { box-shadow: none; break-inside: avoid-page; } .toolbar { display: none; } }
)css";

// Sorting by column and one "expand all stacks" button; the page shows
// everything without it. The Content-Security-Policy admits this exact text
// by its hash, so after changing it, update kScriptHash: Chromium prints the
// new hash when it refuses the script (tests/report/check-in-chromium.sh
// fails then), or run
//   printf '%s' "$script" | openssl dgst -sha256 -binary | base64
constexpr const char* kScript = R"js(
"use strict";
(() => {
  document.documentElement.dataset.memtideScript = "ready";
  const key = (row, column, numeric) => {
    const cell = row.cells[column];
    const value = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent;
    return numeric ? Number(value) : value.toLowerCase();
  };
  const sortBy = (table, header, column) => {
    const numeric = header.dataset.sortType === "num";
    const current = header.getAttribute("aria-sort");
    const ascending = current ? current === "descending" : !numeric;
    for (const other of header.parentElement.cells) other.removeAttribute("aria-sort");
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = key(a, column, numeric), y = key(b, column, numeric);
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    for (const row of rows) body.appendChild(row);
  };
  for (const table of document.querySelectorAll("table.sortable")) {
    const headers = table.tHead.rows[0].cells;
    for (let column = 0; column < headers.length; column++) {
      const header = headers[column];
      if (!header.dataset.sortType) continue;
      header.classList.add("sort-header");
      header.tabIndex = 0;
      header.addEventListener("click", () => sortBy(table, header, column));
      header.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, header, column);
        }
      });
    }
  }
  const stacks = document.querySelectorAll("details");
  const toolbar = document.getElementById("toolbar");
  if (stacks.length && toolbar) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Expand all stacks";
    button.addEventListener("click", () => {
      const open = button.textContent.startsWith("Expand");
      for (const details of stacks) details.open = open;
      button.textContent = open ? "Collapse all stacks" : "Expand all stacks";
    });
    toolbar.appendChild(button);
  }
})();
)js";

constexpr const char* kScriptHash = "sha256-gTVW7I2kqiYzi0VcEQUXnHBodimPVxC0nluoqh2vPmg=";

void write_head(std::string& out, const ReportData& data) {
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  // No request leaves the page (default-src 'none'), and only the script
  // below runs, even if a trace string were ever emitted unescaped.
  out += std::string(
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
             "style-src 'unsafe-inline'; script-src '") +
         kScriptHash + "'\">";
  out += "<title>" + escape_html(page_title(data)) + "</title><style>" + kStyle + kAnalysesStyle +
         "</style></head>";
}

void write_header(std::string& out, const ReportData& data) {
  out += "<body><header><h1>" + escape_html(page_title(data)) + "</h1><p class=\"subtitle\">";
  out += std::to_string(data.processes.size()) +
         (data.processes.size() == 1 ? " process" : " processes");
  out += data.gates_passed ? " · gates passed" : " · <strong>gates failed</strong>";
  out += "</p><div class=\"toolbar\" id=\"toolbar\"></div></header><main>";
}

}  // namespace

std::string render_html_report(const ReportData& data, const HtmlReportLimits& limits) {
  std::string out;
  write_head(out, data);
  write_header(out, data);
  write_gates(out, data);
  write_summary(out, data);
  for (size_t i = 0; i < data.processes.size(); ++i)
    write_process(out, data.processes[i], i, limits);
  out += "</main><footer>Generated by memtide";
  if (!data.memtide_version.empty()) out += " " + escape_html(data.memtide_version);
  out += ".</footer><script>" + std::string(kScript) + "</script></body></html>\n";
  return out;
}

}  // namespace memtide::analysis
