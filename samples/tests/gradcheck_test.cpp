// Finite-difference gradient checks, in f32, for every layer and the loss.
//
// For a layer f and a fixed random r, L(x, θ) = Σ r ⊙ f(x; θ). backward(r) must give dL/dx and
// dL/dθ; each entry is compared with the central difference (L(+h) - L(-h)) / 2h, the sum taken
// in double. Inputs are chosen away from kinks (ReLU at 0, ties in a max-pool window) by more
// than h, so the difference quotient is exact up to rounding and O(h²).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "engine/activations.h"
#include "engine/attention.h"
#include "engine/conv2d.h"
#include "engine/embedding.h"
#include "engine/layernorm.h"
#include "engine/linear.h"
#include "engine/loss.h"
#include "engine/transformer_block.h"

namespace engine {
namespace {

constexpr double kStep = 1e-3;
// A transformer block sums many f32 terms into L: its rounding noise, divided by 2h, swamps a
// 1e-3 step. The block is smooth, so a larger step costs little O(h²) error.
constexpr double kBlockStep = 1e-2;
// |analytic - numeric| <= kAbsTol + kRelTol * |numeric|. Central differences of an f32
// function at h = 1e-3 agree to about 1e-4 here; a wrong index or a missing term is off by O(1).
constexpr double kAbsTol = 2e-3;
constexpr double kRelTol = 1e-2;

class GradCheck : public ::testing::Test {
 protected:
  SystemAllocator alloc;
  Context ctx{alloc, DType::F32};
  Rng rng{12345};

  Tensor random_tensor(const Shape& shape, float scale = 1.0f) {
    Tensor t = Tensor::empty(shape, DType::F32, alloc);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = scale * rng.normal();
    return t;
  }

  static double weighted_sum(const Tensor& y, const Tensor& r) {
    double s = 0.0;
    for (int64_t i = 0; i < y.numel(); ++i) {
      s += static_cast<double>(y.data<float>()[i]) * static_cast<double>(r.data<float>()[i]);
    }
    return s;
  }

  static void expect_close(double analytic, double numeric, const std::string& what) {
    EXPECT_NEAR(analytic, numeric, kAbsTol + kRelTol * std::fabs(numeric)) << what;
  }

  // Checks dL/dx (unless the input is not differentiable) and dL/dθ of `layer` at x.
  void check(Layer& layer, Tensor x, bool input_grad = true, double step = kStep) {
    Tensor y = layer.forward(x);
    const Tensor r = random_tensor(y.shape());
    const Tensor dx = layer.backward(r);
    std::vector<Param*> params;
    layer.collect_params(params);
    std::vector<std::vector<float>> grads;
    for (Param* p : params) {
      grads.emplace_back(p->grad.data<float>(), p->grad.data<float>() + p->grad.numel());
    }
    auto objective = [&] {
      Tensor out = layer.forward(x);
      layer.release_saved();
      return weighted_sum(out, r);
    };
    auto numeric = [&](float* v) {
      const float saved = *v;
      *v = saved + static_cast<float>(step);
      const double plus = objective();
      *v = saved - static_cast<float>(step);
      const double minus = objective();
      *v = saved;
      return (plus - minus) / (2.0 * step);
    };
    if (input_grad) {
      ASSERT_TRUE(dx.defined());
      ASSERT_EQ(dx.shape(), x.shape());
      for (int64_t i = 0; i < x.numel(); ++i) {
        expect_close(dx.data<float>()[i], numeric(x.data<float>() + i),
                     layer.describe() + " dx[" + std::to_string(i) + "]");
      }
    }
    for (size_t p = 0; p < params.size(); ++p) {
      float* v = params[p]->value.data<float>();
      for (int64_t i = 0; i < params[p]->value.numel(); ++i) {
        expect_close(grads[p][static_cast<size_t>(i)], numeric(v + i),
                     layer.describe() + " d" + params[p]->name + "[" + std::to_string(i) + "]");
      }
    }
  }

  // A tensor whose entries are at least `gap` from 0 (ReLU's kink).
  Tensor away_from_zero(const Shape& shape, float gap = 0.05f) {
    Tensor t = random_tensor(shape);
    for (int64_t i = 0; i < t.numel(); ++i) {
      float& v = t.data<float>()[i];
      v = v < 0.0f ? v - gap : v + gap;
    }
    return t;
  }

