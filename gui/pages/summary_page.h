// The first page: what the run was, its peaks, its leaks by category, the
// gate verdicts and the top layers, each item a link to the page that
// explains it.
#pragma once

#include "models/summary_model.h"
#include "pages/page.h"

class QTextBrowser;

namespace memtide::gui {

class SummaryPage : public Page {
  Q_OBJECT

 public:
  explicit SummaryPage(QWidget* parent = nullptr);

  QString title() const override { return tr("Summary"); }
  QString key() const override { return QStringLiteral("summary"); }
  void setDocuments(const QList<TraceDocument*>& all, TraceDocument* current) override;

  const SummaryModel& model() const { return model_; }
  QTextBrowser* browser() const { return browser_; }

 private:
  void render(const QList<TraceDocument*>& all, TraceDocument* current);

  SummaryModel model_;
  QTextBrowser* browser_;
};

}  // namespace memtide::gui
