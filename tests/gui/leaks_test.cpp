// The Leaks page: its groups equal `memtide report --json` (category, bytes,
// blocks, scope, top frame), the models pass QAbstractItemModelTester in both
// groupings, clicking the planted leak shows its stack and source line, and
// "Suppress This" appends a rule that parses, matches the group and makes
// the CLI report it suppressed.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTreeView>

#include "core/trace_document.h"
#include "gui_test_support.h"
#include "memtide/analysis/suppressions.h"
#include "models/leak_frame_model.h"
#include "models/leak_model.h"
#include "pages/leaks_page.h"
#include "widgets/source_view.h"

namespace memtide::gui {
namespace {

using test::cliJson;
using test::fixture;

constexpr const char* kPlanted = "samples::plant_workspace_leak(unsigned long)";

TEST(LeakModel, PassesTheModelTesterInBothGroupingsAndEveryCategory) {
  LeakModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  QSortFilterProxyModel proxy;
  proxy.setSourceModel(&model);
  proxy.setSortRole(LeakModel::kSortRole);
  QAbstractItemModelTester proxy_tester(&proxy,
                                        QAbstractItemModelTester::FailureReportingMode::Fatal);
  model.setOverview(test::overview("train.db"));
  EXPECT_EQ(size_t(model.rowCount()), model.items().size());
  proxy.sort(LeakModel::kBytes, Qt::DescendingOrder);
  model.setGroupBy(LeakModel::GroupBy::kScope);
  for (const QString& category : leakCategories()) model.setCategory(category);
  model.setCategory(QStringLiteral("errors"));
  model.setCategory(QString());
  model.setSuppressions(analysis::Suppressions::parse("*:function:*", "all"));
  model.setGroupBy(LeakModel::GroupBy::kStack);
  model.setOverview(nullptr);
  EXPECT_EQ(model.rowCount(), 0);

  LeakFrameModel frames;
  QAbstractItemModelTester frame_tester(&frames,
                                        QAbstractItemModelTester::FailureReportingMode::Fatal);
  frames.setFrames(test::overview("train.db")->process()->leaks.front().frames);
  EXPECT_GT(frames.rowCount(), 2);
  frames.setFrames({});
}

TEST(LeakModel, GroupsEqualTheCliReport) {
  LeakModel model;
  model.setOverview(test::overview("train.db"));
  const nlohmann::json report = cliJson({"report", fixture("train.db"), "--json", "/dev/stdout"});
  const nlohmann::json& process = report["processes"][0];
  const size_t leaks = process["leaks"].size(), errors = process["errors"].size(),
               growth = process["growth"].size();
  ASSERT_GE(leaks, 1u);
  ASSERT_GE(growth, 1u);  // the planted leak grows by one block a step
  ASSERT_EQ(model.items().size(), leaks + errors + growth);
  ASSERT_EQ(model.rowCount(), int(model.items().size()));
  for (size_t i = 0; i < leaks; ++i) {
    const nlohmann::json& g = process["leaks"][i];
    const QModelIndex row = model.index(int(i), 0);
    const LeakItem* item = model.itemAt(row);
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(item->category.toStdString(), g["category"].get<std::string>());
    EXPECT_EQ(row.siblingAtColumn(LeakModel::kBytes).data(LeakModel::kRawValueRole).toULongLong(),
              g["bytes"].get<uint64_t>());
    EXPECT_EQ(row.siblingAtColumn(LeakModel::kBlocks).data(LeakModel::kRawValueRole).toULongLong(),
              g["blocks"].get<uint64_t>());
    EXPECT_EQ(item->scope.toStdString(), g["scope"].get<std::string>());
    EXPECT_EQ(item->device.toStdString(), g["device"].get<std::string>());
    EXPECT_EQ(item->suppressed, g["suppressed"].get<bool>());
    ASSERT_EQ(item->frames.size(), g["frames"].size());
    EXPECT_EQ(item->frames.front().function, g["frames"][0]["function"].get<std::string>());
    EXPECT_EQ(item->frames.front().line, g["frames"][0]["line"].get<int>());
  }
  // The planted leak: definite, 12 blocks of 64 KiB, named by its function.
  const LeakItem& planted = model.items().front();
  EXPECT_EQ(planted.category, QStringLiteral("definite"));
  EXPECT_EQ(planted.blocks, 12u);
  EXPECT_EQ(planted.bytes, 12u * 65536u);
  EXPECT_EQ(model.index(0, LeakModel::kTopFrame).data().toString(), QString(kPlanted));
  for (size_t i = 0; i < growth; ++i) {
    const nlohmann::json& g = process["growth"][i];
    const QModelIndex row = model.index(int(leaks + errors + i), 0);
    EXPECT_EQ(model.itemAt(row)->category, QStringLiteral("growth"));
    EXPECT_EQ(row.siblingAtColumn(LeakModel::kPerStep).data(LeakModel::kRawValueRole).toULongLong(),
              g["bytes_per_step"].get<uint64_t>());
    EXPECT_EQ(row.siblingAtColumn(LeakModel::kSteps).data(LeakModel::kRawValueRole).toULongLong(),
              g["steps"].get<uint64_t>());
    EXPECT_EQ(row.siblingAtColumn(LeakModel::kBytes).data(LeakModel::kRawValueRole).toULongLong(),
              g["live_bytes"].get<uint64_t>());
    EXPECT_EQ(model.itemAt(row)->frames.front().function,
              g["frames"][0]["function"].get<std::string>());
  }

  // By scope: one row per category and scope, its groups' sums.
  model.setGroupBy(LeakModel::GroupBy::kScope);
  model.setCategory(QStringLiteral("leaks"));
  std::map<std::pair<std::string, std::string>, uint64_t> bytes;
  for (const auto& g : process["leaks"])
    bytes[{g["category"].get<std::string>(), g["scope"].get<std::string>()}] +=
        g["bytes"].get<uint64_t>();
  ASSERT_EQ(size_t(model.rowCount()), bytes.size());
  for (int row = 0; row < model.rowCount(); ++row) {
    const QModelIndex index = model.index(row, 0);
    const std::string category = index.data(LeakModel::kRawValueRole).toString().toStdString();
    const std::string scope =
        index.siblingAtColumn(LeakModel::kScope).data().toString().toStdString();
    const auto key = std::make_pair(category, scope == "(no scope)" ? std::string() : scope);
    EXPECT_EQ(index.siblingAtColumn(LeakModel::kBytes).data(LeakModel::kRawValueRole).toULongLong(),
              bytes[key]);
    EXPECT_GE(model.rowCount(index), 1);
  }
}

// The page on train.db, shown, the definite category clicked.
struct LeaksPageOnTrain {
  TraceDocument document{test::overview("train.db")};
  LeaksPage page;
  LeaksPageOnTrain() {
    page.resize(1200, 900);
    page.show();
    page.setDocuments({&document}, &document);
  }
  void clickCategory(const QString& category) {
    QListWidget* list = page.categoryList();
    for (int i = 0; i < list->count(); ++i)
      if (list->item(i)->data(Qt::UserRole + 1).toString() == category) {
        QTest::mouseClick(list->viewport(), Qt::LeftButton, {},
                          list->visualItemRect(list->item(i)).center());
        return;
      }
    ADD_FAILURE() << "no category " << category.toStdString();
  }
  void clickGroup(int row) {
    QTreeView* view = page.groupView();
    const QRect rect = view->visualRect(view->model()->index(row, LeakModel::kBytes));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
  }
};

TEST(LeaksPage, ClickingThePlantedLeakShowsItsStackAndSource) {
  LeaksPageOnTrain on;
  on.clickCategory(QStringLiteral("definite"));
  EXPECT_EQ(on.page.category(), QStringLiteral("definite"));
  ASSERT_GE(on.page.proxy()->rowCount(), 1);
  for (int row = 0; row < on.page.proxy()->rowCount(); ++row)
    EXPECT_EQ(on.page.proxy()->index(row, 0).data(LeakModel::kRawValueRole).toString(),
              QStringLiteral("definite"));
  on.clickGroup(0);
  const LeakFrameModel& frames = on.page.frameModel();
  ASSERT_GT(frames.rowCount(), 0);
  const int planted = frames.identifyingRow();
  ASSERT_GE(planted, 0);
  EXPECT_EQ(frames.frames()[size_t(planted)].function, kPlanted);
  EXPECT_EQ(frames.index(planted, LeakFrameModel::kFunction).data().toString(), QString(kPlanted));
  const QString location = frames.index(planted, LeakFrameModel::kLocation).data().toString();
  EXPECT_TRUE(
      location.endsWith(QStringLiteral("leaks.cpp:%1").arg(frames.frames()[size_t(planted)].line)))
      << location.toStdString();

  // The planted frame is selected and its file, on disk in the source tree, is shown at the line.
  const QString file = QString::fromStdString(frames.frames()[size_t(planted)].file);
  ASSERT_TRUE(QFileInfo(file).isFile()) << file.toStdString();
  EXPECT_EQ(on.page.sourceView()->file(), file);
  const int line = frames.frames()[size_t(planted)].line;
  EXPECT_EQ(on.page.sourceView()->currentLine(), line);
  QFile source(file);
  ASSERT_TRUE(source.open(QIODevice::ReadOnly));
  const QStringList lines = QString::fromUtf8(source.readAll()).split('\n');
  EXPECT_EQ(on.page.sourceView()->textCursor().block().text(), lines[line - 1]);
  EXPECT_TRUE(lines[line - 1].contains(QStringLiteral("malloc"))) << lines[line - 1].toStdString();

  // Double-clicking another frame with a file shows that one.
  for (int row = 0; row < frames.rowCount(); ++row) {
    if (row == planted || !frames.index(row, 0).data(LeakFrameModel::kFileExistsRole).toBool())
      continue;
    QTableView* view = on.page.frameView();
    const QRect rect = view->visualRect(frames.index(row, LeakFrameModel::kLocation));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, rect.center());
    EXPECT_EQ(on.page.sourceView()->file().toStdString(), frames.frames()[size_t(row)].file);
    EXPECT_EQ(on.page.sourceView()->currentLine(), frames.frames()[size_t(row)].line);
    break;
  }
}

TEST(LeaksPage, SuppressAppendsARuleThatMatchesTheGroup) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const QString path = dir.filePath(QStringLiteral("team.supp"));
  {
    // Someone else's rule, without a final newline: kept, and ours goes on a line of its own.
    QFile file(path);
    ASSERT_TRUE(file.open(QIODevice::WriteOnly));
    file.write("# known\nreachable:module:*libc.so*");
  }
  LeaksPageOnTrain on;
  EXPECT_EQ(on.page.suppressionsFile(), QFileInfo(QString::fromStdString(fixture("train.db")))
                                            .absoluteDir()
                                            .filePath(QStringLiteral("memtide.supp")));
  on.page.setSuppressionsFile(path);
  on.clickCategory(QStringLiteral("definite"));
  on.clickGroup(0);
  const LeakItem planted =
      *on.page.model().itemAt(on.page.proxy()->mapToSource(on.page.groupView()->currentIndex()));
  EXPECT_FALSE(planted.suppressed);
  QTest::mouseClick(on.page.suppressButton(), Qt::LeftButton);

