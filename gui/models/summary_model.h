// The summary page's content as a two-level model: sections (Run, Peak,
// Leaks, Gates, Top layers, Trace) and their items, each with a display
// value, the raw number behind it and the link to the page that explains it.
// The page renders it; the tests compare the raw numbers with the CLI's JSON.
#pragma once

#include <QAbstractItemModel>
#include <QUrl>
#include <QVariant>
#include <vector>

#include "core/trace_overview.h"

namespace memtide::gui {

class SummaryModel : public QAbstractItemModel {
  Q_OBJECT

 public:
  enum Column { kItem, kValue, kColumns };
  enum Role {
    kRawValueRole = Qt::UserRole + 1,  // the number behind the value (qulonglong), if any
    kLinkRole,                         // QUrl of the page that explains the item
    kKeyRole,                          // stable id: "peak.host", "leaks.definite.bytes"
  };

  explicit SummaryModel(QObject* parent = nullptr);

  void setOverview(std::shared_ptr<const TraceOverview> overview);
  // The item with this key, or an invalid index.
  QModelIndex findKey(const QString& key) const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  struct Item {
    QString key, label, value;
    QVariant raw;
    QUrl link;
    bool failed = false;  // a gate that failed, an unclean end: shown in red
  };
  struct Section {
    QString title;
    std::vector<Item> items;
  };
  const std::vector<Section>& sections() const { return sections_; }

 private:
  std::vector<Section> sections_;
};

// The sections for one overview (exposed for the page's HTML rendering).
std::vector<SummaryModel::Section> summarySections(const TraceOverview& overview);

}  // namespace memtide::gui
