#include "core/scan_job.h"

#include <QMetaObject>

namespace memtide::gui {

void JobSlot::cancel() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (control_) control_->cancelled.store(true);
  ++state_->generation;
  state_->running.store(false);
}

void JobSlot::deliver(QObject* receiver, const std::shared_ptr<State>& state, uint64_t generation,
                      std::function<void()> call) {
  std::lock_guard<std::mutex> lock(state->mutex);
  if (state->generation.load() != generation) return;
  // A queued call with the receiver as context: Qt drops it if the receiver
  // is destroyed before the event loop gets to it. Checked again there, as
  // a newer job may have started meanwhile.
  QMetaObject::invokeMethod(
      receiver,
      [state, generation, call] {
        if (state->generation.load() != generation) return;
        state->running.store(false);
        call();
      },
      Qt::QueuedConnection);
}

QString describeFailure(const std::exception& error) {
  return QString::fromStdString(error.what());
}

}  // namespace memtide::gui
