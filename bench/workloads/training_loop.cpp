// bench-training-loop: a training-like loop with large per-layer blocks.
//
// usage: bench-training-loop [STEPS] [LAYERS] [BATCH] [WIDTH]
//   (defaults 3 steps, 6 layers, batch 512, width 1024: 2 MiB activation
//    blocks, 4 MiB weight matrices, a few seconds of compute)
//
// Every step runs a forward pass (one fresh activation block per layer,
// dense layer + ReLU) and a backward pass (one fresh gradient block per layer,
// gradient through ReLU and the transposed weights, a small weight update),
// freeing the activations as the backward pass consumes them. Allocations are
// few (about 2 per layer per step) and large; the time is the arithmetic.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace {

using Block = std::vector<float>;

// out[b][:] = relu(W^T in[b][:]) with W stored [in][out] so the inner loop
// is a contiguous axpy the compiler vectorizes.
void forward(const Block& w, const Block& in, Block& out, unsigned batch, unsigned width) {
  for (unsigned b = 0; b < batch; ++b) {
    const float* x = &in[size_t(b) * width];
    float* y = &out[size_t(b) * width];
    for (unsigned k = 0; k < width; ++k) {
      const float xk = x[k];
      const float* wr = &w[size_t(k) * width];
      for (unsigned j = 0; j < width; ++j) y[j] += wr[j] * xk;
    }
    for (unsigned j = 0; j < width; ++j) y[j] = y[j] > 0.f ? y[j] : 0.f;
  }
}

// grad_in[b][k] = sum_j W[k][j] * grad_out[b][j] * (act[b][j] > 0)
void backward(const Block& w, const Block& act, Block& grad_out, Block& grad_in, unsigned batch,
              unsigned width) {
  for (unsigned b = 0; b < batch; ++b) {
    float* g = &grad_out[size_t(b) * width];
    const float* a = &act[size_t(b) * width];
    for (unsigned j = 0; j < width; ++j) g[j] = a[j] > 0.f ? g[j] : 0.f;
    float* gi = &grad_in[size_t(b) * width];
    for (unsigned k = 0; k < width; ++k) {
      const float* wr = &w[size_t(k) * width];
      float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
      for (unsigned j = 0; j < width; j += 4) {
        s0 += wr[j] * g[j];
        s1 += wr[j + 1] * g[j + 1];
        s2 += wr[j + 2] * g[j + 2];
        s3 += wr[j + 3] * g[j + 3];
      }
      gi[k] = (s0 + s1) + (s2 + s3);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned steps = 3, layers = 6, batch = 512, width = 1024;
  if (argc > 1) steps = static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10));
  if (argc > 2) layers = static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10));
  if (argc > 3) batch = static_cast<unsigned>(std::strtoul(argv[3], nullptr, 10));
  if (argc > 4) width = static_cast<unsigned>(std::strtoul(argv[4], nullptr, 10));
  if (steps == 0 || layers == 0 || batch == 0 || width == 0 || width % 4) {
    std::fprintf(stderr, "usage: %s [STEPS] [LAYERS] [BATCH] [WIDTH (multiple of 4)]\n", argv[0]);
    return 2;
  }
  const size_t act_elems = size_t(batch) * width;

  uint64_t seed = 88172645463325252ull;
  auto uniform = [&seed] {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return static_cast<float>((seed >> 40) & 0xffffff) / 16777216.f - 0.5f;
  };
  const float scale = 2.0f / std::sqrt(static_cast<float>(width));
  std::vector<Block> weights(layers);
  for (auto& w : weights) {
    w.resize(size_t(width) * width);
    for (float& v : w) v = uniform() * scale;
  }
  Block input(act_elems);
  for (float& v : input) v = uniform();

  double loss_sum = 0;
  uint64_t allocations = 0;
  for (unsigned step = 0; step < steps; ++step) {
    // forward: one activation block per layer, kept for the backward pass
    std::vector<std::unique_ptr<Block>> acts;
    const Block* x = &input;
    for (unsigned l = 0; l < layers; ++l) {
      acts.push_back(std::make_unique<Block>(act_elems));
      allocations += 2;
      forward(weights[l], *x, *acts.back(), batch, width);
      x = acts.back().get();
    }
    // loss: mean square of the last activation; its gradient seeds backward
    auto grad = std::make_unique<Block>(act_elems);
    allocations += 2;
    double loss = 0;
    for (size_t i = 0; i < act_elems; ++i) {
      const float v = (*acts.back())[i];
      loss += double(v) * v;
      (*grad)[i] = 2.f * v / static_cast<float>(act_elems);
    }
    loss_sum += loss / static_cast<double>(act_elems);
    // backward: a fresh gradient block per layer; activations freed as used
    for (unsigned l = layers; l-- > 0;) {
      auto grad_in = std::make_unique<Block>(act_elems);
      allocations += 2;
      backward(weights[l], *acts[l], *grad, *grad_in, batch, width);
      // a small update: the first row of the layer input times the gradient
      const Block& in = l ? *acts[l - 1] : input;
      for (unsigned k = 0; k < width; k += 64)
        for (unsigned j = 0; j < width; ++j)
          weights[l][size_t(k) * width + j] -= 0.01f * in[k] * (*grad)[j];
      grad = std::move(grad_in);
      acts[l].reset();
    }
  }
  std::printf(
      "bench-training-loop: steps=%u layers=%u block=%zu KiB allocations=%llu "
      "live_peak=%u loss=%.6g\n",
      steps, layers, act_elems * sizeof(float) / 1024, static_cast<unsigned long long>(allocations),
      2 * layers + 8, loss_sum);
  return 0;
}
