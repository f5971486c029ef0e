#include "dlopen_search.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <cstring>

namespace memtide::agent {

namespace {

// The directory of the object `map` (for the main program, of the executable).
bool origin_of(const link_map* map, char* out, size_t capacity) {
  if (map->l_name != nullptr && map->l_name[0] == '/') {
    const size_t n = std::strlen(map->l_name);
    if (n >= capacity) return false;
    std::memcpy(out, map->l_name, n + 1);
  } else {
    const ssize_t n = readlink("/proc/self/exe", out, capacity - 1);
    if (n <= 0) return false;
    out[n] = '\0';
  }
  char* slash = std::strrchr(out, '/');
  if (slash == nullptr) return false;
  *slash = '\0';
  return true;
}

// The object's RUNPATH, else its RPATH (glibc ignores RPATH when RUNPATH is set).
const char* search_path_of(const link_map* map) {
  const char* strings = nullptr;
  ElfW(Xword) runpath = 0, rpath = 0;
  bool has_runpath = false, has_rpath = false;
  for (const ElfW(Dyn)* d = map->l_ld; d != nullptr && d->d_tag != DT_NULL; ++d) {
    if (d->d_tag == DT_STRTAB) {
      const ElfW(Addr) p = d->d_un.d_ptr;
      strings = reinterpret_cast<const char*>(p < map->l_addr ? p + map->l_addr : p);
    } else if (d->d_tag == DT_RUNPATH) {
      runpath = d->d_un.d_val, has_runpath = true;
    } else if (d->d_tag == DT_RPATH) {
      rpath = d->d_un.d_val, has_rpath = true;
    }
  }
  if (strings == nullptr) return nullptr;
  if (has_runpath) return strings + runpath;
  if (has_rpath) return strings + rpath;
  return nullptr;
}

// Expands $ORIGIN / ${ORIGIN} in one search-path entry; false for entries
// with other tokens ($LIB, $PLATFORM), which are left to libc.
bool expand(const char* entry, size_t length, const char* origin, char* out, size_t capacity) {
  size_t used = 0;
  for (size_t i = 0; i < length;) {
    if (entry[i] == '$') {
      size_t token = 0;
      if (length - i >= 7 && std::strncmp(entry + i, "$ORIGIN", 7) == 0) token = 7;
      if (length - i >= 9 && std::strncmp(entry + i, "${ORIGIN}", 9) == 0) token = 9;
      if (token == 0) return false;
      const size_t n = std::strlen(origin);
      if (used + n >= capacity) return false;
      std::memcpy(out + used, origin, n);
      used += n;
      i += token;
    } else {
      if (used + 1 >= capacity) return false;
      out[used++] = entry[i++];
    }
  }
  out[used] = '\0';
  return true;
}

}  // namespace

bool find_in_caller_paths(const char* file, const void* caller, char* out, size_t capacity) {
  if (file == nullptr || std::strchr(file, '/') != nullptr) return false;
  Dl_info info;
  link_map* map = nullptr;
  if (dladdr1(caller, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) == 0 ||
      map == nullptr)
    return false;
  const char* path = search_path_of(map);
  if (path == nullptr) return false;
  char origin[1024];
  if (!origin_of(map, origin, sizeof origin)) origin[0] = '\0';
  for (const char* entry = path; *entry != '\0';) {
    const char* end = std::strchr(entry, ':');
    const size_t length = end ? size_t(end - entry) : std::strlen(entry);
    char directory[2048];
    if (length > 0 && expand(entry, length, origin, directory, sizeof directory)) {
      const size_t d = std::strlen(directory), f = std::strlen(file);
      if (d + 1 + f < capacity) {
        std::memcpy(out, directory, d);
        out[d] = '/';
        std::memcpy(out + d + 1, file, f + 1);
        if (access(out, F_OK) == 0) return true;
      }
    }
    if (end == nullptr) break;
    entry = end + 1;
  }
  return false;
}

}  // namespace memtide::agent
