// Loops after llm.c's attention_forward/backward: clear, and fast enough at the sample sizes.
#include "attention.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace engine {

Attention::Attention(Context& ctx, int64_t c, int64_t heads) : Layer(ctx), c_(c), nh_(heads) {
  if (heads <= 0 || c % heads != 0) {
    throw std::invalid_argument("Attention: channels must be a multiple of the head count");
  }
}

std::string Attention::describe() const {
  return "Attention(C=" + std::to_string(c_) + ", heads=" + std::to_string(nh_) + ")";
}

Tensor Attention::forward(const Tensor& qkv) {
  expect_shape(qkv.shape().rank() == 3 && qkv.shape()[2] == 3 * c_, *this, "qkv (B, T, 3C)",
               qkv.shape());
  const int64_t b = qkv.shape()[0], t = qkv.shape()[1], hs = c_ / nh_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  Tensor y = new_activation({b, t, c_});
  Tensor att = new_activation({b, nh_, t, t});
  {
    F32Read in(qkv);
    F32Write out(y), a(att);
    std::fill(a.data(), a.data() + att.numel(), 0.0f);
    for (int64_t bi = 0; bi < b; ++bi) {
      for (int64_t ti = 0; ti < t; ++ti) {
        for (int64_t h = 0; h < nh_; ++h) {
          const float* q = in.data() + (bi * t + ti) * 3 * c_ + h * hs;
          float* row = a.data() + ((bi * nh_ + h) * t + ti) * t;
          // Scores against positions 0..ti, then a stable softmax over them.
          float max_score = -INFINITY;
          for (int64_t t2 = 0; t2 <= ti; ++t2) {
            const float* k = in.data() + (bi * t + t2) * 3 * c_ + c_ + h * hs;
            float s = 0.0f;
            for (int64_t i = 0; i < hs; ++i) s += q[i] * k[i];
            row[t2] = s * scale;
            max_score = std::max(max_score, row[t2]);
          }
          float sum = 0.0f;
          for (int64_t t2 = 0; t2 <= ti; ++t2) {
            row[t2] = std::exp(row[t2] - max_score);
            sum += row[t2];
          }
          for (int64_t t2 = 0; t2 <= ti; ++t2) row[t2] /= sum;
          float* o = out.data() + (bi * t + ti) * c_ + h * hs;
          std::fill(o, o + hs, 0.0f);
          for (int64_t t2 = 0; t2 <= ti; ++t2) {
            const float* v = in.data() + (bi * t + t2) * 3 * c_ + 2 * c_ + h * hs;
            for (int64_t i = 0; i < hs; ++i) o[i] += row[t2] * v[i];
          }
        }
      }
    }
    out.commit();
    a.commit();
  }
  qkv_ = qkv;
  att_ = att;
  return y;
}

Tensor Attention::backward(const Tensor& dy) {
  if (!qkv_.defined()) throw std::logic_error("Attention::backward without forward");
  const int64_t b = qkv_.shape()[0], t = qkv_.shape()[1], hs = c_ / nh_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  Tensor dqkv = new_activation(qkv_.shape());
  {
    F32Read in(qkv_), a(att_), g(dy);
    F32Write d(dqkv);
    std::fill(d.data(), d.data() + dqkv.numel(), 0.0f);
    Tensor datt_buffer = new_f32({t});  // gradient of one row of att
    float* datt = datt_buffer.data<float>();
    for (int64_t bi = 0; bi < b; ++bi) {
      for (int64_t ti = 0; ti < t; ++ti) {
        for (int64_t h = 0; h < nh_; ++h) {
          const float* row = a.data() + ((bi * nh_ + h) * t + ti) * t;
          const float* go = g.data() + (bi * t + ti) * c_ + h * hs;
          // y = att·v:  datt[t2] = go·v[t2],  dv[t2] += att[t2] * go.
          for (int64_t t2 = 0; t2 <= ti; ++t2) {
            const float* v = in.data() + (bi * t + t2) * 3 * c_ + 2 * c_ + h * hs;
            float* dv = d.data() + (bi * t + t2) * 3 * c_ + 2 * c_ + h * hs;
            float s = 0.0f;
            for (int64_t i = 0; i < hs; ++i) {
              s += go[i] * v[i];
              dv[i] += row[t2] * go[i];
            }
            datt[t2] = s;
          }
          // Softmax: dscore[t2] = att[t2] * (datt[t2] - sum_j att[j] * datt[j]).
          float dot = 0.0f;
          for (int64_t t2 = 0; t2 <= ti; ++t2) dot += row[t2] * datt[t2];
          // score = q·k * scale:  dq += dscore * k * scale,  dk += dscore * q * scale.
          const float* q = in.data() + (bi * t + ti) * 3 * c_ + h * hs;
          float* dq = d.data() + (bi * t + ti) * 3 * c_ + h * hs;
          for (int64_t t2 = 0; t2 <= ti; ++t2) {
            const float dscore = row[t2] * (datt[t2] - dot) * scale;
            const float* k = in.data() + (bi * t + t2) * 3 * c_ + c_ + h * hs;
            float* dk = d.data() + (bi * t + t2) * 3 * c_ + c_ + h * hs;
            for (int64_t i = 0; i < hs; ++i) {
              dq[i] += dscore * k[i];
              dk[i] += dscore * q[i];
            }
          }
        }
      }
    }
    d.commit();
  }
  release_saved();
  return dqkv;
}

void Attention::release_saved() {
  qkv_ = Tensor();
  att_ = Tensor();
}

}  // namespace engine
