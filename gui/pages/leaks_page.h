// The Leaks page: the report's leak groups by category (definite, indirect,
// possible, reachable, not-freed, gpu), its mismatched and unknown frees and
// its growth across steps, grouped by stack or by scope. The selected
// group's frames, with their source locations; a frame whose file is on
// disk opens in a read-only source view at its line (or in an external
// editor). "Suppress" appends a rule for the group to a suppressions file
// (default memtide.supp beside the trace) and marks what it suppresses.
// Links: memtide://leaks?category=definite|errors|growth|...
#pragma once

#include <QPointer>

#include "models/leak_frame_model.h"
#include "models/leak_model.h"
#include "pages/page.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QTreeView;

namespace memtide::gui {

class SourceView;

class LeaksPage : public Page {
  Q_OBJECT

 public:
  explicit LeaksPage(QWidget* parent = nullptr);

  QString title() const override { return tr("Leaks"); }
  QString key() const override { return QStringLiteral("leaks"); }
  void setDocuments(const QList<TraceDocument*>& all, TraceDocument* current) override;
  void reveal(const QUrlQuery& query) override;

  // "" for all, a category of leakCategories(), "errors" or "leaks".
  void setCategory(const QString& category);
  QString category() const { return model_.category(); }
  void setGroupBy(LeakModel::GroupBy group_by);

  QString suppressionsFile() const;
  void setSuppressionsFile(const QString& path);
  // Appends the rule for the selected group; returns the rule written, or
  // an empty string (and shows why) when none could be.
  QString suppressSelected();

  const LeakModel& model() const { return model_; }
  const LeakFrameModel& frameModel() const { return frames_; }
  QTreeView* groupView() const { return groups_view_; }
  QTableView* frameView() const { return frames_view_; }
  QListWidget* categoryList() const { return categories_; }
  QSortFilterProxyModel* proxy() const { return proxy_; }
  SourceView* sourceView() const { return source_; }
  QPushButton* suppressButton() const { return suppress_; }
  QLabel* statusLabel() const { return status_; }

  // Shows frame `row` of the selected group in the source view; false when
  // its file is not on disk.
  bool showFrameSource(int row);

 private:
  void fillCategories();
  void groupSelected();
  void loadSuppressions();

  QPointer<TraceDocument> document_;
  LeakModel model_;
  LeakFrameModel frames_;
  QListWidget* categories_;
  QComboBox* group_by_;
  QSortFilterProxyModel* proxy_;
  QTreeView* groups_view_;
  QLabel* details_;
  QTableView* frames_view_;
  SourceView* source_;
  QLabel* source_title_;
  QPushButton* open_external_;
  QLineEdit* supp_file_;
  QPushButton* browse_;
  QPushButton* suppress_;
  QLabel* status_;
};

}  // namespace memtide::gui
