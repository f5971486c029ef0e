// The Layers page: its table equals `memtide layers --json` row for row (the
// whole run, one step, a time range), in tree and flat form; the models pass
// QAbstractItemModelTester; selecting a time range on the document re-filters
// the table; the lifetime lanes of a step hold one bar per block of it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QHelpEvent>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTest>
#include <QToolTip>
#include <QTreeView>
#include <filesystem>
#include <map>
#include <set>

#include "core/format.h"
#include "core/trace_document.h"
#include "gui_test_support.h"
#include "models/layer_model.h"
#include "pages/layers_page.h"

namespace memtide::gui {
namespace {

using test::cliJson;
using test::fixture;

std::shared_ptr<const analysis::ScopeLifetimes> layersOf(const std::string& name) {
  const auto overview = test::overview(name);
  return {overview, &overview->layers};
}

// Every row of the model (depth first), as source indexes of column 0.
void collectRows(const QAbstractItemModel& model, const QModelIndex& parent,
                 std::vector<QModelIndex>& out) {
  for (int row = 0; row < model.rowCount(parent); ++row) {
    const QModelIndex index = model.index(row, 0, parent);
    out.push_back(index);
    collectRows(model, index, out);
  }
}

qulonglong cell(const LayerModel& model, const QModelIndex& row, int column) {
  return model.data(row.siblingAtColumn(column), LayerModel::kRawValueRole).toULongLong();
}

// Each row of `model` has exactly the numbers of the same scope in `cli`
// (`measures`: "own" or "subtree"), and every scope of `cli` is a row.
void expectRowsEqualCli(const LayerModel& model, const nlohmann::json& cli,
                        const std::string& measures) {
  std::map<uint32_t, nlohmann::json> by_id;
  for (const auto& scope : cli["scopes"]) by_id[scope["id"].get<uint32_t>()] = scope;
  std::vector<QModelIndex> rows;
  collectRows(model, {}, rows);
  const bool unscoped = cli["unscoped"]["allocations"].get<uint64_t>() > 0;
  ASSERT_EQ(rows.size(), by_id.size() + (unscoped ? 1 : 0));
  ASSERT_GT(rows.size(), 3u);
  for (const QModelIndex& row : rows) {
    const uint32_t id = model.data(row, LayerModel::kScopeIdRole).toUInt();
    nlohmann::json m;
    if (id == 0) {
      m = cli["unscoped"];
    } else {
      ASSERT_TRUE(by_id.count(id)) << "scope " << id << " not in the CLI's output";
      const nlohmann::json& scope = by_id[id];
      EXPECT_EQ(model.data(row, LayerModel::kPathRole).toString().toStdString(),
                scope["path"].get<std::string>());
      EXPECT_EQ(model.data(row.siblingAtColumn(LayerModel::kPhase)).toString().toStdString(),
                scope["phase"].get<std::string>());
      m = scope[measures];
    }
    const std::string what = model.data(row, LayerModel::kPathRole).toString().toStdString();
    EXPECT_EQ(cell(model, row, LayerModel::kAllocations), m["allocations"].get<uint64_t>()) << what;
    EXPECT_EQ(cell(model, row, LayerModel::kBytes), m["bytes"].get<uint64_t>()) << what;
    EXPECT_EQ(cell(model, row, LayerModel::kPoolBytes), m["pool_bytes"].get<uint64_t>()) << what;
    EXPECT_EQ(cell(model, row, LayerModel::kPeakLive), m["peak_live_bytes"].get<uint64_t>())
        << what;
    EXPECT_EQ(cell(model, row, LayerModel::kHighWater), m["high_water_bytes"].get<uint64_t>())
        << what;
    EXPECT_EQ(cell(model, row, LayerModel::kMedianLifetime),
              m["median_lifetime_ns"].get<uint64_t>())
        << what;
    EXPECT_EQ(cell(model, row, LayerModel::kP95Lifetime), m["p95_lifetime_ns"].get<uint64_t>())
        << what;
    EXPECT_EQ(cell(model, row, LayerModel::kOutliving), m["outliving_bytes"].get<uint64_t>())
        << what;
    EXPECT_EQ(cell(model, row, LayerModel::kLiveAtStepEnd),
              m["live_at_step_end_bytes"].get<uint64_t>())
        << what;
    QStringList freed;
    for (const auto& f : m["outliving_freed_in"])
      freed << QStringLiteral("%1 (%2)").arg(QString::fromStdString(f["scope"].get<std::string>()),
                                             formatBytes(f["bytes"].get<uint64_t>()));
    EXPECT_EQ(model.data(row.siblingAtColumn(LayerModel::kFreedIn)).toString(),
              freed.join(QStringLiteral(", ")))
        << what;
  }
}

// Blocks of a step as the CLI counts them: outside every scope, plus the
// subtrees of the top-level scopes.
uint64_t blocksIn(const nlohmann::json& cli) {
  uint64_t blocks = cli["unscoped"]["allocations"].get<uint64_t>();
  for (const auto& scope : cli["scopes"])
    if (scope["depth"].get<int>() == 1) blocks += scope["subtree"]["allocations"].get<uint64_t>();
  return blocks;
}

TEST(LayerModel, PassesTheModelTesterTreeFlatAndSorted) {
  LayerModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  QSortFilterProxyModel proxy;
  proxy.setSourceModel(&model);
  proxy.setSortRole(LayerModel::kSortRole);
  QAbstractItemModelTester proxy_tester(&proxy,
                                        QAbstractItemModelTester::FailureReportingMode::Fatal);
  model.setLayers(layersOf("train.db"));
  std::vector<QModelIndex> rows;
  collectRows(model, {}, rows);
  EXPECT_GT(rows.size(), size_t(model.rowCount()));  // a real tree
  proxy.sort(LayerModel::kPeakLive, Qt::DescendingOrder);
  for (int row = 1; row < proxy.rowCount(); ++row)
    EXPECT_GE(
        proxy.index(row - 1, LayerModel::kPeakLive).data(LayerModel::kRawValueRole).toULongLong(),
        proxy.index(row, LayerModel::kPeakLive).data(LayerModel::kRawValueRole).toULongLong());
  model.setView(LayerModel::View::kFlat);
  EXPECT_EQ(size_t(model.rowCount()), rows.size());
  proxy.sort(LayerModel::kScope, Qt::AscendingOrder);
  model.setMeasures(LayerModel::Measures::kOwn);
  model.setLayers(layersOf("pooled.db"));
  model.setView(LayerModel::View::kTree);
  model.setLayers(nullptr);
  EXPECT_EQ(model.rowCount(), 0);
}

TEST(LayerModel, TreeAndFlatEqualTheCliJson) {
  const std::string trace = fixture("train.db");
  const nlohmann::json cli = cliJson({"layers", "--json", trace});
  LayerModel model;
  model.setLayers(layersOf("train.db"));
  expectRowsEqualCli(model, cli, "subtree");
  model.setView(LayerModel::View::kFlat);
  model.setMeasures(LayerModel::Measures::kOwn);
  expectRowsEqualCli(model, cli, "own");
  // A pooled run: pool bytes and the pools' backing blocks left out.
  const nlohmann::json pooled = cliJson({"layers", "--json", fixture("pooled.db")});
  model.setLayers(layersOf("pooled.db"));
  expectRowsEqualCli(model, pooled, "own");
}

TEST(LayersPage, StepThreeEqualsTheCliWithStepThree) {
  TraceDocument document(test::overview("train.db"));
  LayersPage page;
  page.show();
  page.setDocuments({&document}, &document);
  page.setStep(3);
  ASSERT_TRUE(test::waitUntil([&] { return !page.busy(); }));
  ASSERT_EQ(page.step(), 3);
  expectRowsEqualCli(page.model(),
                     cliJson({"layers", "--json", "--step", "3", fixture("train.db")}), "subtree");
  // The flat toggle, clicked: own numbers.
  QTest::mouseClick(page.findChild<QCheckBox*>(QStringLiteral("layersTree")), Qt::LeftButton);
  EXPECT_EQ(page.model().view(), LayerModel::View::kFlat);
  expectRowsEqualCli(page.model(),
                     cliJson({"layers", "--json", "--step", "3", "--flat", fixture("train.db")}),
                     "own");
}

// The memory chooser: the table equals `memtide layers --device` for the
// memory picked, host or a GPU.
TEST(LayersPage, TheMemoryChooserEqualsTheCliForThatDevice) {
  {
    TraceDocument document(test::overview("train.db"));
    LayersPage page;
    page.show();
    page.setDocuments({&document}, &document);
    auto* memory = page.findChild<QComboBox*>(QStringLiteral("layersMemory"));
    ASSERT_NE(memory, nullptr);
    ASSERT_EQ(memory->count(), 2);  // all, host: this run used no GPU
    memory->setCurrentIndex(memory->findText(QStringLiteral("Host")));
    ASSERT_TRUE(test::waitUntil([&] { return !page.busy(); }));
    expectRowsEqualCli(page.model(),
                       cliJson({"layers", "--json", "--device", "host", fixture("train.db")}),
                       "subtree");
  }
  if (!std::filesystem::exists(fixture("gpu.db")))
    GTEST_SKIP() << "no gpu.db: the fake CUDA programs are built only with the CUDA headers";
  TraceDocument document(test::overview("gpu.db"));
  LayersPage page;
  page.show();
  page.setDocuments({&document}, &document);
  auto* memory = page.findChild<QComboBox*>(QStringLiteral("layersMemory"));
  const int gpu0 = memory->findText(QStringLiteral("cuda:0"));
  ASSERT_GE(gpu0, 0);
  memory->setCurrentIndex(gpu0);
  ASSERT_TRUE(test::waitUntil([&] { return !page.busy(); }));
  const nlohmann::json cli = cliJson({"layers", "--json", "--device", "cuda:0", fixture("gpu.db")});
  uint64_t shown_blocks = 0, shown_bytes = 0;
  for (int row = 0; row < page.model().rowCount(); ++row) {
    const QModelIndex index = page.model().index(row, 0);
    shown_blocks += cell(page.model(), index, LayerModel::kAllocations);
    shown_bytes += cell(page.model(), index, LayerModel::kBytes);
  }
  uint64_t cli_bytes = cli["unscoped"]["bytes"].get<uint64_t>();
  for (const auto& scope : cli["scopes"])
    if (scope["depth"].get<int>() == 1) cli_bytes += scope["subtree"]["bytes"].get<uint64_t>();
  EXPECT_GT(shown_blocks, 0u);
  EXPECT_EQ(shown_blocks, blocksIn(cli));
  EXPECT_EQ(shown_bytes, cli_bytes);
}

TEST(LayersPage, ATimeRangeOnTheDocumentRefiltersTheTable) {
  const auto overview = test::overview("train.db");
  const std::string trace = fixture("train.db");
  ASSERT_NE(overview->process(), nullptr);
  const std::vector<uint64_t>& steps = overview->process()->step_times_ns;
  ASSERT_GE(steps.size(), 6u);
  const TimeRange range{steps[2], steps[5]};
  TraceDocument document(overview);
  LayersPage page;
  page.show();
  page.setDocuments({&document}, &document);
  ASSERT_TRUE(test::waitUntil([&] { return !page.busy(); }));

  document.setTimeRange(range);
  EXPECT_TRUE(page.busy());
  ASSERT_TRUE(test::waitUntil([&] { return !page.busy(); }));
  const nlohmann::json cli = cliJson({"layers", "--json", "--from", std::to_string(range.start_ns),
                                      "--to", std::to_string(range.end_ns), trace});
  expectRowsEqualCli(page.model(), cli, "subtree");

  // Independently: the allocation index's blocks allocated in the range.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(trace.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT count(*), sum(size) FROM allocations WHERE "
                               "alloc_time_ns >= ? AND alloc_time_ns < ?",
                               -1, &s, nullptr),
            SQLITE_OK);
  sqlite3_bind_int64(s, 1, int64_t(range.start_ns));
  sqlite3_bind_int64(s, 2, int64_t(range.end_ns));
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  const uint64_t blocks = uint64_t(sqlite3_column_int64(s, 0));
  const uint64_t bytes = uint64_t(sqlite3_column_int64(s, 1));
  sqlite3_finalize(s);
  sqlite3_close(db);
  uint64_t shown_blocks = 0, shown_bytes = 0;
  for (int row = 0; row < page.model().rowCount(); ++row) {
    const QModelIndex index = page.model().index(row, 0);
    shown_blocks += cell(page.model(), index, LayerModel::kAllocations);
    shown_bytes += cell(page.model(), index, LayerModel::kBytes);
  }
  EXPECT_EQ(shown_blocks, blocks);
  EXPECT_EQ(shown_bytes, bytes);
  EXPECT_GT(blocks, 0u);
  EXPECT_EQ(blocksIn(cli), blocks);

