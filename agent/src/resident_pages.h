// Which pages of a range hold anything the program wrote: the exit leak scan
// reads only those. A page that is neither present nor swapped out was
// never touched since it was mapped, so it still holds what the mapping
// started with: zeros, or the bytes of the file. Neither can hold a pointer
// into a heap block allocated at run time. Reading such pages would fault
// them in: for a library's writable data that is file memory the process
// never used, tens of MB for a framework like libtorch, all of it charged
// to the agent's resident memory at exit.
#pragma once

#include "mapped_vector.h"
#include "memory_map.h"

namespace memtide::agent {

// Appends to `out` the runs of `range` whose pages are present or swapped,
// per /proc/self/pagemap. When pagemap cannot be read, appends `range`
// whole (scanning too much is safe; too little is not). Async-signal-safe:
// raw system calls, no allocation but `out`'s own mapped growth.
bool append_touched_runs(AddressRange range, MappedVector<AddressRange>& out);

}  // namespace memtide::agent
