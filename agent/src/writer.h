// The writer thread: the only code that touches SQLite. It drains the thread
// rings into compressed event pages, copies new stacks, scopes, strings,
// pools, modules and threads into their tables, takes the periodic samples,
// and commits at least every MEMTIDE_COMMIT_MS so that a killed process leaves
// a valid database holding everything up to the last commit.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace memtide::agent {

struct ProcessIdentity {
  std::string trace_path;
  std::string origin;  // "root", "fork" or "exec"
  pid_t pid = 0;
  pid_t parent_pid = 0;
  std::string parent_trace;  // empty when the parent was not traced
  std::string command_line;  // arguments joined by spaces
  std::string executable;
  uint64_t start_time_ns = 0;
};

// Opens the database and starts the thread; false with `error` on failure.
bool start_writer(const ProcessIdentity& identity, std::string& error);

// Drains and commits everything recorded so far; waits up to timeout_ms.
// `end_reason` non-null marks how the process is ending ("exec", "_exit",
// "signal SIGTERM"); null for a plain flush. Async-signal-safe enough for our
// own handlers: it only touches atomics and futexes.
bool flush_writer(const char* end_reason, int exit_status, bool has_status, int timeout_ms);

// Final flush at exit: marks the trace ended cleanly, commits, leaves a single
// database file and stops the thread. Nothing is recorded afterwards.
void stop_writer(const char* end_reason, int exit_status, bool has_status);

// False in a vfork child, which shares the parent's writer until it execs.
bool writer_owned_by_this_process();

// fork support: the writer holds this lock while it is inside SQLite.
void writer_lock_for_fork();
void writer_unlock_after_fork();
// In the child: forget the parent's writer (its connection belongs to the parent).
void writer_forget_in_child();

}  // namespace memtide::agent
