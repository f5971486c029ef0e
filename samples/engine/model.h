// Sequential: layers run in order, each inside a named profiler scope
//   model.layers.<i>/forward   model.layers.<i>/backward   model.layers.<i>/recompute
//
// Gradient checkpointing (`--checkpoint K`, llm.c's `recompute`): forward keeps only the input
// of every K-th layer (one per segment of K layers) and lets every other layer drop what it kept
// for backward. Backward walks the segments from the last, re-running each segment's forward
// from its kept input before going back through it. Activation memory falls from all N layers'
// worth to about N/K inputs plus one segment's worth, for one more forward pass. The last
// segment keeps its activations: backward starts there, so recomputing it would be wasted.
// Layers do not know about it: checkpointing lives here, as ggml does it with a graph rewrite.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layer.h"

namespace engine {

class Sequential {
 public:
  explicit Sequential(std::string prefix = "model.layers") : prefix_(std::move(prefix)) {}

  Layer& add(std::unique_ptr<Layer> layer);
  size_t size() const { return layers_.size(); }
  Layer& layer(size_t i) { return *layers_[i]; }

  // 0 or 1: keep everything. K >= 2: keep the input of every K-th layer.
  void set_checkpoint_every(int k);
  int checkpoint_every() const { return every_; }

  // Training forward: layers keep what backward needs (subject to checkpointing).
  Tensor forward(const Tensor& x);
  // Must follow forward; sets every parameter's gradient.
  void backward(const Tensor& dy);
  // Inference: nothing is kept.
  Tensor infer(const Tensor& x);

  std::vector<Param*> params();
  void quantize_int8();
  std::string describe() const;

 private:
  size_t segment_start(size_t segment) const { return segment * static_cast<size_t>(every_); }
  size_t segment_count() const;

  std::string prefix_;
  std::vector<std::unique_ptr<Layer>> layers_;
  // Scope names, built once: a scope takes a C string that must stay valid.
  std::vector<std::string> forward_scope_, backward_scope_, recompute_scope_;
  int every_ = 0;
  std::vector<Tensor> checkpoints_;  // input of each segment; sized once
};

}  // namespace engine