  // "Whole run", clicked: the range is cleared and the loaded table is back.
  QTest::mouseClick(page.findChild<QPushButton*>(QStringLiteral("layersWholeRun")), Qt::LeftButton);
  EXPECT_FALSE(document.timeRange());
  ASSERT_TRUE(test::waitUntil([&] { return !page.busy(); }));
  expectRowsEqualCli(page.model(), cliJson({"layers", "--json", trace}), "subtree");
}

TEST(LayersPage, SelectingARowSetsTheDocumentScopeAndLinksSelectRows) {
  const auto overview = test::overview("train.db");
  TraceDocument document(overview);
  LayersPage page;
  page.resize(1000, 700);
  page.show();
  page.setDocuments({&document}, &document);
  ASSERT_TRUE(test::waitUntil([&] { return !page.busy(); }));
  QTreeView* view = page.view();
  const QModelIndex first = view->model()->index(0, 0);
  const QRect rect = view->visualRect(first);
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
  EXPECT_EQ(document.scope(), first.data(LayerModel::kPathRole).toString());
  EXPECT_FALSE(document.scope().isEmpty());

  // A deep scope, through a link.
  std::string deepest;
  int depth = 0;
  for (const analysis::ScopeRow& row : overview->layers.scopes)
    if (row.depth > depth) {
      depth = row.depth;
      deepest = row.path;
    }
  ASSERT_GT(depth, 1);
  QUrlQuery query;
  query.addQueryItem(QStringLiteral("scope"), QString::fromStdString(deepest));
  page.reveal(query);
  EXPECT_EQ(document.scope().toStdString(), deepest);
  EXPECT_EQ(
      view->currentIndex().siblingAtColumn(0).data(LayerModel::kPathRole).toString().toStdString(),
      deepest);
  QUrlQuery step;
  step.addQueryItem(QStringLiteral("step"), QStringLiteral("4"));
  page.reveal(step);
  EXPECT_EQ(page.step(), 4);
  ASSERT_TRUE(test::waitUntil([&] { return !page.busy(); }));
}

