#include "binary_locator.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

namespace memtide::analysis {
namespace {

bool is_regular_file(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string file_name_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> candidates(const std::string& recorded_path, const std::string& build_id,
                                    const SymbolizerOptions& options) {
  std::vector<std::string> files;
  // Names like "linux-vdso.so.1" are not files on any machine.
  if (!recorded_path.empty() && recorded_path[0] == '/')
    files.push_back(options.sysroot + recorded_path);
  for (const std::string& dir : options.search_paths) {
    files.push_back(dir + "/" + file_name_of(recorded_path));
    if (build_id.size() > 2) {
      std::string by_id = dir + "/.build-id/" + build_id.substr(0, 2) + "/" + build_id.substr(2);
      files.push_back(by_id + ".debug");
      files.push_back(by_id);
    }
  }
  return files;
}

}  // namespace

std::string read_build_id(const std::string& file) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  elf_version(EV_CURRENT);
  std::string hex;
  if (Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr)) {
    const void* bytes = nullptr;
    ssize_t n = dwelf_elf_gnu_build_id(elf, &bytes);
    static const char digits[] = "0123456789abcdef";
    for (ssize_t i = 0; i < n; ++i) {
      unsigned char b = static_cast<const unsigned char*>(bytes)[i];
      hex += digits[b >> 4];
      hex += digits[b & 15];
    }
    elf_end(elf);
  }
  close(fd);
  return hex;
}

LocatedBinary locate_binary(const std::string& recorded_path, const std::string& build_id,
                            const SymbolizerOptions& options) {
  LocatedBinary result;
  for (const std::string& file : candidates(recorded_path, build_id, options)) {
    if (!is_regular_file(file)) continue;
    // Without a recorded build-id there is nothing to check against.
    std::string found_id = build_id.empty() ? std::string() : read_build_id(file);
    if (found_id == build_id) {
      result.file = file;
      result.problem.clear();
      return result;
    }
    // The first mismatch explains best why the module is missing.
    if (result.problem.empty())
      result.problem = "build-id differs (" + file + " has " +
                       (found_id.empty() ? std::string("none") : found_id) + ", the trace " +
                       build_id + ")";
  }
  if (result.problem.empty()) result.problem = "not found";
  return result;
}

}  // namespace memtide::analysis
