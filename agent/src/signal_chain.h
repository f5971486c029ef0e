// Termination signals: memtide flushes the trace, then lets the program's own
// handler or the default action run, as if memtide were not there. The
// program's later sigaction()/signal() calls for these signals are recorded as
// its handlers instead of replacing memtide's.
#pragma once

namespace memtide::agent {

void install_signal_handlers();

}  // namespace memtide::agent
