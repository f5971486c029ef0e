// Opens a trace for memtide-gui off the UI thread: validates it, builds the
// allocation index when the trace has none (or an outdated one), then runs
// the summary, the report, the layer table and the peak side by side. A
// progress bar follows it through progress(); cancel() stops it within one
// page; a file that is not a trace fails with the analysis library's message.
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>

#include "core/scan_job.h"
#include "core/trace_overview.h"
#include "memtide/analysis/suppressions.h"

namespace memtide::gui {

struct LoadProgress;

// Options that change what a report says (the same as the CLI's).
struct LoadOptions {
  analysis::Suppressions suppressions;
  std::vector<std::string> fail_on = {"definite"};
  std::vector<std::string> search_paths;
};

class TraceLoader : public QObject {
  Q_OBJECT

 public:
  explicit TraceLoader(QObject* parent = nullptr);

  void load(const QString& path, const LoadOptions& options = {});
  void cancel();
  bool loading() const { return job_.running(); }

  // Runs the whole load on the calling thread (tests, the screenshot tool).
  static TraceOverview loadNow(const std::string& path, const LoadOptions& options,
                               analysis::ScanControl& control);

 signals:
  // percent 0..100 of the events to scan; stage says which part runs.
  void progress(int percent, const QString& stage);
  void loaded(std::shared_ptr<const memtide::gui::TraceOverview> overview);
  void failed(const QString& path, const QString& error);
  void cancelled(const QString& path);

 private:
  void reportProgress();

  JobSlot job_;
  QTimer progress_timer_;
  QString path_;
  std::shared_ptr<LoadProgress> progress_;
};

}  // namespace memtide::gui

Q_DECLARE_METATYPE(std::shared_ptr<const memtide::gui::TraceOverview>)
