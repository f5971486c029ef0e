// Two runs side by side, for regression gates in CI: the peak, leaked bytes,
// allocations per training step, and the allocation sites whose bytes grew
// most (matched across runs by their symbolized frames, since stack ids and
// addresses differ from run to run), and the scopes (layers) whose bytes,
// peak or outliving bytes changed (matched by scope path).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "memtide/analysis/report_data.h"
#include "memtide/analysis/scope_lifetimes.h"

namespace memtide::analysis {

struct RunMeasures {
  std::string trace;
  uint64_t peak_bytes = 0;  // host heap
  // The peak of live GPU memory of each device ("cuda:0" -> bytes), as
  // `memtide peak` measures it; empty for a run without GPU memory.
  std::map<std::string, uint64_t> device_peak_bytes;
  uint64_t leaked_bytes = 0;
  uint64_t allocations = 0;
  uint64_t steps = 0;
  double allocations_per_step() const {
    return steps ? double(allocations) / double(steps) : double(allocations);
  }
};

struct SiteChange {
  std::string site;  // the innermost frames, "f <- g <- h"
  int64_t base_bytes = 0, new_bytes = 0;
  int64_t base_count = 0, new_count = 0;
};

struct DiffOptions {
  // Applies to the host heap peak and to each GPU device's peak.
  std::optional<double> max_peak_increase_percent;
  std::optional<uint64_t> max_leak_increase_bytes;
  std::vector<std::string> search_paths;
  std::string sysroot;
  size_t top_sites = 10;
  size_t top_layers = 10;
};

struct RunDiff {
  RunMeasures base, candidate;
  std::vector<SiteChange> grown;  // largest byte increase first
  // Scopes that changed, the largest peak change first (then bytes).
  std::vector<ScopeChange> layers_changed;
  std::vector<GateVerdict> gates;
  bool gates_passed = true;
};

RunDiff diff_runs(const std::string& base, const std::string& candidate,
                  const DiffOptions& options);
std::string render_diff_text(const RunDiff& diff);
std::string render_diff_json(const RunDiff& diff);

}  // namespace memtide::analysis
