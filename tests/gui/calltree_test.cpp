// The Call trees page: its totals equal the CLI's for the same measure, its
// models pass QAbstractItemModelTester, the search highlights and opens
// matching frames, a click zooms the flame graph, and a time range re-queries
// down to exactly the blocks allocated in it.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTest>
#include <QTreeView>

#include "core/format.h"
#include "core/trace_document.h"
#include "gui_test_support.h"
#include "models/calltree_model.h"
#include "pages/calltree_page.h"
#include "widgets/flame_graph.h"

namespace memtide::gui {
namespace {

using analysis::StackMeasure;
using test::cliJson;
using test::fixture;

analysis::StackTrees build(StackMeasure measure, const std::string& category = {}) {
  analysis::TraceFile trace(fixture("train.db"));
  analysis::StackTreeOptions options;
  options.measure = measure;
  options.leak_category = category;
  return analysis::build_stack_trees(trace, options);
}

// Inclusive is own plus the children's inclusive, read through the model.
void expectSumsAddUp(const QAbstractItemModel& model, const QModelIndex& parent) {
  for (int row = 0; row < model.rowCount(parent); ++row) {
    const QModelIndex index = model.index(row, CallTreeModel::kFunction, parent);
    auto value = [&](int column) {
      return model.index(row, column, parent).data(CallTreeModel::kSortRole).toULongLong();
    };
    qulonglong children = 0;
    for (int c = 0; c < model.rowCount(index); ++c)
      children += model.index(c, CallTreeModel::kInclusive, index)
                      .data(CallTreeModel::kSortRole)
                      .toULongLong();
    EXPECT_EQ(value(CallTreeModel::kInclusive), value(CallTreeModel::kOwn) + children);
    expectSumsAddUp(model, index);
  }
}

TEST(CallTreeModel, PassesTheModelTesterAndAddsUp) {
  const analysis::StackTrees peak = build(StackMeasure::kPeakBytes);
  const analysis::StackTrees count = build(StackMeasure::kAllocations);
  CallTreeModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  model.setTree(std::make_shared<analysis::CallTree>(peak.top_down), StackMeasure::kPeakBytes);
  ASSERT_GT(model.rowCount(), 0);
  expectSumsAddUp(model, {});
  model.setTree(std::make_shared<analysis::CallTree>(count.bottom_up), StackMeasure::kAllocations);
  expectSumsAddUp(model, {});
  qulonglong roots = 0;
  for (int row = 0; row < model.rowCount(); ++row)
    roots +=
        model.index(row, CallTreeModel::kInclusive).data(CallTreeModel::kSortRole).toULongLong();
  EXPECT_EQ(roots, count.weights.total);
  model.setTree(nullptr, StackMeasure::kPeakBytes);
  EXPECT_EQ(model.rowCount(), 0);
}

TEST(CallTrees, TotalsEqualTheCli) {
  const std::string trace = fixture("train.db");
  // train.db has no pools and no GPU: top's totals are the heap's.
  const nlohmann::json top = cliJson({"top", "--json", trace});
  EXPECT_EQ(build(StackMeasure::kAllocatedBytes).weights.total, top["bytes"].get<uint64_t>());
  EXPECT_EQ(build(StackMeasure::kAllocations).weights.total, top["allocations"].get<uint64_t>());
  EXPECT_EQ(build(StackMeasure::kTemporaries).weights.total, top["temporaries"].get<uint64_t>());
  EXPECT_GT(top["temporaries"].get<uint64_t>(), 0u);

  const nlohmann::json peak = cliJson({"peak", "--json", trace});
  const analysis::StackTrees at_peak = build(StackMeasure::kPeakBytes);
  EXPECT_EQ(at_peak.weights.total, peak["host"]["moment"]["bytes"].get<uint64_t>());
  EXPECT_EQ(at_peak.weights.peak_seq, peak["host"]["moment"]["seq"].get<uint64_t>());
  EXPECT_EQ(at_peak.weights.peak_time_ns, peak["host"]["moment"]["time_ns"].get<uint64_t>());
  EXPECT_EQ(at_peak.top_down.total, at_peak.weights.total);

  const nlohmann::json report = cliJson({"report", trace, "--json", "/dev/stdout"});
  uint64_t leaked = 0, definite = 0;
  for (const auto& group : report["processes"][0]["leaks"]) {
    if (group["device"].get<std::string>() != "host") continue;
    leaked += group["bytes"].get<uint64_t>();
    if (group["category"].get<std::string>() == "definite")
      definite += group["bytes"].get<uint64_t>();
  }
  EXPECT_GT(definite, 0u) << "the fixture plants a definite leak";
  EXPECT_EQ(build(StackMeasure::kLeakedBytes).weights.total, leaked);
  EXPECT_EQ(build(StackMeasure::kLeakedBytes, "definite").weights.total, definite);
}

class CalltreePageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    document_ = std::make_unique<TraceDocument>(test::overview("train.db"));
    page_.resize(1000, 700);
    page_.show();
    page_.setDocuments({document_.get()}, document_.get());
    ASSERT_TRUE(test::waitUntil([&] { return !page_.busy() && page_.data(); }));
  }

