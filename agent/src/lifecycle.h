// Start, fork and end of the traced process: where the trace goes, how a
// forked child gets its own, and the final flush.
#pragma once

namespace memtide::agent {

// Idempotent; the library constructor calls it, and so does a thread whose
// ring fills before the constructor ran.
void start_agent();

// The last flush: everything recorded is committed and nothing more is.
void finish_agent(const char* end_reason, int exit_status, bool has_status);

// exit(status) was called: the status is written when the trace closes.
void exit_status_seen(int status);

}  // namespace memtide::agent
