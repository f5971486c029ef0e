#include "app/screenshots.h"

#include <QApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QTimer>
#include <QUrlQuery>
#include <cstdio>

#include "app/main_window.h"
#include "core/trace_document.h"
#include "pages/page.h"

namespace memtide::gui {
namespace {

// Runs the event loop until `done` holds or `ms` pass.
bool settle(const std::function<bool()>& done, int ms) {
  QDeadlineTimer deadline(ms);
  while (!done()) {
    if (deadline.hasExpired()) return false;
    QApplication::processEvents(QEventLoop::AllEvents, 50);
  }
  return true;
}

}  // namespace

void takeScreenshots(MainWindow& window, const QString& directory) {
  QTimer::singleShot(0, &window, [&window, directory] {
    int status = 0;
    if (!settle([&] { return !window.loading(); }, 120000) || window.documents().isEmpty()) {
      std::fprintf(stderr, "memtide-gui: no trace loaded: %s\n", qPrintable(window.lastError()));
      QApplication::exit(1);
      return;
    }
    QDir().mkpath(directory);
    // The pages show the first trace; Compare sets it against the second.
    window.setCurrentDocument(window.documents().front());
    const QStringList keys = {QStringLiteral("summary"),  QStringLiteral("timeline"),
                              QStringLiteral("layers"),   QStringLiteral("leaks"),
                              QStringLiteral("calltree"), QStringLiteral("fragmentation"),
                              QStringLiteral("compare")};
    for (const QString& key : keys) {
      Page* page = window.page(key);
      if (!page) continue;
      window.showPage(key);
      if (key == QLatin1String("compare") && window.documents().size() > 1) {
        QUrlQuery pair;
        pair.addQueryItem(QStringLiteral("base"), window.documents()[0]->path());
        pair.addQueryItem(QStringLiteral("new"), window.documents()[1]->path());
        QUrl link(QStringLiteral("memtide://compare"));
        link.setQuery(pair);
        window.openLink(link);
      }
      // Let the page start its jobs, then wait for them.
      settle([] { return false; }, 300);
      if (!settle([page] { return !page->busy(); }, 60000))
        std::fprintf(stderr, "memtide-gui: %s still busy, shot as is\n", qPrintable(key));
      const QString file = QDir(directory).filePath(key + QStringLiteral(".png"));
      if (!window.grab().save(file, "PNG")) {
        std::fprintf(stderr, "memtide-gui: cannot write %s\n", qPrintable(file));
        status = 1;
      } else {
        std::printf("%s\n", qPrintable(file));
      }
    }
    QApplication::exit(status);
  });
}

}  // namespace memtide::gui
