// The symbol cache inside a trace database: the frames of every resolved ip,
// so that a trace symbolized once needs no binaries afterwards. Layout in
// docs/trace-format.md ("symbols").
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "memtide/analysis/report_data.h"
#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

using FramesByIp = std::unordered_map<uint64_t, std::vector<ReportFrame>>;

// Version of the cache's layout, kept in meta as `symbols_format`; a cache of
// another version is ignored and replaced on the next write.
inline constexpr int kSymbolCacheFormat = 1;

// Adds every cached ip to `frames`. A trace without a cache (or with one of
// another format) adds none.
void read_symbol_cache(const TraceFile& trace, FramesByIp& frames);

// Writes the frames of `ips` (all present in `frames`), replacing what the
// cache held for them, in one transaction. Throws TraceError.
void write_symbol_cache(const TraceFile& trace, const FramesByIp& frames,
                        const std::vector<uint64_t>& ips);

}  // namespace memtide::analysis
