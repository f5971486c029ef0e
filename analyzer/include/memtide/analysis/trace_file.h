// Read access to one trace database: validation on open (a clear error for a
// file that is missing, not SQLite, not a memtide trace, truncated, or of
// another schema version) and the event stream in global sequence order.
#pragma once

#include <atomic>
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

// Thrown out of an event scan when its ScanControl was cancelled.
class ScanCancelled : public TraceError {
 public:
  using TraceError::TraceError;
};

// Lets another thread follow and stop the event scans of a TraceFile (the
// GUI's loader: a progress bar and a cancel button). Shared by the trace
// files of one job; checked once per decoded page, so a cancel takes effect
// within one page.
struct ScanControl {
  std::atomic<bool> cancelled{false};
  std::atomic<uint64_t> events_scanned{0};  // over every scan using this control
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

  // The same, restricted to events with first_seq <= seq <= last_seq; only
  // the pages that overlap the range are decoded.
  void for_each_event_between(
      uint64_t first_seq, uint64_t last_seq,
      const std::function<void(const EventRecord&, int64_t thread_id)>& visit) const;

  std::vector<PageInfo> pages() const;

  // Scans from now on report to `control` and stop with ScanCancelled when
  // it is cancelled; nullptr detaches. The control must outlive the scans.
  void set_scan_control(ScanControl* control) { control_ = control; }
  ScanControl* scan_control() const { return control_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  int schema_version_ = 0;
  ScanControl* control_ = nullptr;
};

}  // namespace memtide::analysis
