// A trace written by hand, the way the agent writes one: the schema, one
// process (pid 42, "synthetic", 0 to 1 ms) with one thread (id 1, tid 4242),
// and the events added, in one page. Unit tests of the analyses build exactly
// the events they reason about.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memtide_common/event.h"

namespace memtide::test {

class SyntheticTrace {
 public:
  explicit SyntheticTrace(const std::string& name);
  ~SyntheticTrace();

  // Sequence numbers count from 1; time is 1000 ns per event. `scope` is the
  // thread's innermost scope at the event (0: none).
  void add(EventKind kind, uint64_t address, uint64_t size, uint64_t aux = 0, uint32_t stack = 0,
           uint32_t scope = 0);
  // More rows (SQL statements) written with the trace.
  void sql(const std::string& statements) { sql_ += statements; }
  // The agent's exit scan ran (meta.leak_scan = done) and classified `address`.
  void classify(uint64_t address, uint64_t size, int category);

  const std::string& write();

 private:
  std::string path_;
  std::vector<EventRecord> events_;
  std::string sql_;
  bool scanned_ = false;
};

}  // namespace memtide::test
