#include "scopes.h"

#include "agent_state.h"
#include "recorder.h"

namespace memtide::agent {

void enter_scope(std::string_view name, ScopeSource source) {
  ThreadState& state = thread_state();
  if (state.guard > 0 || phase() == Phase::kFinished) return;
  uint32_t id;
  {
    Guard guard;  // the tables allocate: not the program's memory
    NameTables& tables = name_tables();
    id = tables.scope(state.scope, tables.intern_string(name), source);
  }
  record_annotation(EventKind::kScopeEnter, 0, 0, id, false);  // carries the parent scope
  state.scope = id;
}

bool leave_scope() {
  ThreadState& state = thread_state();
  if (state.scope == 0 || state.guard > 0) return false;
  const uint32_t leaving = state.scope;
  record_annotation(EventKind::kScopeExit, 0, 0, leaving, false);
  state.scope = name_tables().scope_row(leaving).parent;
  return true;
}

void mark(std::string_view name) {
  if (thread_state().guard > 0 || phase() == Phase::kFinished) return;
  uint32_t id;
  {
    Guard guard;
    id = name_tables().intern_string(name);
  }
  record_annotation(EventKind::kMark, 0, 0, id, false);
}

}  // namespace memtide::agent
