// The loaded objects of the process (executable, shared libraries, vdso):
// path, GNU build-id, load address and extent, and when each was loaded and
// unloaded, so that instruction pointers can be symbolized offline.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "chunked_array.h"

namespace memtide::agent {

struct ModuleRecord {
  const std::string* path;
  const std::string* build_id;  // lower-case hex, empty when absent
  uint64_t base;                // lowest mapped address (l_addr + lowest PT_LOAD vaddr)
  uint64_t size;                // extent of the PT_LOAD segments
  uint64_t load_bias;           // l_addr: add to an ELF virtual address to get a runtime one
  uint64_t load_seq;
  uint64_t load_time_ns;
  std::atomic<uint64_t> unload_seq;  // 0 while loaded
  uint64_t unload_time_ns;
};

// Re-reads the loaded objects, appending new ones and marking vanished ones
// unloaded. Called at start, after dlopen and after dlclose.
void refresh_modules();

uint32_t module_count();
ModuleRecord& module_at(uint32_t index);

// The address range of libmemtide's own code, so its frames can be skipped.
void agent_code_range(uint64_t& begin, uint64_t& end);

}  // namespace memtide::agent
