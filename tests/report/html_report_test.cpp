// The HTML report, checked on hand-made ReportData: exact rows and cells,
// escaping of hostile trace strings in every context, the chart's lines after
// downsampling, and the row caps that keep a huge run's report small.
#include <gtest/gtest.h>

#include <sstream>

#include "memtide/analysis/html_report.h"

namespace memtide::analysis {
namespace {

constexpr const char* kScriptPayload = "<script>alert(1)</script>";
constexpr const char* kImagePayload = "\"><img src=x onerror=alert(1)>";
constexpr const char* kScriptEscaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
constexpr const char* kImageEscaped = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;";

// The page without its fixed stylesheet and script: what the data produced.
std::string body_of(const std::string& html) {
  size_t begin = html.find("<body>"), end = html.rfind("<script>");
  return html.substr(begin, end - begin);
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The value of the points attribute of the chart line with this class.
std::vector<std::string> polyline_points(const std::string& html, const std::string& line_class) {
  std::string start = "<polyline class=\"line " + line_class + "\" points=\"";
  size_t at = html.find(start);
  if (at == std::string::npos) return {};
  at += start.size();
  std::istringstream points(html.substr(at, html.find('"', at) - at));
  std::vector<std::string> out;
  for (std::string point; points >> point;) out.push_back(point);
  return out;
}

ReportFrame frame(std::string function, std::string file, int line, std::string module = "/bin/t",
                  uint64_t offset = 0x10) {
  return {std::move(function), std::move(file), line, std::move(module), offset, false};
}

LeakGroup leak(std::string category, uint64_t bytes, uint64_t blocks, std::string scope = "") {
  return {std::move(category),      bytes, blocks, std::move(scope),
          {frame("f", "a.cpp", 3)}, false, "host"};
}

ReportData one_process(ProcessReport p = {}) {
  ReportData data;
  data.title = "run";
  if (p.pid == 0) p.pid = 7;
  data.processes.push_back(std::move(p));
  return data;
}

std::vector<TimelinePoint> ramp(size_t points, uint64_t start_ns = 1000) {
  std::vector<TimelinePoint> timeline;
  for (size_t i = 0; i < points; ++i) {
    timeline.push_back({start_ns + i * 1000000, 1024 * (i + 1), 0, 0, 0});
  }
  return timeline;
}

TEST(HtmlReport, HostileStringsAreEscapedEverywhere) {
  ProcessReport p;
  p.pid = 7;
  p.command_line = std::string("./train ") + kScriptPayload;
  p.trace_path = std::string("/tmp/") + kImagePayload;
  p.end_reason = kImagePayload;
  p.timeline = ramp(10);
  LeakGroup hostile = leak(kScriptPayload, 100, 1, kImagePayload);
  hostile.device = kScriptPayload;
  hostile.frames = {frame(kScriptPayload, std::string("src/") + kImagePayload, 9),
                    frame(kImagePayload, "", 0, std::string("/opt/") + kImagePayload + "/lib.so")};
  p.leaks.push_back(hostile);
  p.errors.push_back({kImagePayload, kScriptPayload, 1, {frame(kScriptPayload, "", 0)}});
  p.growth.push_back({kScriptPayload, {frame(kImagePayload, "x.cpp", 1)}, 8, 3, 24});
  ReportData data = one_process(p);
  data.title = kScriptPayload;
  data.memtide_version = kImagePayload;
  data.gates = {{kScriptPayload, false, kImagePayload}};
  data.gates_passed = false;

  std::string html = render_html_report(data);
  EXPECT_EQ(html.find(kScriptPayload), std::string::npos);
  EXPECT_EQ(html.find(kImagePayload), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(count(html, "<script"), 1u) << "only the report's own script";
  EXPECT_EQ(count(html, "alert(1)"), count(html, kScriptEscaped) + count(html, kImageEscaped));
  EXPECT_NE(html.find("<title>" + std::string(kScriptEscaped) + "</title>"), std::string::npos);
  // In SVG text, and in an attribute (the module's full path on hover).
  EXPECT_NE(html.find("Memory over time of process 7: ./train " + std::string(kScriptEscaped) +
                      "</title>"),
            std::string::npos);
  EXPECT_NE(html.find("<span class=\"loc\" title=\"/opt/" + std::string(kImageEscaped) +
                      "/lib.so\">lib.so+0x10</span>"),
            std::string::npos);
  EXPECT_NE(html.find("<span class=\"gate-name\">" + std::string(kScriptEscaped) +
                      "</span> <span class=\"gate-detail\">" + kImageEscaped + "</span>"),
            std::string::npos);
  // An unknown category never becomes a class name.
  EXPECT_NE(html.find("<span class=\"badge cat-other\">" + std::string(kScriptEscaped) + "</span>"),
            std::string::npos);
}

TEST(HtmlReport, EscapesAllFiveCharacters) {
  ReportData data = one_process();
  data.title = "a&b<c>d\"e'f";
  std::string html = render_html_report(data);
  EXPECT_NE(html.find("<h1>a&amp;b&lt;c&gt;d&quot;e&#39;f</h1>"), std::string::npos);
}

TEST(HtmlReport, LeakRowsShowCategoryBytesBlocksScopeAndDevice) {
  ProcessReport p;
  p.leak_scan_done = true;
  p.leaks = {leak("definite", 1572864, 3, "train/step"), leak("indirect", 4096, 2)};
  p.leaks[1].device = "cuda:1";
  LeakGroup hidden = leak("definite", 999, 1);
  hidden.suppressed = true;
  p.leaks.push_back(hidden);
  std::string html = render_html_report(one_process(p));

  EXPECT_EQ(count(html, "<tr class=\"leak-row\">"), 2u) << "the suppressed group is not listed";
  const std::string stack =
      "><summary><span class=\"fn\">f</span> <span "
      "class=\"loc\">a.cpp:3</span></summary><ol class=\"frames\"><li><span class=\"fn\">f</span> "
      "<span class=\"loc\">a.cpp:3</span></li></ol></details></td></tr>";
  size_t first = html.find(
      "<tr class=\"leak-row\"><td><span class=\"badge cat-definite\">definite</span></td>"
      "<td class=\"num\" data-sort=\"1572864\" title=\"1,572,864 bytes\">1.5 MiB</td>"
      "<td class=\"num\" data-sort=\"3\">3</td><td class=\"scope\">train/step</td><td "
      "class=\"device\">host</td><td class=\"stack\"><details open" +
      stack);
  size_t second = html.find(
      "<tr class=\"leak-row\"><td><span class=\"badge cat-indirect\">indirect</span></td>"
      "<td class=\"num\" data-sort=\"4096\" title=\"4,096 bytes\">4.0 KiB</td>"
      "<td class=\"num\" data-sort=\"2\">2</td><td class=\"scope muted\">none</td><td "
      "class=\"device\">cuda:1</td><td class=\"stack\"><details" +
      stack);
  ASSERT_NE(first, std::string::npos) << html;
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(first, second) << "rows keep the order they were given (largest first)";
  EXPECT_EQ(html.find("data-sort=\"999\""), std::string::npos);
  EXPECT_EQ(html.find("The leak scan did not run"), std::string::npos);
}

TEST(HtmlReport, StacksNameFunctionSourceLineOrModuleOffset) {
  ProcessReport p;
  LeakGroup group = leak("definite", 64, 1);
  group.frames = {frame("malloc", "", 0, "/lib/libc.so.6", 0x9a2f0),
                  frame("", "", 0, "/opt/app/libnet.so", 0x1f),
                  frame("Net::grow(int)", "src/net.cpp", 42)};
  group.frames[2].inlined = true;
  p.leaks = {group};
  std::string html = render_html_report(one_process(p));
  // The summary line names the first frame with source, not the allocator.
  EXPECT_NE(html.find("<summary><span class=\"fn\">Net::grow(int)</span> <span "
                      "class=\"loc\">src/net.cpp:42</span> <span class=\"tag\">inlined</span>"
                      "</summary>"),
            std::string::npos);
  EXPECT_NE(html.find("<li><span class=\"fn\">malloc</span> <span class=\"loc\" "
                      "title=\"/lib/libc.so.6\">libc.so.6+0x9a2f0</span></li>"),
            std::string::npos);
  EXPECT_NE(html.find("<li><span class=\"fn\">?\?</span> <span class=\"loc\" "
                      "title=\"/opt/app/libnet.so\">libnet.so+0x1f</span></li>"),
            std::string::npos);
}

TEST(HtmlReport, FailedGatesComeFirstAndTheVerdictSaysHowMany) {
  ReportData data = one_process();
  data.gates = {{"max-peak", true, "peak 1.0 GiB under 2.0 GiB"},
                {"definite", false, "3 definitely lost blocks (4096 bytes) in 2 groups"},
                {"growth", true, "no growth"}};
  data.gates_passed = false;
  std::string html = render_html_report(data);
  EXPECT_NE(html.find("<p class=\"verdict verdict-failed\">Gates failed: 1 of 3</p>"),
            std::string::npos);
  size_t failed = html.find(
      "<li class=\"gate gate-failed\"><span class=\"badge badge-failed\">failed</span> <span "
      "class=\"gate-name\">definite</span> <span class=\"gate-detail\">3 definitely lost blocks "
      "(4096 bytes) in 2 groups</span></li>");
  size_t passed = html.find(
      "<li class=\"gate gate-passed\"><span class=\"badge badge-passed\">passed</span> <span "
      "class=\"gate-name\">max-peak</span> <span class=\"gate-detail\">peak 1.0 GiB under 2.0 "
      "GiB</span></li>");
  ASSERT_NE(failed, std::string::npos);
  ASSERT_NE(passed, std::string::npos);
  EXPECT_LT(failed, passed);

  data.gates = {{"max-peak", true, "fine"}};
  data.gates_passed = true;
  html = render_html_report(data);
  EXPECT_NE(html.find("<p class=\"verdict verdict-passed\">All gates passed</p>"),
            std::string::npos);
  EXPECT_EQ(body_of(html).find("verdict-failed"), std::string::npos);
}

TEST(HtmlReport, SummaryRowPerProcess) {
  ProcessReport p;
  p.pid = 41207;
  p.command_line = "./train --epochs 3";
  p.end_reason = "killed by SIGTERM";
  p.duration_seconds = 75.5;
  p.allocations = 1234567;
  p.frees = 1234000;
  p.peak_bytes = 3 * 1024 * 1024;
  p.leaks = {leak("definite", 1000, 1), leak("reachable", 24, 1)};
  std::string html = render_html_report(one_process(p));
  EXPECT_NE(
      html.find("<tr><td class=\"num\" data-sort=\"41207\"><a href=\"#process-0\">41207</a>"
                "</td><td class=\"cmd\">./train --epochs 3</td><td class=\"num\" "
                "data-sort=\"75.500000\">1m 15s</td><td>killed by SIGTERM <span class=\"badge "
                "cat-indirect\">not clean</span></td><td class=\"num\" data-sort=\"1234567\">"
                "1,234,567</td><td class=\"num\" data-sort=\"1234000\">1,234,000</td><td "
                "class=\"num\" data-sort=\"3145728\" title=\"3,145,728 bytes\">3.0 MiB</td>"
                "<td class=\"num\" data-sort=\"1024\" title=\"1,024 bytes\">1.0 KiB</td></tr>"),
      std::string::npos)
      << html;
  EXPECT_NE(html.find("The leak scan did not run"), std::string::npos);
}

TEST(HtmlReport, ChartDownsamplesLongTimelinesToTheLimit) {
  ProcessReport p;
  p.timeline = ramp(5001);
  for (size_t i = 0; i < p.timeline.size(); ++i) {
    p.timeline[i].mmap_bytes = 4096;
    p.timeline[i].rss_bytes = i % 2 ? 0 : 1 << 20;  // sampled every other point
  }
  std::string html = render_html_report(one_process(p));
  EXPECT_EQ(count(html, "<svg class=\"chart\""), 1u);
  EXPECT_EQ(polyline_points(html, "line-heap").size(), 2000u);
  EXPECT_EQ(polyline_points(html, "line-mmap").size(), 2000u);
  EXPECT_EQ(polyline_points(html, "line-rss").size(), 2000u) << "2501 sampled points, downsampled";
  EXPECT_EQ(body_of(html).find("line-gpu"), std::string::npos)
      << "a line at zero throughout is left out";

  HtmlReportLimits limits;
  limits.max_timeline_points = 100;
  html = render_html_report(one_process(p), limits);
  EXPECT_EQ(polyline_points(html, "line-heap").size(), 100u);
}

TEST(HtmlReport, ShortTimelinesKeepEveryPointAndRssGapsAreSkipped) {
  ProcessReport p;
  p.timeline = ramp(12);
  p.timeline[3].gpu_bytes = 1 << 20;
  p.timeline[5].rss_bytes = 1 << 21;
  p.timeline[6].rss_bytes = 1 << 21;
  std::string html = render_html_report(one_process(p));
  EXPECT_EQ(polyline_points(html, "line-heap").size(), 12u);
  EXPECT_EQ(polyline_points(html, "line-gpu").size(), 12u);
  EXPECT_EQ(polyline_points(html, "line-rss").size(), 2u);
  EXPECT_EQ(body_of(html).find("line-mmap"), std::string::npos);
}

TEST(HtmlReport, DownsamplingKeepsTheSpikeAndThePeakIsMarkedOnIt) {
  ProcessReport p;
  p.start_time_ns = 1000;
  p.timeline = ramp(10000);
  p.timeline[7777].heap_bytes = 512 * 1024 * 1024;
  p.peak_bytes = p.timeline[7777].heap_bytes;
  p.peak_time_ns = p.timeline[7777].time_ns;
  std::string html = render_html_report(one_process(p));
  size_t circle = html.find("<g class=\"peak\"><circle cx=\"");
  ASSERT_NE(circle, std::string::npos);
  circle += std::string("<g class=\"peak\"><circle cx=\"").size();
  std::string cx = html.substr(circle, html.find('"', circle) - circle);
  size_t cy_at = html.find("cy=\"", circle) + 4;
  std::string cy = html.substr(cy_at, html.find('"', cy_at) - cy_at);
  std::vector<std::string> heap = polyline_points(html, "line-heap");
  EXPECT_EQ(heap.size(), 2000u);
  EXPECT_NE(std::find(heap.begin(), heap.end(), cx + "," + cy), heap.end())
      << "the spike at " << cx << "," << cy << " is one of the kept points";
  EXPECT_NE(html.find(">peak 512.0 MiB</text><title>peak 536,870,912 bytes at "),
            std::string::npos);
}

TEST(HtmlReport, StepMarkersOnePerStepUpToTheLimit) {
  ProcessReport p;
  p.timeline = ramp(100);
  for (uint64_t s = 0; s < 30; ++s) p.step_times_ns.push_back(1000 + s * 3000000);
  std::string html = render_html_report(one_process(p));
  EXPECT_EQ(count(html, "<line class=\"step\""), 30u);
  EXPECT_NE(html.find("<title>step 29 at 0.087 s</title>"), std::string::npos);

  HtmlReportLimits limits;
  limits.max_step_markers = 10;
  html = render_html_report(one_process(p), limits);
  EXPECT_EQ(count(html, "<line class=\"step\""), 10u);
  EXPECT_NE(html.find("30 steps, one line per 3</li>"), std::string::npos);
}

TEST(HtmlReport, TablesStopAtTheRowCapAndSayHowManyMore) {
  ProcessReport p;
  for (int i = 0; i < 250; ++i) p.leaks.push_back(leak("definite", 1000 - uint64_t(i), 1));
  for (int i = 0; i < 203; ++i) p.errors.push_back({"mismatch", "new[] freed by free", 1, {}});
  for (int i = 0; i < 201; ++i) p.growth.push_back({"s", {}, 8, 2, 16});
  std::string html = render_html_report(one_process(p));
  EXPECT_EQ(count(html, "<tr class=\"leak-row\">"), 200u);
  EXPECT_EQ(count(html, "<tr class=\"error-row\">"), 200u);
  EXPECT_EQ(count(html, "<tr class=\"growth-row\">"), 200u);
  EXPECT_NE(html.find("<p class=\"more\">50 more leak groups not shown (the report lists the "
                      "first 200).</p>"),
            std::string::npos);
  EXPECT_NE(html.find("<p class=\"more\">3 more error groups not shown"), std::string::npos);
  EXPECT_NE(html.find("<p class=\"more\">1 more growth group not shown"), std::string::npos);
  EXPECT_NE(html.find("data-sort=\"801\""), std::string::npos) << "the 200th group";
  EXPECT_EQ(html.find("data-sort=\"800\""), std::string::npos) << "the 201st group";

  HtmlReportLimits limits;
  limits.max_table_rows = 5;
  limits.max_stack_frames = 1;
  p.leaks[0].frames = {frame("a", "a.cpp", 1), frame("b", "b.cpp", 2), frame("c", "c.cpp", 3)};
  p.leaks[1].frames = {frame("a", "a.cpp", 1), frame("b", "b.cpp", 2)};
  html = render_html_report(one_process(p), limits);
  EXPECT_EQ(count(html, "<tr class=\"leak-row\">"), 5u);
  EXPECT_NE(html.find("<p class=\"more\">245 more leak groups not shown (the report lists the "
                      "first 5).</p>"),
            std::string::npos);
  EXPECT_NE(html.find("<p class=\"more\">2 outer frames not shown</p>"), std::string::npos);
  EXPECT_NE(html.find("<p class=\"more\">1 outer frame not shown</p>"), std::string::npos);
}

TEST(HtmlReport, ErrorsGrowthAndSuppressedCounts) {
  ProcessReport p;
  p.errors = {{"mismatch", "new[] freed by free", 3, {frame("g", "g.cpp", 5)}}};
  p.growth = {{"train/step", {frame("h", "h.cpp", 6)}, 512 * 1024, 47, 24 * 1024 * 1024}};
  p.suppressed_blocks = 12;
  p.suppressed_bytes = 8192;
  std::string html = render_html_report(one_process(p));
  EXPECT_NE(html.find("<tr class=\"error-row\"><td><span class=\"badge cat-definite\">mismatch"
                      "</span></td><td>new[] freed by free</td><td class=\"num\" data-sort=\"3\">3"
                      "</td><td class=\"stack\">"),
            std::string::npos);
  EXPECT_NE(
      html.find("<tr class=\"growth-row\"><td class=\"scope\">train/step</td><td class=\"num\" "
                "data-sort=\"524288\" title=\"524,288 bytes\">512.0 KiB</td><td class=\"num\" "
                "data-sort=\"47\">47</td><td class=\"num\" data-sort=\"25165824\" "
                "title=\"25,165,824 bytes\">24.0 MiB</td>"),
      std::string::npos);
  EXPECT_NE(
      html.find("<p class=\"suppressed\">12 blocks (<span title=\"8,192 bytes\">8.0 KiB</span>)"
                " matched suppressions and are not listed.</p>"),
      std::string::npos);
}

TEST(HtmlReport, SelfContainedWithNothingFetched) {
  ProcessReport p;
  p.timeline = ramp(20);
  p.leaks = {leak("definite", 10, 1)};
  std::string html = render_html_report(one_process(p));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(
      html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "),
      std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
}

TEST(HtmlReport, EmptyReportSaysSo) {
  ReportData data;
  std::string html = render_html_report(data);
  EXPECT_NE(html.find("<title>memtide report</title>"), std::string::npos);
  EXPECT_NE(html.find("No gates were set for this report."), std::string::npos);
  EXPECT_NE(html.find("The report holds no process."), std::string::npos);

  html = render_html_report(one_process());
  EXPECT_NE(html.find("No memory samples in this trace."), std::string::npos);
  EXPECT_NE(html.find("No unfreed blocks."), std::string::npos);
  EXPECT_EQ(html.find("<svg"), std::string::npos);
}

}  // namespace
}  // namespace memtide::analysis
