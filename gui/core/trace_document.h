// One open trace in memtide-gui: its loaded overview and what the user has
// selected in it (a time range, a scope, a moment). Pages read the overview
// and follow the selection through the signals: selecting a range on the
// timeline filters every other page.
#pragma once

#include <QObject>
#include <QString>
#include <memory>
#include <optional>

#include "core/trace_overview.h"

namespace memtide::gui {

// A half-open range of absolute trace time (the agent's monotonic ns).
struct TimeRange {
  uint64_t start_ns = 0, end_ns = 0;
  bool contains(uint64_t t) const { return t >= start_ns && t < end_ns; }
  uint64_t length() const { return end_ns > start_ns ? end_ns - start_ns : 0; }
  bool operator==(const TimeRange&) const = default;
};

class TraceDocument : public QObject {
  Q_OBJECT

 public:
  TraceDocument(std::shared_ptr<const TraceOverview> overview, QObject* parent = nullptr);

  QString path() const { return QString::fromStdString(overview_->path); }
  // "pid 1234: ./train --steps 20", for lists and titles.
  QString displayName() const;
  const TraceOverview& overview() const { return *overview_; }
  std::shared_ptr<const TraceOverview> sharedOverview() const { return overview_; }

  std::optional<TimeRange> timeRange() const { return range_; }
  QString scope() const { return scope_; }  // scope path; empty for all
  std::optional<uint64_t> focusTime() const { return focus_; }

 public slots:
  void setTimeRange(std::optional<memtide::gui::TimeRange> range);
  void clearTimeRange() { setTimeRange(std::nullopt); }
  void setScope(const QString& scope_path);
  void setFocusTime(std::optional<uint64_t> time_ns);

 signals:
  void timeRangeChanged();
  void scopeChanged();
  void focusTimeChanged();

 private:
  std::shared_ptr<const TraceOverview> overview_;
  std::optional<TimeRange> range_;
  QString scope_;
  std::optional<uint64_t> focus_;
};

}  // namespace memtide::gui
