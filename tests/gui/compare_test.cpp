// The Compare page on two real runs (with and without activation
// checkpointing): its layer table equals the two runs' `memtide layers
// --json` path by path, and its measures equal `memtide diff --json`.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <fstream>
#include <map>

#include "core/trace_document.h"
#include "gui_test_support.h"
#include "pages/compare_page.h"
#include "widgets/overlay_chart.h"

namespace memtide::gui {
namespace {

using test::cliJson;
using test::fixture;

struct Subtree {
  uint64_t bytes = 0, peak = 0, outliving = 0;
};

std::map<std::string, Subtree> layersOf(const std::string& trace) {
  std::map<std::string, Subtree> out;
  const nlohmann::json layers = cliJson({"layers", "--json", trace});
  for (const auto& scope : layers["scopes"])
    out[scope["path"].get<std::string>()] = {scope["subtree"]["bytes"].get<uint64_t>(),
                                             scope["subtree"]["peak_live_bytes"].get<uint64_t>(),
                                             scope["subtree"]["outliving_bytes"].get<uint64_t>()};
  return out;
}

class ComparePageTest : public testing::Test {
 protected:
  TraceDocument base{test::overview("train.db")};
  TraceDocument candidate{test::overview("checkpoint.db")};
  ComparePage page;
};

TEST_F(ComparePageTest, LayerTableEqualsTheCliLayersOfBothRuns) {
  // The tester watches the model the page owns; it only reads it.
  QAbstractItemModelTester tester(const_cast<ScopeCompareModel*>(&page.layerModel()),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  QAbstractItemModelTester proxy_tester(page.layerView(),
                                        QAbstractItemModelTester::FailureReportingMode::Fatal);
  page.setDocuments({&base, &candidate}, &candidate);
  ASSERT_EQ(page.base(), &base);
  ASSERT_EQ(page.candidate(), &candidate);

  const auto base_layers = layersOf(fixture("train.db"));
  const auto new_layers = layersOf(fixture("checkpoint.db"));
  std::map<std::string, bool> paths;
  for (const auto& [path, _] : base_layers) paths[path] = true;
  for (const auto& [path, _] : new_layers) paths[path] = true;
  const ScopeCompareModel& model = page.layerModel();
  ASSERT_EQ(size_t(model.rowCount()), paths.size());
  size_t recompute_rows = 0;
  for (int row = 0; row < model.rowCount(); ++row) {
    const analysis::ScopeChange& c = model.change(row);
    const Subtree b = base_layers.count(c.path) ? base_layers.at(c.path) : Subtree{};
    const Subtree n = new_layers.count(c.path) ? new_layers.at(c.path) : Subtree{};
    EXPECT_EQ(c.in_base, base_layers.count(c.path) == 1) << c.path;
    EXPECT_EQ(c.in_new, new_layers.count(c.path) == 1) << c.path;
    EXPECT_EQ(c.base_bytes, b.bytes) << c.path;
    EXPECT_EQ(c.new_bytes, n.bytes) << c.path;
    EXPECT_EQ(c.base_peak, b.peak) << c.path;
    EXPECT_EQ(c.new_peak, n.peak) << c.path;
    EXPECT_EQ(c.base_outliving, b.outliving) << c.path;
    EXPECT_EQ(c.new_outliving, n.outliving) << c.path;
    recompute_rows += c.path.find("recompute") != std::string::npos;
  }
  // Checkpointing recomputes activations in backward: scopes only the new run has.
  EXPECT_GT(recompute_rows, 0u);

  // "Changed layers only" hides exactly the unchanged rows.
  int changed = 0;
  for (int row = 0; row < model.rowCount(); ++row) changed += model.change(row).changed();
  page.changedOnly()->setChecked(true);
  EXPECT_EQ(page.layerView()->rowCount(), changed);
  page.changedOnly()->setChecked(false);
  EXPECT_EQ(page.layerView()->rowCount(), model.rowCount());
}

TEST_F(ComparePageTest, MeasuresEqualTheCliDiff) {
  QAbstractItemModelTester tester(const_cast<RunDiffModel*>(&page.diffModel()),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  page.setDocuments({&base, &candidate}, &candidate);
  ASSERT_TRUE(test::waitUntil([&] { return !page.busy(); }, 60000));
  const analysis::RunDiff* diff = page.diffModel().diff();
  ASSERT_NE(diff, nullptr);

  QTemporaryDir dir;
  const std::string out = dir.filePath("diff.json").toStdString();
  ASSERT_EQ(test::runCli({"diff", fixture("train.db"), fixture("checkpoint.db"), "--json", out}),
            0);
  nlohmann::json json;
  std::ifstream(out) >> json;
  EXPECT_EQ(diff->base.peak_bytes, json["base"]["peak_bytes"].get<uint64_t>());
  EXPECT_EQ(diff->candidate.peak_bytes, json["new"]["peak_bytes"].get<uint64_t>());
  EXPECT_EQ(diff->base.leaked_bytes, json["base"]["leaked_bytes"].get<uint64_t>());
  EXPECT_EQ(diff->candidate.leaked_bytes, json["new"]["leaked_bytes"].get<uint64_t>());
  EXPECT_EQ(diff->base.allocations, json["base"]["allocations"].get<uint64_t>());
  EXPECT_EQ(diff->candidate.allocations, json["new"]["allocations"].get<uint64_t>());
  // The table shows them: the first row is the heap peak.
  const RunDiffModel& model = page.diffModel();
  EXPECT_EQ(model.rowCount(), RunDiffModel::kMeasureRows + int(diff->grown.size()));
  EXPECT_EQ(model.index(0, RunDiffModel::kBase).data(RunDiffModel::kRawRole).toDouble(),
            double(json["base"]["peak_bytes"].get<uint64_t>()));
  EXPECT_EQ(model.index(0, RunDiffModel::kNew).data(RunDiffModel::kRawRole).toDouble(),
            double(json["new"]["peak_bytes"].get<uint64_t>()));
}

TEST_F(ComparePageTest, OverlayDrawsBothRunsFromTheirOwnStart) {
  page.setDocuments({&base, &candidate}, &candidate);
  const auto& series = page.chart()->series();
  ASSERT_EQ(series.size(), 2u);
  const analysis::ProcessReport* b = base.overview().process();
  ASSERT_NE(b, nullptr);
  ASSERT_FALSE(b->timeline.empty());
  // At each of the base run's points, the chart's value is that point's.
  for (const analysis::TimelinePoint& p : b->timeline) {
    if (p.time_ns < series[0].start_ns) continue;
    ASSERT_EQ(OverlayChart::valueAt(series[0], p.time_ns - series[0].start_ns),
              OverlayChart::liveBytes(p));
  }
}

TEST_F(ComparePageTest, OneTraceAskForASecond) {
  page.setDocuments({&base}, &base);
  EXPECT_EQ(page.candidate(), nullptr);
  EXPECT_EQ(page.layerModel().rowCount(), 0);
  EXPECT_FALSE(page.busy());
}

TEST_F(ComparePageTest, RevealSwapsThePair) {
  page.setDocuments({&base, &candidate}, &candidate);
  QUrlQuery query;
  query.addQueryItem("base", candidate.path());
  query.addQueryItem("new", base.path());
  page.reveal(query);
  EXPECT_EQ(page.base(), &candidate);
  EXPECT_EQ(page.candidate(), &base);
}

}  // namespace
}  // namespace memtide::gui
