#include "memtide/analysis/gpu_summary.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <unordered_map>
#include <vector>

#include "sqlite_util.h"

namespace memtide::analysis {

namespace {

// The CUDA driver and runtime, and memtide itself: frames in these are the
// path to the driver, not who asked for the memory.
bool is_cuda_plumbing(const std::string& base) {
  for (const char* prefix : {"libcuda.so", "libcudart.so", "libcupti.so", "libmemtide.so"})
    if (base.rfind(prefix, 0) == 0) return true;
  return false;
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

struct Module {
  uint64_t base, size;
  std::string name;
  bool plumbing;
};

// Resolves a stack id to its origin module, caching per stack.
class Origins {
 public:
  explicit Origins(const TraceFile& trace) {
    Statement modules(trace.db(), "SELECT base, size, path FROM modules ORDER BY base");
    while (modules.step()) {
      std::string name = base_name(modules.column_text(2));
      const bool plumbing = is_cuda_plumbing(name);
      modules_.push_back(
          {uint64_t(modules.column_int64(0)), uint64_t(modules.column_int64(1)), name, plumbing});
    }
    Statement nodes(trace.db(), "SELECT id, parent, ip FROM stack_nodes");
    while (nodes.step())
      nodes_[uint32_t(nodes.column_int64(0))] = {uint32_t(nodes.column_int64(1)),
                                                 uint64_t(nodes.column_int64(2))};
  }

  const std::string& of(uint32_t stack) {
    auto cached = cache_.find(stack);
    if (cached != cache_.end()) return cached->second;
    std::string origin = stack == 0 ? "(no stack)" : "(unknown)";
    for (uint32_t node = stack; node != 0;) {
      auto it = nodes_.find(node);
      if (it == nodes_.end()) break;
      const Module* m = module_at(it->second.ip);
      if (m != nullptr && !m->plumbing) {
        origin = m->name;
        break;
      }
      node = it->second.parent;
    }
    return cache_.emplace(stack, origin).first->second;
  }

 private:
  const Module* module_at(uint64_t ip) const {
    for (const Module& m : modules_)
      if (ip >= m.base && ip < m.base + m.size) return &m;
    return nullptr;
  }

  struct Node {
    uint32_t parent;
    uint64_t ip;
  };
  std::vector<Module> modules_;
  std::unordered_map<uint32_t, Node> nodes_;
  std::unordered_map<uint32_t, std::string> cache_;
};

// Mappings are views of physical memory and reservations are addresses only:
// neither adds bytes to what an origin holds.
bool is_memory(GpuMemoryClass c) {
  return c != GpuMemoryClass::kMapped && c != GpuMemoryClass::kReserved;
}

struct Block {
  uint64_t size;
  uint32_t device;
  GpuMemoryClass memory_class;
  std::string origin;
};

class Replay {
 public:
  Replay(const TraceFile& trace, GpuSummary& out) : origins_(trace), out_(out) {
    Statement pools(trace.db(),
                    "SELECT p.id, coalesce(s.value, 'pool ' || p.id) FROM pools p "
                    "LEFT JOIN strings s ON s.id = p.name_id");
    while (pools.step()) pool_names_[uint32_t(pools.column_int64(0))] = pools.column_text(1);
  }

  void event(const EventRecord& e) {
    if (e.kind == EventKind::kPoolAlloc) {
      pool_blocks_[e.address] = {e.size, uint32_t(e.aux)};
      return;
    }
    if (e.kind == EventKind::kPoolFree) {
      pool_blocks_.erase(e.address);
      return;
    }
    const GpuAux aux = unpack_gpu_aux(e.aux);
    if (e.kind == EventKind::kCudaFailed) {
      ++out_.failed_calls;
    } else if (e.kind == EventKind::kCudaCapturedAlloc) {
      ++out_.captured_allocations;
    } else if (e.kind == EventKind::kCudaPoolReserve) {
      pool_levels_[e.address] = {aux.device, e.size};
    } else if (is_gpu_allocation(e.kind)) {
      allocate(e, aux);
    } else if (is_gpu_deallocation(e.kind)) {
      release(e);
    }
  }

  void finish() {
    for (const auto& [pool, level] : pool_levels_)
      out_.devices[level.first].pool_reserved_bytes += level.second;
    for (auto& c : live_)
      for (const auto& [address, block] : c)
        if (is_memory(block.memory_class))
          out_.devices[block.device].live_by_origin[block.origin] += block.size;
    for (auto& [device, r] : reconcile()) out_.devices[device].reconciliation = std::move(r);
  }

  // Each live pool sub-allocation is looked up in the live GPU blocks that
  // can hold one (device, managed, async memory and VMM mappings); a block
  // holding any is a segment of that pool. Everything else is the remainder,
  // named by origin. Physical VMM memory stays in the remainder: its
  // mappings are what pools carve.
  std::map<uint32_t, GpuReconciliation> reconcile() const {
    struct Segment {
      uint64_t in_use = 0;
      uint32_t pool = 0;
    };
    std::map<std::pair<int, uint64_t>, Segment> segments;  // (class, block address)
    for (const auto& [address, pool_block] : pool_blocks_) {
      for (GpuMemoryClass c : {GpuMemoryClass::kDevice, GpuMemoryClass::kManaged,
                               GpuMemoryClass::kAsync, GpuMemoryClass::kMapped}) {
        const auto& live = live_[static_cast<int>(c)];
        auto it = live.upper_bound(address);
        if (it == live.begin()) continue;
        --it;
        if (address >= it->first + it->second.size) continue;
        Segment& s = segments[{static_cast<int>(c), it->first}];
        s.in_use += pool_block.first;
        s.pool = pool_block.second;
        break;
      }
    }
    std::map<uint32_t, GpuReconciliation> out;
    std::map<std::pair<uint32_t, uint32_t>, GpuPoolUse> pools;  // (device, pool id)
    for (int c = 0; c < static_cast<int>(GpuMemoryClass::kCount); ++c) {
      for (const auto& [address, block] : live_[c]) {
        GpuReconciliation& r = out[block.device];
        const auto segment = segments.find({c, address});
        if (segment != segments.end()) {
          GpuPoolUse& use = pools[{block.device, segment->second.pool}];
          auto name = pool_names_.find(segment->second.pool);
          use.name = name != pool_names_.end() ? name->second : "pool";
          ++use.segments;
          use.reserved_bytes += block.size;
          use.in_use_bytes += segment->second.in_use;
          // A mapping is a view of physical memory already counted below.
          if (is_memory(block.memory_class)) r.driver_bytes += block.size;
        } else if (is_memory(block.memory_class)) {
          r.driver_bytes += block.size;
          r.rest[block.origin] += block.size;
        }
      }
    }
    for (auto& [key, use] : pools) out[key.first].pools.push_back(use);
    return out;
  }

  void snapshot(GpuLiveAtMark& at) {
    at.found = true;
    at.reconciliation = reconcile();
    for (auto& c : live_)
      for (const auto& [address, block] : c) {
        at.bytes_by_class[block.device][gpu_memory_class_name(block.memory_class)] += block.size;
        if (is_memory(block.memory_class))
          at.bytes_by_origin[block.device][block.origin] += block.size;
      }
  }

 private:
  GpuClassTotals& totals(uint32_t device, GpuMemoryClass c) {
    return out_.devices[device].by_class[gpu_memory_class_name(c)];
  }

  void allocate(const EventRecord& e, const GpuAux& aux) {
    const GpuMemoryClass c = gpu_memory_class(e.kind);
    auto& live = live_[static_cast<int>(c)];
    auto previous = live.find(e.address);
    if (previous != live.end()) drop(previous->second);  // a graph block without address
    live[e.address] = Block{e.size, aux.device, c, origins_.of(e.stack)};
    GpuClassTotals& t = totals(aux.device, c);
    ++t.allocations;
    t.allocated_bytes += e.size;
    ++t.live_blocks;
    t.live_bytes += e.size;
    if (t.live_bytes > t.peak_bytes) t.peak_bytes = t.live_bytes;
  }

  void drop(const Block& block) {
    GpuClassTotals& t = totals(block.device, block.memory_class);
    ++t.frees;
    --t.live_blocks;
    t.live_bytes -= block.size;
  }

  void release(const EventRecord& e) {
    if (e.kind == EventKind::kCudaVmmUnmap) {
      auto& mapped = live_[static_cast<int>(GpuMemoryClass::kMapped)];
      bool any = false;
      for (auto it = mapped.lower_bound(e.address);
           it != mapped.end() && it->first < e.address + e.size;) {
        drop(it->second);
        it = mapped.erase(it);
        any = true;
      }
      if (!any) ++out_.unknown_frees;
      return;
    }
    EventKind candidates[3];
    const int n = gpu_kinds_freed_by(e.kind, candidates);
    for (int i = 0; i < n; ++i) {
      auto& live = live_[static_cast<int>(gpu_memory_class(candidates[i]))];
      auto it = live.find(e.address);
      if (it == live.end()) continue;
      drop(it->second);
      live.erase(it);
      return;
    }
    ++out_.unknown_frees;
  }

  Origins origins_;
  GpuSummary& out_;
  std::map<uint64_t, Block> live_[static_cast<int>(GpuMemoryClass::kCount)];
  std::map<uint64_t, std::pair<uint32_t, uint64_t>> pool_levels_;  // pool -> (device, bytes)
  std::map<uint64_t, std::pair<uint64_t, uint32_t>> pool_blocks_;  // address -> (size, pool id)
  std::unordered_map<uint32_t, std::string> pool_names_;
};

uint32_t mark_string_id(const TraceFile& trace, const std::string& mark) {
  if (mark.empty()) return 0;
  Statement s(trace.db(), "SELECT id FROM strings WHERE value = ?");
  s.bind(1, mark);
  return s.step() ? uint32_t(s.column_int64(0)) : 0;
}

std::string device_label(uint32_t device) {
  return device == kGpuDeviceUnknown ? "unknown" : std::to_string(device);
}

}  // namespace

GpuSummary summarize_gpu(const TraceFile& trace, const std::string& mark) {
  GpuSummary summary;
  summary.mode = trace.meta("gpu_mode", "off");
  summary.requested = trace.meta("gpu_requested", "");
  summary.detail = trace.meta("gpu_detail", "");
  Replay replay(trace, summary);
  const uint32_t mark_id = mark_string_id(trace, mark);
  trace.for_each_event([&](const EventRecord& e, int64_t) {
    if (is_gpu_event(e.kind) || e.kind == EventKind::kPoolAlloc || e.kind == EventKind::kPoolFree)
      replay.event(e);
    else if (mark_id != 0 && e.kind == EventKind::kMark && e.aux == mark_id &&
             !summary.at_mark.found)
      replay.snapshot(summary.at_mark);
  });
  replay.finish();
  return summary;
}

std::string format_gpu_text(const GpuSummary& s) {
  std::string out =
      "GPU tracking:   " + s.mode + (s.detail.empty() ? "" : " (" + s.detail + ")") + "\n";
  char line[256];
  for (const auto& [device, d] : s.devices) {
    out += "\ndevice " + device_label(device) + "\n";
    snprintf(line, sizeof line, "  %-14s %10s %10s %16s %16s %12s\n", "class", "allocs", "frees",
             "peak bytes", "live bytes", "live blocks");
    out += line;
    for (const auto& [name, t] : d.by_class) {
      snprintf(line, sizeof line, "  %-14s %10llu %10llu %16llu %16llu %12llu\n", name.c_str(),
               (unsigned long long)t.allocations, (unsigned long long)t.frees,
               (unsigned long long)t.peak_bytes, (unsigned long long)t.live_bytes,
               (unsigned long long)t.live_blocks);
      out += line;
    }
    if (d.pool_reserved_bytes) {
      snprintf(line, sizeof line, "  pools reserve %llu bytes at the end\n",
               (unsigned long long)d.pool_reserved_bytes);
      out += line;
    }
    if (!d.reconciliation.pools.empty()) {
      snprintf(line, sizeof line, "  driver-level bytes live at end: %llu, of which\n",
               (unsigned long long)d.reconciliation.driver_bytes);
      out += line;
      for (const GpuPoolUse& p : d.reconciliation.pools) {
        snprintf(line, sizeof line,
                 "    pool %-24s %llu segments, %llu bytes reserved, %llu in use\n", p.name.c_str(),
                 (unsigned long long)p.segments, (unsigned long long)p.reserved_bytes,
                 (unsigned long long)p.in_use_bytes);
        out += line;
      }
      for (const auto& [origin, bytes] : d.reconciliation.rest) {
        snprintf(line, sizeof line, "    outside pools, from %-24s %llu bytes\n", origin.c_str(),
                 (unsigned long long)bytes);
        out += line;
      }
    }
    for (const auto& [origin, bytes] : d.live_by_origin) {
      snprintf(line, sizeof line, "  live at end from %-30s %16llu bytes\n", origin.c_str(),
               (unsigned long long)bytes);
      out += line;
    }
  }
  snprintf(line, sizeof line,
           "\nfailed calls:   %llu\ncaptured:       %llu (stream capture, not memory)\n"
           "unknown frees:  %llu\n",
           (unsigned long long)s.failed_calls, (unsigned long long)s.captured_allocations,
           (unsigned long long)s.unknown_frees);
  out += line;
  return out;
}

namespace {
nlohmann::ordered_json reconciliation_json(const GpuReconciliation& r) {
  nlohmann::ordered_json j;
  j["driver_bytes"] = r.driver_bytes;
  j["pools"] = nlohmann::ordered_json::array();
  for (const GpuPoolUse& p : r.pools)
    j["pools"].push_back({{"name", p.name},
                          {"segments", p.segments},
                          {"reserved_bytes", p.reserved_bytes},
                          {"in_use_bytes", p.in_use_bytes}});
  j["outside_pools_by_origin"] = r.rest;
  return j;
}
}  // namespace

std::string format_gpu_json(const GpuSummary& s) {
  nlohmann::ordered_json j;
  j["mode"] = s.mode;
  j["requested"] = s.requested;
  j["detail"] = s.detail;
  nlohmann::ordered_json devices = nlohmann::ordered_json::object();
  for (const auto& [device, d] : s.devices) {
    nlohmann::ordered_json dj;
    for (const auto& [name, t] : d.by_class)
      dj["classes"][name] = {
          {"allocations", t.allocations},         {"frees", t.frees},
          {"allocated_bytes", t.allocated_bytes}, {"peak_bytes", t.peak_bytes},
          {"live_bytes", t.live_bytes},           {"live_blocks", t.live_blocks}};
    dj["live_by_origin"] = d.live_by_origin;
    dj["pool_reserved_bytes"] = d.pool_reserved_bytes;
    dj["reconciliation"] = reconciliation_json(d.reconciliation);
    devices[device_label(device)] = dj;
  }
  j["devices"] = devices;
  j["failed_calls"] = s.failed_calls;
  j["captured_allocations"] = s.captured_allocations;
  j["unknown_frees"] = s.unknown_frees;
  if (s.at_mark.found) {
    nlohmann::ordered_json at;
    for (const auto& [device, classes] : s.at_mark.bytes_by_class)
      at[device_label(device)]["by_class"] = classes;
    for (const auto& [device, origins] : s.at_mark.bytes_by_origin)
      at[device_label(device)]["by_origin"] = origins;
    for (const auto& [device, r] : s.at_mark.reconciliation)
      at[device_label(device)]["reconciliation"] = reconciliation_json(r);
    j["at_mark"] = at;
  }
  return j.dump(2) + "\n";
}

}  // namespace memtide::analysis
