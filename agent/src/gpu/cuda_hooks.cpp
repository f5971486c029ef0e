#include "gpu/cuda_hooks.h"

#include <cuda.h>
#include <dlfcn.h>

#include <atomic>
#include <cstring>

#include "gpu/gpu_recorder.h"
#include "gpu/gpu_tracking.h"
#include "libc_symbols.h"

// Nothing here may need a dynamic constructor: libraries call dlsym from
// their own constructors, before memtide's have run. Every global below is
// constant-initialised.

namespace memtide::agent::gpu {
namespace {

std::atomic<unsigned long> g_wrapped{0};

// The real driver function behind each wrapper. Filled by whichever lookup
// sees it first (cuGetProcAddress, dlsym on libcuda, or RTLD_NEXT for a
// program that called the exported name directly).
struct RealSlot {
  std::atomic<void*> function{nullptr};
  const char* exported_name;
};

// Calls into the driver made from inside a wrapped call (a driver whose
// cuMemAllocPitch calls its own exported cuMemAlloc, which is memtide's) are
// part of the outer call: only the outermost wrapper records.
__attribute__((tls_model("initial-exec"))) thread_local int t_driver_depth = 0;

struct DriverCall {
  DriverCall() { ++t_driver_depth; }
  ~DriverCall() { --t_driver_depth; }
  DriverCall(const DriverCall&) = delete;
  DriverCall& operator=(const DriverCall&) = delete;
};

bool recording() {
  return t_driver_depth == 1 && active_mode() == Mode::kHooks;
}

template <class F>
F real_of(RealSlot& slot) {
  void* f = slot.function.load(std::memory_order_acquire);
  if (f == nullptr) {
    // Linked to libcuda and called by name: the next definition after memtide.
    if (DlsymFunction next = libc_dlsym()) f = next(RTLD_NEXT, slot.exported_name);
    if (f != nullptr) slot.function.store(f, std::memory_order_release);
  }
  return reinterpret_cast<F>(f);
}

// Driver queries memtide makes itself; resolved alongside cuGetProcAddress.
std::atomic<void*> g_ctx_get_device{nullptr};
std::atomic<void*> g_stream_is_capturing{nullptr};
std::atomic<void*> g_stream_is_capturing_ptsz{nullptr};

void* driver_query(std::atomic<void*>& slot, const char* name) {
  void* f = slot.load(std::memory_order_acquire);
  if (f == nullptr) {
    if (DlsymFunction next = libc_dlsym()) f = next(RTLD_NEXT, name);
    if (f != nullptr) slot.store(f, std::memory_order_release);
  }
  return f;
}

uint32_t current_device() {
  auto get = reinterpret_cast<CUresult(CUDAAPI*)(CUdevice*)>(
      driver_query(g_ctx_get_device, "cuCtxGetDevice"));
  CUdevice device = 0;
  if (get != nullptr && get(&device) == CUDA_SUCCESS) return static_cast<uint32_t>(device);
  return kGpuDeviceUnknown;
}

bool stream_is_capturing(CUstream stream, bool per_thread) {
  auto query = reinterpret_cast<CUresult(CUDAAPI*)(CUstream, CUstreamCaptureStatus*)>(
      per_thread ? driver_query(g_stream_is_capturing_ptsz, "cuStreamIsCapturing_ptsz")
                 : driver_query(g_stream_is_capturing, "cuStreamIsCapturing"));
  CUstreamCaptureStatus status = CU_STREAM_CAPTURE_STATUS_NONE;
  return query != nullptr && query(stream, &status) == CUDA_SUCCESS &&
         status == CU_STREAM_CAPTURE_STATUS_ACTIVE;
}

void allocated(CUresult result, EventKind kind, GpuApi api, uint64_t address, uint64_t size,
               uint32_t device, const char* object_type = nullptr, uint64_t object = 0) {
  Call call;
  call.kind = result == CUDA_SUCCESS ? kind : EventKind::kCudaFailed;
  call.api = api;
  call.device = device;
  call.address = result == CUDA_SUCCESS ? address : 0;
  call.size = size;
  call.result = static_cast<uint32_t>(result);
  call.object_type = object_type;
  call.object = object;
  record(call);
}

void released(uint64_t seq, CUresult result, EventKind kind, GpuApi api, uint64_t address,
              uint64_t size = 0, const char* object_type = nullptr, uint64_t object = 0) {
  if (result != CUDA_SUCCESS) return;  // nothing was freed
  Call call;
  call.kind = kind;
  call.api = api;
  call.device = current_device();
  call.address = address;
  call.size = size;
  call.object_type = object_type;
  call.object = object;
  record(call, seq);
}

uint64_t address_of(const CUdeviceptr* p, CUresult r) {
  return r == CUDA_SUCCESS && p != nullptr ? static_cast<uint64_t>(*p) : 0;
}

uint64_t address_of(void* const* p, CUresult r) {
  return r == CUDA_SUCCESS && p != nullptr ? reinterpret_cast<uint64_t>(*p) : 0;
}

RealSlot s_alloc{{}, "cuMemAlloc_v2"};
RealSlot s_alloc_pitch{{}, "cuMemAllocPitch_v2"};
RealSlot s_free{{}, "cuMemFree_v2"};
RealSlot s_alloc_managed{{}, "cuMemAllocManaged"};
RealSlot s_alloc_host{{}, "cuMemAllocHost_v2"};
RealSlot s_host_alloc{{}, "cuMemHostAlloc"};
RealSlot s_free_host{{}, "cuMemFreeHost"};
RealSlot s_alloc_async{{}, "cuMemAllocAsync"};
RealSlot s_alloc_async_ptsz{{}, "cuMemAllocAsync_ptsz"};
RealSlot s_alloc_pool{{}, "cuMemAllocFromPoolAsync"};
RealSlot s_alloc_pool_ptsz{{}, "cuMemAllocFromPoolAsync_ptsz"};
RealSlot s_free_async{{}, "cuMemFreeAsync"};
RealSlot s_free_async_ptsz{{}, "cuMemFreeAsync_ptsz"};
RealSlot s_create{{}, "cuMemCreate"};
RealSlot s_release{{}, "cuMemRelease"};
RealSlot s_map{{}, "cuMemMap"};
RealSlot s_unmap{{}, "cuMemUnmap"};
RealSlot s_reserve{{}, "cuMemAddressReserve"};
RealSlot s_reserve_free{{}, "cuMemAddressFree"};

CUresult alloc_async(RealSlot& slot, bool per_thread, CUdeviceptr* dptr, size_t bytes,
                     CUstream stream) {
  DriverCall call;
  using F = CUresult(CUDAAPI*)(CUdeviceptr*, size_t, CUstream);
  F real = real_of<F>(slot);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(dptr, bytes, stream);
  if (recording()) {
    const bool captured = r == CUDA_SUCCESS && stream_is_capturing(stream, per_thread);
    allocated(r, captured ? EventKind::kCudaCapturedAlloc : EventKind::kCudaAsync,
              GpuApi::kMemAllocAsync, address_of(dptr, r), bytes, current_device(), "stream",
              reinterpret_cast<uint64_t>(stream));
  }
  return r;
}

CUresult alloc_from_pool(RealSlot& slot, bool per_thread, CUdeviceptr* dptr, size_t bytes,
                         CUmemoryPool pool, CUstream stream) {
  DriverCall call;
  using F = CUresult(CUDAAPI*)(CUdeviceptr*, size_t, CUmemoryPool, CUstream);
  F real = real_of<F>(slot);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(dptr, bytes, pool, stream);
  if (recording()) {
    const bool captured = r == CUDA_SUCCESS && stream_is_capturing(stream, per_thread);
    allocated(r, captured ? EventKind::kCudaCapturedAlloc : EventKind::kCudaAsync,
              GpuApi::kMemAllocFromPoolAsync, address_of(dptr, r), bytes, current_device(), "pool",
              reinterpret_cast<uint64_t>(pool));
  }
  return r;
}

CUresult free_async(RealSlot& slot, CUdeviceptr dptr, CUstream stream) {
  DriverCall call;
  using F = CUresult(CUDAAPI*)(CUdeviceptr, CUstream);
  F real = real_of<F>(slot);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  const bool record_it = recording() && dptr != 0;
  const uint64_t seq = record_it ? seq_now() : 0;
  CUresult r = real(dptr, stream);
  if (record_it)
    released(seq, r, EventKind::kCudaFreeAsync, GpuApi::kMemFreeAsync, dptr, 0, "stream",
             reinterpret_cast<uint64_t>(stream));
  return r;
}

}  // namespace
}  // namespace memtide::agent::gpu

