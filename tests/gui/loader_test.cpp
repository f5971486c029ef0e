// The loader on real traces: its signals in order, cancel, and the clear
// errors for files that are not traces.
#include <gtest/gtest.h>

#include <QSignalSpy>

#include "core/trace_loader.h"
#include "gui_test_support.h"

namespace memtide::gui {
namespace {

using test::fixture;

TEST(TraceLoader, LoadsARealTraceWithProgressThenLoaded) {
  TraceLoader loader;
  QSignalSpy progress(&loader, &TraceLoader::progress);
  QSignalSpy loaded(&loader, &TraceLoader::loaded);
  QSignalSpy failed(&loader, &TraceLoader::failed);
  loader.load(QString::fromStdString(fixture("train.db")));
  EXPECT_TRUE(loader.loading());
  ASSERT_TRUE(loaded.wait(60000));
  EXPECT_EQ(failed.count(), 0);
  EXPECT_FALSE(loader.loading());
  ASSERT_GE(progress.count(), 2);
  EXPECT_EQ(progress.first().at(0).toInt(), 0);
  EXPECT_EQ(progress.last().at(0).toInt(), 100);
  int last = 0;
  for (const QList<QVariant>& signal : progress) {
    EXPECT_GE(signal.at(0).toInt(), last) << "progress went backwards";
    last = signal.at(0).toInt();
  }
  auto overview = loaded.first().at(0).value<std::shared_ptr<const TraceOverview>>();
  ASSERT_TRUE(overview);
  EXPECT_EQ(overview->path, fixture("train.db"));
  EXPECT_TRUE(overview->index_error.empty()) << overview->index_error;
  EXPECT_GT(overview->index.allocations, 0u);
  ASSERT_NE(overview->process(), nullptr);
  EXPECT_EQ(overview->summary.steps, 12u);
}

TEST(TraceLoader, NotATraceFailsWithTheAnalysisLibrarysMessage) {
  TraceLoader loader;
  QSignalSpy loaded(&loader, &TraceLoader::loaded);
  QSignalSpy failed(&loader, &TraceLoader::failed);
  const QString path = QString::fromStdString(fixture("not-a-trace.db"));
  loader.load(path);
  ASSERT_TRUE(failed.wait(30000));
  EXPECT_EQ(loaded.count(), 0);
  EXPECT_EQ(failed.first().at(0).toString(), path);
  EXPECT_EQ(failed.first().at(1).toString(),
            path + ": not an SQLite database, so not a memtide trace");
}

TEST(TraceLoader, MissingFileFails) {
  TraceLoader loader;
  QSignalSpy failed(&loader, &TraceLoader::failed);
  loader.load(QStringLiteral("/nonexistent/run.db"));
  ASSERT_TRUE(failed.wait(30000));
  EXPECT_EQ(failed.first().at(1).toString(), QStringLiteral("/nonexistent/run.db: no such file"));
}

TEST(TraceLoader, CancelStopsTheLoadAndDropsItsResult) {
  TraceLoader loader;
  QSignalSpy loaded(&loader, &TraceLoader::loaded);
  QSignalSpy cancelled(&loader, &TraceLoader::cancelled);
  loader.load(QString::fromStdString(fixture("train.db")));
  loader.cancel();
  EXPECT_EQ(cancelled.count(), 1);
  EXPECT_FALSE(loader.loading());
  // Whatever the worker had done, nothing is delivered.
  EXPECT_FALSE(loaded.wait(1500));
  // The loader is usable again.
  loader.load(QString::fromStdString(fixture("train.db")));
  ASSERT_TRUE(loaded.wait(60000));
  EXPECT_EQ(loaded.count(), 1);
}

TEST(TraceLoader, ACancelledScanStopsWithinAPage) {
  analysis::ScanControl control;
  control.cancelled = true;
  EXPECT_THROW(TraceLoader::loadNow(fixture("train.db"), {}, control), analysis::ScanCancelled);
}

}  // namespace
}  // namespace memtide::gui
