// The process's mappings as /proc/self/maps lists them, and address-range
// arithmetic for the leak scan's roots. Pure and allocation-free (mapped
// memory only), so it runs while other threads are stopped.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mapped_vector.h"

namespace memtide::agent {

enum class MappingKind : uint8_t {
  kAnonymous,  // no file, or named anonymous memory ([anon:...])
  kFile,
  kHeap,     // [heap]: glibc's main arena (brk)
  kStack,    // [stack]: the main thread's stack
  kSpecial,  // [vdso], [vvar], [vsyscall] and other kernel areas
  kDevice,   // a /dev file other than /dev/zero (GPU and driver memory)
};

struct Mapping {
  uint64_t begin;
  uint64_t end;
  bool readable;
  bool writable;
  bool shared;
  MappingKind kind;
};

struct AddressRange {
  uint64_t begin;
  uint64_t end;
};

// Parses the text of /proc/self/maps; false on malformed text or no memory.
bool parse_proc_maps(const char* text, size_t length, MappedVector<Mapping>& out);

// Reads /proc/self/maps with raw system calls (no malloc) into `text`.
bool read_proc_maps(MappedVector<char>& text);

// Sorts ranges by start and merges those that overlap or touch.
void normalize_ranges(MappedVector<AddressRange>& ranges);

// Appends to `out` the parts of `range` that no range of `excluded`
// (normalized) covers.
bool subtract_ranges(AddressRange range, const MappedVector<AddressRange>& excluded,
                     MappedVector<AddressRange>& out);

// The mapping containing `address`, or null; `mappings` sorted by address.
const Mapping* mapping_containing(const MappedVector<Mapping>& mappings, uint64_t address);

}  // namespace memtide::agent
