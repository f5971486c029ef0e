// The timeline page: the axis arithmetic and the folding of buckets into
// pixel columns on hand-made numbers; on the fixture runs, the heap track's
// highest value against `memtide peak --json` and the live-blocks table's
// total against the series at the same moment; the model under
// QAbstractItemModelTester; and the chart driven with the mouse and keys
// (wheel zoom around the cursor, drag pan, range selection into the
// document, a click that lists the live blocks, refinement after a zoom,
// one lane per open trace).
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QDir>
#include <QTableView>
#include <QTest>
#include <QToolTip>
#include <QWheelEvent>
#include <filesystem>

#include "core/format.h"
#include "core/trace_document.h"
#include "gui_test_support.h"
#include "memtide/analysis/memory_timeline.h"
#include "models/timeline_live_blocks_model.h"
#include "pages/timeline_page.h"
#include "widgets/timeline_axis.h"
#include "widgets/timeline_columns.h"
#include "widgets/timeline_painter.h"
#include "widgets/timeline_widget.h"

namespace memtide::gui {
namespace {

using test::cliJson;
using test::fixture;
using test::overview;
using test::waitUntil;

TEST(TimelineAxis, MapsTimeToXAndBack) {
  TimelineAxis axis;
  axis.setExtent(1000, 11000);
  axis.setWidth(100);
  EXPECT_DOUBLE_EQ(axis.timeToX(6000), 50.0);
  EXPECT_DOUBLE_EQ(axis.timeToX(1000), 0.0);
  EXPECT_EQ(axis.xToTime(25), 3500u);
  EXPECT_EQ(axis.xToTime(-10), 1000u);    // clamped to the extent
  EXPECT_EQ(axis.xToTime(1000), 11000u);  // clamped
  EXPECT_DOUBLE_EQ(axis.nsPerPixel(), 100.0);
}

TEST(TimelineAxis, ZoomKeepsTheAnchorAndPanStaysInside) {
  TimelineAxis axis;
  axis.setExtent(1000, 11000);
  axis.setWidth(100);
  axis.zoom(2.0, 50);  // 6000 stays at x = 50
  EXPECT_EQ(axis.windowStart(), 3500u);
  EXPECT_EQ(axis.windowEnd(), 8500u);
  EXPECT_EQ(axis.xToTime(50), 6000u);
  axis.zoom(2.0, 20);  // 4500 stays at x = 20
  EXPECT_EQ(axis.windowStart(), 4000u);
  EXPECT_EQ(axis.windowEnd(), 6500u);
  EXPECT_EQ(axis.xToTime(20), 4500u);
  axis.pan(10);  // 10 px of 25 ns: earlier by 250 ns
  EXPECT_EQ(axis.windowStart(), 3750u);
  EXPECT_EQ(axis.windowEnd(), 6250u);
  axis.pan(1000);  // far past the start: stops there
  EXPECT_EQ(axis.windowStart(), 1000u);
  EXPECT_EQ(axis.windowEnd(), 3500u);
  axis.pan(-10000);  // and at the end
  EXPECT_EQ(axis.windowStart(), 8500u);
  EXPECT_EQ(axis.windowEnd(), 11000u);
  axis.zoom(1e9, 0);  // no narrower than the minimum window
  EXPECT_EQ(axis.windowLength(), TimelineAxis::kMinWindowNs);
  EXPECT_EQ(axis.windowStart(), 8500u);
  axis.zoom(0.001, 50);  // no wider than the extent
  EXPECT_TRUE(axis.showsEverything());
  axis.setWindow(10000, 20000);  // slides back inside
  EXPECT_EQ(axis.windowStart(), 1000u);
  EXPECT_EQ(axis.windowEnd(), 11000u);
}

TEST(TimelineColumns, FoldBucketsIntoPixels) {
  analysis::MemoryTimeline series;
  series.start_ns = 0;
  series.end_ns = 100000;
  series.bucket_count = 10;
  analysis::TimelineTrack heap;
  heap.name = "heap";
  heap.stacked = true;
  for (int64_t i = 0; i < 10; ++i) heap.buckets.push_back({i, 10 * i, i + 1});
  heap.buckets[3].max = 500;  // a spike in one bucket
  analysis::TimelineTrack rss;
  rss.name = "rss";
  for (int64_t i = 0; i < 10; ++i) rss.buckets.push_back({7, 7, 7});
  series.tracks = {heap, rss};
  TimelineAxis axis;
  axis.setExtent(0, 100000);
  axis.setWidth(5);  // two buckets per column
  const TimelineColumns columns = foldColumns(series, axis);
  ASSERT_EQ(columns.count, 5);
  const auto& h = columns.tracks[0];
  EXPECT_EQ(h[0].min, 0);
  EXPECT_EQ(h[0].max, 10);
  EXPECT_EQ(h[0].last, 2);
  EXPECT_EQ(h[1].min, 2);
  EXPECT_EQ(h[1].max, 500);  // the spike survives the folding
  EXPECT_EQ(h[1].last, 4);
  EXPECT_EQ(h[4].max, 90);
  EXPECT_EQ(h[4].last, 10);
  EXPECT_EQ(columns.stacked_top, 500);
  EXPECT_EQ(columns.line_top, 7);
  // Zoomed past the buckets: each column shows the bucket under it.
  axis.setWindow(30000, 40000);
  const TimelineColumns zoomed = foldColumns(series, axis);
  for (int c = 0; c < 5; ++c) {
    EXPECT_TRUE(zoomed.tracks[0][size_t(c)].valid);
    EXPECT_EQ(zoomed.tracks[0][size_t(c)].max, 500);
  }
}

// The fixture's whole-run series, as the page computes it (after the
// loader, which builds the allocation index).
analysis::MemoryTimeline wholeRun(const std::string& name) {
  overview(name);
  analysis::TraceFile trace(fixture(name));
  return analysis::memory_timeline(trace, {.buckets = TimelinePage::kWholeRunBuckets});
}

TEST(MemoryTimelineOnFixtures, HeapPeakIsTheHostPeakOfTheCli) {
  for (const std::string name : {"train.db", "pooled.db"}) {
    const nlohmann::json peak = cliJson({"peak", fixture(name), "--json"});
    const analysis::MemoryTimeline m = wholeRun(name);
    const analysis::TimelineTrack* heap = m.find("heap");
    ASSERT_NE(heap, nullptr);
    // `memtide peak`'s host measure: live heap blocks, requested bytes,
    // pool backing included: the heap track exactly.
    EXPECT_EQ(heap->max(), peak["host"]["moment"]["bytes"].get<int64_t>()) << name;
    const uint64_t peak_time = peak["host"]["moment"]["time_ns"].get<uint64_t>();
    EXPECT_EQ(heap->buckets[m.bucket_of(peak_time)].max, heap->max()) << name;
    EXPECT_GT(m.steps.size(), 5u) << name;
    EXPECT_NE(m.find("rss"), nullptr) << name;
  }
  // The pooled run's pool: its reserve holds its use.
  const analysis::MemoryTimeline pooled = wholeRun("pooled.db");
  const analysis::TimelineTrack *reserve = nullptr, *used = nullptr;
  for (const analysis::TimelineTrack& t : pooled.tracks) {
    if (t.kind == analysis::TrackKind::kPoolReserve) reserve = &t;
    if (t.kind == analysis::TrackKind::kPoolUsed) used = &t;
  }
  ASSERT_NE(reserve, nullptr);
  ASSERT_NE(used, nullptr);
  EXPECT_GT(used->max(), 0);
  EXPECT_GE(reserve->max(), used->max());
}

TEST(MemoryTimelineOnFixtures, GpuTracksHoldTheBytesOfMemtideGpu) {
  if (!std::filesystem::exists(std::string(MEMTIDE_GUI_FIXTURES) + "/gpu.db"))
    GTEST_SKIP() << "no gpu.db: the fake CUDA programs are built only with the CUDA headers";
  const nlohmann::json gpu = cliJson({"gpu", fixture("gpu.db"), "--json"});
  const analysis::MemoryTimeline m = wholeRun("gpu.db");
  int tracks = 0;
  for (const auto& [device, info] : gpu["devices"].items())
    for (const auto& [memory_class, numbers] : info["classes"].items()) {
      const std::string name = "cuda:" + device + " " + memory_class;
      const analysis::TimelineTrack* track = m.find(name);
      // Mappings view physical memory, reservations hold none: no track.
      if (memory_class == "vmm_mapped" || memory_class == "va_reserved") {
        EXPECT_EQ(track, nullptr) << name;
        continue;
      }
      ASSERT_NE(track, nullptr) << name;
      ++tracks;
      EXPECT_TRUE(track->stacked) << name;
      EXPECT_EQ(track->device, std::stoi(device)) << name;
      EXPECT_EQ(track->max(), numbers["peak_bytes"].get<int64_t>()) << name;
      EXPECT_EQ(track->buckets.back().last, numbers["live_bytes"].get<int64_t>()) << name;
    }
  EXPECT_GE(tracks, 5);  // device memory on two devices, managed, pinned, async, ...
}

TEST(MemoryTimelineOnFixtures, LiveBlocksTotalIsTheSeriesValue) {
  const analysis::MemoryTimeline m = wholeRun("train.db");
  const analysis::TimelineTrack* heap = m.find("heap");
  analysis::TraceFile trace(fixture("train.db"));
  // At the end of the bucket of the peak, and of a quiet bucket early on.
  const nlohmann::json peak = cliJson({"peak", fixture("train.db"), "--json"});
  for (uint32_t b :
       {m.bucket_of(peak["host"]["moment"]["time_ns"].get<uint64_t>()), m.bucket_count / 10}) {
    const uint64_t t = m.bucket_start(b + 1) - 1;
    const analysis::LiveBlocks live = analysis::live_blocks_at(trace, t, 10);
    EXPECT_EQ(int64_t(live.bytes("heap")), heap->buckets[b].last) << "bucket " << b;
    EXPECT_EQ(live.blocks.size(), std::min<size_t>(10, live.blocks_total));
  }
}

TEST(TimelineLiveBlocksModel, PassesTheModelTester) {
  analysis::TraceFile trace(fixture("train.db"));
  const analysis::MemoryTimeline m = wholeRun("train.db");
  auto blocks = std::make_shared<TimelineLiveBlocks>();
  blocks->live = analysis::live_blocks_at(trace, m.bucket_start(m.bucket_count / 2), 50);
  for (size_t i = 0; i < blocks->live.blocks.size(); ++i) blocks->top_frames.push_back("f");
  TimelineLiveBlocksModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  model.setBlocks(blocks);
  ASSERT_EQ(model.rowCount(), int(blocks->live.blocks.size()));
  ASSERT_GT(model.rowCount(), 0);
  EXPECT_EQ(model.index(0, TimelineLiveBlocksModel::kSize)
                .data(TimelineLiveBlocksModel::kRawRole)
                .toULongLong(),
            blocks->live.blocks[0].size);
  model.setBlocks(nullptr);
  EXPECT_EQ(model.rowCount(), 0);
}

// A page showing `names`, the last one current, laid out and settled.
struct ShownPage {
  std::vector<std::unique_ptr<TraceDocument>> documents;
  TimelinePage page;

