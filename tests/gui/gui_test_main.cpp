// GoogleTest with a QApplication: Qt widgets, QSignalSpy and QTest need one.
// The tests run offscreen (CTest sets QT_QPA_PLATFORM=offscreen).
#include <gtest/gtest.h>

#include <QApplication>
#include <QDir>
#include <QFile>

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  // Recent files and other settings go to the build tree, not the user's home.
  qputenv("XDG_CONFIG_HOME", MEMTIDE_GUI_TEST_HOME "/config");
  qputenv("XDG_RUNTIME_DIR", MEMTIDE_GUI_TEST_HOME "/runtime");
  QDir().mkpath(MEMTIDE_GUI_TEST_HOME "/runtime");
  QFile::setPermissions(MEMTIDE_GUI_TEST_HOME "/runtime",
                        QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("memtide-tests"));
  QApplication::setApplicationName(QStringLiteral("memtide-gui-tests"));
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
