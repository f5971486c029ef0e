#include "cuda_sample.h"

#include <memtide/annotate.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include "../cuda/activations.h"
#include "../cuda/cuda_check.h"
#include "../cuda/linear.h"
#include "../cuda/trainer.h"

namespace samples {

using namespace engine;

namespace {

// The MLP is Linear (+ ReLU) ... Linear; with --fuse the hidden Linears carry the ReLU themselves.
gpu::Sequential to_device(const Config& cfg, Sequential& host, gpu::Device& device) {
  gpu::Sequential model;
  for (size_t i = 0; i < host.size(); ++i) {
    Layer& layer = host.layer(i);
    if (auto* linear = dynamic_cast<Linear*>(&layer)) {
      const bool hidden = i + 1 < host.size();
      const Activation act = cfg.fuse && hidden ? Activation::ReLU : Activation::None;
      model.add(std::make_unique<gpu::Linear>(device, *linear, act));
    } else if (dynamic_cast<ReLU*>(&layer)) {
      model.add(std::make_unique<gpu::ReLU>(device));
    } else if (dynamic_cast<GELU*>(&layer)) {
      model.add(std::make_unique<gpu::GELU>(device));
    } else {
      throw std::invalid_argument("--device cuda: no CUDA kernels for " + layer.describe());
    }
  }
  return model;
}

AllocatorStats as_allocator_stats(const gpu::DeviceMemoryStats& s) {
  AllocatorStats a;
  a.blocks = s.allocations;
  a.live_bytes = s.in_use_bytes;
  a.peak_live_bytes = s.peak_in_use_bytes;
  a.system_calls = s.segment_allocs + s.segment_frees;
  a.reserved_bytes = s.reserved_bytes;
  return a;
}

std::string describe_memory(gpu::Device& device) {
  const gpu::DeviceMemoryStats& s = device.allocator().stats();
  char line[512];
  std::snprintf(line, sizeof line,
                "cuda device=\"%s\" allocator=%s memory=%s managed_hints=%s "
                "reserved_bytes=%lld peak_reserved_bytes=%lld in_use_bytes=%lld segments=%lld "
                "segment_allocs=%lld segment_frees=%lld allocations=%lld cache_hits=%lld",
                device.name().c_str(), device.allocator().name(), device.memory_kind(),
                device.unified() ? (device.managed_hints() ? "on" : "off") : "n/a",
                static_cast<long long>(s.reserved_bytes),
                static_cast<long long>(s.peak_reserved_bytes),
                static_cast<long long>(s.in_use_bytes), static_cast<long long>(s.segments),
                static_cast<long long>(s.segment_allocs), static_cast<long long>(s.segment_frees),
                static_cast<long long>(s.allocations), static_cast<long long>(s.cache_hits));
  return line;
}

}  // namespace

gpu::Sequential network_to_device(const Config& cfg, Sequential& host, gpu::Device& device) {
  return to_device(cfg, host, device);
}

std::string cuda_device_problem() {
  return gpu::cuda_device_problem();
}

void train_on_cuda(const Config& cfg, const Dataset& data, const SampleLayout& task,
                   std::ostream* log, const StepHooks& hooks, RunResult& result) {
  // Batches are assembled on the host, and the initial weights drawn there.
  SystemAllocator host;
  Context host_ctx{host, DType::F32};
  gpu::Device device(gpu::DeviceOptions{.caching = cfg.pool, .unified = cfg.unified});

  Rng init_rng(mix_seed(cfg.seed, 1));
  gpu::Sequential model = [&] {
    MEMTIDE_SCOPE("model/init");
    Sequential host_model = build_network(cfg, host_ctx, task, init_rng);
    return to_device(cfg, host_model, device);
  }();
  result.architecture = model.describe();

  std::unique_ptr<gpu::Optimizer> opt;
  if (cfg.optimizer == OptimizerKind::AdamW) {
    opt = std::make_unique<gpu::AdamW>(model.params(), device, cfg.lr, 0.0f);
  } else {
    opt = std::make_unique<gpu::Sgd>(model.params(), device, cfg.lr, 0.9f, 0.0f);
  }

  DataLoader loader(data, 0, cfg.samples, cfg.batch, mix_seed(cfg.seed, 2));
  LoopOptions loop;
  loop.steps = cfg.steps;
  loop.log_every = cfg.log_every;
  loop.log = log;
  result.steps = gpu::train_loop(model, *opt, loader, host_ctx, device, loop, hooks);
  result.alloc = as_allocator_stats(device.allocator().stats());
  for (const gpu::Param* p : model.params()) result.param_bytes += p->value.nbytes();
  result.eval = gpu::evaluate(model, data, cfg.samples, cfg.samples + cfg.eval_samples, cfg.batch,
                              host_ctx, device);
  result.device_memory = describe_memory(device);
}

}  // namespace samples
