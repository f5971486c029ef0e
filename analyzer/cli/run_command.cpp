#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.h"
#include "memtide_common/options.h"

namespace memtide::cli {
namespace {

const char* kRunUsage =
    "usage: memtide run [-o FILE] [options] -- PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM with libmemtide.so preloaded. The first process writes FILE\n"
    "(default memtide.db); forked and exec'd processes write FILE's stem plus\n"
    ".<pid>.db beside it; such files left by an earlier run to the same FILE\n"
    "are removed first. The exit status is PROGRAM's own (128+N when a signal\n"
    "N killed it, 127 when it could not be started, 2 for a usage error).\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE     trace database of the first process\n"
    "  --no-follow           do not trace programs that PROGRAM execs\n"
    "  --stack-depth N       frames per allocation (MEMTIDE_STACK_DEPTH)\n"
    "  --sample-ms N         sampler period (MEMTIDE_SAMPLE_MS)\n"
    "  --free-stacks         capture stacks for frees as well\n"
    "  --quiet               no messages from memtide on stderr\n"
    "  --env NAME=VALUE      set any agent option below\n"
    "\n"
    "Agent options (environment variables, also for LD_PRELOAD by hand):\n";

volatile sig_atomic_t g_child = 0;

void forward_signal(int sig) {
  if (g_child > 0) kill(g_child, sig);
}

// Records the exit status of the first process in its trace: the agent cannot
// see a return from main, but memtide run can.
void record_exit_status(const std::string& path, int status) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return;
  }
  sqlite3_busy_timeout(db, 5000);
  std::string sql = "UPDATE processes SET exit_status = " + std::to_string(status) +
                    " WHERE origin = 'root' AND exit_status IS NULL";
  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

std::vector<std::string> child_traces(const std::string& output) {
  namespace fs = std::filesystem;
  std::string stem =
      output.size() > 3 && output.ends_with(".db") ? output.substr(0, output.size() - 3) : output;
  fs::path dir = fs::path(stem).parent_path();
  std::string base = fs::path(stem).filename().string() + ".";
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir.empty() ? "." : dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(base) && name.ends_with(".db") && name.size() > base.size() + 3 &&
        isdigit(static_cast<unsigned char>(name[base.size()])))
      found.push_back(entry.path().string());
  }
  return found;
}

}  // namespace

std::string find_agent(const std::string& self_path) {
  if (const char* forced = getenv("MEMTIDE_AGENT")) return forced;
  namespace fs = std::filesystem;
  fs::path bin_dir = fs::path(self_path).parent_path();
  for (const char* relative : {MEMTIDE_AGENT_RELPATH, "../lib/libmemtide.so", "libmemtide.so"}) {
    fs::path candidate = (bin_dir / relative).lexically_normal();
    if (fs::exists(candidate)) return fs::absolute(candidate).string();
  }
  return {};
}

