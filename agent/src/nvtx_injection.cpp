// NVTX injection: libmemtide.so sets NVTX_INJECTION64_PATH to itself, so the
// first NVTX call of any NVTX-annotated program (PyTorch module hooks,
// TensorRT, the reference engine) loads it and calls InitializeInjectionNvtx2,
// where memtide fills NVTX's callback tables. Ranges pushed and popped become
// scopes; marks become markers. The ABI below is NVTX v3's (nvtxTypes.h): it
// is stable by design, so memtide declares what it uses rather than requiring
// the CUDA headers.
#include <cstdint>
#include <cwchar>
#include <string>
#include <string_view>

#include "agent_state.h"
#include "name_tables.h"
#include "scopes.h"

using namespace memtide::agent;

namespace {

using NvtxFunctionPointer = void (*)();
using NvtxFunctionTable = NvtxFunctionPointer**;
using GetModuleFunctionTable = int (*)(int module, NvtxFunctionTable* table, unsigned* size);
struct NvtxExportTableCallbacks {
  size_t struct_size;
  GetModuleFunctionTable get_module_function_table;
};
using NvtxGetExportTable = const void* (*)(uint32_t export_table_id);

constexpr uint32_t kExportTableCallbacks = 1;
constexpr int kModuleCore = 1;
constexpr int kModuleCore2 = 5;
// Slots of the CORE module.
constexpr unsigned kMarkEx = 1, kMarkA = 2, kMarkW = 3, kRangePushEx = 8, kRangePushA = 9,
                   kRangePushW = 10, kRangePop = 11;
// Slots of the CORE2 (domain) module.
constexpr unsigned kDomainMarkEx = 1, kDomainRangePushEx = 4, kDomainRangePop = 5,
                   kDomainRegisterStringA = 10, kDomainRegisterStringW = 11, kDomainCreateA = 12,
                   kDomainCreateW = 13;

constexpr int32_t kMessageAscii = 1, kMessageUnicode = 2, kMessageRegistered = 3;

struct EventAttributes {  // nvtxEventAttributes_v2
  uint16_t version, size;
  uint32_t category;
  int32_t color_type;
  uint32_t color;
  int32_t payload_type, reserved0;
  uint64_t payload;
  int32_t message_type;
  const void* message;
};

// Handles handed to the program encode interned string ids (never 0).
const void* handle_of(uint32_t string_id) {
  return reinterpret_cast<const void*>(static_cast<uintptr_t>(string_id));
}
uint32_t id_of(const void* handle) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(handle));
}

std::string narrow(const wchar_t* text) {
  std::string out;
  for (; text && *text; ++text) out.push_back(*text < 128 ? static_cast<char>(*text) : '?');
  return out;
}

std::string message_text(const EventAttributes* attributes) {
  if (attributes == nullptr) return "(nvtx)";
  switch (attributes->message_type) {
    case kMessageAscii:
      return attributes->message ? static_cast<const char*>(attributes->message) : "";
    case kMessageUnicode:
      return narrow(static_cast<const wchar_t*>(attributes->message));
    case kMessageRegistered: {
      uint32_t id = id_of(attributes->message);
      if (id == 0 || id > name_tables().string_count()) return "(nvtx)";
      return std::string(name_tables().string_at(id));
    }
  }
  return "(nvtx)";
}

std::string with_domain(const void* domain, std::string text) {
  uint32_t id = id_of(domain);
  if (id == 0 || id > name_tables().string_count()) return text;
  return std::string(name_tables().string_at(id)) + "::" + text;
}

// Builds the name under a guard: std::string allocations are the agent's.
template <typename MakeName>
void push_named(MakeName&& make_name) {
  if (thread_state().guard > 0) return;
  std::string name;
  {
    Guard guard;
    name = make_name();
  }
  enter_scope(name, ScopeSource::kNvtx);
  Guard guard;  // destroying `name` frees agent memory
  name.clear();
  name.shrink_to_fit();
}

template <typename MakeName>
void mark_named(MakeName&& make_name) {
  if (thread_state().guard > 0) return;
  std::string name;
  {
    Guard guard;
    name = make_name();
  }
  mark(name);
  Guard guard;
  name.clear();
  name.shrink_to_fit();
}

int range_push_a(const char* message) {
  push_named([&] { return std::string(message ? message : ""); });
  return 0;
}
int range_push_w(const wchar_t* message) {
  push_named([&] { return narrow(message); });
  return 0;
}
int range_push_ex(const EventAttributes* a) {
  push_named([&] { return message_text(a); });
  return 0;
}
int range_pop() {
  return leave_scope() ? 0 : -1;
}
void mark_a(const char* message) {
  mark_named([&] { return std::string(message ? message : ""); });
}
void mark_w(const wchar_t* message) {
  mark_named([&] { return narrow(message); });
}
void mark_ex(const EventAttributes* a) {
  mark_named([&] { return message_text(a); });
}

int domain_range_push_ex(const void* domain, const EventAttributes* a) {
  push_named([&] { return with_domain(domain, message_text(a)); });
  return 0;
}
int domain_range_pop(const void*) {
  return leave_scope() ? 0 : -1;
}
void domain_mark_ex(const void* domain, const EventAttributes* a) {
  mark_named([&] { return with_domain(domain, message_text(a)); });
}

const void* intern(std::string_view text) {
  Guard guard;
  return handle_of(name_tables().intern_string(text));
}
const void* domain_register_string_a(const void*, const char* text) {
  return intern(text ? text : "");
}
const void* domain_register_string_w(const void*, const wchar_t* text) {
  Guard guard;
  return intern(narrow(text));
}
const void* domain_create_a(const char* name) {
  return intern(name ? name : "");
}
const void* domain_create_w(const wchar_t* name) {
  Guard guard;
  return intern(narrow(name));
}

template <typename F>
void assign(NvtxFunctionTable table, unsigned size, unsigned slot, F function) {
  if (slot < size && table[slot] != nullptr)
    *table[slot] = reinterpret_cast<NvtxFunctionPointer>(function);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int InitializeInjectionNvtx2(
    NvtxGetExportTable get_export_table) {
  if (!options().nvtx || get_export_table == nullptr) return 0;
  auto* callbacks =
      static_cast<const NvtxExportTableCallbacks*>(get_export_table(kExportTableCallbacks));
  if (callbacks == nullptr || callbacks->get_module_function_table == nullptr) return 0;
  NvtxFunctionTable table = nullptr;
  unsigned size = 0;
  if (callbacks->get_module_function_table(kModuleCore, &table, &size) && table) {
    assign(table, size, kMarkEx, mark_ex);
    assign(table, size, kMarkA, mark_a);
    assign(table, size, kMarkW, mark_w);
    assign(table, size, kRangePushEx, range_push_ex);
    assign(table, size, kRangePushA, range_push_a);
    assign(table, size, kRangePushW, range_push_w);
    assign(table, size, kRangePop, range_pop);
  }
  table = nullptr;
  size = 0;
  if (callbacks->get_module_function_table(kModuleCore2, &table, &size) && table) {
    assign(table, size, kDomainMarkEx, domain_mark_ex);
    assign(table, size, kDomainRangePushEx, domain_range_push_ex);
    assign(table, size, kDomainRangePop, domain_range_pop);
    assign(table, size, kDomainRegisterStringA, domain_register_string_a);
    assign(table, size, kDomainRegisterStringW, domain_register_string_w);
    assign(table, size, kDomainCreateA, domain_create_a);
    assign(table, size, kDomainCreateW, domain_create_w);
  }
  return 1;  // success: NVTX keeps our callbacks
}