using namespace memtide;
using namespace memtide::agent::gpu;

#define MEMTIDE_EXPORT extern "C" __attribute__((visibility("default")))

// The wrappers, under the driver's exported names (cuda.h maps the plain
// names to the _v2 ABI: cuMemAlloc here defines cuMemAlloc_v2).

MEMTIDE_EXPORT CUresult CUDAAPI cuMemAlloc(CUdeviceptr* dptr, size_t bytes) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemAlloc)>(s_alloc);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(dptr, bytes);
  if (recording())
    allocated(r, EventKind::kCudaDevice, GpuApi::kMemAlloc, address_of(dptr, r), bytes,
              current_device());
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemAllocPitch(CUdeviceptr* dptr, size_t* pitch, size_t width,
                                                size_t height, unsigned element_bytes) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemAllocPitch)>(s_alloc_pitch);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(dptr, pitch, width, height, element_bytes);
  if (recording()) {
    const uint64_t bytes = r == CUDA_SUCCESS && pitch ? uint64_t{*pitch} * height : width * height;
    allocated(r, EventKind::kCudaDevice, GpuApi::kMemAllocPitch, address_of(dptr, r), bytes,
              current_device());
  }
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemFree(CUdeviceptr dptr) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemFree)>(s_free);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  const bool record_it = recording() && dptr != 0;
  const uint64_t seq = record_it ? seq_now() : 0;
  CUresult r = real(dptr);
  if (record_it) released(seq, r, EventKind::kCudaFree, GpuApi::kMemFree, dptr);
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemAllocManaged(CUdeviceptr* dptr, size_t bytes, unsigned flags) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemAllocManaged)>(s_alloc_managed);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(dptr, bytes, flags);
  if (recording())
    allocated(r, EventKind::kCudaManaged, GpuApi::kMemAllocManaged, address_of(dptr, r), bytes,
              current_device());
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemAllocHost(void** pp, size_t bytes) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemAllocHost)>(s_alloc_host);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(pp, bytes);
  if (recording())
    allocated(r, EventKind::kCudaPinned, GpuApi::kMemAllocHost, address_of(pp, r), bytes,
              current_device());
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemHostAlloc(void** pp, size_t bytes, unsigned flags) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemHostAlloc)>(s_host_alloc);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(pp, bytes, flags);
  if (recording())
    allocated(r, EventKind::kCudaPinned, GpuApi::kMemHostAlloc, address_of(pp, r), bytes,
              current_device());
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemFreeHost(void* p) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemFreeHost)>(s_free_host);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  const bool record_it = recording() && p != nullptr;
  const uint64_t seq = record_it ? seq_now() : 0;
  CUresult r = real(p);
  if (record_it)
    released(seq, r, EventKind::kCudaFreeHost, GpuApi::kMemFreeHost, reinterpret_cast<uint64_t>(p));
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemAllocAsync(CUdeviceptr* dptr, size_t bytes, CUstream stream) {
  return alloc_async(s_alloc_async, false, dptr, bytes, stream);
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemAllocAsync_ptsz(CUdeviceptr* dptr, size_t bytes,
                                                     CUstream stream) {
  return alloc_async(s_alloc_async_ptsz, true, dptr, bytes, stream);
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemAllocFromPoolAsync(CUdeviceptr* dptr, size_t bytes,
                                                        CUmemoryPool pool, CUstream stream) {
  return alloc_from_pool(s_alloc_pool, false, dptr, bytes, pool, stream);
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemAllocFromPoolAsync_ptsz(CUdeviceptr* dptr, size_t bytes,
                                                             CUmemoryPool pool, CUstream stream) {
  return alloc_from_pool(s_alloc_pool_ptsz, true, dptr, bytes, pool, stream);
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemFreeAsync(CUdeviceptr dptr, CUstream stream) {
  return free_async(s_free_async, dptr, stream);
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream stream) {
  return free_async(s_free_async_ptsz, dptr, stream);
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemCreate(CUmemGenericAllocationHandle* handle, size_t bytes,
                                            const CUmemAllocationProp* prop,
                                            unsigned long long flags) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemCreate)>(s_create);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(handle, bytes, prop, flags);
  if (recording()) {
    const uint32_t device = prop && prop->location.type == CU_MEM_LOCATION_TYPE_DEVICE
                                ? static_cast<uint32_t>(prop->location.id)
                                : current_device();
    allocated(r, EventKind::kCudaVmmCreate, GpuApi::kMemCreate,
              r == CUDA_SUCCESS && handle ? static_cast<uint64_t>(*handle) : 0, bytes, device);
  }
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemRelease(CUmemGenericAllocationHandle handle) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemRelease)>(s_release);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  const bool record_it = recording() && handle != 0;
  const uint64_t seq = record_it ? seq_now() : 0;
  CUresult r = real(handle);
  if (record_it) released(seq, r, EventKind::kCudaVmmRelease, GpuApi::kMemRelease, handle);
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemMap(CUdeviceptr ptr, size_t bytes, size_t offset,
                                         CUmemGenericAllocationHandle handle,
                                         unsigned long long flags) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemMap)>(s_map);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(ptr, bytes, offset, handle, flags);
  if (recording())
    allocated(r, EventKind::kCudaVmmMap, GpuApi::kMemMap, ptr, bytes, current_device(), "handle",
              handle);
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemUnmap(CUdeviceptr ptr, size_t bytes) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemUnmap)>(s_unmap);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  const bool record_it = recording() && ptr != 0;
  const uint64_t seq = record_it ? seq_now() : 0;
  CUresult r = real(ptr, bytes);
  if (record_it) released(seq, r, EventKind::kCudaVmmUnmap, GpuApi::kMemUnmap, ptr, bytes);
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemAddressReserve(CUdeviceptr* ptr, size_t bytes,
                                                    size_t alignment, CUdeviceptr hint,
                                                    unsigned long long flags) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemAddressReserve)>(s_reserve);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(ptr, bytes, alignment, hint, flags);
  if (recording())
    allocated(r, EventKind::kCudaReserve, GpuApi::kMemAddressReserve, address_of(ptr, r), bytes,
              kGpuDeviceUnknown);
  return r;
}

