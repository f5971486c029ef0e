// The File > Open Recent list, kept in QSettings (most recent first, at
// most ten, files that no longer exist dropped when read).
#pragma once

#include <QStringList>

namespace memtide::gui {

QStringList recentFiles();
void addRecentFile(const QString& path);
void clearRecentFiles();

}  // namespace memtide::gui
