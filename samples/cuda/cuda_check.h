// Errors from the CUDA runtime and cuBLAS as exceptions that name the call and where it was made.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

namespace engine::gpu {

// Throws std::runtime_error "file:line: call: <error string>" unless `status` is success.
void check_cuda(cudaError_t status, const char* call, const char* file, int line);
void check_cublas(cublasStatus_t status, const char* call, const char* file, int line);
// For destructors, which must not throw: prints the same message to stderr instead.
void warn_cuda(cudaError_t status, const char* call, const char* file, int line);

// Empty when device 0 can be used; otherwise "no CUDA device: <why>", e.g.
// "no CUDA device: no CUDA-capable device is detected".
std::string cuda_device_problem();

}  // namespace engine::gpu

#define CUDA_CHECK(call) ::engine::gpu::check_cuda((call), #call, __FILE__, __LINE__)
#define CUBLAS_CHECK(call) ::engine::gpu::check_cublas((call), #call, __FILE__, __LINE__)
#define CUDA_WARN(call) ::engine::gpu::warn_cuda((call), #call, __FILE__, __LINE__)
// After a kernel launch: launch errors (bad configuration) surface here, not at the next call.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
