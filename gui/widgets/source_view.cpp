#include "widgets/source_view.h"

#include <QFile>
#include <QFontDatabase>
#include <QPainter>
#include <QTextBlock>

namespace memtide::gui {

class SourceLineNumbers : public QWidget {
 public:
  explicit SourceLineNumbers(SourceView* view) : QWidget(view), view_(view) {}
  QSize sizeHint() const override { return {view_->marginWidth(), 0}; }

 protected:
  void paintEvent(QPaintEvent* event) override { view_->paintMargin(event); }

 private:
  SourceView* view_;
};

SourceView::SourceView(QWidget* parent)
    : QPlainTextEdit(parent), margin_(new SourceLineNumbers(this)) {
  setReadOnly(true);
  setLineWrapMode(QPlainTextEdit::NoWrap);
  setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
  connect(this, &QPlainTextEdit::blockCountChanged, this,
          [this] { setViewportMargins(marginWidth(), 0, 0, 0); });
  connect(this, &QPlainTextEdit::updateRequest, this, [this](const QRect& rect, int dy) {
    if (dy)
      margin_->scroll(0, dy);
    else
      margin_->update(0, rect.y(), margin_->width(), rect.height());
  });
  setViewportMargins(marginWidth(), 0, 0, 0);
}

int SourceView::marginWidth() const {
  const int digits = QString::number(std::max(1, blockCount())).size();
  return 12 + fontMetrics().horizontalAdvance(QLatin1Char('9')) * digits;
}

void SourceView::resizeEvent(QResizeEvent* event) {
  QPlainTextEdit::resizeEvent(event);
  const QRect area = contentsRect();
  margin_->setGeometry(QRect(area.left(), area.top(), marginWidth(), area.height()));
}

void SourceView::paintMargin(QPaintEvent* event) {
  QPainter painter(margin_);
  painter.fillRect(event->rect(), palette().color(QPalette::AlternateBase));
  QTextBlock block = firstVisibleBlock();
  int top = int(blockBoundingGeometry(block).translated(contentOffset()).top());
  while (block.isValid() && top <= event->rect().bottom()) {
    const int bottom = top + int(blockBoundingRect(block).height());
    const int number = block.blockNumber() + 1;
    QFont font = this->font();
    font.setBold(number == line_);
    painter.setFont(font);
    painter.setPen(palette().color(number == line_ ? QPalette::Text : QPalette::PlaceholderText));
    painter.drawText(0, top, margin_->width() - 6, bottom - top, Qt::AlignRight,
                     QString::number(number));
    block = block.next();
    top = bottom;
  }
}

bool SourceView::showFile(const QString& path, int line) {
  QFile in(path);
  if (!in.open(QIODevice::ReadOnly)) {
    clearFile();
    setPlainText(tr("Cannot read %1: %2").arg(path, in.errorString()));
    return false;
  }
  file_ = path;
  line_ = line;
  setPlainText(QString::fromUtf8(in.readAll()));
  QList<QTextEdit::ExtraSelection> marks;
  const QTextBlock block = document()->findBlockByNumber(line - 1);
  if (line > 0 && block.isValid()) {
    QTextCursor cursor(block);
    setTextCursor(cursor);
    QTextEdit::ExtraSelection mark;
    mark.format.setBackground(QColor(255, 230, 130));
    mark.format.setProperty(QTextFormat::FullWidthSelection, true);
    mark.cursor = cursor;
    marks << mark;
    centerCursor();
  }
  setExtraSelections(marks);
  return true;
}

void SourceView::clearFile() {
  file_.clear();
  line_ = 0;
  setExtraSelections({});
  clear();
}

}  // namespace memtide::gui