  const analysis::CallTree& topDown() const { return *page_.topDownModel().tree(); }

  // The biggest root's biggest child: a frame every view shows.
  uint32_t frameWithCallers() const {
    const analysis::CallTree& tree = topDown();
    for (uint32_t root : tree.roots)
      if (!tree.nodes[root].children.empty()) return tree.nodes[root].children.front();
    ADD_FAILURE() << "no frame under a root";
    return 0;
  }

  std::unique_ptr<TraceDocument> document_;
  CalltreePage page_;
};

TEST_F(CalltreePageTest, SearchHighlightsAndOpensMatchingFrames) {
  const uint32_t node = frameWithCallers();
  const QString term = QString::fromStdString(topDown().nodes[node].label);
  QTest::keyClicks(page_.searchBox(), term);
  EXPECT_EQ(page_.searchBox()->text(), term);

  size_t matching = 0, highlighted = 0;
  for (uint32_t i = 0; i < topDown().nodes.size(); ++i) {
    const bool match =
        QString::fromStdString(topDown().nodes[i].label).contains(term, Qt::CaseInsensitive);
    matching += match;
    highlighted += page_.flameGraph()->isHighlighted(i);
    EXPECT_EQ(page_.flameGraph()->isHighlighted(i), match) << topDown().nodes[i].label;
  }
  EXPECT_GT(matching, 0u);
  EXPECT_EQ(highlighted, matching);

  // The tree keeps the paths to the matches and opens them.
  QTreeView* view = page_.topDownView();
  auto* proxy = qobject_cast<QSortFilterProxyModel*>(view->model());
  ASSERT_TRUE(proxy);
  const QModelIndex shown = proxy->mapFromSource(page_.topDownModel().indexOfNode(node));
  ASSERT_TRUE(shown.isValid());
  EXPECT_TRUE(view->isExpanded(shown.parent()));
  for (int row = 0; row < proxy->rowCount(); ++row) {
    const uint32_t root = proxy->index(row, 0).data(CallTreeModel::kNodeRole).toUInt();
    bool leads_to_match = false;
    std::vector<uint32_t> pending{root};
    while (!pending.empty() && !leads_to_match) {
      const analysis::CallTreeNode& n = topDown().nodes[pending.back()];
      pending.pop_back();
      leads_to_match = QString::fromStdString(n.label).contains(term, Qt::CaseInsensitive);
      pending.insert(pending.end(), n.children.begin(), n.children.end());
    }
    EXPECT_TRUE(leads_to_match) << "root row " << row;
  }

  page_.searchBox()->clear();
  EXPECT_FALSE(page_.flameGraph()->isHighlighted(node));
  EXPECT_EQ(proxy->rowCount(), int(topDown().roots.size()));
}

TEST_F(CalltreePageTest, ClickingAFrameZoomsAndEscapeResets) {
  page_.views()->setCurrentIndex(2);
  FlameGraph* flame = page_.flameGraph();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&page_));
  const uint32_t node = frameWithCallers();
  const QRectF before = flame->nodeRect(node);
  ASSERT_FALSE(before.isEmpty());
  EXPECT_EQ(flame->nodeAt(before.center()), node);
  EXPECT_TRUE(flame->describe(node).contains(
      formatMeasure(StackMeasure::kPeakBytes, topDown().nodes[node].inclusive)));

  QTest::mouseClick(flame, Qt::LeftButton, {}, before.center().toPoint());
  EXPECT_EQ(flame->zoomNode(), node);
  const QRectF zoomed = flame->nodeRect(node);
  EXPECT_DOUBLE_EQ(zoomed.left(), 0.0);
  EXPECT_DOUBLE_EQ(zoomed.width(), double(flame->width()));
  // Its caller stays in view, full width; a sibling of its caller's is gone.
  const uint32_t caller = topDown().nodes[node].parent;
  EXPECT_DOUBLE_EQ(flame->nodeRect(caller).width(), double(flame->width()));
  for (uint32_t root : topDown().roots)
    if (root != caller) {
      EXPECT_TRUE(flame->nodeRect(root).isEmpty());
    }

  flame->setFocus();
  QTest::keyClick(flame, Qt::Key_Escape);
  EXPECT_EQ(flame->zoomNode(), FlameGraph::kNone);
  EXPECT_EQ(flame->nodeRect(node), before);

  QTest::mouseClick(flame, Qt::LeftButton, {}, before.center().toPoint());
  EXPECT_EQ(flame->zoomNode(), node);
  QTest::mouseDClick(flame, Qt::LeftButton, {}, QPoint(2, 2));
  EXPECT_EQ(flame->zoomNode(), FlameGraph::kNone);
}

