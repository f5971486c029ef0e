#include "model.h"

#include <memtide/annotate.h>

#include <stdexcept>

namespace engine {

Layer& Sequential::add(std::unique_ptr<Layer> layer) {
  const std::string name = prefix_ + "." + std::to_string(layers_.size());
  forward_scope_.push_back(name + "/forward");
  backward_scope_.push_back(name + "/backward");
  recompute_scope_.push_back(name + "/recompute");
  layers_.push_back(std::move(layer));
  set_checkpoint_every(every_);  // re-size the checkpoint slots
  return *layers_.back();
}

void Sequential::set_checkpoint_every(int k) {
  if (k < 0) throw std::invalid_argument("checkpoint interval must be >= 0");
  every_ = k >= 2 ? k : 0;
  checkpoints_.assign(every_ ? segment_count() : 0, Tensor());
}

size_t Sequential::segment_count() const {
  const auto k = static_cast<size_t>(every_);
  return (layers_.size() + k - 1) / k;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  const size_t last_segment_start = every_ ? segment_start(segment_count() - 1) : 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    MEMTIDE_SCOPE(forward_scope_[i].c_str());
    if (every_ && i % static_cast<size_t>(every_) == 0)
      checkpoints_[i / static_cast<size_t>(every_)] = h;
    h = layers_[i]->forward(h);
    if (i < last_segment_start) layers_[i]->release_saved();  // to be recomputed in backward
  }
  return h;
}

void Sequential::backward(const Tensor& dy) {
  Tensor g = dy;
  if (!every_) {
    for (size_t i = layers_.size(); i-- > 0;) {
      MEMTIDE_SCOPE(backward_scope_[i].c_str());
      g = layers_[i]->backward(g);
    }
    return;
  }
  for (size_t s = segment_count(); s-- > 0;) {
    const size_t begin = segment_start(s);
    const size_t end = std::min(layers_.size(), begin + static_cast<size_t>(every_));
    if (s + 1 < segment_count()) {
      Tensor h = checkpoints_[s];
      for (size_t i = begin; i < end; ++i) {
        MEMTIDE_SCOPE(recompute_scope_[i].c_str());
        h = layers_[i]->forward(h);
      }
    }
    checkpoints_[s] = Tensor();  // the segment's first layer holds it now if it needs it
    for (size_t i = end; i-- > begin;) {
      MEMTIDE_SCOPE(backward_scope_[i].c_str());
      g = layers_[i]->backward(g);
    }
  }
}

Tensor Sequential::infer(const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    MEMTIDE_SCOPE(forward_scope_[i].c_str());
    h = layers_[i]->forward(h);
    layers_[i]->release_saved();
  }
  return h;
}

std::vector<Param*> Sequential::params() {
  std::vector<Param*> out;
  for (auto& l : layers_) l->collect_params(out);
  return out;
}

void Sequential::quantize_int8() {
  for (auto& l : layers_) l->quantize_int8();
}

std::string Sequential::describe() const {
  std::string s;
  for (size_t i = 0; i < layers_.size(); ++i) {
    s += prefix_ + "." + std::to_string(i) + ": " + layers_[i]->describe() + "\n";
  }
  return s;
}

}  // namespace engine
