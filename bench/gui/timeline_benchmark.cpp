// bench-gui-timeline: how memtide-gui copes with a large trace. Times the
// first page (TraceLoader::loadNow on an indexed trace), the timeline's
// whole-run series, redraws of the chart offscreen over a series of zoom
// and pan steps, and the refinement of a zoomed window; then the peak RSS.
//
// usage: bench-gui-timeline TRACE [STEPS]   (STEPS zoom/pan redraws, default 200)
// Prints one line of key=value pairs for bench/gui-benchmark.sh.
#include <sys/resource.h>

#include <QApplication>
#include <QImage>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/trace_loader.h"
#include "memtide/analysis/memory_timeline.h"
#include "pages/timeline_page.h"
#include "widgets/timeline_widget.h"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[size_t(q * double(values.size() - 1) + 0.5)];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench-gui-timeline TRACE [STEPS]\n");
    return 2;
  }
  setenv("QT_QPA_PLATFORM", "offscreen", 0);
  QApplication app(argc, argv);
  const std::string path = argv[1];
  const int steps = argc > 2 ? std::atoi(argv[2]) : 200;
  using namespace memtide;

  auto start = Clock::now();
  analysis::ScanControl control;
  const gui::TraceOverview overview = gui::TraceLoader::loadNow(path, {}, control);
  const double load_s = since(start);

  start = Clock::now();
  auto whole = std::make_shared<const analysis::MemoryTimeline>([&] {
    analysis::TraceFile trace(path);
    return analysis::memory_timeline(trace, {.buckets = gui::TimelinePage::kWholeRunBuckets});
  }());
  const double whole_s = since(start);

  gui::TimelineWidget chart;
  chart.resize(1600, 500);
  chart.setLanes({gui::TimelineLane{QString::fromStdString(path), whole, nullptr, true}});
  QImage image(chart.size(), QImage::Format_ARGB32_Premultiplied);
  // Zoom in around moving points, pan, zoom out again: the chart's own
  // arithmetic (TimelineAxis) through its public window.
  gui::TimelineAxis axis = chart.axis();
  std::vector<double> redraw_ms;
  for (int i = 0; i < steps; ++i) {
    const double x = axis.width() * (0.2 + 0.6 * ((i * 37) % 100) / 100.0);
    switch (i % 4) {
      case 0:
      case 1:
        axis.zoom(i < steps / 2 ? 1.25 : 0.8, x);
        break;
      case 2:
        axis.pan(120);
        break;
      default:
        axis.pan(-80);
    }
    chart.setWindow(axis.windowStart(), axis.windowEnd());
    start = Clock::now();
    chart.render(&image);
    redraw_ms.push_back(since(start) * 1000);
  }

  // A window of 1/100 of the run near its end: the refinement replays the
  // events up to the window's end.
  const uint64_t length = (whole->end_ns - whole->start_ns) / 100;
  start = Clock::now();
  {
    analysis::TraceFile trace(path);
    analysis::memory_timeline(trace, {whole->end_ns - 2 * length, whole->end_ns - length, 3200});
  }
  const double refine_s = since(start);

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "events=%llu load_s=%.3f whole_timeline_s=%.3f redraw_median_ms=%.2f redraw_p95_ms=%.2f "
      "refine_s=%.3f maxrss_kib=%ld\n",
      static_cast<unsigned long long>(overview.summary.events), load_s, whole_s,
      quantile(redraw_ms, 0.5), quantile(redraw_ms, 0.95), refine_s, usage.ru_maxrss);
  return 0;
}
