#include "gui_test_support.h"

#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QProcess>
#include <map>

#include "core/trace_loader.h"

namespace memtide::gui::test {

std::string fixture(const std::string& name) {
  return std::string(MEMTIDE_GUI_FIXTURES) + "/" + name;
}

int runCli(const std::vector<std::string>& args) {
  QStringList list;
  for (const std::string& a : args) list << QString::fromStdString(a);
  QProcess process;
  process.start(QStringLiteral(MEMTIDE_CLI), list);
  EXPECT_TRUE(process.waitForFinished(120000));
  return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
}

nlohmann::json cliJson(const std::vector<std::string>& args) {
  const QString cli = QStringLiteral(MEMTIDE_CLI);
  QStringList list;
  for (const std::string& a : args) list << QString::fromStdString(a);
  QProcess process;
  process.start(cli, list);
  EXPECT_TRUE(process.waitForFinished(120000));
  const QByteArray out = process.readAllStandardOutput();
  try {
    return nlohmann::json::parse(out.toStdString());
  } catch (const std::exception& error) {
    ADD_FAILURE() << "memtide " << list.join(' ').toStdString() << ": " << error.what() << "\n"
                  << process.readAllStandardError().toStdString();
    return {};
  }
}

bool waitUntil(const std::function<bool()>& done, int ms) {
  QDeadlineTimer deadline(ms);
  while (!done()) {
    if (deadline.hasExpired()) return false;
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
  }
  return true;
}

std::shared_ptr<const TraceOverview> overview(const std::string& name) {
  static std::map<std::string, std::shared_ptr<const TraceOverview>> cache;
  auto& slot = cache[name];
  if (!slot) {
    analysis::ScanControl control;
    slot = std::make_shared<const TraceOverview>(
        TraceLoader::loadNow(fixture(name), LoadOptions{}, control));
  }
  return slot;
}

}  // namespace memtide::gui::test
