// `memtide-gui --screenshots DIR TRACE...`: opens the traces, shows each page
// in turn once it has settled, saves it as DIR/PAGE.png and quits. What
// scripts/screenshots.sh runs under Xvfb for the README's pictures.
#pragma once

#include <QString>

namespace memtide::gui {

class MainWindow;

// Takes over `window`: quits the application when done (exit status 0, or
// 1 with a message on stderr when a trace failed to load or a file could
// not be written).
void takeScreenshots(MainWindow& window, const QString& directory);

}  // namespace memtide::gui
