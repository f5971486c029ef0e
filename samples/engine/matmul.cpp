// Products are written with noalias() into mapped tensor memory so that Eigen evaluates them
// straight into the destination, with no temporary matrix: in pool mode a training step must
// not reach malloc behind the arena's back. GEMM blocking buffers still exist; they go on the
// stack below EIGEN_STACK_ALLOCATION_LIMIT, which CMake raises for the sample sizes.
#include "matmul.h"

#include <Eigen/Core>

namespace engine {

namespace {
using MatRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Map = Eigen::Map<MatRM>;
using ConstMap = Eigen::Map<const MatRM>;
using RowVec = Eigen::Map<Eigen::RowVectorXf>;
using ConstRowVec = Eigen::Map<const Eigen::RowVectorXf>;
}  // namespace

void matmul_forward(float* y, const float* x, const float* w, int64_t n, int64_t in, int64_t out) {
  Map(y, n, out).noalias() = ConstMap(x, n, in) * ConstMap(w, out, in).transpose();
}

void matmul_backward(float* dx, float* dw, const float* dy, const float* x, const float* w,
                     int64_t n, int64_t in, int64_t out) {
  const ConstMap dY(dy, n, out);
  if (dx != nullptr) Map(dx, n, in).noalias() = dY * ConstMap(w, out, in);
  Map(dw, out, in).noalias() = dY.transpose() * ConstMap(x, n, in);
}

void bias_forward(float* y, const float* b, int64_t n, int64_t out) {
  Map(y, n, out).rowwise() += ConstRowVec(b, out);
}

void bias_backward(float* db, const float* dy, int64_t n, int64_t out) {
  RowVec(db, out).noalias() = ConstMap(dy, n, out).colwise().sum();
}

}  // namespace engine
