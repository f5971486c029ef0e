// The window: opening files, directories, drops and links; errors in the
// banner; recent files; exporting a view; copying a table.
#include <gtest/gtest.h>

#include <QApplication>
#include <QClipboard>
#include <QDropEvent>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QListWidget>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include "app/main_window.h"
#include "core/recent_files.h"
#include "core/table_copy.h"
#include "core/trace_document.h"
#include "gui_test_support.h"
#include "memtide/analysis/report_builder.h"
#include "models/layer_model.h"
#include "pages/layers_page.h"
#include "pages/page.h"
#include "pages/timeline_page.h"
#include "widgets/timeline_axis.h"
#include "widgets/timeline_widget.h"

namespace memtide::gui {
namespace {

using test::fixture;

QString q(const std::string& s) {
  return QString::fromStdString(s);
}

bool waitLoaded(MainWindow& window, int documents) {
  return test::waitUntil(
      [&] { return !window.loading() && window.documents().size() >= documents; }, 60000);
}

TEST(MainWindow, OpensATraceAndShowsItEverywhere) {
  clearRecentFiles();
  MainWindow window;
  QSignalSpy opened(&window, &MainWindow::documentOpened);
  window.openPaths({q(fixture("train.db"))});
  ASSERT_TRUE(waitLoaded(window, 1));
  ASSERT_EQ(opened.count(), 1);
  ASSERT_NE(window.currentDocument(), nullptr);
  EXPECT_EQ(window.currentDocument()->path(), q(fixture("train.db")));
  EXPECT_TRUE(window.lastError().isEmpty());
  auto* list = window.findChild<QListWidget*>("traceList");
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(list->count(), 1);
  EXPECT_EQ(list->item(0)->text(), window.currentDocument()->displayName());
  EXPECT_TRUE(window.windowTitle().contains(window.currentDocument()->displayName()));
  EXPECT_EQ(recentFiles(), QStringList{q(fixture("train.db"))});
}

TEST(MainWindow, NotATraceShowsTheReasonInTheBanner) {
  MainWindow window;
  window.show();
  QSignalSpy failed(&window, &MainWindow::loadFailed);
  const QString path = q(fixture("not-a-trace.db"));
  window.openPaths({path});
  ASSERT_TRUE(failed.wait(30000));
  const QString expected = path + ": not an SQLite database, so not a memtide trace";
  EXPECT_EQ(window.lastError(), expected);
  auto* banner = window.findChild<QLabel*>("errorBanner");
  ASSERT_NE(banner, nullptr);
  EXPECT_TRUE(banner->isVisible());
  EXPECT_EQ(banner->text(), expected);
  EXPECT_TRUE(window.documents().isEmpty());
  // A good trace afterwards clears the banner.
  window.openPaths({q(fixture("train.db"))});
  ASSERT_TRUE(waitLoaded(window, 1));
  EXPECT_FALSE(banner->isVisible());
}

TEST(MainWindow, ADirectoryOpensEveryTraceOfTheRun) {
  MainWindow window;
  const auto expected = analysis::expand_trace_paths({fixture("forked")});
  ASSERT_GE(expected.size(), 2u) << "the forked fixture has a parent and its children";
  window.openPaths({q(fixture("forked"))});
  ASSERT_TRUE(waitLoaded(window, int(expected.size())));
  ASSERT_EQ(size_t(window.documents().size()), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(window.documents()[qsizetype(i)]->path(), q(expected[i]));
  // The last one loaded is shown; picking another in the list shows it.
  auto* list = window.findChild<QListWidget*>("traceList");
  list->setCurrentRow(0);
  EXPECT_EQ(window.currentDocument(), window.documents()[0]);
}

TEST(MainWindow, DroppedFilesAreOpened) {
  MainWindow window;
  window.show();
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(q(fixture("train.db")))});
  // As a drag from a file manager arrives: enter (accepted), then drop.
  QDragEnterEvent enter(QPoint(100, 100), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&window, &enter);
  EXPECT_TRUE(enter.isAccepted());
  QDropEvent drop(QPointF(100, 100), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&window, &drop);
  ASSERT_TRUE(waitLoaded(window, 1));
  EXPECT_EQ(window.currentDocument()->path(), q(fixture("train.db")));
}

TEST(MainWindow, LinksOpenTheirPage) {
  MainWindow window;
  window.openPaths({q(fixture("train.db"))});
  ASSERT_TRUE(waitLoaded(window, 1));
  window.openLink(QUrl("memtide://compare"));
  ASSERT_NE(window.currentPage(), nullptr);
  EXPECT_EQ(window.currentPage()->key(), "compare");
  window.openLink(QUrl("memtide://summary"));
  EXPECT_EQ(window.currentPage()->key(), "summary");
  // A link that opens a trace (the Compare page's "Open a trace").
  window.openLink(pageLink("open", "path", q(fixture("checkpoint.db"))));
  ASSERT_TRUE(waitLoaded(window, 2));
  EXPECT_EQ(window.documents()[1]->path(), q(fixture("checkpoint.db")));
}

TEST(MainWindow, CancelStopsALoad) {
  MainWindow window;
  window.show();
  window.openPaths({q(fixture("train.db"))});
  auto* cancel = window.findChild<QPushButton*>("cancelLoad");
  ASSERT_NE(cancel, nullptr);
  ASSERT_TRUE(cancel->isVisible());
  QTest::mouseClick(cancel, Qt::LeftButton);
  EXPECT_FALSE(window.loading());
  EXPECT_FALSE(cancel->isVisible());
  QTest::qWait(500);
  EXPECT_TRUE(window.documents().isEmpty());
}

TEST(MainWindow, ExportsTheCurrentViewAsPngAndSvg) {
  MainWindow window;
  window.resize(1000, 700);
  window.show();
  window.openPaths({q(fixture("train.db"))});
  ASSERT_TRUE(waitLoaded(window, 1));
  QTemporaryDir dir;
  const QString png = dir.filePath("summary.png"), svg = dir.filePath("summary.svg");
  EXPECT_EQ(window.exportCurrentView(png), QString());
  EXPECT_EQ(window.exportCurrentView(svg), QString());
  QImage image(png);
  ASSERT_FALSE(image.isNull());
  EXPECT_EQ(image.size(), window.currentPage()->exportTarget()->size() *
                              window.currentPage()->devicePixelRatio());
  QFile file(svg);
  ASSERT_TRUE(file.open(QIODevice::ReadOnly));
  const QByteArray text = file.readAll();
  EXPECT_TRUE(text.contains("<svg"));
  EXPECT_TRUE(text.contains("memtide-gui view"));
  EXPECT_NE(window.exportCurrentView("/nonexistent/dir/x.png"), QString());
}

TEST(MainWindow, CopyPutsTheTableOnTheClipboard) {
  MainWindow window;
  window.show();
  window.activateWindow();
  ASSERT_TRUE(QTest::qWaitForWindowActive(&window));
  window.openPaths({q(fixture("train.db")), q(fixture("checkpoint.db"))});
  ASSERT_TRUE(waitLoaded(window, 2));
  window.showPage("compare");
  auto* view = window.findChild<QTableView*>("compareLayers");
  ASSERT_NE(view, nullptr);
  ASSERT_GT(view->model()->rowCount(), 0);
  const QStringList lines = tableText(view).split('\n', Qt::SkipEmptyParts);
  ASSERT_EQ(lines.size(), view->model()->rowCount() + 1);
  EXPECT_TRUE(lines[0].startsWith("Scope\tBase bytes\tNew bytes"));
  // Ctrl+C copies the selected rows only.
  QApplication::clipboard()->clear();
  view->selectRow(0);
  view->setFocus();
  QTest::keyClick(view, Qt::Key_C, Qt::ControlModifier);
  const QStringList copied = QApplication::clipboard()->text().split('\n', Qt::SkipEmptyParts);
  ASSERT_EQ(copied.size(), 2);
  EXPECT_EQ(copied[1].section('\t', 0, 0), view->model()->index(0, 0).data().toString());
}

// The path through the window: select a range on the timeline with
// the mouse, and the layers page shows only the blocks allocated in it,
// exactly as `memtide layers --from --to` counts them.
TEST(MainWindow, ARangeSelectedOnTheTimelineFiltersTheLayers) {
  MainWindow window;
  window.resize(1280, 800);
  window.show();
  window.openPaths({q(fixture("train.db"))});
  ASSERT_TRUE(waitLoaded(window, 1));
  window.showPage("timeline");
  auto* timeline = qobject_cast<TimelinePage*>(window.page("timeline"));
  ASSERT_NE(timeline, nullptr);
  ASSERT_TRUE(test::waitUntil([&] { return !timeline->busy(); }));
  TimelineWidget& chart = *timeline->chart();
  const int y = chart.height() / 3;
  const int left = int(chart.plotLeft() + chart.plotWidth() * 0.3);
  const int right = int(chart.plotLeft() + chart.plotWidth() * 0.6);
  QTest::mousePress(&chart, Qt::LeftButton, Qt::ShiftModifier, QPoint(left, y));
  QTest::mouseMove(&chart, QPoint((left + right) / 2, y));
  QTest::mouseMove(&chart, QPoint(right, y));
  QTest::mouseRelease(&chart, Qt::LeftButton, Qt::ShiftModifier, QPoint(right, y));
  const auto range = window.currentDocument()->timeRange();
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->start_ns, chart.axis().xToTime(left - chart.plotLeft()));
  EXPECT_EQ(range->end_ns, chart.axis().xToTime(right - chart.plotLeft()));

  window.showPage("layers");
  auto* layers = qobject_cast<LayersPage*>(window.page("layers"));
  ASSERT_NE(layers, nullptr);
  ASSERT_TRUE(test::waitUntil([&] { return !layers->busy(); }));
  const nlohmann::json cli =
      test::cliJson({"layers", "--json", "--from", std::to_string(range->start_ns), "--to",
                     std::to_string(range->end_ns), fixture("train.db")});
  uint64_t expected = cli["unscoped"]["allocations"].get<uint64_t>();
  for (const auto& scope : cli["scopes"])
    if (scope["depth"].get<int>() == 1) expected += scope["subtree"]["allocations"].get<uint64_t>();
  uint64_t shown = 0;
  const LayerModel& model = layers->model();
  for (int row = 0; row < model.rowCount(); ++row)
    shown +=
        model.index(row, LayerModel::kAllocations).data(LayerModel::kRawValueRole).toULongLong();
  EXPECT_GT(expected, 0u);
  EXPECT_EQ(shown, expected);
  EXPECT_LT(shown, window.currentDocument()->overview().index.allocations);
}

}  // namespace
}  // namespace memtide::gui