int run_command(const std::vector<std::string>& args, const std::string& self_path) {
  std::string output = "memtide.db";
  std::vector<std::pair<std::string, std::string>> env;
  size_t i = 0;
  auto value_of = [&](const std::string& flag) -> const std::string* {
    if (i + 1 >= args.size()) {
      fprintf(stderr, "memtide run: %s needs a value\n", flag.c_str());
      return nullptr;
    }
    return &args[++i];
  };
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "-h" || arg == "--help") {
      fputs(kRunUsage, stdout);
      for (const OptionInfo& o : option_list())
        printf("  %-28s %s (default %s)\n", o.env_name, o.help,
               o.default_value.empty() ? "\"\"" : o.default_value.c_str());
      return kExitOk;
    }
    const std::string* value = nullptr;
    if (arg == "-o" || arg == "--output") {
      if (!(value = value_of(arg))) return kExitUsage;
      output = *value;
    } else if (arg == "--no-follow") {
      env.emplace_back("MEMTIDE_FOLLOW", "0");
    } else if (arg == "--free-stacks") {
      env.emplace_back("MEMTIDE_FREE_STACKS", "1");
    } else if (arg == "--quiet") {
      env.emplace_back("MEMTIDE_QUIET", "1");
    } else if (arg == "--stack-depth" || arg == "--sample-ms") {
      if (!(value = value_of(arg))) return kExitUsage;
      env.emplace_back(arg == "--stack-depth" ? "MEMTIDE_STACK_DEPTH" : "MEMTIDE_SAMPLE_MS",
                       *value);
    } else if (arg == "--env") {
      if (!(value = value_of(arg))) return kExitUsage;
      size_t eq = value->find('=');
      if (eq == std::string::npos) {
        fprintf(stderr, "memtide run: --env expects NAME=VALUE, got '%s'\n", value->c_str());
        return kExitUsage;
      }
      env.emplace_back(value->substr(0, eq), value->substr(eq + 1));
    } else if (!arg.empty() && arg[0] == '-') {
      fprintf(stderr, "memtide run: unknown option '%s' (see memtide run --help)\n", arg.c_str());
      return kExitUsage;
    } else {
      break;  // the program starts here (a "--" is optional)
    }
  }
  if (i >= args.size()) {
    fprintf(stderr, "memtide run: no program given\n%s", kRunUsage);
    return kExitUsage;
  }
  for (const auto& [name, value] : env) {
    std::string error = check_option_value(name.c_str(), value.c_str());
    if (!error.empty()) {
      fprintf(stderr, "memtide run: %s\n", error.c_str());
      return kExitUsage;
    }
  }
  std::string agent = find_agent(self_path);
  if (agent.empty()) {
    fprintf(stderr,
            "memtide run: cannot find libmemtide.so next to %s; set MEMTIDE_AGENT to its path\n",
            self_path.c_str());
    return kExitUsage;
  }
  std::error_code ec;
  std::string absolute_output = std::filesystem::absolute(output, ec).string();
  std::filesystem::path output_dir = std::filesystem::path(absolute_output).parent_path();
  if (!std::filesystem::is_directory(output_dir)) {
    fprintf(stderr, "memtide run: output directory %s does not exist\n", output_dir.c_str());
    return kExitUsage;
  }

  // Child traces of an earlier run to the same FILE would be taken for this
  // run's: they go first, as FILE itself is replaced.
  for (const std::string& stale : child_traces(absolute_output))
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) unlink((stale + suffix).c_str());

  std::vector<char*> argv;
  for (size_t k = i; k < args.size(); ++k) argv.push_back(const_cast<char*>(args[k].c_str()));
  argv.push_back(nullptr);

  pid_t child = fork();
  if (child < 0) {
    perror("memtide run: fork");
    return kExitUsage;
  }
  if (child == 0) {
    const char* existing = getenv("LD_PRELOAD");
    std::string preload = agent + (existing && *existing ? ":" + std::string(existing) : "");
    setenv("LD_PRELOAD", preload.c_str(), 1);
    setenv("MEMTIDE_OUTPUT", absolute_output.c_str(), 1);
    unsetenv("MEMTIDE_ROOT_CLAIMED");
    unsetenv("MEMTIDE_PARENT_TRACE");
    unsetenv("MEMTIDE_PARENT_PID");
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    execvp(argv[0], argv.data());
    fprintf(stderr, "memtide run: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  g_child = child;
  // A terminal's Ctrl-C and Ctrl-\ reach the program directly (same process
  // group), so memtide ignores them, as system() does; signals sent to memtide
  // alone (kill, a CI timeout) are forwarded.
  struct sigaction forward {};
  forward.sa_handler = forward_signal;
  sigemptyset(&forward.sa_mask);
  for (int sig : {SIGTERM, SIGHUP}) sigaction(sig, &forward, nullptr);
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);

  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (WIFEXITED(status)) record_exit_status(absolute_output, exit_code);

  bool quiet = false;
  for (const auto& [name, value] : env)
    if (name == "MEMTIDE_QUIET" && value != "0") quiet = true;
  if (!quiet) {
    struct stat st;
    if (stat(absolute_output.c_str(), &st) == 0) {
      fprintf(stderr, "memtide: trace written to %s", output.c_str());
      auto children = child_traces(absolute_output);
      if (!children.empty())
        fprintf(stderr, " (+%zu child process traces beside it)", children.size());
      fprintf(stderr, "\n");
    } else {
      fprintf(stderr, "memtide: no trace was written to %s\n", output.c_str());
    }
    if (WIFSIGNALED(status))
      fprintf(stderr, "memtide: %s was killed by signal %d (%s)\n", argv[0], WTERMSIG(status),
              strsignal(WTERMSIG(status)));
  }
  return exit_code;
}

}  // namespace memtide::cli
