// Allocation sites (`memtide top`): stacks and scopes ranked by bytes
// allocated, by allocation count, or by temporaries.
//
// A temporary is heaptrack's: an allocation whose free is the allocating
// thread's very next heap event — no other allocation or free by that thread
// in between. Heap blocks, pool sub-allocations and GPU blocks all count as
// allocations (a pool's backing blocks and its sub-allocations are both
// listed, each under its own memory label: `top` ranks sites, it does not
// sum them). One pass over the events, memory bounded by the number of
// distinct sites and threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memtide/analysis/report_data.h"
#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

struct AllocationSite {
  std::string memory;               // "heap", "pool", "cuda:N"
  uint32_t stack = 0;               // stack rows
  std::vector<ReportFrame> frames;  // stack rows, innermost first
  std::string scope;                // scope rows: the path, "" outside every scope
  uint64_t allocations = 0, bytes = 0;
  uint64_t temporaries = 0, temporary_bytes = 0;
};

enum class SiteOrder { kBytes, kCount, kTemporaries };

struct TopOptions {
  SiteOrder order = SiteOrder::kBytes;
  size_t max_sites = 20;  // per table
  std::vector<std::string> search_paths;
  std::string sysroot;
};

struct TopAllocations {
  std::string trace;
  SiteOrder order = SiteOrder::kBytes;
  std::vector<AllocationSite> stacks, scopes;  // ranked, the first max_sites
  uint64_t allocations = 0, bytes = 0, temporaries = 0, temporary_bytes = 0;
  uint64_t events = 0;
  std::vector<std::string> missing_modules;
};

// Throws TraceError.
TopAllocations top_allocations(const TraceFile& trace, const TopOptions& options);

}  // namespace memtide::analysis
