#include "libc_symbols.h"

#include <elf.h>
#include <link.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace memtide::agent {

namespace {

struct Search {
  const char* object_suffix;
  const char* name;
  void* found;
};

bool ends_with(const char* text, const char* suffix) {
  const size_t n = std::strlen(text), m = std::strlen(suffix);
  return n >= m && std::strcmp(text + n - m, suffix) == 0;
}

// The dynamic linker relocates most d_ptr entries in place; where it did not,
// they are still offsets from the load address.
uintptr_t absolute(ElfW(Addr) pointer, ElfW(Addr) base) {
  return pointer < base ? pointer + base : pointer;
}

uint32_t gnu_hash(const char* name) {
  uint32_t h = 5381;
  for (const unsigned char* p = reinterpret_cast<const unsigned char*>(name); *p; ++p)
    h = h * 33 + *p;
  return h;
}

// Looks `name` up through the object's GNU hash table, accepting only the
// default (non-hidden) version of a defined symbol.
void* lookup(const dl_phdr_info* info, const char* name) {
  const ElfW(Dyn)* dynamic = nullptr;
  for (int i = 0; i < info->dlpi_phnum; ++i)
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
      dynamic = reinterpret_cast<const ElfW(Dyn)*>(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
  if (dynamic == nullptr) return nullptr;
  const ElfW(Addr) base = info->dlpi_addr;
  const ElfW(Sym)* symbols = nullptr;
  const char* strings = nullptr;
  const ElfW(Half)* versions = nullptr;
  const uint32_t* hash = nullptr;
  for (const ElfW(Dyn)* d = dynamic; d->d_tag != DT_NULL; ++d) {
    if (d->d_tag == DT_SYMTAB)
      symbols = reinterpret_cast<const ElfW(Sym)*>(absolute(d->d_un.d_ptr, base));
    else if (d->d_tag == DT_STRTAB)
      strings = reinterpret_cast<const char*>(absolute(d->d_un.d_ptr, base));
    else if (d->d_tag == DT_VERSYM)
      versions = reinterpret_cast<const ElfW(Half)*>(absolute(d->d_un.d_ptr, base));
    else if (d->d_tag == DT_GNU_HASH)
      hash = reinterpret_cast<const uint32_t*>(absolute(d->d_un.d_ptr, base));
  }
  if (symbols == nullptr || strings == nullptr || hash == nullptr) return nullptr;
  const uint32_t bucket_count = hash[0], first_hashed = hash[1], bloom_words = hash[2];
  const auto* bloom = reinterpret_cast<const ElfW(Addr)*>(hash + 4);
  const auto* buckets = reinterpret_cast<const uint32_t*>(bloom + bloom_words);
  const uint32_t* chain = buckets + bucket_count;
  const uint32_t h = gnu_hash(name);
  uint32_t index = buckets[h % bucket_count];
  if (index < first_hashed) return nullptr;
  for (;; ++index) {
    const uint32_t chained = chain[index - first_hashed];
    const ElfW(Sym)& symbol = symbols[index];
    if ((chained | 1) == (h | 1) && symbol.st_shndx != SHN_UNDEF &&
        std::strcmp(strings + symbol.st_name, name) == 0 &&
        (versions == nullptr || (versions[index] & 0x8000) == 0)) {
      void* address = reinterpret_cast<void*>(base + symbol.st_value);
      // An IFUNC's value is its resolver, which picks the implementation.
      if (ELF64_ST_TYPE(symbol.st_info) == STT_GNU_IFUNC)
        address = reinterpret_cast<void* (*)()>(address)();
      return address;
    }
    if (chained & 1) return nullptr;
  }
}

int visit(dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  if (info->dlpi_name == nullptr || !ends_with(info->dlpi_name, search->object_suffix)) return 0;
  search->found = lookup(info, search->name);
  return search->found != nullptr;
}

std::atomic<void*> g_dlsym{nullptr}, g_dlvsym{nullptr};

}  // namespace

void* find_default_symbol(const char* object_suffix, const char* name) {
  Search search{object_suffix, name, nullptr};
  dl_iterate_phdr(visit, &search);
  return search.found;
}

DlsymFunction libc_dlsym() {
  void* f = g_dlsym.load(std::memory_order_acquire);
  if (f == nullptr) {
    f = find_default_symbol("/libc.so.6", "dlsym");
    g_dlsym.store(f, std::memory_order_release);
  }
  return reinterpret_cast<DlsymFunction>(f);
}

DlvsymFunction libc_dlvsym() {
  void* f = g_dlvsym.load(std::memory_order_acquire);
  if (f == nullptr) {
    f = find_default_symbol("/libc.so.6", "dlvsym");
    g_dlvsym.store(f, std::memory_order_release);
  }
  return reinterpret_cast<DlvsymFunction>(f);
}

}  // namespace memtide::agent
