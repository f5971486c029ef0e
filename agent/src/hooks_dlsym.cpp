// dlsym and dlvsym, interposed so that memtide sees how CUDA libraries find
// the driver (gpu/cuda_hooks.h).
//
// libc's dlsym reads its caller from its own return address: RTLD_NEXT means
// "after the caller", RTLD_DEFAULT searches the caller's scope (a library
// dlopen'ed RTLD_LOCAL sees its own dependencies). A wrapper that calls libc
// would make memtide the caller. So the exported entry points are assembly
// trampolines that *jump* to libc's function, leaving the program's return
// address in place, for every symbol but the CUDA driver entry points memtide
// wraps ("cuGetProcAddress...", "cuMem..."), which go through its filter.
//
// These run before any constructor (cuBLASLt's own constructor calls dlsym
// before the preloaded agent's), so nothing here needs initialised globals.
#include <dlfcn.h>

#include "gpu/cuda_hooks.h"
#include "libc_symbols.h"

using namespace memtide::agent;

extern "C" {

__attribute__((visibility("hidden"))) void* memtide_libc_dlsym = nullptr;
__attribute__((visibility("hidden"))) void* memtide_libc_dlvsym = nullptr;

// Called from the trampolines on their first use.
__attribute__((visibility("hidden"))) void* memtide_resolve_dlsym() {
  memtide_libc_dlsym = reinterpret_cast<void*>(libc_dlsym());
  return memtide_libc_dlsym;
}

__attribute__((visibility("hidden"))) void* memtide_resolve_dlvsym() {
  memtide_libc_dlvsym = reinterpret_cast<void*>(libc_dlvsym());
  return memtide_libc_dlvsym;
}

// Driver symbols: looked up from memtide (their RTLD_NEXT/RTLD_DEFAULT
// subtleties do not arise for the CUDA libraries, which look the driver up
// by handle), then handed out wrapped.
__attribute__((visibility("hidden"))) void* memtide_dlsym_driver(void* handle, const char* symbol) {
  DlsymFunction real = libc_dlsym();
  void* found = real ? real(handle, symbol) : nullptr;
  return found ? gpu::filter_driver_symbol(symbol, found) : nullptr;
}

__attribute__((visibility("hidden"))) void* memtide_dlvsym_driver(void* handle, const char* symbol,
                                                                  const char* version) {
  DlvsymFunction real = libc_dlvsym();
  void* found = real ? real(handle, symbol, version) : nullptr;
  return found ? gpu::filter_driver_symbol(symbol, found) : nullptr;
}

}  // extern "C"

// dlsym(handle, symbol) and dlvsym(handle, symbol, version): symbol in %rsi.
// Stack alignment: on entry %rsp is 8 mod 16; two pushes and 8 bytes make the
// call to the resolver aligned.
#define MEMTIDE_DL_TRAMPOLINE(name, real, resolve, driver) \
  ".text\n"                                                \
  ".globl " #name                                          \
  "\n"                                                     \
  ".type " #name ", @function\n" #name                     \
  ":\n"                                                    \
  "  .cfi_startproc\n"                                     \
  "  movq " #real                                          \
  "(%rip), %rax\n"                                         \
  "  testq %rax, %rax\n"                                   \
  "  jnz 1f\n"                                             \
  "  pushq %rdi\n"                                         \
  "  .cfi_adjust_cfa_offset 8\n"                           \
  "  pushq %rsi\n"                                         \
  "  .cfi_adjust_cfa_offset 8\n"                           \
  "  pushq %rdx\n"                                         \
  "  .cfi_adjust_cfa_offset 8\n"                           \
  "  call " #resolve                                       \
  "\n"                                                     \
  "  popq %rdx\n"                                          \
  "  .cfi_adjust_cfa_offset -8\n"                          \
  "  popq %rsi\n"                                          \
  "  .cfi_adjust_cfa_offset -8\n"                          \
  "  popq %rdi\n"                                          \
  "  .cfi_adjust_cfa_offset -8\n"                          \
  "  testq %rax, %rax\n"                                   \
  "  jz 3f\n"                                              \
  "1:\n"                                                   \
  "  testq %rsi, %rsi\n"                                   \
  "  jz 2f\n"                                              \
  "  cmpb $0x63, (%rsi)\n" /* 'c' */                       \
  "  jne 2f\n"                                             \
  "  cmpb $0x75, 1(%rsi)\n" /* 'u' */                      \
  "  jne 2f\n"                                             \
  "  cmpb $0x47, 2(%rsi)\n" /* 'G': cuGetProcAddress */    \
  "  je 3f\n"                                              \
  "  cmpb $0x4d, 2(%rsi)\n" /* 'M': cuMem... */            \
  "  je 3f\n"                                              \
  "2:\n"                                                   \
  "  jmp *%rax\n"                                          \
  "3:\n"                                                   \
  "  jmp " #driver                                         \
  "\n"                                                     \
  "  .cfi_endproc\n"                                       \
  ".size " #name ", .-" #name "\n"

__asm__(MEMTIDE_DL_TRAMPOLINE(dlsym, memtide_libc_dlsym, memtide_resolve_dlsym,
                              memtide_dlsym_driver)
            MEMTIDE_DL_TRAMPOLINE(dlvsym, memtide_libc_dlvsym, memtide_resolve_dlvsym,
                                  memtide_dlvsym_driver));