  const std::string rule = std::string("definite:function:") + kPlanted;
  QFile file(path);
  ASSERT_TRUE(file.open(QIODevice::ReadOnly));
  EXPECT_EQ(file.readAll().toStdString(), "# known\nreachable:module:*libc.so*\n" + rule + "\n");
  const analysis::Suppressions rules = analysis::Suppressions::load(path.toStdString());
  ASSERT_EQ(rules.rules().size(), 2u);
  EXPECT_TRUE(rules.matches("definite", planted.frames));
  EXPECT_TRUE(on.page.statusLabel()->text().contains(QString::fromStdString(rule)));

  // The group shows as suppressed, and is still the one selected.
  const QModelIndex current = on.page.groupView()->currentIndex();
  ASSERT_TRUE(current.isValid());
  EXPECT_TRUE(current.data(LeakModel::kSuppressedRole).toBool());
  EXPECT_TRUE(
      current.siblingAtColumn(LeakModel::kCategory).data().toString().contains("suppressed"));
  // The CLI reading the same file says the same.
  const nlohmann::json report = cliJson({"report", fixture("train.db"), "--suppressions",
                                         path.toStdString(), "--json", "/dev/stdout"});
  const auto& first = report["processes"][0]["leaks"][0];
  EXPECT_EQ(first["frames"][0]["function"].get<std::string>(), kPlanted);
  EXPECT_TRUE(first["suppressed"].get<bool>());
}

TEST(LeaksPage, LinksSelectCategories) {
  LeaksPageOnTrain on;
  QUrlQuery query;
  query.addQueryItem(QStringLiteral("category"), QStringLiteral("growth"));
  on.page.reveal(query);
  EXPECT_EQ(on.page.category(), QStringLiteral("growth"));
  ASSERT_GE(on.page.proxy()->rowCount(), 1);
  EXPECT_EQ(
      on.page.model().itemAt(on.page.proxy()->mapToSource(on.page.proxy()->index(0, 0)))->kind,
      LeakItem::Kind::kGrowth);
  query.clear();
  query.addQueryItem(QStringLiteral("category"), QStringLiteral("errors"));
  on.page.reveal(query);
  EXPECT_EQ(on.page.category(), QStringLiteral("errors"));
  EXPECT_EQ(on.page.proxy()->rowCount(), int(test::overview("train.db")->process()->errors.size()));
  query.clear();
  query.addQueryItem(QStringLiteral("category"), QStringLiteral("definite"));
  on.page.reveal(query);
  EXPECT_EQ(on.page.categoryList()->currentItem()->data(Qt::UserRole + 1).toString(),
            QStringLiteral("definite"));
}

}  // namespace
}  // namespace memtide::gui
