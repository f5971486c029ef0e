#include "models/summary_model.h"

#include <map>

#include "core/format.h"
#include "memtide/analysis/report_builder.h"
#include "pages/page.h"

namespace memtide::gui {
namespace {

// Internal ids: 0 for a section row, 1 + section for an item row.
constexpr quintptr kSectionId = 0;

SummaryModel::Item item(QString key, QString label, QString value, QVariant raw = {},
                        QUrl link = {}, bool failed = false) {
  return {std::move(key), std::move(label), std::move(value),
          std::move(raw), std::move(link),  failed};
}

SummaryModel::Section runSection(const TraceOverview& o) {
  const analysis::TraceSummary& s = o.summary;
  SummaryModel::Section section{QObject::tr("Run"), {}};
  for (const analysis::ProcessRow& p : s.processes) {
    section.items.push_back(
        item("run.command", QObject::tr("Command"), QString::fromStdString(p.command_line)));
    section.items.push_back(item("run.pid", QObject::tr("Process"),
                                 p.parent_pid
                                     ? QObject::tr("pid %1, parent %2").arg(p.pid).arg(p.parent_pid)
                                     : QObject::tr("pid %1").arg(p.pid),
                                 qulonglong(p.pid)));
    if (p.has_exit_status)
      section.items.push_back(item("run.exit_status", QObject::tr("Exit status"),
                                   QString::number(p.exit_status), qlonglong(p.exit_status), {},
                                   p.exit_status != 0));
  }
  section.items.push_back(
      item("run.duration", QObject::tr("Duration"),
           formatDuration(s.last_time_ns - std::min(s.first_time_ns, s.last_time_ns)),
           qulonglong(s.last_time_ns - std::min(s.first_time_ns, s.last_time_ns)),
           pageLink("timeline")));
  section.items.push_back(
      item("run.end", QObject::tr("Ended"),
           s.ended_cleanly ? QObject::tr("cleanly (%1)").arg(QString::fromStdString(s.end_reason))
                           : QObject::tr("without a final flush: %1")
                                 .arg(s.end_reason.empty() ? QObject::tr("killed or crashed")
                                                           : QString::fromStdString(s.end_reason)),
           {}, {}, !s.ended_cleanly));
  section.items.push_back(
      item("run.threads", QObject::tr("Threads"), formatCount(s.threads), qulonglong(s.threads)));
  section.items.push_back(item("run.steps", QObject::tr("Training steps"), formatCount(s.steps),
                               qulonglong(s.steps), pageLink("layers")));
  section.items.push_back(
      item("run.events", QObject::tr("Events"), formatCount(s.events), qulonglong(s.events)));
  return section;
}

QString momentText(const analysis::PeakMoment& m, uint64_t start_ns) {
  QString text = formatBytes(m.bytes);
  if (m.time_ns) text += QObject::tr(" at %1").arg(formatOffset(m.time_ns, start_ns));
  if (m.step >= 0) text += QObject::tr(", step %1").arg(m.step);
  if (!m.scope.empty()) text += QObject::tr(", in %1").arg(QString::fromStdString(m.scope));
  return text;
}

SummaryModel::Section peakSection(const TraceOverview& o) {
  SummaryModel::Section section{QObject::tr("Peak"), {}};
  const analysis::PeakReport& p = o.peak;
  section.items.push_back(item("peak.host", QObject::tr("Host heap"),
                               momentText(p.host.moment, o.start_ns()),
                               qulonglong(p.host.moment.bytes), pageLink("timeline")));
  for (const analysis::PeakSnapshot& device : p.devices)
    section.items.push_back(item("peak." + QString::fromStdString(device.measure),
                                 QString::fromStdString(device.measure),
                                 momentText(device.moment, o.start_ns()),
                                 qulonglong(device.moment.bytes), pageLink("timeline")));
  if (!p.devices.empty())
    section.items.push_back(item("peak.total", QObject::tr("Host and GPU"),
                                 momentText(p.total.moment, o.start_ns()),
                                 qulonglong(p.total.moment.bytes), pageLink("timeline")));
  return section;
}

SummaryModel::Section leakSection(const TraceOverview& o) {
  SummaryModel::Section section{QObject::tr("Leaks"), {}};
  const analysis::ProcessReport* process = o.process();
  if (!process) return section;
  struct Totals {
    uint64_t bytes = 0, blocks = 0, groups = 0;
  };
  std::map<std::string, Totals> by_category;
  for (const analysis::LeakGroup& g : process->leaks) {
    if (g.suppressed) continue;
    Totals& t = by_category[g.category];
    t.bytes += g.bytes;
    t.blocks += g.blocks;
    ++t.groups;
  }
  if (!process->leak_scan_done)
    section.items.push_back(item("leaks.scan", QObject::tr("Exit scan"),
                                 QObject::tr("did not run: live blocks are \"not freed\"")));
  for (const std::string& category : analysis::report_categories()) {
    auto it = by_category.find(category);
    if (it == by_category.end()) continue;
    const QString name = QString::fromStdString(category);
    section.items.push_back(
        item("leaks." + name + ".bytes", name,
             QObject::tr("%1 in %2 blocks (%3 groups)")
                 .arg(formatBytes(it->second.bytes), formatCount(it->second.blocks),
                      formatCount(it->second.groups)),
             qulonglong(it->second.bytes), pageLink("leaks", "category", name),
             category == "definite" || category == "indirect"));
  }
  uint64_t errors = 0;
  for (const analysis::ErrorGroup& e : process->errors) errors += e.count;
  if (errors)
    section.items.push_back(item("leaks.errors", QObject::tr("Mismatched and unknown frees"),
                                 formatCount(errors), qulonglong(errors),
                                 pageLink("leaks", "category", "errors"), true));
  if (!process->growth.empty())
    section.items.push_back(item("leaks.growth", QObject::tr("Growing across steps"),
                                 QObject::tr("%1 groups").arg(process->growth.size()),
                                 qulonglong(process->growth.size()),
                                 pageLink("leaks", "category", "growth")));
  if (process->suppressed_blocks)
    section.items.push_back(item(
        "leaks.suppressed", QObject::tr("Suppressed"),
        QObject::tr("%1 in %2 blocks")
            .arg(formatBytes(process->suppressed_bytes), formatCount(process->suppressed_blocks)),
        qulonglong(process->suppressed_bytes)));
  if (section.items.empty())
    section.items.push_back(
        item("leaks.none", QObject::tr("Live at exit"), QObject::tr("nothing")));
  return section;
}

SummaryModel::Section gateSection(const TraceOverview& o) {
  SummaryModel::Section section{QObject::tr("Gates"), {}};
  for (const analysis::GateVerdict& v : o.report.gates)
    section.items.push_back(
        item("gate." + QString::fromStdString(v.name), QString::fromStdString(v.name),
             (v.passed ? QObject::tr("passed") : QObject::tr("FAILED")) +
                 (v.detail.empty() ? QString() : ": " + QString::fromStdString(v.detail)),
             v.passed, pageLink("leaks"), !v.passed));
  return section;
}

SummaryModel::Section layerSection(const TraceOverview& o) {
  SummaryModel::Section section{QObject::tr("Top layers by peak live bytes"), {}};
  std::vector<const analysis::ScopeRow*> top;
  for (const analysis::ScopeRow& row : o.layers.scopes)
    if (row.depth == 1) top.push_back(&row);
  std::stable_sort(top.begin(), top.end(), [](const auto* a, const auto* b) {
    return a->subtree.peak_live_bytes > b->subtree.peak_live_bytes;
  });
  if (top.size() > 5) top.resize(5);
  for (const analysis::ScopeRow* row : top) {
    const QString path = QString::fromStdString(row->path);
    section.items.push_back(
        item("layer." + path, path,
             QObject::tr("peak %1, %2 allocated in %3 blocks")
                 .arg(formatBytes(row->subtree.peak_live_bytes), formatBytes(row->subtree.bytes),
                      formatCount(row->subtree.allocations)),
             qulonglong(row->subtree.peak_live_bytes), pageLink("layers", "scope", path)));
  }
  if (section.items.empty())
    section.items.push_back(item("layer.none", QObject::tr("Scopes"),
                                 QObject::tr("none recorded (no NVTX or annotate "
                                             "API ranges in this run)")));
  return section;
}

SummaryModel::Section traceSection(const TraceOverview& o) {
  SummaryModel::Section section{QObject::tr("Trace"), {}};
  section.items.push_back(item("trace.path", QObject::tr("File"), QString::fromStdString(o.path)));
  section.items.push_back(item("trace.schema", QObject::tr("Schema version"),
                               QString::number(o.summary.schema_version)));
  section.items.push_back(item(
      "trace.index", QObject::tr("Allocation index"),
      o.index_error.empty() ? QObject::tr("%1 blocks%2")
                                  .arg(formatCount(o.index.allocations),
                                       o.index.rebuilt ? QObject::tr(", built on open") : QString())
                            : QString::fromStdString(o.index_error),
      qulonglong(o.index.allocations), {}, !o.index_error.empty()));
  return section;
}

}  // namespace

std::vector<SummaryModel::Section> summarySections(const TraceOverview& overview) {
  return {runSection(overview),  peakSection(overview),  leakSection(overview),
          gateSection(overview), layerSection(overview), traceSection(overview)};
}

SummaryModel::SummaryModel(QObject* parent) : QAbstractItemModel(parent) {}

void SummaryModel::setOverview(std::shared_ptr<const TraceOverview> overview) {
  beginResetModel();
  sections_.clear();
  if (overview) sections_ = summarySections(*overview);
  endResetModel();
}

QModelIndex SummaryModel::findKey(const QString& key) const {
  for (size_t s = 0; s < sections_.size(); ++s)
    for (size_t i = 0; i < sections_[s].items.size(); ++i)
      if (sections_[s].items[i].key == key) return createIndex(int(i), 0, quintptr(s + 1));
  return {};
}

QModelIndex SummaryModel::index(int row, int column, const QModelIndex& parent) const {
  if (!hasIndex(row, column, parent)) return {};
  if (!parent.isValid()) return createIndex(row, column, kSectionId);
  return createIndex(row, column, quintptr(parent.row() + 1));
}

QModelIndex SummaryModel::parent(const QModelIndex& child) const {
  if (!child.isValid() || child.internalId() == kSectionId) return {};
  return createIndex(int(child.internalId() - 1), 0, kSectionId);
}

int SummaryModel::rowCount(const QModelIndex& parent) const {
  if (!parent.isValid()) return int(sections_.size());
  if (parent.internalId() != kSectionId || parent.column() != 0) return 0;
  return int(sections_[size_t(parent.row())].items.size());
}

int SummaryModel::columnCount(const QModelIndex&) const {
  return kColumns;
}

QVariant SummaryModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  if (index.internalId() == kSectionId) {
    if (role == Qt::DisplayRole && index.column() == kItem)
      return sections_[size_t(index.row())].title;
    return {};
  }
  const Item& it = sections_[size_t(index.internalId() - 1)].items[size_t(index.row())];
  switch (role) {
    case Qt::DisplayRole:
      return index.column() == kItem ? it.label : it.value;
    case Qt::ToolTipRole:
      return it.value;
    case kRawValueRole:
      return it.raw;
    case kLinkRole:
      return it.link;
    case kKeyRole:
      return it.key;
    default:
      return {};
  }
}

QVariant SummaryModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  return section == kItem ? tr("Item") : tr("Value");
}

}  // namespace memtide::gui
