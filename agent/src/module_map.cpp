#include "module_map.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "agent_state.h"

// Defined by the linker in every ELF object: its own header, as mapped.
extern "C" const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

namespace memtide::agent {
namespace {

struct LoadedObject {
  std::string path;
  std::string build_id;
  uint64_t base = 0, size = 0, bias = 0;
};

std::mutex g_refresh_mutex;
ChunkedArray<ModuleRecord*, 4096> g_modules;

std::string hex(const unsigned char* bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  return out;
}

std::string read_build_id(const dl_phdr_info* info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    auto* p = reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
    const unsigned char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const unsigned char* name = p + sizeof(ElfW(Nhdr));
      const unsigned char* desc = name + ((note->n_namesz + 3) & ~3u);
      if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0 && desc + note->n_descsz <= end)
        return hex(desc, note->n_descsz);
      p = desc + ((note->n_descsz + 3) & ~3u);
    }
  }
  return {};
}

std::string executable_path() {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, n) : std::string("[executable]");
}

int collect(dl_phdr_info* info, size_t, void* data) {
  auto* objects = static_cast<std::vector<LoadedObject>*>(data);
  LoadedObject object;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    lo = std::min<uint64_t>(lo, ph.p_vaddr);
    hi = std::max<uint64_t>(hi, ph.p_vaddr + ph.p_memsz);
  }
  if (hi == 0) return 0;
  object.bias = info->dlpi_addr;
  object.base = info->dlpi_addr + lo;
  object.size = hi - lo;
  if (info->dlpi_name && info->dlpi_name[0]) {
    object.path = info->dlpi_name;
  } else if (objects->empty()) {
    object.path = executable_path();  // the first object is the executable
  } else {
    return 0;  // unnamed objects other than the executable carry no code of interest
  }
  object.build_id = read_build_id(info);
  objects->push_back(std::move(object));
  return 0;
}

}  // namespace

uint32_t module_count() {
  return g_modules.size();
}
ModuleRecord& module_at(uint32_t index) {
  return *g_modules[index];
}

void refresh_modules() {
  Guard guard;
  std::lock_guard<std::mutex> lock(g_refresh_mutex);
  std::vector<LoadedObject> current;
  dl_iterate_phdr(collect, &current);
  const uint64_t seq = next_seq();
  const uint64_t now = now_ns();

  std::vector<bool> still_loaded(g_modules.size(), false);
  for (const LoadedObject& object : current) {
    bool known = false;
    for (uint32_t i = 0; i < g_modules.size(); ++i) {
      ModuleRecord& m = *g_modules[i];
      if (m.unload_seq.load(std::memory_order_relaxed) == 0 && m.base == object.base &&
          *m.path == object.path) {
        still_loaded[i] = true;
        known = true;
        break;
      }
    }
    if (known) continue;
    // Module records live as long as the process: their rows may be written
    // long after the module is gone.
    auto* record = new ModuleRecord{new std::string(object.path),
                                    new std::string(object.build_id),
                                    object.base,
                                    object.size,
                                    object.bias,
                                    seq,
                                    now,
                                    {0},
                                    0};
    g_modules.append(record);
  }
  for (uint32_t i = 0; i < still_loaded.size(); ++i) {
    ModuleRecord& m = *g_modules[i];
    if (!still_loaded[i] && m.unload_seq.load(std::memory_order_relaxed) == 0) {
      m.unload_time_ns = now;
      m.unload_seq.store(seq, std::memory_order_release);
    }
  }
}

void agent_code_range(uint64_t& begin, uint64_t& end) {
  // The ELF header of libmemtide.so itself, as mapped: the linker defines
  // __ehdr_start in every object. Its program headers are read from memory,
  // without the loader (whose lock a caller inside a constructor may hold).
  const auto* header = &__ehdr_start;
  const uint64_t mapped = reinterpret_cast<uint64_t>(header);
  const auto* program = reinterpret_cast<const ElfW(Phdr)*>(mapped + header->e_phoff);
  begin = end = 0;
  uint64_t bias = 0;
  for (int i = 0; i < header->e_phnum; ++i)
    if (program[i].p_type == PT_LOAD && program[i].p_offset == 0)
      bias = mapped - program[i].p_vaddr;
  const uint64_t here = reinterpret_cast<uint64_t>(&agent_code_range);
  for (int i = 0; i < header->e_phnum; ++i) {
    const ElfW(Phdr)& ph = program[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    const uint64_t lo = bias + ph.p_vaddr, hi = lo + ph.p_memsz;
    if (here >= lo && here < hi) {
      begin = lo;
      end = hi;
      return;
    }
  }
}

}  // namespace memtide::agent
