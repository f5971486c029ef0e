// The training loop on the GPU: engine/trainer.h's loop with the model, loss and optimizer on
// the device, marked for the profiler the same way (memtide_step_begin per step; data/load,
// model.layers.<i>/{forward,backward}, loss, optimizer/step). Batches are assembled on the host
// by the CPU engine's DataLoader and uploaded inside data/load. Step records count the device
// allocator: system_calls are segment calls (cudaMalloc / cudaFree), bytes are device bytes.
#pragma once

#include "engine/trainer.h"
#include "model.h"
#include "optimizer.h"

namespace engine::gpu {

struct DeviceBatch {
  DeviceTensor inputs;   // (B, F) f32
  DeviceTensor targets;  // (B) i32
};

DeviceBatch upload(const Batch& batch, Device& device);

// `host_ctx` (f32) is where batches are assembled before upload.
std::vector<StepRecord> train_loop(Sequential& model, Optimizer& opt, DataLoader& loader,
                                   Context& host_ctx, Device& device, const LoopOptions& options,
                                   const StepHooks& hooks = {});

// Inference over records [begin, end) on the device; loss and accuracy are computed on the host
// from the downloaded logits by the CPU engine's functions.
Evaluation evaluate(Sequential& model, const Dataset& data, int64_t begin, int64_t end,
                    int64_t batch, Context& host_ctx, Device& device);

}  // namespace engine::gpu
