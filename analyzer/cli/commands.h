// The memtide subcommands. Each returns the process exit status:
// 0 success, 1 a gate failed (reports), 2 usage or input error; `run` passes
// the traced program's status through.
#pragma once

#include <string>
#include <vector>

namespace memtide::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;

int run_command(const std::vector<std::string>& args, const std::string& self_path);
int info_command(const std::vector<std::string>& args);
int gpu_command(const std::vector<std::string>& args);
int index_command(const std::vector<std::string>& args);
int leaks_command(const std::vector<std::string>& args);
int report_command(const std::vector<std::string>& args);
int diff_command(const std::vector<std::string>& args);
int symbolize_command(const std::vector<std::string>& args);
int frag_command(const std::vector<std::string>& args);
int layers_command(const std::vector<std::string>& args);
int peak_command(const std::vector<std::string>& args);
int top_command(const std::vector<std::string>& args);
int export_command(const std::vector<std::string>& args);
int gui_command(const std::vector<std::string>& args, const std::string& self_path);

// Where libmemtide.so is: MEMTIDE_AGENT, else beside this executable in the
// build tree or the install tree. Empty when not found.
std::string find_agent(const std::string& self_path);

}  // namespace memtide::cli
