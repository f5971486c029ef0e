/* The fake CUDA runtime's API (fake_runtime.c): the real runtime's names and
   shapes for the calls the GPU recording tests make. */
#pragma once

#include <cuda.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int cudaError_t;

cudaError_t cudaSetDevice(int device);
cudaError_t cudaMalloc(void** p, size_t bytes);
cudaError_t cudaMallocPitch(void** p, size_t* pitch, size_t width, size_t height);
cudaError_t cudaFree(void* p);
cudaError_t cudaMallocManaged(void** p, size_t bytes, unsigned flags);
cudaError_t cudaMallocHost(void** p, size_t bytes);
cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned flags);
cudaError_t cudaFreeHost(void* p);
cudaError_t cudaMallocAsync(void** p, size_t bytes, CUstream stream);
cudaError_t cudaMallocFromPoolAsync(void** p, size_t bytes, CUmemoryPool pool, CUstream stream);
cudaError_t cudaFreeAsync(void* p, CUstream stream);
cudaError_t cudaStreamBeginCapture(CUstream stream);
cudaError_t cudaStreamEndCapture(CUstream stream);

#ifdef __cplusplus
}
#endif
