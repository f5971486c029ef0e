#include "core/recent_files.h"

#include <QFileInfo>
#include <QSettings>

namespace memtide::gui {
namespace {
constexpr int kMaxRecent = 10;
const char* const kKey = "recentFiles";
}  // namespace

QStringList recentFiles() {
  QStringList kept;
  for (const QString& path : QSettings().value(kKey).toStringList())
    if (QFileInfo::exists(path)) kept << path;
  return kept;
}

void addRecentFile(const QString& path) {
  const QString absolute = QFileInfo(path).absoluteFilePath();
  QStringList list = QSettings().value(kKey).toStringList();
  list.removeAll(absolute);
  list.prepend(absolute);
  while (list.size() > kMaxRecent) list.removeLast();
  QSettings().setValue(kKey, list);
}

void clearRecentFiles() {
  QSettings().remove(kKey);
}

}  // namespace memtide::gui
