// Paths for files a unit test makes in the test temp directory. Each is
// removed when the test program ends, with the -wal, -shm and -journal files
// SQLite may leave beside it, so repeated runs do not fill the directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace memtide::test_files {

inline std::string temp_path(const std::string& name) {
  struct Made {
    std::vector<std::string> paths;
    ~Made() {
      std::error_code ignored;
      for (const std::string& path : paths)
        for (const char* suffix : {"", "-wal", "-shm", "-journal"})
          std::filesystem::remove_all(path + suffix, ignored);
    }
  };
  static Made made;
  std::string path = testing::TempDir() + "memtide-" + std::to_string(getpid()) + "-" + name;
  made.paths.push_back(path);
  return path;
}

}  // namespace memtide::test_files
