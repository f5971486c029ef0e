#include "pages/summary_page.h"

#include <QTextBrowser>
#include <QVBoxLayout>

#include "core/trace_document.h"

namespace memtide::gui {

SummaryPage::SummaryPage(QWidget* parent) : Page(parent), browser_(new QTextBrowser(this)) {
  browser_->setOpenLinks(false);
  browser_->setObjectName(QStringLiteral("summaryBrowser"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(browser_);
  connect(browser_, &QTextBrowser::anchorClicked, this, &Page::linkActivated);
  render({}, nullptr);
}

void SummaryPage::setDocuments(const QList<TraceDocument*>& all, TraceDocument* current) {
  model_.setOverview(current ? current->sharedOverview() : nullptr);
  render(all, current);
}

void SummaryPage::render(const QList<TraceDocument*>& all, TraceDocument* current) {
  if (!current) {
    browser_->setHtml(
        tr("<h2>No trace open</h2><p>Open a trace with File &gt; Open, or drop "
           "one here. Record one with <code>memtide run -o run.db -- "
           "./train</code>.</p>"));
    return;
  }
  QString html = QStringLiteral("<h2>%1</h2>").arg(current->displayName().toHtmlEscaped());
  for (const SummaryModel::Section& section : model_.sections()) {
    html += QStringLiteral("<h3>%1</h3><table cellspacing='0' cellpadding='3'>")
                .arg(section.title.toHtmlEscaped());
    for (const SummaryModel::Item& item : section.items) {
      QString value = item.value.toHtmlEscaped();
      if (item.failed) value = QStringLiteral("<span style='color:#b00020'>%1</span>").arg(value);
      if (item.link.isValid())
        value = QStringLiteral("<a href='%1'>%2</a>")
                    .arg(item.link.toString(QUrl::FullyEncoded).toHtmlEscaped(), value);
      html += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>")
                  .arg(item.label.toHtmlEscaped(), value);
    }
    html += QStringLiteral("</table>");
  }
  if (all.size() > 1) {
    html += tr("<h3>Other traces open</h3><ul>");
    for (TraceDocument* other : all)
      if (other != current)
        html += QStringLiteral("<li><a href='%1'>%2</a></li>")
                    .arg(pageLink("trace", "path", other->path())
                             .toString(QUrl::FullyEncoded)
                             .toHtmlEscaped(),
                         other->displayName().toHtmlEscaped());
    html += QStringLiteral("</ul>");
  }
  browser_->setHtml(html);
}

}  // namespace memtide::gui
