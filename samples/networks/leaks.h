// Planted memory bugs for `--leak=<kind>`: the workloads memtide's leak reports must catch.
// Each bug lives in a function of its own, never inlined, whose name says what it is, so that
// every allocation it makes carries that name in its stack.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "../engine/tensor.h"
#include "../engine/trainer.h"

namespace samples {

enum class Leak {
  None,
  ActivationCache,  // a per-step copy of the logits in a cache nothing ever evicts
  LossHistory,      // a history that keeps each step's loss *and* a copy of its logits
  Workspace,        // a scratch buffer malloc'ed every step and never freed
  NewFreeMismatch,  // an array from new[] released with free()
  SharedPtrCycle,   // two modules holding each other by shared_ptr, dropped every step
};

const char* leak_name(Leak kind);
std::optional<Leak> parse_leak(std::string_view name);
// "activation-cache, loss-history, ..." for help texts.
const char* leak_names();

// Hooks that plant the bug once per training step.
engine::StepHooks leak_hooks(Leak kind);

// The planting functions themselves (exposed for tests).
void plant_activation_cache_leak(const engine::Tensor& activation);
void plant_loss_history_leak(int64_t step, float loss, const engine::Tensor& logits);
void plant_workspace_leak(size_t bytes);
void plant_new_free_mismatch(size_t count);
void plant_shared_ptr_cycle_leak(size_t state_floats);

}  // namespace samples
