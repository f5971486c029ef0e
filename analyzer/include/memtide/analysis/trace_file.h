// Read access to one trace database: validation on open (a clear error for a
// file that is missing, not SQLite, not a memtide trace, truncated, or of
// another schema version) and the event stream in global sequence order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "memtide_common/event.h"

struct sqlite3;

namespace memtide::analysis {

// Thrown for any problem with a trace file; what() names the file and the fault.
class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PageInfo {
  int64_t id;
  int64_t thread_id;
  uint64_t first_seq, last_seq;
  uint64_t event_count;
};

class TraceFile {
 public:
  // Opens and validates; throws TraceError.
  explicit TraceFile(const std::string& path);
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* db() const { return db_; }
  int schema_version() const { return schema_version_; }

  // A meta value as text, or `fallback` when absent.
  std::string meta(const std::string& key, const std::string& fallback = "") const;

  // Visits every event in global sequence order, with the thread it came from.
  // A page that cannot be decoded throws TraceError naming the page.
  void for_each_event(
      const std::function<void(const EventRecord&, int64_t thread_id)>& visit) const;

  std::vector<PageInfo> pages() const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  int schema_version_ = 0;
};

}  // namespace memtide::analysis
