#include "tasks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../engine/rng.h"

namespace samples {

using engine::DType;
using engine::Rng;
using engine::SampleLayout;

namespace {

void put_label(std::byte* record, const SampleLayout& l, int64_t i, int32_t label) {
  std::memcpy(record + l.input_bytes() + static_cast<size_t>(i) * 4, &label, 4);
}

class ClustersTask final : public engine::SampleGenerator {
 public:
  static constexpr int64_t kClustersPerClass = 3;
  static constexpr float kCenterSpread = 1.2f;  // centers ~ N(0, spread^2 I); noise N(0, I)

  ClustersTask(uint64_t seed, int64_t features, int64_t classes)
      : seed_(seed), f_(features), c_(classes) {
    Rng rng(engine::mix_seed(seed, 0xfeed));
    centers_.resize(static_cast<size_t>(c_ * kClustersPerClass * f_));
    for (float& v : centers_) v = kCenterSpread * rng.normal();
  }

  SampleLayout layout() const override { return {{f_}, DType::F32, 1, c_}; }

  void generate(int64_t index, std::byte* record) const override {
    Rng rng(engine::mix_seed(seed_, static_cast<uint64_t>(index)));
    const int64_t cluster = rng.below(c_ * kClustersPerClass);
    const auto label = static_cast<int32_t>(cluster % c_);
    const float* center = centers_.data() + cluster * f_;
    std::vector<float> x(static_cast<size_t>(f_));
    for (int64_t k = 0; k < f_; ++k) x[static_cast<size_t>(k)] = center[k] + rng.normal();
    std::memcpy(record, x.data(), x.size() * 4);
    put_label(record, layout(), 0, label);
  }

 private:
  uint64_t seed_;
  int64_t f_, c_;
  std::vector<float> centers_;  // (classes * clusters, F); cluster k belongs to class k % classes
};

class StrokesTask final : public engine::SampleGenerator {
 public:
  StrokesTask(uint64_t seed, int64_t size) : seed_(seed), s_(size) {}

  SampleLayout layout() const override { return {{1, s_, s_}, DType::F32, 1, 4}; }

  void generate(int64_t index, std::byte* record) const override {
    Rng rng(engine::mix_seed(seed_, static_cast<uint64_t>(index)));
    std::vector<float> img(static_cast<size_t>(s_ * s_));
    for (float& p : img) p = 0.2f * rng.normal();
    const auto label = static_cast<int32_t>(rng.below(4));
    const int64_t len = s_ / 3 + rng.below(s_ / 3 + 1);
    // Direction (dy, dx) per class; the start is drawn so that the whole stroke fits.
    const int64_t dy[4] = {0, 1, 1, 1}, dx[4] = {1, 0, 1, -1};
    const int64_t y_span = s_ - (dy[label] ? len : 1), x_lo = dx[label] < 0 ? len - 1 : 0;
    const int64_t x_span = s_ - (dx[label] ? len : 1);
    const int64_t y0 = rng.below(y_span + 1), x0 = x_lo + rng.below(x_span + 1);
    for (int64_t i = 0; i < len; ++i) {
      img[static_cast<size_t>((y0 + i * dy[label]) * s_ + x0 + i * dx[label])] += 1.0f;
    }
    std::memcpy(record, img.data(), img.size() * 4);
    put_label(record, layout(), 0, label);
  }

 private:
  uint64_t seed_;
  int64_t s_;
};

class EchoTask final : public engine::SampleGenerator {
 public:
  EchoTask(uint64_t seed, int64_t vocab, int64_t len) : seed_(seed), v_(vocab), t_(len) {}

  SampleLayout layout() const override { return {{t_}, DType::I32, t_, v_}; }

  void generate(int64_t index, std::byte* record) const override {
    Rng rng(engine::mix_seed(seed_, static_cast<uint64_t>(index)));
    std::vector<int32_t> tokens(static_cast<size_t>(t_));
    for (int32_t& tok : tokens) tok = static_cast<int32_t>(rng.below(v_));
    std::memcpy(record, tokens.data(), tokens.size() * 4);
    for (int64_t t = 0; t < t_; ++t) {
      put_label(record, layout(), t, tokens[static_cast<size_t>(std::max<int64_t>(t - 1, 0))]);
    }
  }

 private:
  uint64_t seed_;
  int64_t v_, t_;
};

}  // namespace

std::unique_ptr<engine::SampleGenerator> make_clusters_task(uint64_t seed, int64_t features,
                                                            int64_t classes) {
  return std::make_unique<ClustersTask>(seed, features, classes);
}

std::unique_ptr<engine::SampleGenerator> make_strokes_task(uint64_t seed, int64_t size) {
  return std::make_unique<StrokesTask>(seed, size);
}

std::unique_ptr<engine::SampleGenerator> make_echo_task(uint64_t seed, int64_t vocab, int64_t len) {
  return std::make_unique<EchoTask>(seed, vocab, len);
}

}  // namespace samples
