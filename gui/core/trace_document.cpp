#include "core/trace_document.h"

#include <QFileInfo>

namespace memtide::gui {

TraceDocument::TraceDocument(std::shared_ptr<const TraceOverview> overview, QObject* parent)
    : QObject(parent), overview_(std::move(overview)) {}

QString TraceDocument::displayName() const {
  const auto& processes = overview_->summary.processes;
  if (processes.empty()) return QFileInfo(path()).fileName();
  const analysis::ProcessRow& p = processes.front();
  QString command = QString::fromStdString(p.command_line).simplified();
  if (command.size() > 60) command = command.left(57) + "...";
  return QStringLiteral("pid %1: %2").arg(p.pid).arg(command);
}

void TraceDocument::setTimeRange(std::optional<TimeRange> range) {
  if (range && range->length() == 0) range.reset();
  if (range == range_) return;
  range_ = range;
  emit timeRangeChanged();
}

void TraceDocument::setScope(const QString& scope_path) {
  if (scope_path == scope_) return;
  scope_ = scope_path;
  emit scopeChanged();
}

void TraceDocument::setFocusTime(std::optional<uint64_t> time_ns) {
  if (time_ns == focus_) return;
  focus_ = time_ns;
  emit focusTimeChanged();
}

}  // namespace memtide::gui
