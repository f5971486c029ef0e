#include "memory_map.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace memtide::agent {
namespace {

bool parse_hex(const char*& p, const char* end, uint64_t& out) {
  out = 0;
  const char* start = p;
  for (; p < end; ++p) {
    const char c = *p;
    uint64_t digit;
    if (c >= '0' && c <= '9')
      digit = uint64_t(c - '0');
    else if (c >= 'a' && c <= 'f')
      digit = uint64_t(c - 'a' + 10);
    else
      break;
    out = out << 4 | digit;
  }
  return p != start;
}

bool starts_with(const char* text, const char* end, const char* prefix) {
  const size_t n = std::strlen(prefix);
  return size_t(end - text) >= n && std::memcmp(text, prefix, n) == 0;
}

MappingKind kind_of(const char* name, const char* end) {
  if (name == end || starts_with(name, end, "[anon:")) return MappingKind::kAnonymous;
  if (starts_with(name, end, "[heap]")) return MappingKind::kHeap;
  if (starts_with(name, end, "[stack")) return MappingKind::kStack;
  if (*name == '[') return MappingKind::kSpecial;
  if (starts_with(name, end, "/dev/") && !starts_with(name, end, "/dev/zero"))
    return MappingKind::kDevice;
  return MappingKind::kFile;
}

}  // namespace

// Line format: begin-end perms offset dev inode [name]
bool parse_proc_maps(const char* text, size_t length, MappedVector<Mapping>& out) {
  const char* p = text;
  const char* const end = text + length;
  while (p < end) {
    const char* line_end = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
    if (line_end == nullptr) line_end = end;
    Mapping m{};
    if (!parse_hex(p, line_end, m.begin) || p >= line_end || *p++ != '-' ||
        !parse_hex(p, line_end, m.end) || line_end - p < 5 || *p++ != ' ')
      return false;
    m.readable = p[0] == 'r';
    m.writable = p[1] == 'w';
    m.shared = p[3] == 's';
    p += 4;
    // Skip offset, device and inode: the name starts after the fifth field.
    for (int field = 0; field < 3 && p < line_end; ++field) {
      while (p < line_end && *p == ' ') ++p;
      while (p < line_end && *p != ' ') ++p;
    }
    while (p < line_end && *p == ' ') ++p;
    m.kind = kind_of(p, line_end);
    if (!out.push_back(m)) return false;
    p = line_end + 1;
  }
  return true;
}

bool read_proc_maps(MappedVector<char>& text) {
  const int fd =
      static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC));
  if (fd < 0) return false;
  text.clear();
  bool ok = true;
  for (;;) {
    if (!text.reserve(text.size() + 65536)) {
      ok = false;
      break;
    }
    const size_t used = text.size();
    const long n = syscall(SYS_read, fd, text.data() + used, 65536);
    if (n < 0) {
      ok = false;
      break;
    }
    if (n == 0) break;
    text.adopt_written(used + size_t(n));
  }
  syscall(SYS_close, fd);
  return ok;
}

void normalize_ranges(MappedVector<AddressRange>& ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const AddressRange& a, const AddressRange& b) { return a.begin < b.begin; });
  size_t kept = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].begin >= ranges[i].end) continue;
    if (kept != 0 && ranges[i].begin <= ranges[kept - 1].end) {
      if (ranges[i].end > ranges[kept - 1].end) ranges[kept - 1].end = ranges[i].end;
    } else {
      ranges[kept++] = ranges[i];
    }
  }
  ranges.resize_zeroed(kept);
}

bool subtract_ranges(AddressRange range, const MappedVector<AddressRange>& excluded,
                     MappedVector<AddressRange>& out) {
  // The first excluded range that ends after the start.
  const AddressRange* it =
      std::upper_bound(excluded.begin(), excluded.end(), range.begin,
                       [](uint64_t address, const AddressRange& r) { return address < r.end; });
  uint64_t cursor = range.begin;
  for (; it != excluded.end() && it->begin < range.end; ++it) {
    if (it->begin > cursor && !out.push_back(AddressRange{cursor, it->begin})) return false;
    if (it->end > cursor) cursor = it->end;
  }
  if (cursor < range.end && !out.push_back(AddressRange{cursor, range.end})) return false;
  return true;
}

const Mapping* mapping_containing(const MappedVector<Mapping>& mappings, uint64_t address) {
  const Mapping* it = std::upper_bound(mappings.begin(), mappings.end(), address,
                                       [](uint64_t a, const Mapping& m) { return a < m.end; });
  return it != mappings.end() && it->begin <= address ? it : nullptr;
}

}  // namespace memtide::agent
