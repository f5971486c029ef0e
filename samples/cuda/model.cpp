#include "model.h"

#include <memtide/annotate.h>

namespace engine::gpu {

Layer& Sequential::add(std::unique_ptr<Layer> layer) {
  const std::string name = prefix_ + "." + std::to_string(layers_.size());
  forward_scope_.push_back(name + "/forward");
  backward_scope_.push_back(name + "/backward");
  layers_.push_back(std::move(layer));
  return *layers_.back();
}

DeviceTensor Sequential::forward(const DeviceTensor& x) {
  DeviceTensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    MEMTIDE_SCOPE(forward_scope_[i].c_str());
    h = layers_[i]->forward(h);
  }
  return h;
}

void Sequential::backward(const DeviceTensor& dy) {
  DeviceTensor g = dy;
  for (size_t i = layers_.size(); i-- > 0;) {
    MEMTIDE_SCOPE(backward_scope_[i].c_str());
    g = layers_[i]->backward(g);
  }
}

DeviceTensor Sequential::infer(const DeviceTensor& x) {
  DeviceTensor h = x;
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

std::string Sequential::describe() const {
  std::string s;
  for (size_t i = 0; i < layers_.size(); ++i) {
    s += prefix_ + "." + std::to_string(i) + ": " + layers_[i]->describe() + "\n";
  }
  return s;
}

}  // namespace engine::gpu