TEST(LifetimeLanes, StepThreeHasOneBarPerBlockAllocatedInIt) {
  TraceDocument document(test::overview("train.db"));
  LayersPage page;
  page.resize(1000, 800);
  page.show();
  page.setDocuments({&document}, &document);
  page.setStep(3);
  ASSERT_TRUE(test::waitUntil([&] { return !page.busy(); }));
  EXPECT_EQ(page.lanesStep(), 3);
  LifetimeLanes* lanes = page.lanes();
  ASSERT_NE(lanes->lanes(), nullptr);
  const analysis::StepGantt& gantt = lanes->lanes()->gantt;
  EXPECT_EQ(gantt.step, 3);
  EXPECT_EQ(gantt.bars_left_out, 0u);
  const nlohmann::json cli = cliJson({"layers", "--json", "--step", "3", fixture("train.db")});
  EXPECT_EQ(lanes->barCount(), blocksIn(cli));
  EXPECT_GT(lanes->barCount(), 0u);
  // One lane per layer of the step.
  std::set<std::string> layers;
  for (const analysis::LifetimeBar& bar : gantt.bars) layers.insert(bar.layer);
  EXPECT_EQ(layers.size(), gantt.layers.size());

  // Hovering the largest bar: its size, its scope and its stack's frames.
  size_t largest = 0;
  for (size_t i = 0; i < gantt.bars.size(); ++i)
    if (gantt.bars[i].bytes > gantt.bars[largest].bytes) largest = i;
  const analysis::LifetimeBar& bar = gantt.bars[largest];
  const QRectF rect = lanes->barRect(largest);
  ASSERT_TRUE(rect.isValid());
  const QPoint at = rect.center().toPoint();
  ASSERT_EQ(lanes->barAt(at), largest);
  QHelpEvent help(QEvent::ToolTip, at, lanes->mapToGlobal(at));
  QCoreApplication::sendEvent(lanes, &help);
  const QString tip = lanes->toolTipFor(largest);
  EXPECT_TRUE(tip.contains(formatBytes(bar.bytes))) << tip.toStdString();
  EXPECT_TRUE(tip.contains(bar.scope.empty() ? QStringLiteral("(no scope)")
                                             : QString::fromStdString(bar.scope).toHtmlEscaped()))
      << tip.toStdString();
  ASSERT_NE(bar.stack, 0u);
  const auto& frames = lanes->lanes()->stacks.at(bar.stack);
  ASSERT_FALSE(frames.empty());
  EXPECT_TRUE(
      tip.contains(QString::fromStdString(frames.front().function).left(40).toHtmlEscaped()))
      << tip.toStdString();
  EXPECT_EQ(QToolTip::text(), tip);

  // Clicking a bar selects its scope.
  QTest::mouseClick(lanes, Qt::LeftButton, {}, at);
  EXPECT_EQ(document.scope().toStdString(), bar.scope);
}

}  // namespace
}  // namespace memtide::gui
