// One tab of memtide-gui's main window. A page shows the current trace (and,
// where it makes sense, every open trace), follows its selection, and opens
// other pages through memtide:// links: memtide://leaks?category=definite.
#pragma once

#include <QList>
#include <QUrl>
#include <QUrlQuery>
#include <QWidget>

namespace memtide::gui {

class TraceDocument;

class Page : public QWidget {
  Q_OBJECT

 public:
  explicit Page(QWidget* parent = nullptr) : QWidget(parent) {}

  virtual QString title() const = 0;  // the tab's text
  virtual QString key() const = 0;    // the host of links to this page ("leaks")
  // The open traces and the one the user is looking at (null when none).
  // Called whenever either changes; a page keeps no pointer to a document
  // that is no longer in `all`.
  virtual void setDocuments(const QList<TraceDocument*>& all, TraceDocument* current) = 0;
  // Shows what a link asks for (the link's query, e.g. category=definite).
  virtual void reveal(const QUrlQuery& query) { Q_UNUSED(query); }
  // What File > Export View renders.
  virtual QWidget* exportTarget() { return this; }
  // True while the page waits for a background job (screenshots and tests
  // wait for it to settle).
  virtual bool busy() const { return false; }

 signals:
  void linkActivated(const QUrl& link);
};

// memtide://PAGE?KEY=VALUE
QUrl pageLink(const QString& page, const QString& key = {}, const QString& value = {});

}  // namespace memtide::gui
