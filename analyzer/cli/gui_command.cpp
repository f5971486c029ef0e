// `memtide gui [options] [TRACE|DIR]...`: starts memtide-gui, found beside
// this executable (build tree and install tree alike), with the same
// arguments. memtide-gui is an optional part (MEMTIDE_BUILD_GUI), so a
// missing one is a clear error, not a crash.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "commands.h"

namespace memtide::cli {

int gui_command(const std::vector<std::string>& args, const std::string& self_path) {
  std::string gui;
  if (const char* forced = getenv("MEMTIDE_GUI")) {
    gui = forced;
  } else {
    gui = (std::filesystem::path(self_path).parent_path() / "memtide-gui").string();
  }
  if (access(gui.c_str(), X_OK) != 0) {
    fprintf(stderr,
            "memtide gui: %s not found: this memtide was built without the GUI "
            "(configure with -DMEMTIDE_BUILD_GUI=ON and Qt 6), or set MEMTIDE_GUI\n",
            gui.c_str());
    return kExitUsage;
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(gui.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(gui.c_str(), argv.data());
  fprintf(stderr, "memtide gui: cannot start %s: %s\n", gui.c_str(), strerror(errno));
  return kExitUsage;
}

}  // namespace memtide::cli
