// The modules table of a trace as an address map: which recorded module an
// instruction pointer falls in.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

namespace memtide::analysis {

struct TraceModule {
  int64_t id = 0;
  std::string path;      // as recorded
  std::string build_id;  // lower-case hex, empty when the object had none
  uint64_t base = 0, size = 0;
  uint64_t load_bias = 0;  // runtime address = file virtual address + load_bias
};

class TraceModules {
 public:
  explicit TraceModules(sqlite3* db);

  size_t size() const { return modules_.size(); }
  const TraceModule& at(size_t index) const { return modules_[index]; }

  // Index of the module whose range holds `address`, or -1. Where a module
  // was unloaded and another mapped over its range, the later one wins: the
  // stack does not say when it was taken, and later loads hold more events.
  long find(uint64_t address) const;

 private:
  std::vector<TraceModule> modules_;  // sorted by base, then id
  std::vector<uint64_t> reach_;       // highest end address of modules_[0..i]
};

}  // namespace memtide::analysis
