// `memtide gui` starts memtide-gui from beside itself with the same
// arguments, and says clearly when there is none.
#include <gtest/gtest.h>

#include <QProcess>
#include <QProcessEnvironment>

#include "gui_test_support.h"

namespace memtide::gui {
namespace {

void runMemtide(QProcess& process, const QStringList& args,
                const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
  QProcessEnvironment offscreen = env;
  offscreen.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
  process.setProcessEnvironment(offscreen);
  process.start(QStringLiteral(MEMTIDE_CLI), args);
  EXPECT_TRUE(process.waitForFinished(60000));
}

TEST(GuiCommand, StartsMemtideGuiWithTheSameArguments) {
  QProcess process;
  runMemtide(process, {QStringLiteral("gui"), QStringLiteral("--version")});
  EXPECT_EQ(process.exitCode(), 0) << process.readAllStandardError().toStdString();
  EXPECT_EQ(QString::fromUtf8(process.readAllStandardOutput()).trimmed(),
            QStringLiteral("memtide-gui " MEMTIDE_GUI_TEST_VERSION));
}

TEST(GuiCommand, AWrongFlagIsAUsageError) {
  QProcess process;
  runMemtide(process, {QStringLiteral("gui"), QStringLiteral("--no-such-flag")});
  EXPECT_EQ(process.exitCode(), 2);
  EXPECT_TRUE(process.readAllStandardError().contains("Unknown option 'no-such-flag'"));
}

TEST(GuiCommand, NoGuiBuiltIsAClearError) {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("MEMTIDE_GUI"), QStringLiteral("/nonexistent/memtide-gui"));
  QProcess process;
  runMemtide(process, {QStringLiteral("gui"), QString::fromStdString(test::fixture("train.db"))},
             env);
  EXPECT_EQ(process.exitCode(), 2);
  EXPECT_TRUE(
      process.readAllStandardError().startsWith("memtide gui: /nonexistent/memtide-gui not found"));
}

}  // namespace
}  // namespace memtide::gui