// Heap allocations whose time is in [start, end), from the event stream.
std::pair<uint64_t, uint64_t> allocatedBetween(uint64_t start, uint64_t end) {
  analysis::TraceFile trace(fixture("train.db"));
  uint64_t bytes = 0, blocks = 0;
  trace.for_each_event([&](const EventRecord& e, int64_t) {
    const auto kind = uint8_t(e.kind);
    const bool heap = (kind >= 1 && kind <= 13) || e.kind == EventKind::kReallocInPlace;
    if (heap && e.time_ns >= start && e.time_ns < end) {
      bytes += e.size;
      ++blocks;
    }
  });
  return {bytes, blocks};
}

TEST_F(CalltreePageTest, ATimeRangeKeepsExactlyTheBlocksAllocatedInIt) {
  page_.setMeasure(StackMeasure::kAllocatedBytes);
  ASSERT_TRUE(test::waitUntil([&] {
    return !page_.busy() && page_.data() &&
           page_.data()->trees.options.measure == StackMeasure::kAllocatedBytes;
  }));
  const uint64_t whole = page_.data()->trees.weights.total;
  const uint64_t start = document_->overview().start_ns(), end = document_->overview().end_ns();
  const TimeRange range{start + (end - start) / 3, start + 2 * (end - start) / 3};
  document_->setTimeRange(range);
  ASSERT_TRUE(test::waitUntil(
      [&] { return !page_.busy() && page_.data() && page_.data()->trees.options.has_time_range; }));
  const auto [bytes, blocks] = allocatedBetween(range.start_ns, range.end_ns);
  EXPECT_GT(bytes, 0u);
  EXPECT_LT(bytes, whole);
  EXPECT_EQ(page_.data()->trees.weights.total, bytes);
  EXPECT_EQ(page_.data()->trees.top_down.total, bytes);
  uint64_t counted = 0;
  for (const analysis::StackWeight& w : page_.data()->trees.weights.stacks) counted += w.blocks;
  EXPECT_EQ(counted, blocks);
  EXPECT_TRUE(page_.statusLabel()->text().contains(formatBytes(bytes)));

  document_->clearTimeRange();
  ASSERT_TRUE(test::waitUntil([&] {
    return !page_.busy() && page_.data() && !page_.data()->trees.options.has_time_range;
  }));
  EXPECT_EQ(page_.data()->trees.weights.total, whole);
}

TEST_F(CalltreePageTest, LinksPickTheMeasureAndTheSearch) {
  QUrlQuery query;
  query.addQueryItem("measure", "leaked");
  query.addQueryItem("category", "definite");
  query.addQueryItem("function", "main");
  query.addQueryItem("view", "bottom-up");
  page_.reveal(query);
  EXPECT_EQ(page_.measure(), StackMeasure::kLeakedBytes);
  EXPECT_TRUE(page_.categoryBox()->isVisible());
  EXPECT_EQ(page_.searchBox()->text(), QStringLiteral("main"));
  EXPECT_EQ(page_.views()->currentWidget(), page_.bottomUpView());
  ASSERT_TRUE(test::waitUntil([&] {
    return !page_.busy() && page_.data() && page_.data()->trees.options.leak_category == "definite";
  }));
  EXPECT_EQ(page_.data()->trees.weights.total,
            build(StackMeasure::kLeakedBytes, "definite").weights.total);
  EXPECT_GT(page_.data()->trees.weights.total, 0u);
}

}  // namespace
}  // namespace memtide::gui
