#include "cuda_check.h"

#include <cstdio>
#include <stdexcept>

namespace engine::gpu {

namespace {
std::string describe(const char* call, const char* file, int line, const char* error) {
  return std::string(file) + ":" + std::to_string(line) + ": " + call + ": " + error;
}
}  // namespace

void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) {
    throw std::runtime_error(describe(call, file, line, cudaGetErrorString(status)));
  }
}

void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(describe(call, file, line, cublasGetStatusString(status)));
  }
}

void warn_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) {
    std::fprintf(stderr, "warning: %s\n",
                 describe(call, file, line, cudaGetErrorString(status)).c_str());
  }
}

std::string cuda_device_problem() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // the error is reported here; later calls must not see it again
    return std::string("no CUDA device: ") + cudaGetErrorString(status);
  }
  if (count == 0) return "no CUDA device: cudaGetDeviceCount found none";
  return "";
}

}  // namespace engine::gpu