  // Randomizes a layer's biases and gains too (they start at 0 and 1).
  void randomize_params(Layer& layer) {
    std::vector<Param*> params;
    layer.collect_params(params);
    for (Param* p : params) {
      for (int64_t i = 0; i < p->value.numel(); ++i)
        p->value.data<float>()[i] += 0.3f * rng.normal();
    }
  }
};

TEST_F(GradCheck, Linear) {
  Linear layer(ctx, 5, 4, rng);
  randomize_params(layer);
  check(layer, random_tensor({3, 5}));
}

TEST_F(GradCheck, LinearOnThreeDimensionalInput) {
  Linear layer(ctx, 4, 3, rng);
  randomize_params(layer);
  check(layer, random_tensor({2, 3, 4}));
}

TEST_F(GradCheck, LinearFusedRelu) {
  Linear layer(ctx, 5, 6, rng, Activation::ReLU);
  randomize_params(layer);
  // With this seed no pre-activation lies within h of ReLU's kink (one that did would fail the
  // check, not pass it). Both sides of the kink are exercised: checked below.
  Tensor x = random_tensor({4, 5});
  Tensor y = layer.forward(x);
  layer.release_saved();
  check(layer, x);
  int64_t active = 0;
  for (int64_t i = 0; i < y.numel(); ++i) active += y.data<float>()[i] > 0.0f;
  EXPECT_GT(active, 0);
  EXPECT_LT(active, y.numel());
}

TEST_F(GradCheck, LinearFusedGelu) {
  Linear layer(ctx, 5, 6, rng, Activation::GELU);
  randomize_params(layer);
  check(layer, random_tensor({3, 5}));
}

TEST_F(GradCheck, LinearSparseCsr) {
  Linear layer(ctx, 8, 5, rng, Activation::None, 0.5f);
  ASSERT_TRUE(layer.sparse());
  randomize_params(layer);
  check(layer, random_tensor({3, 8}));
}

TEST_F(GradCheck, ReLU) {
  ReLU layer(ctx);
  check(layer, away_from_zero({3, 7}));
}

TEST_F(GradCheck, GELU) {
  GELU layer(ctx);
  check(layer, random_tensor({3, 7}, 2.0f));
}

TEST_F(GradCheck, Conv2d) {
  Conv2d layer(ctx, 2, 3, 3, rng);
  randomize_params(layer);
  check(layer, random_tensor({2, 2, 5, 6}));
}

TEST_F(GradCheck, Conv2dFusedRelu) {
  Conv2d layer(ctx, 2, 3, 3, rng, /*fuse_relu=*/true);
  randomize_params(layer);
  check(layer, random_tensor({1, 2, 4, 4}));
}

TEST_F(GradCheck, MaxPool2d) {
  MaxPool2d layer(ctx);
  // Distinct values 0.01 apart, shuffled: no window has a near tie.
  Tensor x = Tensor::empty({2, 2, 4, 6}, DType::F32, alloc);
  std::vector<int> order(static_cast<size_t>(x.numel()));
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = order.size() - 1; i > 0; --i) {
    std::swap(order[i], order[static_cast<size_t>(rng.below(static_cast<int64_t>(i) + 1))]);
  }
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = 0.01f * static_cast<float>(order[static_cast<size_t>(i)]);
  check(layer, x);
}

TEST_F(GradCheck, Flatten) {
  Flatten layer(ctx);
  check(layer, random_tensor({2, 3, 2, 2}));
}

TEST_F(GradCheck, LayerNorm) {
  LayerNorm layer(ctx, 6);
  randomize_params(layer);
  check(layer, random_tensor({4, 6}, 1.5f));
}

TEST_F(GradCheck, Embedding) {
  Embedding layer(ctx, 7, 5, 4, rng);
  Tensor tokens = Tensor::empty({2, 5}, DType::I32, alloc);
  const int32_t ids[10] = {0, 3, 3, 6, 1, 2, 2, 0, 5, 3};  // repeats: gradients must add up
  std::copy(ids, ids + 10, tokens.data<int32_t>());
  check(layer, tokens, /*input_grad=*/false);
}

TEST_F(GradCheck, Attention) {
  Attention layer(ctx, 8, 2);
  check(layer, random_tensor({2, 4, 24}));
}

TEST_F(GradCheck, TransformerBlock) {
  TransformerBlock layer(ctx, 16, 2, rng);
  randomize_params(layer);
  check(layer, random_tensor({1, 3, 16}), true, kBlockStep);
}

TEST_F(GradCheck, TransformerBlockFused) {
  TransformerBlock layer(ctx, 16, 2, rng, /*fuse=*/true);
  randomize_params(layer);
  check(layer, random_tensor({1, 3, 16}), true, kBlockStep);
}

TEST_F(GradCheck, SoftmaxCrossEntropy) {
  Tensor logits = random_tensor({4, 5}, 2.0f);
  Tensor targets = Tensor::empty({4}, DType::I32, alloc);
  const int32_t t[4] = {0, 4, 2, 2};
  std::copy(t, t + 4, targets.data<int32_t>());
  Tensor d;
  cross_entropy(logits, targets, &d);
  for (int64_t i = 0; i < logits.numel(); ++i) {
    float* v = logits.data<float>() + i;
    const float saved = *v;
    *v = saved + static_cast<float>(kStep);
    const double plus = cross_entropy(logits, targets, nullptr);
    *v = saved - static_cast<float>(kStep);
    const double minus = cross_entropy(logits, targets, nullptr);
    *v = saved;
    expect_close(d.data<float>()[i], (plus - minus) / (2 * kStep),
                 "dlogits[" + std::to_string(i) + "]");
  }
}

TEST(CrossEntropy, KnownValue) {
  // Uniform logits over 4 classes: loss = ln 4 whatever the target.
  SystemAllocator alloc;
  Tensor logits = Tensor::zeros({2, 4}, DType::F32, alloc);
  Tensor targets = Tensor::zeros({2}, DType::I32, alloc);
  EXPECT_NEAR(cross_entropy(logits, targets, nullptr), std::log(4.0), 1e-6);
}

}  // namespace
}  // namespace engine
