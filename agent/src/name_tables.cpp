#include "name_tables.h"

#include <new>

namespace memtide::agent {

namespace {
constexpr size_t kMaxNameBytes = 4096;  // longer names are cut, not refused
}

NameTables& name_tables() {
  // Deliberately never destroyed: frees during static destruction still find it.
  alignas(NameTables) static unsigned char storage[sizeof(NameTables)];
  static NameTables* tables = new (storage) NameTables();
  return *tables;
}

uint32_t NameTables::intern_string(std::string_view text) {
  if (text.size() > kMaxNameBytes) text = text.substr(0, kMaxNameBytes);
  SpinGuard guard(lock_);
  auto [it, inserted] = string_ids_.try_emplace(std::string(text), 0);
  if (inserted) {
    uint32_t index = strings_.append(&it->first);
    if (index == UINT32_MAX) {
      string_ids_.erase(it);
      return 0;
    }
    it->second = index + 1;
  }
  return it->second;
}

uint32_t NameTables::scope(uint32_t parent, uint32_t name, ScopeSource source) {
  SpinGuard guard(lock_);
  auto [it, inserted] = scope_ids_.try_emplace(ScopeKey{parent, name, source}, 0);
  if (inserted) {
    uint32_t depth = parent ? scopes_[parent - 1].depth + 1 : 1;
    uint32_t index = scopes_.append(ScopeRow{parent, name, depth, source});
    if (index == UINT32_MAX) {
      scope_ids_.erase(it);
      return parent;
    }
    it->second = index + 1;
  }
  return it->second;
}

uint32_t NameTables::pool(uint64_t handle, uint32_t name, uint64_t seq, bool create) {
  SpinGuard guard(lock_);
  auto it = pool_ids_.find(handle);
  if (it != pool_ids_.end() && !create) return it->second;
  uint32_t index = pools_.append(PoolRow{handle, name, seq});
  if (index == UINT32_MAX) return 0;
  pool_ids_[handle] = index + 1;
  return index + 1;
}

void NameTables::pool_block_allocated(uint64_t address, uint64_t size) {
  SpinGuard guard(lock_);
  pool_block_sizes_[address] = size;
}

uint64_t NameTables::pool_block_freed(uint64_t address) {
  SpinGuard guard(lock_);
  auto it = pool_block_sizes_.find(address);
  if (it == pool_block_sizes_.end()) return 0;
  uint64_t size = it->second;
  pool_block_sizes_.erase(it);
  return size;
}

void NameTables::forget_pool(uint64_t handle) {
  SpinGuard guard(lock_);
  pool_ids_.erase(handle);
}

}  // namespace memtide::agent