  explicit ShownPage(const std::vector<std::string>& names) {
    QList<TraceDocument*> all;
    for (const std::string& name : names) {
      documents.push_back(std::make_unique<TraceDocument>(overview(name)));
      all << documents.back().get();
    }
    page.resize(1100, 700);
    page.show();
    page.setDocuments(all, all.back());
    EXPECT_TRUE(waitUntil([&] { return !page.busy(); }));
  }
  TraceDocument& current() { return *documents.back(); }
  TimelineWidget& chart() { return *page.chart(); }
  QPoint at(double x) { return QPoint(int(x), chart().height() / 3); }
};

TEST(TimelinePage, WheelZoomsAroundTheCursor) {
  ShownPage shown({"train.db"});
  TimelineWidget& chart = shown.chart();
  ASSERT_TRUE(chart.axis().showsEverything());
  const double x = chart.plotLeft() + chart.plotWidth() * 0.3;
  const uint64_t under = chart.axis().xToTime(x - chart.plotLeft());
  const uint64_t before = chart.axis().windowLength();
  QWheelEvent wheel(shown.at(x), chart.mapToGlobal(shown.at(x)), {}, {0, 240}, Qt::NoButton,
                    Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(&chart, &wheel);
  EXPECT_NEAR(double(chart.axis().windowLength()), before / 1.5625, before * 1e-6);
  EXPECT_NEAR(double(chart.axis().xToTime(x - chart.plotLeft())), double(under),
              chart.axis().nsPerPixel());
  QTest::keyClick(&chart, Qt::Key_Home);
  EXPECT_TRUE(chart.axis().showsEverything());
  QTest::keyClick(&chart, Qt::Key_Plus);
  EXPECT_EQ(chart.axis().windowLength(), (before + 1) / 2);
}

TEST(TimelinePage, TooltipGivesEveryTrackUnderTheCursor) {
  ShownPage shown({"train.db"});
  TimelineWidget& chart = shown.chart();
  const QPoint pos = shown.at(chart.plotLeft() + chart.plotWidth() / 2);
  QHelpEvent help(QEvent::ToolTip, pos, chart.mapToGlobal(pos));
  QApplication::sendEvent(&chart, &help);
  ASSERT_TRUE(QToolTip::isVisible());
  const analysis::MemoryTimeline* series = chart.seriesFor(0);
  const uint32_t b = series->bucket_of(chart.axis().xToTime(pos.x() - chart.plotLeft()));
  for (const analysis::TimelineTrack& track : series->tracks)
    EXPECT_TRUE(QToolTip::text().contains(QString::fromStdString(track.name) + ": " +
                                          formatBytes(uint64_t(track.buckets[b].last))))
        << track.name;
}

TEST(TimelinePage, DragPansAndShiftDragSelectsARange) {
  ShownPage shown({"train.db"});
  TimelineWidget& chart = shown.chart();
  QTest::keyClick(&chart, Qt::Key_Plus);
  QTest::keyClick(&chart, Qt::Key_Plus);
  const uint64_t start = chart.axis().windowStart();
  const double ns_per_px = chart.axis().nsPerPixel();
  QTest::mousePress(&chart, Qt::LeftButton, {}, shown.at(500));
  QTest::mouseMove(&chart, shown.at(540));
  QTest::mouseMove(&chart, shown.at(600));
  QTest::mouseRelease(&chart, Qt::LeftButton, {}, shown.at(600));
  EXPECT_NEAR(double(start) - double(chart.axis().windowStart()), 100 * ns_per_px, 2.0);
  EXPECT_FALSE(shown.current().timeRange().has_value());  // a pan selects nothing

  const uint64_t a = chart.axis().xToTime(300 - chart.plotLeft());
  const uint64_t b = chart.axis().xToTime(700 - chart.plotLeft());
  QTest::mousePress(&chart, Qt::LeftButton, Qt::ShiftModifier, shown.at(300));
  QTest::mouseMove(&chart, shown.at(500));
  QTest::mouseMove(&chart, shown.at(700));
  QTest::mouseRelease(&chart, Qt::LeftButton, Qt::ShiftModifier, shown.at(700));
  ASSERT_TRUE(shown.current().timeRange().has_value());
  EXPECT_EQ(shown.current().timeRange()->start_ns, a);
  EXPECT_EQ(shown.current().timeRange()->end_ns, b);

  // A right-drag selects too, whatever the direction.
  QTest::mousePress(&chart, Qt::RightButton, {}, shown.at(650));
  QTest::mouseMove(&chart, shown.at(400));
  QTest::mouseMove(&chart, shown.at(350));
  QTest::mouseRelease(&chart, Qt::RightButton, {}, shown.at(350));
  EXPECT_EQ(shown.current().timeRange()->start_ns, chart.axis().xToTime(350 - chart.plotLeft()));
  EXPECT_EQ(shown.current().timeRange()->end_ns, chart.axis().xToTime(650 - chart.plotLeft()));
}

TEST(TimelinePage, ClickListsTheBlocksLiveThen) {
  ShownPage shown({"train.db"});
  TimelineWidget& chart = shown.chart();
  const int x = chart.plotLeft() + chart.plotWidth() * 6 / 10;
  const uint64_t t = chart.axis().xToTime(x - chart.plotLeft());
  QTest::mouseClick(&chart, Qt::LeftButton, {}, shown.at(x));
  ASSERT_EQ(shown.current().focusTime(), std::optional<uint64_t>(t));
  ASSERT_TRUE(waitUntil([&] { return !shown.page.busy(); }));
  const TimelineLiveBlocksModel& model = shown.page.liveModel();
  ASSERT_NE(model.blocks(), nullptr);
  EXPECT_GT(model.rowCount(), 0);
  EXPECT_EQ(shown.page.liveTable()->model()->rowCount(), model.rowCount());
  // The table's heap total is the heap series at that moment: a series
  // ending just after t has it as its last value.
  analysis::TraceFile trace(fixture("train.db"));
  const analysis::MemoryTimeline upto =
      analysis::memory_timeline(trace, {chart.axis().extentStart(), t + 1, 1});
  EXPECT_EQ(int64_t(model.blocks()->live.bytes("heap")), upto.find("heap")->buckets[0].last);
  EXPECT_TRUE(shown.page.liveSummary().contains(QStringLiteral("heap")));
  // The largest block first, with its frame resolved.
  EXPECT_GE(
      model.index(0, 0).data(TimelineLiveBlocksModel::kRawRole).toULongLong(),
      model.index(model.rowCount() - 1, 0).data(TimelineLiveBlocksModel::kRawRole).toULongLong());
  EXPECT_FALSE(model.index(0, TimelineLiveBlocksModel::kTopFrame).data().toString().isEmpty());
}

TEST(TimelinePage, ZoomingInRefinesTheVisibleWindow) {
  ShownPage shown({"train.db"});
  TimelineWidget& chart = shown.chart();
  const analysis::MemoryTimeline* coarse = chart.seriesFor(0);
  ASSERT_NE(coarse, nullptr);
  for (int i = 0; i < 6; ++i) QTest::keyClick(&chart, Qt::Key_Plus);  // 64x
  ASSERT_TRUE(waitUntil([&] { return !shown.page.busy(); }));
  const analysis::MemoryTimeline* fine = chart.seriesFor(0);
  ASSERT_NE(fine, coarse);
  EXPECT_LE(fine->start_ns, chart.axis().windowStart());
  EXPECT_GE(fine->end_ns, chart.axis().windowEnd());
  // At least a bucket per pixel over the window.
  const double fine_bucket = double(fine->end_ns - fine->start_ns) / fine->bucket_count;
  EXPECT_LE(fine_bucket, chart.axis().nsPerPixel());
  // The refined series agrees with the live set at one of its bucket ends.
  analysis::TraceFile trace(fixture("train.db"));
  const uint32_t b = fine->bucket_count / 2;
  EXPECT_EQ(
      int64_t(analysis::live_blocks_at(trace, fine->bucket_start(b + 1) - 1, 1).bytes("heap")),
      fine->find("heap")->buckets[b].last);
  // Showing everything again draws the whole-run series.
  QTest::keyClick(&chart, Qt::Key_Home);
  EXPECT_EQ(chart.seriesFor(0), coarse);
}

TEST(TimelinePage, OneLanePerOpenTraceOnOneAxis) {
  const QString dir = QString::fromStdString(fixture("forked"));
  std::vector<std::string> names;
  for (const QString& file : QDir(dir).entryList({QStringLiteral("*.db")}, QDir::Files))
    names.push_back("forked/" + file.toStdString());
  ASSERT_EQ(names.size(), 2u);
  ShownPage shown(names);
  TimelineWidget& chart = shown.chart();
  ASSERT_EQ(chart.lanes().size(), 2u);
  EXPECT_FALSE(chart.lanes()[0].current);
  EXPECT_TRUE(chart.lanes()[1].current);
  // The axis spans both runs.
  uint64_t start = UINT64_MAX, end = 0;
  for (const auto& document : shown.documents) {
    start = std::min(start, document->overview().start_ns());
    end = std::max(end, document->overview().end_ns() + 1);
  }
  EXPECT_EQ(chart.axis().extentStart(), start);
  EXPECT_EQ(chart.axis().extentEnd(), end);
  // A click on the first lane lists that trace's blocks.
  const TimelineLayout layout(chart.rect(), 2);
  const QPoint in_first(chart.plotLeft() + chart.plotWidth() / 2, layout.chart(0).center().y());
  QTest::mouseClick(&chart, Qt::LeftButton, {}, in_first);
  EXPECT_TRUE(shown.documents[0]->focusTime().has_value());
  EXPECT_FALSE(shown.current().focusTime().has_value());
  ASSERT_TRUE(waitUntil([&] { return !shown.page.busy(); }));
  ASSERT_NE(shown.page.liveModel().blocks(), nullptr);
}

TEST(TimelinePage, RevealFocusesATime) {
  ShownPage shown({"train.db"});
  const uint64_t t =
      (shown.current().overview().start_ns() + shown.current().overview().end_ns()) / 2;
  QUrlQuery query;
  query.addQueryItem(QStringLiteral("t"), QString::number(t));
  shown.page.reveal(query);
  EXPECT_EQ(shown.current().focusTime(), std::optional<uint64_t>(t));
  ASSERT_TRUE(waitUntil([&] { return !shown.page.busy(); }));
  EXPECT_EQ(shown.page.liveModel().blocks()->live.time_ns, t);
}

}  // namespace
}  // namespace memtide::gui
