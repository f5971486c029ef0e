#include "embedding.h"

#include <algorithm>
#include <stdexcept>

namespace engine {

Embedding::Embedding(Context& ctx, int64_t vocab, int64_t max_len, int64_t c, Rng& rng)
    : Layer(ctx), vocab_(vocab), max_len_(max_len), c_(c) {
  auto init = [&](float* w, int64_t n) {
    for (int64_t i = 0; i < n; ++i) w[i] = 0.02f * rng.normal();
  };
  wte_ = make_param(ctx, "wte", {vocab, c}, init);
  wpe_ = make_param(ctx, "wpe", {max_len, c}, init);
}

std::string Embedding::describe() const {
  return "Embedding(vocab=" + std::to_string(vocab_) + ", len=" + std::to_string(max_len_) +
         ", C=" + std::to_string(c_) + ")";
}

Tensor Embedding::forward(const Tensor& tokens) {
  expect_shape(
      tokens.dtype() == DType::I32 && tokens.shape().rank() == 2 && tokens.shape()[1] <= max_len_,
      *this, "i32 tokens (B, T) with T <= len", tokens.shape());
  const int64_t b = tokens.shape()[0], t = tokens.shape()[1];
  Tensor y = new_activation({b, t, c_});
  {
    F32Read wte(wte_.value), wpe(wpe_.value);
    F32Write out(y);
    const int32_t* tok = tokens.data<int32_t>();
    for (int64_t i = 0; i < b * t; ++i) {
      if (tok[i] < 0 || tok[i] >= vocab_) throw std::out_of_range("Embedding: token out of range");
      const float* e = wte.data() + tok[i] * c_;
      const float* p = wpe.data() + (i % t) * c_;
      for (int64_t j = 0; j < c_; ++j) out.data()[i * c_ + j] = e[j] + p[j];
    }
    out.commit();
  }
  tokens_ = tokens;
  return y;
}

Tensor Embedding::backward(const Tensor& dy) {
  if (!tokens_.defined()) throw std::logic_error("Embedding::backward without forward");
  const int64_t b = tokens_.shape()[0], t = tokens_.shape()[1];
  {
    F32Read g(dy);
    F32Write dwte(wte_.grad), dwpe(wpe_.grad);
    std::fill(dwte.data(), dwte.data() + wte_.grad.numel(), 0.0f);
    std::fill(dwpe.data(), dwpe.data() + wpe_.grad.numel(), 0.0f);
    const int32_t* tok = tokens_.data<int32_t>();
    for (int64_t i = 0; i < b * t; ++i) {
      const float* gi = g.data() + i * c_;
      float* e = dwte.data() + tok[i] * c_;
      float* p = dwpe.data() + (i % t) * c_;
      for (int64_t j = 0; j < c_; ++j) {
        e[j] += gi[j];
        p[j] += gi[j];
      }
    }
    dwte.commit();
    dwpe.commit();
  }
  release_saved();
  return Tensor();
}

void Embedding::collect_params(std::vector<Param*>& out) {
  out.push_back(&wte_);
  out.push_back(&wpe_);
}

}  // namespace engine