MEMTIDE_EXPORT CUresult CUDAAPI cuMemAddressFree(CUdeviceptr ptr, size_t bytes) {
  DriverCall call;
  auto real = real_of<decltype(&cuMemAddressFree)>(s_reserve_free);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  const bool record_it = recording() && ptr != 0;
  const uint64_t seq = record_it ? seq_now() : 0;
  CUresult r = real(ptr, bytes);
  if (record_it) released(seq, r, EventKind::kCudaReserveFree, GpuApi::kMemAddressFree, ptr, bytes);
  return r;
}

namespace memtide::agent::gpu {
namespace {

// How each wrapper is asked for: by exported name (dlsym on libcuda) and by
// base name through cuGetProcAddress, where `min_version` is the first CUDA
// version whose ABI the wrapper implements (cuMemAlloc before 3.2 took 32-bit
// sizes) and `per_thread` picks the _ptsz variant.
struct Entry {
  const char* exported_name;
  const char* base_name;
  int min_version;
  bool per_thread;
  RealSlot* slot;
  void* wrapper;
};

#define MEMTIDE_WRAPPER(f) reinterpret_cast<void*>(&::f)
const Entry kEntries[] = {
    {"cuMemAlloc_v2", "cuMemAlloc", 3020, false, &s_alloc, MEMTIDE_WRAPPER(cuMemAlloc_v2)},
    {"cuMemAllocPitch_v2", "cuMemAllocPitch", 3020, false, &s_alloc_pitch,
     MEMTIDE_WRAPPER(cuMemAllocPitch_v2)},
    {"cuMemFree_v2", "cuMemFree", 3020, false, &s_free, MEMTIDE_WRAPPER(cuMemFree_v2)},
    {"cuMemAllocManaged", "cuMemAllocManaged", 0, false, &s_alloc_managed,
     MEMTIDE_WRAPPER(cuMemAllocManaged)},
    {"cuMemAllocHost_v2", "cuMemAllocHost", 3020, false, &s_alloc_host,
     MEMTIDE_WRAPPER(cuMemAllocHost_v2)},
    {"cuMemHostAlloc", "cuMemHostAlloc", 0, false, &s_host_alloc, MEMTIDE_WRAPPER(cuMemHostAlloc)},
    {"cuMemFreeHost", "cuMemFreeHost", 0, false, &s_free_host, MEMTIDE_WRAPPER(cuMemFreeHost)},
    {"cuMemAllocAsync", "cuMemAllocAsync", 0, false, &s_alloc_async,
     MEMTIDE_WRAPPER(cuMemAllocAsync)},
    {"cuMemAllocAsync_ptsz", "cuMemAllocAsync", 0, true, &s_alloc_async_ptsz,
     MEMTIDE_WRAPPER(cuMemAllocAsync_ptsz)},
    {"cuMemAllocFromPoolAsync", "cuMemAllocFromPoolAsync", 0, false, &s_alloc_pool,
     MEMTIDE_WRAPPER(cuMemAllocFromPoolAsync)},
    {"cuMemAllocFromPoolAsync_ptsz", "cuMemAllocFromPoolAsync", 0, true, &s_alloc_pool_ptsz,
     MEMTIDE_WRAPPER(cuMemAllocFromPoolAsync_ptsz)},
    {"cuMemFreeAsync", "cuMemFreeAsync", 0, false, &s_free_async, MEMTIDE_WRAPPER(cuMemFreeAsync)},
    {"cuMemFreeAsync_ptsz", "cuMemFreeAsync", 0, true, &s_free_async_ptsz,
     MEMTIDE_WRAPPER(cuMemFreeAsync_ptsz)},
    {"cuMemCreate", "cuMemCreate", 0, false, &s_create, MEMTIDE_WRAPPER(cuMemCreate)},
    {"cuMemRelease", "cuMemRelease", 0, false, &s_release, MEMTIDE_WRAPPER(cuMemRelease)},
    {"cuMemMap", "cuMemMap", 0, false, &s_map, MEMTIDE_WRAPPER(cuMemMap)},
    {"cuMemUnmap", "cuMemUnmap", 0, false, &s_unmap, MEMTIDE_WRAPPER(cuMemUnmap)},
    {"cuMemAddressReserve", "cuMemAddressReserve", 0, false, &s_reserve,
     MEMTIDE_WRAPPER(cuMemAddressReserve)},
    {"cuMemAddressFree", "cuMemAddressFree", 0, false, &s_reserve_free,
     MEMTIDE_WRAPPER(cuMemAddressFree)},
};
#undef MEMTIDE_WRAPPER

void* hand_out(const Entry& entry, void* real) {
  // The lookup may have found memtide's own export (RTLD_DEFAULT in a
  // program where memtide comes first): that is already the wrapper.
  if (real == entry.wrapper) return real;
  entry.slot->function.store(real, std::memory_order_release);
  g_wrapped.fetch_add(1, std::memory_order_relaxed);
  return entry.wrapper;
}

// cuGetProcAddress wrappers: the v2 ABI (CUDA 12.0 on) reports a status.
using GetProcAddressV2 = CUresult(CUDAAPI*)(const char*, void**, int, cuuint64_t,
                                            CUdriverProcAddressQueryResult*);
using GetProcAddressV1 = CUresult(CUDAAPI*)(const char*, void**, int, cuuint64_t);
std::atomic<void*> g_real_gpa_v2{nullptr}, g_real_gpa_v1{nullptr};

CUresult CUDAAPI gpa_v2(const char* symbol, void** pfn, int version, cuuint64_t flags,
                        CUdriverProcAddressQueryResult* status);
CUresult CUDAAPI gpa_v1(const char* symbol, void** pfn, int version, cuuint64_t flags);

// Remember the driver's own query functions while a lookup function is at hand.
void resolve_queries(GetProcAddressV2 v2, GetProcAddressV1 v1) {
  auto get = [&](const char* name, int version, cuuint64_t flags) -> void* {
    void* f = nullptr;
    CUdriverProcAddressQueryResult status;
    if (v2 != nullptr && v2(name, &f, version, flags, &status) == CUDA_SUCCESS) return f;
    if (v1 != nullptr && v1(name, &f, version, flags) == CUDA_SUCCESS) return f;
    return nullptr;
  };
  if (g_ctx_get_device.load() == nullptr)
    g_ctx_get_device.store(get("cuCtxGetDevice", 2000, CU_GET_PROC_ADDRESS_DEFAULT));
  if (g_stream_is_capturing.load() == nullptr)
    g_stream_is_capturing.store(get("cuStreamIsCapturing", 10000, CU_GET_PROC_ADDRESS_DEFAULT));
  if (g_stream_is_capturing_ptsz.load() == nullptr)
    g_stream_is_capturing_ptsz.store(
        get("cuStreamIsCapturing", 10000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM));
}

void* after_lookup(const char* symbol, void* found, int version, cuuint64_t flags) {
  if (found == nullptr || symbol == nullptr || !hooks_installed()) return found;
  if (std::strcmp(symbol, "cuGetProcAddress") == 0) {
    // Keep control of the caller's later lookups (v2 ABI from CUDA 12.0).
    if (version >= 12000) {
      if (found != reinterpret_cast<void*>(&gpa_v2)) g_real_gpa_v2.store(found);
      return reinterpret_cast<void*>(&gpa_v2);
    }
    if (found != reinterpret_cast<void*>(&gpa_v1)) g_real_gpa_v1.store(found);
    return reinterpret_cast<void*>(&gpa_v1);
  }
  if (std::strncmp(symbol, "cuMem", 5) != 0) return found;
  const bool per_thread = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0;
  for (const Entry& entry : kEntries) {
    if (std::strcmp(symbol, entry.base_name) != 0 || version < entry.min_version) continue;
    // Entry points with a per-thread variant come in pairs; others ignore the flag.
    const bool has_pair = std::strstr(entry.exported_name, "Async") != nullptr;
    if (has_pair && entry.per_thread != per_thread) continue;
    return hand_out(entry, found);
  }
  return found;
}

CUresult CUDAAPI gpa_v2(const char* symbol, void** pfn, int version, cuuint64_t flags,
                        CUdriverProcAddressQueryResult* status) {
  auto real = reinterpret_cast<GetProcAddressV2>(g_real_gpa_v2.load());
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(symbol, pfn, version, flags, status);
  if (r == CUDA_SUCCESS && pfn != nullptr) {
    resolve_queries(real, nullptr);
    *pfn = after_lookup(symbol, *pfn, version, flags);
  }
  return r;
}

CUresult CUDAAPI gpa_v1(const char* symbol, void** pfn, int version, cuuint64_t flags) {
  auto real = reinterpret_cast<GetProcAddressV1>(g_real_gpa_v1.load());
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult r = real(symbol, pfn, version, flags);
  if (r == CUDA_SUCCESS && pfn != nullptr) {
    resolve_queries(nullptr, real);
    *pfn = after_lookup(symbol, *pfn, version, flags);
  }
  return r;
}

}  // namespace

void* filter_driver_symbol(const char* symbol, void* found) {
  if (symbol == nullptr || symbol[0] != 'c' || symbol[1] != 'u') return found;
  if (!hooks_installed()) return found;
  if (std::strcmp(symbol, "cuGetProcAddress_v2") == 0) {
    if (found != reinterpret_cast<void*>(&gpa_v2)) g_real_gpa_v2.store(found);
    return reinterpret_cast<void*>(&gpa_v2);
  }
  if (std::strcmp(symbol, "cuGetProcAddress") == 0) {
    if (found != reinterpret_cast<void*>(&gpa_v1)) g_real_gpa_v1.store(found);
    return reinterpret_cast<void*>(&gpa_v1);
  }
  if (std::strncmp(symbol, "cuMem", 5) != 0) return found;
  for (const Entry& entry : kEntries)
    if (std::strcmp(symbol, entry.exported_name) == 0) return hand_out(entry, found);
  return found;
}

unsigned long wrapped_lookups() {
  return g_wrapped.load(std::memory_order_relaxed);
}

}  // namespace memtide::agent::gpu
