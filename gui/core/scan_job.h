// Runs analysis work off the UI thread and hands the result back on it
// (hotspot's job tracker): each JobSlot holds at most one current job; a new
// request cancels the scans of the one before and makes its result stale, so
// a late answer to an old question is dropped instead of shown.
//
//   JobSlot slot;
//   slot.start<Result>(this,
//       [path](analysis::ScanControl& control) { ... return Result{...}; },
//       [this](std::shared_ptr<const Result> r) { show(*r); },
//       [this](const QString& error) { showError(error); });
//
// The work runs on QThreadPool::globalInstance() and must open its own
// TraceFile (an SQLite connection belongs to one thread) and attach the
// control to it, so cancel() stops it within one page. Results cross threads
// as plain data behind a shared_ptr, delivered through a queued call on the
// receiver; a receiver deleted first never hears of it.
#pragma once

#include <QObject>
#include <QString>
#include <QThreadPool>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>

#include "memtide/analysis/trace_file.h"

namespace memtide::gui {

class JobSlot {
 public:
  JobSlot() = default;
  ~JobSlot() { cancel(); }
  JobSlot(const JobSlot&) = delete;
  JobSlot& operator=(const JobSlot&) = delete;

  template <class Result>
  void start(QObject* receiver, std::function<Result(analysis::ScanControl&)> work,
             std::function<void(std::shared_ptr<const Result>)> done,
             std::function<void(const QString&)> failed = {});

  // Cancels the current job; its result or error will be dropped.
  void cancel();
  // True from start() until the current job's result or error is delivered.
  bool running() const { return state_->running.load(); }
  // The control of the current job, for a progress bar; null before the first start.
  std::shared_ptr<analysis::ScanControl> control() const { return control_; }
  uint64_t generation() const { return state_->generation.load(); }

 private:
  // Shared with the jobs, which outlive the slot when cancelled late.
  struct State {
    std::mutex mutex;  // held while a job posts its result, and while cancelling
    std::atomic<uint64_t> generation{0};
    std::atomic<bool> running{false};
  };
  // Posts `call` to the receiver's thread when `generation` is still current
  // there and then. Under the mutex, so that once cancel() has returned no
  // job can post to a receiver that is being destroyed.
  static void deliver(QObject* receiver, const std::shared_ptr<State>& state, uint64_t generation,
                      std::function<void()> call);

  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::shared_ptr<analysis::ScanControl> control_;
};

// The message shown for a failed job.
QString describeFailure(const std::exception& error);

template <class Result>
void JobSlot::start(QObject* receiver, std::function<Result(analysis::ScanControl&)> work,
                    std::function<void(std::shared_ptr<const Result>)> done,
                    std::function<void(const QString&)> failed) {
  cancel();
  const uint64_t generation = ++state_->generation;
  auto control = std::make_shared<analysis::ScanControl>();
  control_ = control;
  state_->running.store(true);
  auto state = state_;
  QThreadPool::globalInstance()->start(
      [=, work = std::move(work), done = std::move(done), failed = std::move(failed)] {
        try {
          auto result = std::make_shared<const Result>(work(*control));
          deliver(receiver, state, generation, [done, result] { done(result); });
        } catch (const analysis::ScanCancelled&) {
          // Only a newer job or the slot's end cancels; nobody waits for this one.
        } catch (const std::exception& error) {
          QString message = describeFailure(error);
          deliver(receiver, state, generation, [failed, message] {
            if (failed) failed(message);
          });
        }
      });
}

}  // namespace memtide::gui
