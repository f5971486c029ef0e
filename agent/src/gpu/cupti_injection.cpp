// MEMTIDE_GPU=cupti: libmemtide.so is its own CUDA injection library. The
// agent points CUDA_INJECTION64_PATH at itself at start; the driver loads it
// (the already-preloaded copy) during cuInit and calls InitializeInjection,
// where memtide subscribes to the driver-API callbacks of every allocation
// entry point and enables the MEMORY2 and MEMORY_POOL activity records.
// Pointers and sizes are read from the call's parameters at API exit, so
// static and shared CUDA runtimes, cuBLAS's private runtime and frameworks
// are all seen. CUPTI takes one subscriber per process on current drivers:
// when it is taken, memtide says so and falls back to the driver hooks.
#include <cupti.h>
#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agent_state.h"
#include "gpu/cupti_injection.h"
#include "gpu/cupti_records.h"
#include "gpu/gpu_recorder.h"

namespace memtide::agent::gpu {
namespace {

struct Cupti {
  decltype(&cuptiGetResultString) GetResultString;
  decltype(&cuptiSubscribe) Subscribe;
  decltype(&cuptiEnableCallback) EnableCallback;
  decltype(&cuptiGetDeviceId) GetDeviceId;
  decltype(&cuptiActivityEnable) ActivityEnable;
  decltype(&cuptiActivityRegisterCallbacks) ActivityRegisterCallbacks;
  decltype(&cuptiActivityRegisterTimestampCallback) ActivityRegisterTimestampCallback;
  decltype(&cuptiActivityFlushAll) ActivityFlushAll;
  decltype(&cuptiActivityFlushPeriod) ActivityFlushPeriod;
  decltype(&cuptiActivityGetNextRecord) ActivityGetNextRecord;
  decltype(&cuptiActivityGetNumDroppedRecords) ActivityGetNumDroppedRecords;
};
Cupti g_cupti{};
CUpti_SubscriberHandle g_subscriber = nullptr;
std::atomic<bool> g_active{false};

using StreamIsCapturing = CUresult(CUDAAPI*)(CUstream, CUstreamCaptureStatus*);
StreamIsCapturing g_is_capturing = nullptr;
StreamIsCapturing g_is_capturing_ptsz = nullptr;

// The sequence number of a free taken at API entry (the ordering rule); the
// driver never nests one allocation API inside another on a thread.
__attribute__((tls_model("initial-exec"))) thread_local uint64_t t_free_seq = 0;

const char* result_text(CUptiResult r) {
  const char* text = "unknown CUPTI error";
  if (g_cupti.GetResultString) g_cupti.GetResultString(r, &text);
  return text;
}

void* load_cupti(std::string& how) {
  void* handle = dlopen("libcupti.so.13", RTLD_NOW | RTLD_NOLOAD);
  how = "already loaded";
  if (handle == nullptr) {
    handle = dlopen(options().cupti_library.c_str(), RTLD_NOW | RTLD_GLOBAL);
    how = options().cupti_library;
  }
  for (const char* path : {"/usr/local/cuda/extras/CUPTI/lib64/libcupti.so.13",
                           "/usr/local/cuda/lib64/libcupti.so.13"}) {
    if (handle != nullptr) break;
    handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    how = path;
  }
  return handle;
}

bool resolve(void* handle) {
#define MEMTIDE_CUPTI(f) \
  g_cupti.f = reinterpret_cast<decltype(g_cupti.f)>(dlsym(handle, "cupti" #f))
  MEMTIDE_CUPTI(GetResultString);
  MEMTIDE_CUPTI(Subscribe);
  MEMTIDE_CUPTI(EnableCallback);
  MEMTIDE_CUPTI(GetDeviceId);
  MEMTIDE_CUPTI(ActivityEnable);
  MEMTIDE_CUPTI(ActivityRegisterCallbacks);
  MEMTIDE_CUPTI(ActivityRegisterTimestampCallback);
  MEMTIDE_CUPTI(ActivityFlushAll);
  MEMTIDE_CUPTI(ActivityFlushPeriod);
  MEMTIDE_CUPTI(ActivityGetNextRecord);
  MEMTIDE_CUPTI(ActivityGetNumDroppedRecords);
#undef MEMTIDE_CUPTI
  return g_cupti.Subscribe && g_cupti.EnableCallback && g_cupti.GetDeviceId;
}

uint32_t device_of(CUcontext context) {
  uint32_t device = kGpuDeviceUnknown;
  if (context == nullptr || g_cupti.GetDeviceId(context, &device) != CUPTI_SUCCESS)
    return kGpuDeviceUnknown;
  return device;
}

bool capturing(CUstream stream, bool per_thread) {
  StreamIsCapturing query = per_thread ? g_is_capturing_ptsz : g_is_capturing;
  CUstreamCaptureStatus status = CU_STREAM_CAPTURE_STATUS_NONE;
  return query != nullptr && query(stream, &status) == CUDA_SUCCESS &&
         status == CU_STREAM_CAPTURE_STATUS_ACTIVE;
}

const CUpti_CallbackId kFreeCallbacks[] = {
    CUPTI_DRIVER_TRACE_CBID_cuMemFree_v2,     CUPTI_DRIVER_TRACE_CBID_cuMemFreeHost,
    CUPTI_DRIVER_TRACE_CBID_cuMemFreeAsync,   CUPTI_DRIVER_TRACE_CBID_cuMemFreeAsync_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuMemRelease,     CUPTI_DRIVER_TRACE_CBID_cuMemUnmap,
    CUPTI_DRIVER_TRACE_CBID_cuMemAddressFree,
};
const CUpti_CallbackId kAllocationCallbacks[] = {
    CUPTI_DRIVER_TRACE_CBID_cuMemAlloc_v2,
    CUPTI_DRIVER_TRACE_CBID_cuMemAllocPitch_v2,
    CUPTI_DRIVER_TRACE_CBID_cuMemAllocManaged,
    CUPTI_DRIVER_TRACE_CBID_cuMemAllocHost_v2,
    CUPTI_DRIVER_TRACE_CBID_cuMemHostAlloc,
    CUPTI_DRIVER_TRACE_CBID_cuMemAllocAsync,
    CUPTI_DRIVER_TRACE_CBID_cuMemAllocAsync_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuMemAllocFromPoolAsync,
    CUPTI_DRIVER_TRACE_CBID_cuMemAllocFromPoolAsync_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuMemCreate,
    CUPTI_DRIVER_TRACE_CBID_cuMemMap,
    CUPTI_DRIVER_TRACE_CBID_cuMemAddressReserve,
};

bool is_free_callback(CUpti_CallbackId id) {
  for (CUpti_CallbackId f : kFreeCallbacks)
    if (f == id) return true;
  return false;
}

// Fills `call` from the parameters of a successful call; false for others.
bool describe(CUpti_CallbackId id, const void* params, Call& call, CUcontext context) {
  call.device = device_of(context);
  switch (id) {
    case CUPTI_DRIVER_TRACE_CBID_cuMemAlloc_v2: {
      auto* p = static_cast<const cuMemAlloc_v2_params*>(params);
      call = {EventKind::kCudaDevice, GpuApi::kMemAlloc, call.device, *p->dptr, p->bytesize};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocPitch_v2: {
      auto* p = static_cast<const cuMemAllocPitch_v2_params*>(params);
      call = {EventKind::kCudaDevice, GpuApi::kMemAllocPitch, call.device, *p->dptr,
              uint64_t{*p->pPitch} * p->Height};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocManaged: {
      auto* p = static_cast<const cuMemAllocManaged_params*>(params);
      call = {EventKind::kCudaManaged, GpuApi::kMemAllocManaged, call.device, *p->dptr,
              p->bytesize};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocHost_v2: {
      auto* p = static_cast<const cuMemAllocHost_v2_params*>(params);
      call = {EventKind::kCudaPinned, GpuApi::kMemAllocHost, call.device,
              reinterpret_cast<uint64_t>(*p->pp), p->bytesize};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemHostAlloc: {
      auto* p = static_cast<const cuMemHostAlloc_params*>(params);
      call = {EventKind::kCudaPinned, GpuApi::kMemHostAlloc, call.device,
              reinterpret_cast<uint64_t>(*p->pp), p->bytesize};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocAsync:
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocAsync_ptsz: {
      auto* p = static_cast<const cuMemAllocAsync_params*>(params);
      const bool captured =
          capturing(p->hStream, id == CUPTI_DRIVER_TRACE_CBID_cuMemAllocAsync_ptsz);
      call = {captured ? EventKind::kCudaCapturedAlloc : EventKind::kCudaAsync,
              GpuApi::kMemAllocAsync,
              call.device,
              *p->dptr,
              p->bytesize,
              0,
              "stream",
              reinterpret_cast<uint64_t>(p->hStream)};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocFromPoolAsync:
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocFromPoolAsync_ptsz: {
      auto* p = static_cast<const cuMemAllocFromPoolAsync_params*>(params);
      const bool captured =
          capturing(p->hStream, id == CUPTI_DRIVER_TRACE_CBID_cuMemAllocFromPoolAsync_ptsz);
      call = {captured ? EventKind::kCudaCapturedAlloc : EventKind::kCudaAsync,
              GpuApi::kMemAllocFromPoolAsync,
              call.device,
              *p->dptr,
              p->bytesize,
              0,
              "pool",
              reinterpret_cast<uint64_t>(p->pool)};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemCreate: {
      auto* p = static_cast<const cuMemCreate_params*>(params);
      uint32_t device = call.device;
      if (p->prop && p->prop->location.type == CU_MEM_LOCATION_TYPE_DEVICE)
        device = static_cast<uint32_t>(p->prop->location.id);
      call = {EventKind::kCudaVmmCreate, GpuApi::kMemCreate, device, *p->handle, p->size};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemMap: {
      auto* p = static_cast<const cuMemMap_params*>(params);
      call = {EventKind::kCudaVmmMap,
              GpuApi::kMemMap,
              call.device,
              p->ptr,
              p->size,
              0,
              "handle",
              p->handle};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemAddressReserve: {
      auto* p = static_cast<const cuMemAddressReserve_params*>(params);
      call = {EventKind::kCudaReserve, GpuApi::kMemAddressReserve, kGpuDeviceUnknown, *p->ptr,
              p->size};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemFree_v2: {
      auto* p = static_cast<const cuMemFree_v2_params*>(params);
      call = {EventKind::kCudaFree, GpuApi::kMemFree, call.device, p->dptr, 0};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemFreeHost: {
      auto* p = static_cast<const cuMemFreeHost_params*>(params);
      call = {EventKind::kCudaFreeHost, GpuApi::kMemFreeHost, call.device,
              reinterpret_cast<uint64_t>(p->p), 0};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemFreeAsync:
    case CUPTI_DRIVER_TRACE_CBID_cuMemFreeAsync_ptsz: {
      auto* p = static_cast<const cuMemFreeAsync_params*>(params);
      call = {EventKind::kCudaFreeAsync,
              GpuApi::kMemFreeAsync,
              call.device,
              p->dptr,
              0,
              0,
              "stream",
              reinterpret_cast<uint64_t>(p->hStream)};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemRelease: {
      auto* p = static_cast<const cuMemRelease_params*>(params);
      call = {EventKind::kCudaVmmRelease, GpuApi::kMemRelease, call.device, p->handle, 0};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemUnmap: {
      auto* p = static_cast<const cuMemUnmap_params*>(params);
      call = {EventKind::kCudaVmmUnmap, GpuApi::kMemUnmap, call.device, p->ptr, p->size};
      return true;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuMemAddressFree: {
      auto* p = static_cast<const cuMemAddressFree_params*>(params);
      call = {EventKind::kCudaReserveFree, GpuApi::kMemAddressFree, kGpuDeviceUnknown, p->ptr,
              p->size};
      return true;
    }
    default:
      return false;
  }
}

// Failed allocations keep the size asked for.
uint64_t requested_size(CUpti_CallbackId id, const void* params) {
  switch (id) {
    case CUPTI_DRIVER_TRACE_CBID_cuMemAlloc_v2:
      return static_cast<const cuMemAlloc_v2_params*>(params)->bytesize;
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocManaged:
      return static_cast<const cuMemAllocManaged_params*>(params)->bytesize;
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocAsync:
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocAsync_ptsz:
      return static_cast<const cuMemAllocAsync_params*>(params)->bytesize;
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocFromPoolAsync:
    case CUPTI_DRIVER_TRACE_CBID_cuMemAllocFromPoolAsync_ptsz:
      return static_cast<const cuMemAllocFromPoolAsync_params*>(params)->bytesize;
    case CUPTI_DRIVER_TRACE_CBID_cuMemCreate:
      return static_cast<const cuMemCreate_params*>(params)->size;
    default:
      return 0;
  }
}

void on_driver_call(CUpti_CallbackId id, const CUpti_CallbackData* data) {
  if (active_mode() != Mode::kCupti) return;
  if (data->callbackSite == CUPTI_API_ENTER) {
    if (is_free_callback(id)) t_free_seq = seq_now();
    return;
  }
  const CUresult result = data->functionReturnValue
                              ? *static_cast<const CUresult*>(data->functionReturnValue)
                              : CUDA_ERROR_UNKNOWN;
  const bool is_free = is_free_callback(id);
  const uint64_t seq = is_free ? t_free_seq : 0;
  t_free_seq = 0;
  if (result != CUDA_SUCCESS) {
    if (is_free) return;  // nothing was freed
    Call failed;
    failed.kind = EventKind::kCudaFailed;
    failed.device = device_of(data->context);
    failed.size = requested_size(id, data->functionParams);
    failed.result = static_cast<uint32_t>(result);
    record(failed);
    return;
  }
  Call call;
  if (describe(id, data->functionParams, call, data->context)) record(call, seq);
}

void CUPTIAPI on_callback(void*, CUpti_CallbackDomain domain, CUpti_CallbackId id,
                          const void* data) {
  if (domain == CUPTI_CB_DOMAIN_DRIVER_API) {
    on_driver_call(id, static_cast<const CUpti_CallbackData*>(data));
  } else if (domain == CUPTI_CB_DOMAIN_RESOURCE &&
             id == CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING) {
    // The context's last records would be lost with it.
    if (g_cupti.ActivityFlushAll) g_cupti.ActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  }
}

uint64_t CUPTIAPI monotonic_timestamp() {
  return now_ns();
}

constexpr size_t kActivityBufferBytes = 1 << 20;

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  Guard guard;
  *buffer = static_cast<uint8_t*>(aligned_alloc(8, kActivityBufferBytes));
  *size = *buffer ? kActivityBufferBytes : 0;
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid) {
  CUpti_Activity* record = nullptr;
  uint64_t records = 0;
  while (buffer && valid &&
         g_cupti.ActivityGetNextRecord(buffer, valid, &record) == CUPTI_SUCCESS) {
    ++records;
    Translated t;
    if (translate_activity(record, t)) record_at(t.call, t.time_ns);
  }
  count("cupti_activity_records", records);
  size_t dropped = 0;
  if (g_cupti.ActivityGetNumDroppedRecords &&
      g_cupti.ActivityGetNumDroppedRecords(nullptr, 0, &dropped) == CUPTI_SUCCESS && dropped)
    count("cupti_dropped_records", dropped);
  Guard guard;
  free(buffer);
}

void fall_back(const std::string& why) {
  set_active_mode(Mode::kHooks, "hooks: " + why);
  if (!options().quiet)
    fprintf(stderr, "memtide: %s; GPU tracking uses the driver hooks\n", why.c_str());
}

void resolve_capture_queries() {
  void* cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (cuda == nullptr) return;
  g_is_capturing = reinterpret_cast<StreamIsCapturing>(dlsym(cuda, "cuStreamIsCapturing"));
  g_is_capturing_ptsz =
      reinterpret_cast<StreamIsCapturing>(dlsym(cuda, "cuStreamIsCapturing_ptsz"));
}

int initialize() {
  if (requested_mode() != Mode::kCupti || g_active.load()) return 1;
  std::string how;
  void* handle = load_cupti(how);
  if (handle == nullptr || !resolve(handle)) {
    fall_back(std::string("CUPTI not found (") + options().cupti_library + ")");
    return 1;
  }
  CUptiResult r = g_cupti.Subscribe(&g_subscriber, on_callback, nullptr);
  if (r != CUPTI_SUCCESS) {
    const bool taken = r == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED;
    fall_back(std::string("CUPTI subscription refused: ") + result_text(r) +
              (taken ? " (another profiler holds CUPTI)" : ""));
    return 1;
  }
  for (CUpti_CallbackId id : kAllocationCallbacks)
    g_cupti.EnableCallback(1, g_subscriber, CUPTI_CB_DOMAIN_DRIVER_API, id);
  for (CUpti_CallbackId id : kFreeCallbacks)
    g_cupti.EnableCallback(1, g_subscriber, CUPTI_CB_DOMAIN_DRIVER_API, id);
  g_cupti.EnableCallback(1, g_subscriber, CUPTI_CB_DOMAIN_RESOURCE,
                         CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING);
  resolve_capture_queries();
  std::string activity = "callbacks";
  if (g_cupti.ActivityRegisterCallbacks &&
      g_cupti.ActivityRegisterCallbacks(buffer_requested, buffer_completed) == CUPTI_SUCCESS) {
    if (g_cupti.ActivityRegisterTimestampCallback)
      g_cupti.ActivityRegisterTimestampCallback(monotonic_timestamp);
    const bool memory = g_cupti.ActivityEnable(CUPTI_ACTIVITY_KIND_MEMORY2) == CUPTI_SUCCESS;
    const bool pools = g_cupti.ActivityEnable(CUPTI_ACTIVITY_KIND_MEMORY_POOL) == CUPTI_SUCCESS;
    if (g_cupti.ActivityFlushPeriod)
      g_cupti.ActivityFlushPeriod(static_cast<uint32_t>(options().commit_ms));
    if (memory) activity += " + MEMORY2";
    if (pools) activity += " + MEMORY_POOL";
  }
  g_active.store(true);
  set_active_mode(Mode::kCupti, "cupti: subscribed (" + activity + "), CUPTI from " + how);
  return 1;
}

}  // namespace

void prepare_cupti(const char* library_path) {
  if (requested_mode() != Mode::kCupti) return;
  const char* current = getenv("CUDA_INJECTION64_PATH");
  if (current != nullptr && *current && std::strcmp(current, library_path) != 0) {
    fall_back(std::string("CUDA_INJECTION64_PATH names another injection library (") + current +
              ")");
    return;
  }
  setenv("CUDA_INJECTION64_PATH", library_path, 1);
  set_active_mode(Mode::kCupti, "cupti: waiting for the CUDA driver to load memtide");
}

void flush_cupti() {
  if (g_active.load() && g_cupti.ActivityFlushAll)
    g_cupti.ActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
}

}  // namespace memtide::agent::gpu

extern "C" __attribute__((visibility("default"))) int InitializeInjection(void) {
  return memtide::agent::gpu::initialize();
}
