// The strong definitions behind memtide/annotate.h's weak declarations.
#include "memtide/annotate.h"

#include "agent_state.h"
#include "name_tables.h"
#include "recorder.h"
#include "recorder_hot.h"
#include "scopes.h"

using namespace memtide;
using namespace memtide::agent;

namespace {

uint32_t pool_id(const void* pool, const char* name, bool create) {
  Guard guard;
  NameTables& tables = name_tables();
  uint32_t name_id = name ? tables.intern_string(name) : 0;
  return tables.pool(reinterpret_cast<uint64_t>(pool), name_id, 0, create);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void memtide_scope_push(const char* name) {
  enter_scope(name ? name : "(null)", ScopeSource::kAnnotate);
}

__attribute__((visibility("default"))) void memtide_scope_pop(void) {
  leave_scope();
}

__attribute__((visibility("default"))) void memtide_step(int64_t step) {
  record_annotation(EventKind::kStep, 0, 0, static_cast<uint64_t>(step), false);
}

__attribute__((visibility("default"))) void memtide_mark(const char* name) {
  mark(name ? name : "(null)");
}

__attribute__((visibility("default"))) void memtide_pool_create(const void* pool,
                                                                const char* name) {
  if (!may_record()) return;
  uint32_t id = pool_id(pool, name, true);
  record_annotation(EventKind::kPoolCreate, reinterpret_cast<uint64_t>(pool), 0, id, true);
}

__attribute__((visibility("default"))) void memtide_pool_alloc(const void* pool,
                                                               const void* address, size_t size) {
  if (!may_record()) return;
  uint32_t id = pool_id(pool, nullptr, false);
  {
    Guard guard;
    name_tables().pool_block_allocated(reinterpret_cast<uint64_t>(address), size);
  }
  record_annotation(EventKind::kPoolAlloc, reinterpret_cast<uint64_t>(address), size, id, true);
}

__attribute__((visibility("default"))) void memtide_pool_free(const void* pool,
                                                              const void* address) {
  if (!may_record()) return;
  uint32_t id = pool_id(pool, nullptr, false);
  uint64_t size;
  {
    Guard guard;
    size = name_tables().pool_block_freed(reinterpret_cast<uint64_t>(address));
  }
  record_annotation(EventKind::kPoolFree, reinterpret_cast<uint64_t>(address), size, id,
                    options().free_stacks);
}

__attribute__((visibility("default"))) void memtide_pool_destroy(const void* pool) {
  if (!may_record()) return;
  uint32_t id = pool_id(pool, nullptr, false);
  record_annotation(EventKind::kPoolDestroy, reinterpret_cast<uint64_t>(pool), 0, id, false);
  Guard guard;
  name_tables().forget_pool(reinterpret_cast<uint64_t>(pool));
}

__attribute__((visibility("default"))) int memtide_is_active(void) {
  return phase() == Phase::kRecording ? 1 : 0;
}

}  // extern "C"
