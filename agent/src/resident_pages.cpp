#include "resident_pages.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace memtide::agent {
namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kPresent = uint64_t(1) << 63;
constexpr uint64_t kSwapped = uint64_t(1) << 62;
constexpr size_t kEntriesPerRead = 512;

// Closes the descriptor on every path out.
struct PagemapFile {
  int fd =
      static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  ~PagemapFile() {
    if (fd >= 0) syscall(SYS_close, fd);
  }
};

}  // namespace

bool append_touched_runs(AddressRange range, MappedVector<AddressRange>& out) {
  const uint64_t first_page = range.begin / kPageSize;
  const uint64_t end_page = (range.end + kPageSize - 1) / kPageSize;
  if (first_page >= end_page) return true;
  PagemapFile pagemap;
  if (pagemap.fd < 0) return out.push_back(range);

  uint64_t entries[kEntriesPerRead];
  uint64_t run_begin = 0;
  bool in_run = false;
  auto close_run = [&](uint64_t page) {
    in_run = false;
    const AddressRange run{run_begin < range.begin ? range.begin : run_begin,
                           page * kPageSize > range.end ? range.end : page * kPageSize};
    return run.begin < run.end ? out.push_back(run) : true;
  };
  for (uint64_t page = first_page; page < end_page;) {
    const uint64_t want = end_page - page < kEntriesPerRead ? end_page - page : kEntriesPerRead;
    const long got = syscall(SYS_pread64, pagemap.fd, entries, want * sizeof(uint64_t),
                             static_cast<off_t>(page * sizeof(uint64_t)));
    if (got <= 0) {
      // The kernel would not say: scan the rest as it is.
      if (in_run && !close_run(page)) return false;
      return out.push_back(
          {page * kPageSize < range.begin ? range.begin : page * kPageSize, range.end});
    }
    const uint64_t read_entries = static_cast<uint64_t>(got) / sizeof(uint64_t);
    for (uint64_t i = 0; i < read_entries; ++i, ++page) {
      const bool touched = (entries[i] & (kPresent | kSwapped)) != 0;
      if (touched && !in_run) {
        in_run = true;
        run_begin = page * kPageSize;
      } else if (!touched && in_run && !close_run(page)) {
        return false;
      }
    }
  }
  return !in_run || close_run(end_page);
}

}  // namespace memtide::agent
