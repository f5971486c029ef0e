// compare_scopes: the same scope paths across two runs. Scope ids differ
// from run to run; paths are what a user names, so rows are matched by path.
#include <map>

#include "memtide/analysis/scope_lifetimes.h"

namespace memtide::analysis {

std::vector<ScopeChange> compare_scopes(const ScopeLifetimes& base,
                                        const ScopeLifetimes& candidate) {
  std::map<std::string, ScopeChange> by_path;
  for (const ScopeRow& row : base.scopes) {
    ScopeChange& c = by_path[row.path];
    c.path = row.path;
    c.in_base = true;
    c.base_bytes = row.subtree.bytes;
    c.base_peak = row.subtree.peak_live_bytes;
    c.base_outliving = row.subtree.outliving_bytes;
  }
  for (const ScopeRow& row : candidate.scopes) {
    ScopeChange& c = by_path[row.path];
    c.path = row.path;
    c.in_new = true;
    c.new_bytes = row.subtree.bytes;
    c.new_peak = row.subtree.peak_live_bytes;
    c.new_outliving = row.subtree.outliving_bytes;
  }
  std::vector<ScopeChange> out;
  out.reserve(by_path.size());
  for (auto& [path, change] : by_path) out.push_back(std::move(change));
  return out;
}

}  // namespace memtide::analysis
