// The training loop: data, forward, loss, backward, optimizer step — each step marked for the
// profiler (memtide_step_begin) and each phase in a named scope:
//   data/load, model.layers.<i>/{forward,backward,recompute} (model.h), loss, optimizer/step.
#pragma once

#include <functional>
#include <iosfwd>
#include <vector>

#include "dataset.h"
#include "model.h"
#include "optimizer.h"

namespace engine {

// What one step cost, from the allocator's counters (no profiler needed).
struct StepRecord {
  float loss = 0.0f;
  int64_t system_calls = 0;        // calls into the C allocator during the step
  int64_t live_at_start = 0;       // bytes live when the step began (parameters, state, data)
  int64_t peak_live = 0;           // high-water mark during the step
  int64_t live_after_loss = 0;     // before backward: the batch, saved activations, dlogits
  int64_t peak_live_backward = 0;  // high-water mark from the start of backward to its end
  int64_t wall_ns = 0;             // the step's wall-clock time (steady clock)
};

// Optional callbacks, for tests and for the planted leaks of the samples.
struct StepHooks {
  std::function<void(int64_t step)> before_step;
  // After the loss is known, with the step's logits.
  std::function<void(int64_t step, const Tensor& logits, float loss)> after_loss;
  std::function<void(int64_t step)> after_step;
};

struct LoopOptions {
  int64_t steps = 100;
  int64_t first_step = 0;
  int64_t log_every = 0;  // 0: no progress lines
  std::ostream* log = nullptr;
};

// Runs the loop; returns one record per step.
std::vector<StepRecord> train_loop(Sequential& model, Optimizer& opt, DataLoader& loader,
                                   Context& ctx, const LoopOptions& options,
                                   const StepHooks& hooks = {});

struct Evaluation {
  double loss = 0.0;      // mean cross-entropy per label
  double accuracy = 0.0;  // fraction of labels predicted (argmax)
};

// Inference over records [begin, end) in batches of `batch` (the last may be smaller).
Evaluation evaluate(Sequential& model, const Dataset& data, int64_t begin, int64_t end,
                    int64_t batch, Context& ctx);

}  // namespace engine
