// The Fragmentation page on the pooled fixture (the sample engine's arena
// reported through the annotate API): the extents it shows at the heap peak
// and at a moment clicked on the chart equal `memtide frag --json --blocks`
// for the same moment, the map draws exactly the chosen extent's blocks with
// the pinning ones outlined, links and the document's selection drive it,
// and the extent model passes QAbstractItemModelTester.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QImage>
#include <QLabel>
#include <QTableView>
#include <QTest>
#include <QUrlQuery>

#include "core/trace_document.h"
#include "gui_test_support.h"
#include "models/frag_extent_model.h"
#include "pages/fragmentation_page.h"
#include "widgets/extent_map.h"
#include "widgets/ratio_chart.h"

namespace memtide::gui {
namespace {

using nlohmann::json;
using test::cliJson;
using test::fixture;

// The extents of a CLI state in the page's order: the arena's, then each pool's.
std::vector<json> cliExtents(const json& state) {
  std::vector<json> out;
  for (const json& e : state["arena_extents"]) out.push_back(e);
  for (const json& p : state["pools"])
    if (p.contains("extents"))
      for (const json& e : p["extents"]) out.push_back(e);
  return out;
}

qulonglong raw(const FragExtentModel& model, int row, int column) {
  return model.data(model.index(row, column), FragExtentModel::kRawValueRole).toULongLong();
}

// Every row equals the CLI's extent: start, span, blocks, bytes, holes, and
// the blocks one by one.
void expectStateEqualsCli(const FragmentationPage& page, const json& cli) {
  ASSERT_EQ(cli["states"].size(), 1u);
  const json& state = cli["states"][0];
  ASSERT_NE(page.shownState(), nullptr);
  EXPECT_EQ(page.shownState()->time_ns, state["time_ns"].get<uint64_t>());
  EXPECT_EQ(page.shownState()->live_heap_bytes, state["live_heap_bytes"].get<uint64_t>());
  const FragExtentModel& model = page.extentModel();
  const std::vector<json> extents = cliExtents(state);
  ASSERT_EQ(size_t(model.rowCount()), extents.size());
  for (int row = 0; row < model.rowCount(); ++row) {
    const json& e = extents[size_t(row)];
    const json& h = e["holes"];
    SCOPED_TRACE(model.rows()[size_t(row)].name.toStdString());
    EXPECT_EQ(raw(model, row, FragExtentModel::kStart), e["start"].get<uint64_t>());
    EXPECT_EQ(raw(model, row, FragExtentModel::kSpan), h["span_bytes"].get<uint64_t>());
    EXPECT_EQ(raw(model, row, FragExtentModel::kLiveBlocks), h["live_blocks"].get<uint64_t>());
    EXPECT_EQ(raw(model, row, FragExtentModel::kLiveBlocks), e["blocks"].size());
    EXPECT_EQ(raw(model, row, FragExtentModel::kLiveBytes), h["used_bytes"].get<uint64_t>());
    EXPECT_EQ(raw(model, row, FragExtentModel::kFreeBytes), h["free_bytes"].get<uint64_t>());
    EXPECT_EQ(raw(model, row, FragExtentModel::kHoles), h["holes"].get<uint64_t>());
    EXPECT_EQ(raw(model, row, FragExtentModel::kLargestHole), h["largest_hole"].get<uint64_t>());
    EXPECT_DOUBLE_EQ(
        model
            .data(model.index(row, FragExtentModel::kFragmentation), FragExtentModel::kRawValueRole)
            .toDouble(),
        h["fragmentation"].get<double>());
    const analysis::Extent& extent = *model.rows()[size_t(row)].extent;
    ASSERT_EQ(extent.blocks.size(), e["blocks"].size());
    for (size_t i = 0; i < extent.blocks.size(); ++i) {
      const json& b = e["blocks"][i];
      EXPECT_EQ(extent.blocks[i].address, b["address"].get<uint64_t>());
      EXPECT_EQ(extent.blocks[i].footprint, b["footprint"].get<uint64_t>());
      EXPECT_EQ(extent.blocks[i].hole_after, b["hole_after"].get<uint64_t>());
      EXPECT_EQ(extent.blocks[i].pinning_rank, b["pinning_rank"].get<int>());
    }
  }
}

class FragmentationPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    document_ = std::make_unique<TraceDocument>(test::overview("pooled.db"));
    page_.resize(1100, 900);
    page_.show();
    page_.setDocuments({document_.get()}, document_.get());
    ASSERT_TRUE(test::waitUntil([&] { return !page_.busy(); }));
    // The run's analysis was delivered (not failed): the chart has its panes.
    ASSERT_FALSE(page_.chart()->panes().empty());
  }

