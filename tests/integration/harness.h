// Runs test programs under the agent and reads back what they left.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "memtide/analysis/trace_file.h"

namespace memtide::test {

struct RunResult {
  int exit_code = -1;  // WEXITSTATUS, or -1 when killed
  int signal = 0;      // terminating signal, 0 when it exited
  std::string out, err;
};

struct RunOptions {
  std::map<std::string, std::string> env;  // added to the environment
  bool preload = true;
  // When set, wait until the program prints this line, then send `send_signal`
  // after `signal_delay_ms`.
  std::string wait_for_line;
  int send_signal = 0;
  int signal_delay_ms = 0;
  int timeout_ms = 60000;
};

// A fresh directory for one test's traces.
std::string scratch_dir(const std::string& test_name);

std::string program_path(const std::string& name);
std::string agent_path();
std::string cli_path();

// Runs argv with LD_PRELOAD=libmemtide.so and MEMTIDE_OUTPUT=db (when preload).
RunResult run_traced(const std::string& db, const std::vector<std::string>& argv,
                     const RunOptions& options = {});
RunResult run_command(const std::vector<std::string>& argv, const RunOptions& options = {});

struct Event {
  EventRecord record;
  int64_t thread_id;
};

std::vector<Event> read_events(const std::string& db);

// The events strictly between the marks named `begin` and `end` (first pair).
std::vector<Event> between_marks(const std::string& db, const std::vector<Event>& events,
                                 const std::string& begin = "begin",
                                 const std::string& end = "end");

// Heap, mapping and pool events only (no scopes or marks).
std::vector<Event> memory_events(const std::vector<Event>& events);

// The function that made the call at the innermost frame of stack `stack_id`
// (via the module map and addr2line), or "" when unresolved.
std::string innermost_function(const std::string& db, uint32_t stack_id);
// All function names of the stack, innermost first, inlined frames included.
std::vector<std::string> stack_functions(const std::string& db, uint32_t stack_id);

// One-value SQL helpers on a trace.
std::string query_text(const std::string& db, const std::string& sql);
int64_t query_int(const std::string& db, const std::string& sql);

}  // namespace memtide::test
