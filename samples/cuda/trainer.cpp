#include "trainer.h"

#include <memtide/annotate.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ostream>

#include "engine/loss.h"
#include "loss.h"

namespace engine::gpu {

DeviceBatch upload(const Batch& batch, Device& device) {
  return DeviceBatch{DeviceTensor::from_host(batch.inputs, device),
                     DeviceTensor::from_host(batch.targets, device)};
}

std::vector<StepRecord> train_loop(Sequential& model, Optimizer& opt, DataLoader& loader,
                                   Context& host_ctx, Device& device, const LoopOptions& options,
                                   const StepHooks& hooks) {
  std::vector<StepRecord> records;
  records.reserve(static_cast<size_t>(options.steps));
  DeviceAllocator& alloc = device.allocator();
  const DeviceMemoryStats& stats = alloc.stats();
  for (int64_t step = options.first_step; step < options.first_step + options.steps; ++step) {
    memtide_step_begin(step);
    if (hooks.before_step) hooks.before_step(step);
    const auto step_start = std::chrono::steady_clock::now();
    StepRecord rec;
    const int64_t calls_before = stats.segment_allocs + stats.segment_frees;
    rec.live_at_start = stats.in_use_bytes;
    alloc.reset_peak();
    {
      DeviceBatch batch;
      {
        MEMTIDE_SCOPE("data/load");
        batch = upload(loader.next(host_ctx), device);
      }
      DeviceTensor logits = model.forward(batch.inputs);
      DeviceTensor dlogits;
      {
        MEMTIDE_SCOPE("loss");
        rec.loss = cross_entropy(logits, batch.targets, &dlogits);
      }
      if (hooks.after_loss) hooks.after_loss(step, logits.to_host(host_ctx.alloc), rec.loss);
      logits = DeviceTensor();
      rec.live_after_loss = stats.in_use_bytes;
      rec.peak_live = stats.peak_in_use_bytes;
      alloc.reset_peak();
      model.backward(dlogits);
      rec.peak_live_backward = stats.peak_in_use_bytes;
    }
    {
      MEMTIDE_SCOPE("optimizer/step");
      opt.step();
    }
    rec.peak_live = std::max(rec.peak_live, stats.peak_in_use_bytes);
    rec.system_calls = stats.segment_allocs + stats.segment_frees - calls_before;
    rec.wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now() - step_start)
                      .count();
    records.push_back(rec);
    if (hooks.after_step) hooks.after_step(step);
    if (options.log && options.log_every > 0 && (step + 1) % options.log_every == 0) {
      char line[64];
      std::snprintf(line, sizeof line, "step %lld loss %.6f\n", static_cast<long long>(step + 1),
                    static_cast<double>(rec.loss));
      *options.log << line << std::flush;
    }
  }
  device.synchronize();
  return records;
}

Evaluation evaluate(Sequential& model, const Dataset& data, int64_t begin, int64_t end,
                    int64_t batch, Context& host_ctx, Device& device) {
  MEMTIDE_SCOPE("eval");
  std::vector<int64_t> indices(static_cast<size_t>(batch));
  double loss_sum = 0.0;
  int64_t correct = 0, labels = 0;
  for (int64_t i = begin; i < end; i += batch) {
    const int64_t n = std::min(batch, end - i);
    for (int64_t j = 0; j < n; ++j) indices[static_cast<size_t>(j)] = i + j;
    const Batch b = make_batch(data, indices.data(), n, host_ctx);
    const Tensor logits =
        model.infer(DeviceTensor::from_host(b.inputs, device)).to_host(host_ctx.alloc);
    loss_sum += static_cast<double>(engine::cross_entropy(logits, b.targets, nullptr)) *
                static_cast<double>(b.targets.numel());
    correct += count_correct(logits, b.targets);
    labels += b.targets.numel();
  }
  Evaluation e;
  if (labels > 0) {
    e.loss = loss_sum / static_cast<double>(labels);
    e.accuracy = static_cast<double>(correct) / static_cast<double>(labels);
  }
  return e;
}

}  // namespace engine::gpu
