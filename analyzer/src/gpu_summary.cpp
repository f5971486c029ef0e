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
      modules_.push_back({uint64_t(modules.column_int64(0)), uint64_t(modules.column_int64(1)), name, plumbing});
    }
    Statement nodes(trace.db(), "SELECT id, parent, ip FROM stack_nodes");
    while (nodes.step()) nodes_[uint32_t(nodes.column_int64(0))] = {uint32_t(nodes.column_int64(1)),
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
  Replay(const TraceFile& trace, GpuSummary& out) : origins_(trace), out_(out) {}

  void event(const EventRecord& e) {
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
  }

  void snapshot(GpuLiveAtMark& at) {
    at.found = true;
    for (auto& c : live_)
      for (const auto& [address, block] : c) {
        at.bytes_by_class[block.device][gpu_memory_class_name(block.memory_class)] += block.size;
        if (is_memory(block.memory_class)) at.bytes_by_origin[block.device][block.origin] += block.size;
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
    if (is_gpu_event(e.kind))
      replay.event(e);
    else if (mark_id != 0 && e.kind == EventKind::kMark && e.aux == mark_id &&
             !summary.at_mark.found)
      replay.snapshot(summary.at_mark);
  });
  replay.finish();
  return summary;
}

std::string format_gpu_text(const GpuSummary& s) {
  std::string out = "GPU tracking:   " + s.mode + (s.detail.empty() ? "" : " (" + s.detail + ")") +
                    "\n";
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

std::string format_gpu_json(const GpuSummary& s) {
  nlohmann::ordered_json j;
  j["mode"] = s.mode;
  j["requested"] = s.requested;
  j["detail"] = s.detail;
  nlohmann::ordered_json devices = nlohmann::ordered_json::object();
  for (const auto& [device, d] : s.devices) {
    nlohmann::ordered_json dj;
    for (const auto& [name, t] : d.by_class)
      dj["classes"][name] = {{"allocations", t.allocations}, {"frees", t.frees},
                             {"allocated_bytes", t.allocated_bytes}, {"peak_bytes", t.peak_bytes},
                             {"live_bytes", t.live_bytes}, {"live_blocks", t.live_blocks}};
    dj["live_by_origin"] = d.live_by_origin;
    dj["pool_reserved_bytes"] = d.pool_reserved_bytes;
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
    j["at_mark"] = at;
  }
  return j.dump(2) + "\n";
}

}  // namespace memtide::analysis
