// Memory for the agent's own tables, straight from the kernel: never through
// malloc (so the hot path does not allocate) and never through the mmap hook.
// Every mapping is registered, so the exit leak scan can leave the agent's
// own memory (rings full of block addresses, the live set) out of its roots.
#pragma once

#include <cstddef>
#include <cstdint>

namespace memtide::agent {

void* map_zeroed(size_t bytes);
// The same, for a table read at random addresses that is mostly touched
// anyway (a hash index): asks for transparent huge pages, where the kernel
// gives them on request (THP "madvise" mode, Debian's default), so that
// probing a table of many megabytes stops costing a TLB miss per probe.
void* map_zeroed_random_access(size_t bytes);
void unmap(void* p, size_t bytes);

struct OwnMapping {
  uint64_t begin;
  uint64_t end;  // 0 once unmapped
};

// The agent's registered mappings: [0, own_mapping_count()). A slot whose
// `end` is 0 was unmapped. Mappings beyond the registry's capacity are not
// listed (the leak scan then reads them as roots: more reachable, never less).
uint32_t own_mapping_count();
OwnMapping own_mapping_at(uint32_t index);

}  // namespace memtide::agent
