// The few cuBLAS entry points the CUDA engine calls, loaded from
// libcublas.so.13 on first use rather than linked: the sample programs are
// the CPU engine too, and a CPU run should neither need cuBLAS on the machine
// nor carry its start-up allocations (which a memory profiler would rightly
// report). The definitions have cuBLAS's own names and signatures, so the
// engine code calls cuBLAS as usual.
#include <cublas_v2.h>
#include <dlfcn.h>

#include <mutex>
#include <string>

namespace {

struct Cublas {
  void* library = nullptr;
  std::string error;
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  decltype(&cublasSetMathMode) set_math_mode = nullptr;
  decltype(&cublasSgemm_v2) sgemm = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
};

Cublas& cublas() {
  static Cublas c;
  static std::once_flag once;
  std::call_once(once, [] {
    c.library = dlopen("libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
    if (c.library == nullptr) {
      const char* why = dlerror();
      c.error = std::string("cannot load libcublas.so.13: ") + (why ? why : "unknown error");
      return;
    }
    auto get = [](const char* name) { return dlsym(c.library, name); };
    c.create = reinterpret_cast<decltype(c.create)>(get("cublasCreate_v2"));
    c.destroy = reinterpret_cast<decltype(c.destroy)>(get("cublasDestroy_v2"));
    c.set_stream = reinterpret_cast<decltype(c.set_stream)>(get("cublasSetStream_v2"));
    c.set_math_mode = reinterpret_cast<decltype(c.set_math_mode)>(get("cublasSetMathMode"));
    c.sgemm = reinterpret_cast<decltype(c.sgemm)>(get("cublasSgemm_v2"));
    c.status_string = reinterpret_cast<decltype(c.status_string)>(get("cublasGetStatusString"));
    if (!c.create || !c.destroy || !c.set_stream || !c.set_math_mode || !c.sgemm)
      c.error = "libcublas.so.13 lacks an entry point the engine needs";
  });
  return c;
}

bool ready() {
  return cublas().error.empty();
}

}  // namespace

extern "C" {

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  return ready() ? cublas().create(handle) : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  return ready() ? cublas().destroy(handle) : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
  return ready() ? cublas().set_stream(handle, stream) : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  return ready() ? cublas().set_math_mode(handle, mode) : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa,
                              cublasOperation_t transb, int m, int n, int k, const float* alpha,
                              const float* A, int lda, const float* B, int ldb, const float* beta,
                              float* C, int ldc) {
  return ready()
             ? cublas().sgemm(handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
             : CUBLAS_STATUS_NOT_INITIALIZED;
}

const char* cublasGetStatusString(cublasStatus_t status) {
  if (!ready()) return cublas().error.c_str();
  return cublas().status_string ? cublas().status_string(status) : "cuBLAS error";
}

}  // extern "C"
