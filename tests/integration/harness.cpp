#include "harness.h"

#include "memtide/analysis/trace_file.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

extern char** environ;

namespace memtide::test {
namespace {

uint64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

std::string capture(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

// Raw SQL over a trace reads stack_nodes, which the analyzer fills from the
// agent's compressed batches when it opens a trace: open it that way first.
void expand_stack_nodes_of(const std::string& db) {
  try {
    memtide::analysis::TraceFile trace(db);
  } catch (const memtide::analysis::TraceError&) {
    // Not a valid trace: the test's own query says what it expects of it.
  }
}

}  // namespace

std::string scratch_dir(const std::string& test_name) {
  std::string dir = std::string(MEMTIDE_TEST_SCRATCH) + "/" + test_name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string program_path(const std::string& name) {
  return std::string(MEMTIDE_TEST_PROGRAM_DIR) + "/" + name;
}
std::string agent_path() {
  return MEMTIDE_AGENT_PATH;
}
std::string cli_path() {
  return MEMTIDE_CLI_PATH;
}

RunResult run_command(const std::vector<std::string>& argv, const RunOptions& options) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  pid_t child = fork();
  if (child == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (const auto& [name, value] : options.env) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  RunResult result;
  bool signalled = options.send_signal == 0;
  uint64_t signal_at = 0;
  const uint64_t deadline = now_ms() + options.timeout_ms;
  struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    if (!signalled && signal_at == 0 && !options.wait_for_line.empty() &&
        result.out.find(options.wait_for_line + "\n") != std::string::npos)
      signal_at = now_ms() + options.signal_delay_ms;
    if (!signalled && signal_at != 0 && now_ms() >= signal_at) {
      kill(child, options.send_signal);
      signalled = true;
    }
    if (now_ms() > deadline) {
      kill(child, SIGKILL);
      break;
    }
    if (poll(fds, 2, 20) <= 0) continue;
    for (auto& fd : fds) {
      if (fd.fd < 0 || !(fd.revents & (POLLIN | POLLHUP))) continue;
      char buffer[4096];
      ssize_t n = read(fd.fd, buffer, sizeof buffer);
      if (n <= 0) {
        close(fd.fd);
        fd.fd = -1;
        --open_fds;
      } else {
        (fd.fd == out_pipe[0] ? result.out : result.err).append(buffer, n);
      }
    }
  }
  for (auto& fd : fds)
    if (fd.fd >= 0) close(fd.fd);
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

RunResult run_traced(const std::string& db, const std::vector<std::string>& argv,
                     const RunOptions& options) {
  RunOptions with_agent = options;
  if (options.preload) {
    with_agent.env["LD_PRELOAD"] = agent_path();
    with_agent.env["MEMTIDE_OUTPUT"] = db;
    with_agent.env["MEMTIDE_QUIET"] = "1";
  }
  // A test never inherits the trace identity of whatever runs the tests.
  unsetenv("MEMTIDE_ROOT_CLAIMED");
  unsetenv("MEMTIDE_PARENT_TRACE");
  unsetenv("MEMTIDE_PARENT_PID");
  return run_command(argv, with_agent);
}

std::vector<Event> read_events(const std::string& db) {
  analysis::TraceFile trace(db);
  std::vector<Event> events;
  trace.for_each_event([&](const EventRecord& e, int64_t thread) {
    events.push_back(Event{e, thread});
  });
  return events;
}

std::vector<Event> between_marks(const std::string& db, const std::vector<Event>& events,
                                 const std::string& begin, const std::string& end) {
  int64_t begin_id = query_int(db, "SELECT id FROM strings WHERE value = '" + begin + "'");
  int64_t end_id = query_int(db, "SELECT id FROM strings WHERE value = '" + end + "'");
  std::vector<Event> out;
  bool inside = false;
  for (const Event& e : events) {
    if (e.record.kind == EventKind::kMark) {
      if (!inside && int64_t(e.record.aux) == begin_id) {
        inside = true;
        continue;
      }
      if (inside && int64_t(e.record.aux) == end_id) break;
    }
    if (inside) out.push_back(e);
  }
  return out;
}

std::vector<Event> memory_events(const std::vector<Event>& events) {
  std::vector<Event> out;
  for (const Event& e : events)
    if (is_allocation(e.record.kind) || is_deallocation(e.record.kind) ||
        e.record.kind == EventKind::kReallocInPlace)
      out.push_back(e);
  return out;
}

std::string query_text(const std::string& db, const std::string& sql) {
  if (sql.find("stack") != std::string::npos) expand_stack_nodes_of(db);
  sqlite3* handle = nullptr;
  sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(handle);
  return out;
}

int64_t query_int(const std::string& db, const std::string& sql) {
  std::string text = query_text(db, sql);
  return text.empty() ? -1 : std::stoll(text);
}

std::vector<std::string> stack_functions(const std::string& db, uint32_t stack_id) {
  std::vector<std::string> names;
  expand_stack_nodes_of(db);
  sqlite3* handle = nullptr;
  sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(handle,
                     "SELECT f.ip, m.path, m.load_bias FROM stacks_flat f LEFT JOIN modules m "
                     "ON f.ip >= m.base AND f.ip < m.base + m.size WHERE f.stack_id = ? "
                     "ORDER BY f.depth",
                     -1, &s, nullptr);
  sqlite3_bind_int64(s, 1, stack_id);
  while (sqlite3_step(s) == SQLITE_ROW) {
    uint64_t ip = uint64_t(sqlite3_column_int64(s, 0));
    const unsigned char* path = sqlite3_column_text(s, 1);
    if (!path) {
      names.push_back("");
      continue;
    }
    uint64_t offset = ip - uint64_t(sqlite3_column_int64(s, 2)) - 1;  // return address - 1
    char hex[32];
    snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(offset));
    // -i lists the inlined frames at the address too (innermost first), -C
    // demangles; each name is kept without its parameter list.
    std::string out =
        capture("addr2line -f -i -C -e '" + std::string(reinterpret_cast<const char*>(path)) +
                "' " + hex + " 2>/dev/null");
    for (size_t line = 0, at = 0; at < out.size(); ++line) {
      size_t end = out.find('\n', at);
      if (end == std::string::npos) end = out.size();
      if (line % 2 == 0) {  // function lines alternate with file:line lines
        std::string name = out.substr(at, end - at);
        names.push_back(name.substr(0, name.find('(')));
      }
      at = end + 1;
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(handle);
  return names;
}

std::string innermost_function(const std::string& db, uint32_t stack_id) {
  std::vector<std::string> names = stack_functions(db, stack_id);
  return names.empty() ? "" : names.front();
}

}  // namespace memtide::test
