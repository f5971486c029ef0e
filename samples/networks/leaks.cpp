// These functions are wrong on purpose. Do not copy them.
#include "leaks.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace samples {

namespace {
// A pointer the optimizer must assume escapes, so that no planted allocation is optimized away.
void* volatile g_sink;
}  // namespace

const char* leak_name(Leak kind) {
  switch (kind) {
    case Leak::None:
      return "none";
    case Leak::ActivationCache:
      return "activation-cache";
    case Leak::LossHistory:
      return "loss-history";
    case Leak::Workspace:
      return "workspace";
    case Leak::NewFreeMismatch:
      return "new-free-mismatch";
    case Leak::SharedPtrCycle:
      return "shared-ptr-cycle";
  }
  return "?";
}

std::optional<Leak> parse_leak(std::string_view name) {
  for (Leak k : {Leak::None, Leak::ActivationCache, Leak::LossHistory, Leak::Workspace,
                 Leak::NewFreeMismatch, Leak::SharedPtrCycle}) {
    if (name == leak_name(k)) return k;
  }
  return std::nullopt;
}

const char* leak_names() {
  return "activation-cache, loss-history, workspace, new-free-mismatch, shared-ptr-cycle";
}

// Bug: a debugging cache of activations, one entry per step, never evicted. The cache itself is
// a leaked singleton (a common pattern), so its entries are still reachable at exit and grow
// by one activation every step.
__attribute__((noinline)) void plant_activation_cache_leak(const engine::Tensor& activation) {
  static auto* cache = new std::vector<std::unique_ptr<std::byte[]>>();
  auto& entry = cache->emplace_back(std::make_unique<std::byte[]>(activation.nbytes()));
  std::memcpy(entry.get(), activation.raw(), activation.nbytes());
}

// Bug: a loss history "for plotting" that keeps each step's logits along with the loss — the
// C++ cousin of `losses.append(loss)` keeping a graph alive in PyTorch. Grows every step.
__attribute__((noinline)) void plant_loss_history_leak(int64_t step, float loss,
                                                       const engine::Tensor& logits) {
  struct Record {
    int64_t step;
    float loss;
    std::unique_ptr<std::byte[]> logits;
  };
  static auto* history = new std::vector<Record>();
  Record r{step, loss, std::make_unique<std::byte[]>(logits.nbytes())};
  std::memcpy(r.logits.get(), logits.raw(), logits.nbytes());
  history->push_back(std::move(r));
}

// Bug: a scratch buffer taken every step and forgotten. Nothing points to it afterwards:
// definitely lost, one block per step.
__attribute__((noinline)) void plant_workspace_leak(size_t bytes) {
  auto* workspace = static_cast<float*>(std::malloc(bytes));
  if (workspace == nullptr) return;
  for (size_t i = 0; i < bytes / sizeof(float); ++i) workspace[i] = 0.0f;  // "used"
  g_sink = workspace;
  g_sink = nullptr;  // ...and the only pointer to it is gone
}

// Bug: an array allocated with new[] and released with free(). glibc happens to accept it for
// a trivial type, which is why this survives in real code; allocators that keep a cookie in
// front of new[] arrays do not.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wunknown-warning-option"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#pragma GCC diagnostic ignored "-Wmismatched-dealloc"
__attribute__((noinline)) void plant_new_free_mismatch(size_t count) {
  float* scratch = new float[count];
  for (size_t i = 0; i < count; ++i) scratch[i] = static_cast<float>(i);
  g_sink = scratch;
  std::free(g_sink);
}
#pragma GCC diagnostic pop

// Bug: two modules that refer to each other by shared_ptr (a layer and the hook observing it).
// When the last outside owner lets go, each keeps the other alive: a cycle, leaked every step.
__attribute__((noinline)) void plant_shared_ptr_cycle_leak(size_t state_floats) {
  struct Module {
    std::shared_ptr<Module> peer;
    std::vector<float> state;
  };
  auto layer = std::make_shared<Module>();
  auto hook = std::make_shared<Module>();
  layer->state.assign(state_floats, 0.0f);
  hook->state.assign(state_floats, 0.0f);
  layer->peer = hook;
  hook->peer = layer;
}

engine::StepHooks leak_hooks(Leak kind) {
  engine::StepHooks hooks;
  switch (kind) {
    case Leak::None:
      break;
    case Leak::ActivationCache:
      hooks.after_loss = [](int64_t, const engine::Tensor& logits, float) {
        plant_activation_cache_leak(logits);
      };
      break;
    case Leak::LossHistory:
      hooks.after_loss = [](int64_t step, const engine::Tensor& logits, float loss) {
        plant_loss_history_leak(step, loss, logits);
      };
      break;
    case Leak::Workspace:
      hooks.after_step = [](int64_t) { plant_workspace_leak(size_t{64} << 10); };
      break;
    case Leak::NewFreeMismatch:
      hooks.after_step = [](int64_t) { plant_new_free_mismatch(4096); };
      break;
    case Leak::SharedPtrCycle:
      hooks.after_step = [](int64_t) { plant_shared_ptr_cycle_leak(1024); };
      break;
  }
  return hooks;
}

}  // namespace samples
