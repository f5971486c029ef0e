/* memtide/annotate.h — annotate a program for memtide (C and C++).
 *
 * Scopes name the region of code (a layer, a phase) that owns the memory it
 * allocates; steps mark training iterations; pool annotations describe the
 * blocks an arena hands out so that they show up as allocations of their own.
 *
 * Every function is declared weak: a program built with this header runs
 * unchanged, and pays one predictable branch per call, when libmemtide.so is
 * not preloaded. Under the agent the calls resolve to libmemtide.so.
 *
 *   #include <memtide/annotate.h>
 *   void train_step(int step) {
 *     memtide_step(step);
 *     MEMTIDE_SCOPE("encoder.0/forward");   // C++ only: popped at end of block
 *     ...
 *   }
 *
 * Pools follow Valgrind's MEMPOOL client requests: create the pool with the
 * address of its control structure, report each block handed out and each
 * block returned, destroy the pool when its memory is released. The pool's own
 * backing allocations (malloc, mmap) are recorded as usual.
 */
#ifndef MEMTIDE_ANNOTATE_H
#define MEMTIDE_ANNOTATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEMTIDE_WEAK __attribute__((weak))

/* Enter a named scope on the calling thread; scopes nest per thread. */
MEMTIDE_WEAK void memtide_scope_push(const char* name);
/* Leave the innermost scope of the calling thread. */
MEMTIDE_WEAK void memtide_scope_pop(void);
/* Mark the start of training step `step` (recorded with the calling thread). */
MEMTIDE_WEAK void memtide_step(int64_t step);
/* An instantaneous named marker on the timeline. */
MEMTIDE_WEAK void memtide_mark(const char* name);

/* Pool (arena) sub-allocation annotations. `pool` identifies the pool. */
MEMTIDE_WEAK void memtide_pool_create(const void* pool, const char* name);
MEMTIDE_WEAK void memtide_pool_alloc(const void* pool, const void* address, size_t size);
MEMTIDE_WEAK void memtide_pool_free(const void* pool, const void* address);
MEMTIDE_WEAK void memtide_pool_destroy(const void* pool);

/* Non-zero when the agent is loaded into this process. */
MEMTIDE_WEAK int memtide_is_active(void);

/* Safe wrappers: call these (or the C++ helpers) rather than the raw symbols. */
static inline void memtide_scope_enter(const char* name) {
  if (memtide_scope_push) memtide_scope_push(name);
}
static inline void memtide_scope_leave(void) {
  if (memtide_scope_pop) memtide_scope_pop();
}
static inline void memtide_step_begin(int64_t step) {
  if (memtide_step) memtide_step(step);
}
static inline void memtide_marker(const char* name) {
  if (memtide_mark) memtide_mark(name);
}
static inline void memtide_pool_created(const void* pool, const char* name) {
  if (memtide_pool_create) memtide_pool_create(pool, name);
}
static inline void memtide_pool_allocated(const void* pool, const void* address, size_t size) {
  if (memtide_pool_alloc) memtide_pool_alloc(pool, address, size);
}
static inline void memtide_pool_freed(const void* pool, const void* address) {
  if (memtide_pool_free) memtide_pool_free(pool, address);
}
static inline void memtide_pool_destroyed(const void* pool) {
  if (memtide_pool_destroy) memtide_pool_destroy(pool);
}
static inline int memtide_active(void) {
  return memtide_is_active ? memtide_is_active() : 0;
}

#ifdef __cplusplus
} /* extern "C" */

namespace memtide {

/* RAII scope: `memtide::Scope s("layer.3/forward");` */
class Scope {
 public:
  explicit Scope(const char* name) { memtide_scope_enter(name); }
  ~Scope() { memtide_scope_leave(); }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
};

}  // namespace memtide

#define MEMTIDE_CONCAT_INNER(a, b) a##b
#define MEMTIDE_CONCAT(a, b) MEMTIDE_CONCAT_INNER(a, b)
/* Open a scope that closes at the end of the enclosing block. */
#define MEMTIDE_SCOPE(name) ::memtide::Scope MEMTIDE_CONCAT(memtide_scope_, __LINE__)(name)

#endif /* __cplusplus */

#endif /* MEMTIDE_ANNOTATE_H */