  const std::string trace_ = fixture("pooled.db");
  std::unique_ptr<TraceDocument> document_;
  FragmentationPage page_;
};

TEST_F(FragmentationPageTest, ThePeakStateEqualsTheCli) {
  EXPECT_EQ(page_.key(), QStringLiteral("fragmentation"));
  EXPECT_EQ(page_.title(), QStringLiteral("Fragmentation"));
  EXPECT_FALSE(page_.moment().has_value());
  const json cli = cliJson({"frag", trace_, "--json", "--blocks", "--at-peak"});
  EXPECT_EQ(page_.runReport()->peak_time_ns, cli["peak"]["time_ns"].get<uint64_t>());
  expectStateEqualsCli(page_, cli);
  // The map first shows the extent whose free space is most cut up.
  const std::vector<json> extents = cliExtents(cli["states"][0]);
  size_t most_cut = 0;
  auto cut = [&](size_t i) {
    const json& h = extents[i]["holes"];
    return std::pair(h["free_bytes"].get<uint64_t>() - h["largest_hole"].get<uint64_t>(),
                     h["free_bytes"].get<uint64_t>());
  };
  for (size_t i = 1; i < extents.size(); ++i)
    if (cut(i) > cut(most_cut)) most_cut = i;
  EXPECT_EQ(page_.currentExtent(), int(most_cut));
  EXPECT_EQ(page_.map()->blockCount(), int(extents[most_cut]["blocks"].size()));
  // The pooled arena is there, as a pool segment.
  bool pool_segment = false;
  for (const auto& row : page_.extentModel().rows())
    pool_segment = pool_segment || row.extent->kind == "pool segment";
  EXPECT_TRUE(pool_segment);
  // The chart: an overhead point per sample; the fragmentation pane reaches 1.
  ASSERT_EQ(page_.chart()->panes().size(), 2u);
  EXPECT_EQ(page_.chart()->paneTop(1), 1.0);
  size_t overhead_points = 0;
  for (const json& p : cli["overhead"]) overhead_points += p["heap_ratio"].is_null() ? 0 : 1;
  EXPECT_EQ(page_.chart()->panes()[0].series[0].points.size(), overhead_points);
}

TEST_F(FragmentationPageTest, AClickOnTheChartShowsThatMoment) {
  RatioChart* chart = page_.chart();
  const QRect plot = chart->plotRect();
  const QPoint at(plot.left() + plot.width() * 2 / 5, plot.center().y());
  const uint64_t t = chart->mapXToTime(at.x());
  ASSERT_GT(t, chart->domainStart());
  QTest::mouseClick(chart, Qt::LeftButton, {}, at);
  EXPECT_EQ(page_.moment(), std::optional<uint64_t>(t));
  EXPECT_EQ(document_->focusTime(), std::optional<uint64_t>(t));
  ASSERT_TRUE(test::waitUntil([&] { return !page_.busy(); }));
  ASSERT_NE(page_.shownState(), nullptr);
  EXPECT_EQ(page_.shownState()->time_ns, t);
  expectStateEqualsCli(page_,
                       cliJson({"frag", trace_, "--json", "--blocks", "--at", std::to_string(t)}));
  // The document's focus moves it too, and back to the peak when cleared.
  const uint64_t later = chart->mapXToTime(plot.left() + plot.width() * 4 / 5);
  document_->setFocusTime(later);
  ASSERT_TRUE(test::waitUntil([&] { return !page_.busy(); }));
  EXPECT_EQ(page_.shownState()->time_ns, later);
  document_->setFocusTime(std::nullopt);
  EXPECT_EQ(page_.shownState()->label, "peak");
}

