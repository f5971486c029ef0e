// Scope and marker bookkeeping shared by the annotate API and NVTX.
#pragma once

#include <cstdint>
#include <string_view>

#include "name_tables.h"

namespace memtide::agent {

// Enters `name` under the calling thread's current scope; returns its depth.
void enter_scope(std::string_view name, ScopeSource source);
// Leaves the innermost scope; returns false when none is open.
bool leave_scope();
void mark(std::string_view name);

}  // namespace memtide::agent
