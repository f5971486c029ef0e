// One CUDA allocation of every kind plus a cuBLAS call, for the GPU check
// (scripts/gpu-check.sh): built with static and with shared cudart, run under
// memtide in hooks and cupti modes. Prints what it allocated so the check can
// compare the trace with it.
#include <cublas_v2.h>
#include <cuda.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#include "memtide/annotate.h"

#define CHECK(call)                                                                     \
  do {                                                                                  \
    auto status_ = (call);                                                              \
    if (status_ != 0) {                                                                 \
      std::fprintf(stderr, "%s failed: %d (line %d)\n", #call, int(status_), __LINE__); \
      std::exit(1);                                                                     \
    }                                                                                   \
  } while (0)

__global__ void fill(float* p, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = 1.0f;
}

int main() {
  const size_t MiB = 1 << 20;
  CHECK(cudaSetDevice(0));
  CHECK(cudaFree(nullptr));  // create the context (a null free: not an event)
  memtide_marker("begin");
  void *device = nullptr, *pitched = nullptr, *managed = nullptr, *pinned = nullptr,
       *host_alloc = nullptr, *async = nullptr, *pooled = nullptr;
  size_t pitch = 0;
  cudaStream_t stream;
  CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  CHECK(cudaMalloc(&device, 8 * MiB));
  CHECK(cudaMallocPitch(&pitched, &pitch, 1000, 100));
  CHECK(cudaMallocManaged(&managed, 2 * MiB));
  CHECK(cudaMallocHost(&pinned, 1 * MiB));
  CHECK(cudaHostAlloc(&host_alloc, 3 * MiB, cudaHostAllocDefault));
  CHECK(cudaMallocAsync(&async, 5 * MiB, stream));
  cudaMemPool_t pool;
  cudaMemPoolProps props = {};
  props.allocType = cudaMemAllocationTypePinned;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = 0;
  CHECK(cudaMemPoolCreate(&pool, &props));
  CHECK(cudaMallocFromPoolAsync(&pooled, 6 * MiB, pool, stream));

  // Virtual memory management through the driver API (linked to libcuda).
  CUmemAllocationProp prop = {};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = 0;
  size_t granularity = 0;
  CHECK(cuMemGetAllocationGranularity(&granularity, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
  const size_t vmm_bytes = 2 * granularity;
  CUdeviceptr va = 0;
  CUmemGenericAllocationHandle handle;
  CHECK(cuMemAddressReserve(&va, 4 * vmm_bytes, 0, 0, 0));
  CHECK(cuMemCreate(&handle, vmm_bytes, &prop, 0));
  CHECK(cuMemMap(va, vmm_bytes, 0, handle, 0));
  CUmemAccessDesc access = {};
  access.location = prop.location;
  access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  CHECK(cuMemSetAccess(va, vmm_bytes, &access, 1));

  // cuBLAS: its handle and workspace are the library's own allocations.
  cublasHandle_t blas;
  CHECK(cublasCreate(&blas));
  float *a, *c;
  const int n = 256;
  CHECK(cudaMalloc(&a, n * n * sizeof(float)));
  CHECK(cudaMalloc(&c, n * n * sizeof(float)));
  fill<<<(n * n + 255) / 256, 256>>>(a, n * n);
  const float one = 1.0f, zero = 0.0f;
  CHECK(cublasSgemm(blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, n, a, n, &zero, c, n));
  CHECK(cudaDeviceSynchronize());

  // Stream capture: the async allocation inside it is not memory until the
  // graph runs (graph memory, seen through CUPTI's records).
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  void* captured = nullptr;
  CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
  CHECK(cudaMallocAsync(&captured, 4 * MiB, stream));
  fill<<<1, 256, 0, stream>>>(static_cast<float*>(captured), 256);
  CHECK(cudaFreeAsync(captured, stream));
  CHECK(cudaStreamEndCapture(stream, &graph));
  CHECK(cudaGraphInstantiate(&exec, graph, 0));
  CHECK(cudaGraphLaunch(exec, stream));
  CHECK(cudaStreamSynchronize(stream));
  CHECK(cudaGraphExecDestroy(exec));
  CHECK(cudaGraphDestroy(graph));

  CHECK(cudaFree(a));
  CHECK(cudaFree(c));
  CHECK(cublasDestroy(blas));
  CHECK(cuMemUnmap(va, vmm_bytes));
  CHECK(cuMemRelease(handle));
  CHECK(cuMemAddressFree(va, 4 * vmm_bytes));
  CHECK(cudaFreeAsync(async, stream));
  CHECK(cudaFreeAsync(pooled, stream));
  CHECK(cudaStreamSynchronize(stream));
  CHECK(cudaMemPoolDestroy(pool));
  CHECK(cudaFree(device));
  CHECK(cudaFree(pitched));
  CHECK(cudaFree(managed));
  CHECK(cudaFreeHost(pinned));
  CHECK(cudaFreeHost(host_alloc));
  CHECK(cudaStreamDestroy(stream));
  memtide_marker("end");
  std::printf("every_kind: pitch=%zu vmm_bytes=%zu\n", pitch, vmm_bytes);
  return 0;
}
