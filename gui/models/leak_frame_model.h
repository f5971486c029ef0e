// The frames of the selected leak group's stack, innermost first: function,
// source location, module, and whether the frame was inlined into the next.
#pragma once

#include <QAbstractTableModel>
#include <vector>

#include "memtide/analysis/report_data.h"

namespace memtide::gui {

class LeakFrameModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kNumber, kFunction, kLocation, kModule, kColumns };
  enum Role {
    kFileRole = Qt::UserRole + 1,  // the source file's path; empty when unknown
    kLineRole,                     // int; 0 when unknown
    kFileExistsRole,               // bool: the file is on this machine's disk
  };

  explicit LeakFrameModel(QObject* parent = nullptr);

  void setFrames(std::vector<analysis::ReportFrame> frames);
  const std::vector<analysis::ReportFrame>& frames() const { return frames_; }
  // The program's innermost frame (what a suppression rule names), or -1.
  int identifyingRow() const { return identifying_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<analysis::ReportFrame> frames_;
  std::vector<bool> exists_;
  int identifying_ = -1;
};

}  // namespace memtide::gui
