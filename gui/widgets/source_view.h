// A read-only view of a source file with one line highlighted and scrolled
// into the middle (a frame's file:line), line numbers in the margin.
#pragma once

#include <QPlainTextEdit>

namespace memtide::gui {

class SourceView : public QPlainTextEdit {
  Q_OBJECT

 public:
  explicit SourceView(QWidget* parent = nullptr);

  // Loads `path` and shows `line` (1-based; 0 for none). Returns false, and
  // shows why, when the file cannot be read.
  bool showFile(const QString& path, int line);
  void clearFile();
  QString file() const { return file_; }
  int line() const { return line_; }
  // The line the cursor is on (1-based), the highlighted one after showFile.
  int currentLine() const { return textCursor().blockNumber() + 1; }

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  friend class SourceLineNumbers;
  int marginWidth() const;
  void paintMargin(QPaintEvent* event);

  QWidget* margin_;
  QString file_;
  int line_ = 0;
};

}  // namespace memtide::gui
