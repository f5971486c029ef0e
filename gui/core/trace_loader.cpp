#include "core/trace_loader.h"

#include <future>

#include "memtide/analysis/report_builder.h"

namespace memtide::gui {

// Where a load is, for the progress bar: the events its scans will read in
// all, and which stage runs. Written by the loading thread, read by the UI.
struct LoadProgress {
  std::atomic<uint64_t> events_to_scan{0};
  std::atomic<int> stage{0};  // 0 opening, 1 indexing, 2 analysing
};

namespace {

// The scans the analysis stage runs, each over every event: the report,
// the layers and the peak. The summary needs none (describe_trace), the
// steps come from the report.
constexpr int kAnalysisPasses = 3;

TraceOverview loadOverview(const std::string& path, const LoadOptions& options,
                           analysis::ScanControl& control, LoadProgress& progress) {
  TraceOverview overview;
  overview.path = path;
  analysis::TraceFile trace(path);
  trace.set_scan_control(&control);
  overview.summary = analysis::describe_trace(trace);
  const uint64_t events = overview.summary.events;
  progress.events_to_scan = events * (1 + kAnalysisPasses);
  progress.stage = 1;
  try {
    overview.index = analysis::ensure_index(trace);
  } catch (const analysis::ScanCancelled&) {
    throw;
  } catch (const analysis::TraceError& error) {
    // A read-only trace cannot take the index; everything but the pages
    // that query it still works.
    overview.index_error = error.what();
  }
  // An index already current scanned nothing: the bar starts the analyses at 0.
  progress.events_to_scan = control.events_scanned + events * kAnalysisPasses;
  progress.stage = 2;

  // Each pass on its own connection (a connection belongs to one thread).
  auto pass = [&](auto fill) {
    return std::async(std::launch::async, [&, fill] {
      analysis::TraceFile own(path);
      own.set_scan_control(&control);
      fill(own);
    });
  };
  auto layers =
      pass([&](analysis::TraceFile& t) { overview.layers = analysis::scope_lifetimes(t, {}); });
  auto peak = pass([&](analysis::TraceFile& t) {
    analysis::PeakOptions peak_options;
    peak_options.search_paths = options.search_paths;
    overview.peak = analysis::find_peak(t, peak_options);
  });
  analysis::ReportOptions report_options;
  report_options.fail_on = options.fail_on;
  report_options.suppressions = options.suppressions;
  report_options.search_paths = options.search_paths;
  report_options.scan_control = &control;
  std::exception_ptr report_error;
  try {
    overview.report = analysis::build_report({path}, report_options);
  } catch (...) {
    report_error = std::current_exception();
  }
  // get() rethrows a pass's exception; every pass is waited for first, as
  // they write into `overview`.
  layers.wait();
  peak.wait();
  layers.get();
  peak.get();
  if (report_error) std::rethrow_exception(report_error);
  if (const analysis::ProcessReport* process = overview.process())
    overview.summary.steps = process->step_times_ns.size();
  return overview;
}

}  // namespace

TraceLoader::TraceLoader(QObject* parent) : QObject(parent) {
  progress_timer_.setInterval(100);
  connect(&progress_timer_, &QTimer::timeout, this, &TraceLoader::reportProgress);
}

TraceOverview TraceLoader::loadNow(const std::string& path, const LoadOptions& options,
                                   analysis::ScanControl& control) {
  LoadProgress progress;
  return loadOverview(path, options, control, progress);
}

void TraceLoader::load(const QString& path, const LoadOptions& options) {
  path_ = path;
  auto stages = std::make_shared<LoadProgress>();
  progress_ = stages;
  const std::string file = path.toStdString();
  job_.start<TraceOverview>(
      this,
      [file, options, stages](analysis::ScanControl& control) {
        return loadOverview(file, options, control, *stages);
      },
      [this](std::shared_ptr<const TraceOverview> overview) {
        progress_timer_.stop();
        emit progress(100, tr("Loaded"));
        emit loaded(std::move(overview));
      },
      [this, path](const QString& error) {
        progress_timer_.stop();
        emit failed(path, error);
      });
  emit progress(0, tr("Opening %1").arg(path));
  progress_timer_.start();
}

void TraceLoader::cancel() {
  if (!job_.running()) return;
  job_.cancel();
  progress_timer_.stop();
  emit cancelled(path_);
}

void TraceLoader::reportProgress() {
  auto control = job_.control();
  if (!control || !progress_) return;
  const uint64_t total = progress_->events_to_scan;
  const uint64_t done = control->events_scanned;
  const int percent = total ? int(std::min<uint64_t>(99, done * 100 / total)) : 0;
  static const char* const stages[] = {"Opening", "Indexing", "Analysing"};
  emit progress(percent, tr(stages[std::clamp(progress_->stage.load(), 0, 2)]));
}

}  // namespace memtide::gui