TEST_F(FragmentationPageTest, TheMapDrawsTheChosenExtentsBlocksAndPinning) {
  const FragExtentModel& model = page_.extentModel();
  // The extent with the most pinning blocks, chosen with a click on its row.
  int row = -1, most = -1;
  for (int r = 0; r < model.rowCount(); ++r) {
    int pinning = 0;
    for (const auto& b : model.rows()[size_t(r)].extent->blocks) pinning += b.pinning_rank >= 0;
    if (pinning > most) most = pinning, row = r;
  }
  ASSERT_GE(row, 0);
  ASSERT_GT(most, 0) << "the fixture's extents have holes";
  QTableView* table = page_.extentTable();
  const QModelIndex cell = table->model()->index(row, FragExtentModel::kName);
  QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(cell).center());
  ASSERT_EQ(page_.currentExtent(), row);

  ExtentMap* map = page_.map();
  const analysis::Extent& extent = *model.rows()[size_t(row)].extent;
  ASSERT_EQ(map->extent(), &extent);
  EXPECT_EQ(qulonglong(map->blockCount()), raw(model, row, FragExtentModel::kLiveBlocks));
  EXPECT_EQ(map->pinningCount(), most);
  const QImage image = map->grab().toImage();
  int pinning_seen = 0;
  for (int i = 0; i < map->blockCount(); ++i) {
    const analysis::ExtentBlock& b = extent.blocks[size_t(i)];
    const QRect r = map->blockRect(i);
    ASSERT_TRUE(map->rect().contains(r.topLeft())) << i;
    const QColor left = image.pixelColor(r.left(), r.center().y());
    if (b.pinning_rank >= 0) {
      ++pinning_seen;
      EXPECT_EQ(left.name().toStdString(), ExtentMap::kPinningColour.name().toStdString()) << i;
      if (r.width() >= 3) {
        EXPECT_EQ(map->blockAt(r.center()), i);
        EXPECT_TRUE(map->describeAt(r.center())
                        .contains(QStringLiteral("pinning #%1").arg(b.pinning_rank + 1)));
      }
    } else if (r.width() >= 3) {
      EXPECT_EQ(map->blockAt(r.center()), i);
      EXPECT_FALSE(map->describeAt(r.center()).contains(QStringLiteral("pinning")));
      EXPECT_TRUE(
          map->describeAt(r.center()).startsWith(QStringLiteral("0x%1:").arg(b.address, 0, 16)));
    }
  }
  EXPECT_EQ(pinning_seen, most);
  // A click on a block shows its details under the map.
  const int first = 0;
  QTest::mouseClick(map, Qt::LeftButton, {}, map->blockRect(first).center());
  EXPECT_TRUE(page_.findChild<QLabel*>(QStringLiteral("blockLabel"))
                  ->text()
                  .startsWith(QStringLiteral("0x%1:").arg(extent.blocks[0].address, 0, 16)));
}

TEST_F(FragmentationPageTest, ALinkChoosesTheMomentAndTheExtent) {
  const json cli = cliJson({"frag", trace_, "--json", "--at-peak"});
  const uint64_t t =
      (document_->overview().start_ns() + cli["peak"]["time_ns"].get<uint64_t>()) / 2;
  const FragExtentModel& model = page_.extentModel();
  ASSERT_GT(model.rowCount(), 0);
  const QString name = model.rows().front().name;
  QUrlQuery query;
  query.addQueryItem(QStringLiteral("t"), QString::number(t));
  query.addQueryItem(QStringLiteral("extent"), name);
  page_.reveal(query);
  ASSERT_TRUE(test::waitUntil([&] { return !page_.busy(); }));
  ASSERT_NE(page_.shownState(), nullptr);
  EXPECT_EQ(page_.shownState()->time_ns, t);
  const int row = page_.currentExtent();
  ASSERT_GE(row, 0);
  EXPECT_EQ(model.rows()[size_t(row)].name, name);
  // By start address (hex) too.
  const uint64_t start = model.rows().back().extent->start;
  page_.reveal(QUrlQuery(QStringLiteral("extent=0x%1").arg(start, 0, 16)));
  EXPECT_EQ(model.rows()[size_t(page_.currentExtent())].extent->start, start);
}

TEST_F(FragmentationPageTest, TheChartZoomsToTheSelectedRange) {
  const uint64_t start = document_->overview().start_ns(), end = document_->overview().end_ns();
  RatioChart* chart = page_.chart();
  EXPECT_EQ(chart->domainStart(), start);
  EXPECT_EQ(chart->domainEnd(), end);
  const TimeRange range{start + (end - start) / 4, start + (end - start) / 2};
  document_->setTimeRange(range);
  EXPECT_EQ(chart->domainStart(), range.start_ns);
  EXPECT_EQ(chart->domainEnd(), range.end_ns);
  EXPECT_EQ(chart->mapXToTime(chart->plotRect().left()), range.start_ns);
  document_->clearTimeRange();
  EXPECT_EQ(chart->domainEnd(), end);
}

TEST(FragExtentModel, PassesTheModelTester) {
  FragExtentModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  const analysis::TraceFile trace(fixture("pooled.db"));
  analysis::FragmentationOptions options;
  options.extent_blocks = true;
  auto report = std::make_shared<const analysis::FragmentationReport>(
      analysis::analyze_fragmentation(trace, options));
  model.setState(report, 0);
  EXPECT_GT(model.rowCount(), 0);
  EXPECT_EQ(model.columnCount(), int(FragExtentModel::kColumns));
  model.setState(nullptr);
  EXPECT_EQ(model.rowCount(), 0);
  model.setState(report, 1);  // the end
  EXPECT_EQ(model.findExtent(model.rows().front().name.toUpper()), 0);
}

}  // namespace
}  // namespace memtide::gui
