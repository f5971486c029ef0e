// The agent core calls into the writer and the lifecycle, which live in the
// preload library. Unit tests stand in for them: no writer thread exists, so
// a test that fills a ring drains it itself.
#include "agent_state.h"

namespace memtide::agent {

bool writer_running() {
  return true;
}
void start_writer_early() {}
void register_thread_exit_handler() {}

}  // namespace memtide::agent
