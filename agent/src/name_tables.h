// Interned strings, scopes and pools. Scopes form a tree: a scope is a name
// entered inside a parent scope on some thread, so "encoder.3" entered under
// "forward" and under "backward" are two scopes. Rows are append-only and
// published for the writer through ChunkedArray; inserts take one lock, which
// is cheap because programs enter the same few hundred scopes again and again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "chunked_array.h"
#include "spin_lock.h"

namespace memtide::agent {

enum class ScopeSource : uint8_t { kAnnotate = 0, kNvtx = 1 };

struct ScopeRow {
  uint32_t parent;  // 0 = top level
  uint32_t name;    // string id
  uint32_t depth;   // 1 for top-level scopes
  ScopeSource source;
};

struct PoolRow {
  uint64_t handle;
  uint32_t name;  // string id, 0 = unnamed
  uint64_t create_seq;
};

class NameTables {
 public:
  // 1-based ids; 0 is "none".
  uint32_t intern_string(std::string_view text);
  uint32_t scope(uint32_t parent, uint32_t name, ScopeSource source);
  uint32_t pool(uint64_t handle, uint32_t name, uint64_t seq, bool create);
  // Forget a destroyed pool's handle so that a later pool at the same address
  // gets an id of its own.
  void forget_pool(uint64_t handle);
  // Pool blocks by address, so that a pool free knows its size.
  void pool_block_allocated(uint64_t address, uint64_t size);
  uint64_t pool_block_freed(uint64_t address);  // 0 when unknown

  const ScopeRow& scope_row(uint32_t id) const { return scopes_[id - 1]; }
  uint32_t scope_count() const { return scopes_.size(); }
  std::string_view string_at(uint32_t id) const { return *strings_[id - 1]; }
  uint32_t string_count() const { return strings_.size(); }
  const PoolRow& pool_row(uint32_t id) const { return pools_[id - 1]; }
  uint32_t pool_count() const { return pools_.size(); }

  void lock_for_fork() { lock_.lock(); }
  void unlock_after_fork() { lock_.unlock(); }
  void reset_lock_in_child() { lock_.reset(); }

 private:
  struct ScopeKey {
    uint32_t parent, name;
    ScopeSource source;
    bool operator==(const ScopeKey&) const = default;
  };
  struct ScopeKeyHash {
    size_t operator()(const ScopeKey& k) const {
      return (uint64_t{k.parent} << 32 | k.name) * 0x9e3779b97f4a7c15ULL + uint8_t(k.source);
    }
  };

  SpinLock lock_;
  std::unordered_map<std::string, uint32_t> string_ids_;
  std::unordered_map<ScopeKey, uint32_t, ScopeKeyHash> scope_ids_;
  std::unordered_map<uint64_t, uint32_t> pool_ids_;
  std::unordered_map<uint64_t, uint64_t> pool_block_sizes_;
  ChunkedArray<const std::string*, 4096> strings_;
  ChunkedArray<ScopeRow, 4096> scopes_;
  ChunkedArray<PoolRow, 4096> pools_;
};

NameTables& name_tables();

}  // namespace memtide::agent
