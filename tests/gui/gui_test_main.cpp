// GoogleTest with a QApplication: Qt widgets, QSignalSpy and QTest need one.
// The tests run offscreen (CTest sets QT_QPA_PLATFORM=offscreen).
#include <gtest/gtest.h>

#include <unistd.h>

#include <QApplication>
#include <QDir>
#include <QFile>

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  // Recent files and other settings go to the build tree, not the user's home.
  // One directory per process: ctest runs tests side by side, and each
  // checks its own recent-files list.
  qputenv("XDG_CONFIG_HOME",
          QByteArray(MEMTIDE_GUI_TEST_HOME "/config-") + QByteArray::number(getpid()));
  qputenv("XDG_RUNTIME_DIR", MEMTIDE_GUI_TEST_HOME "/runtime");
  QDir().mkpath(MEMTIDE_GUI_TEST_HOME "/runtime");
  QFile::setPermissions(MEMTIDE_GUI_TEST_HOME "/runtime",
                        QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("memtide-tests"));
  QApplication::setApplicationName(QStringLiteral("memtide-gui-tests"));
  testing::InitGoogleTest(&argc, argv);
  const int status = RUN_ALL_TESTS();
  QDir(QString::fromLocal8Bit(qgetenv("XDG_CONFIG_HOME"))).removeRecursively();
  return status;
}
