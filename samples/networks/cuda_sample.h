// run() for `--device cuda` (built only with the CUDA toolkit): the MLP trained by the CUDA
// engine (cuda/). The data set and the batches stay the CPU engine's; the network is drawn on
// the host by build_network(), so that both engines start from the same weights, then moved to
// the device.
#pragma once

#include <string>

#include "../cuda/model.h"
#include "sample.h"

namespace samples {

// Empty when a CUDA device can be used; otherwise "no CUDA device: <why>".
std::string cuda_device_problem();

// The CPU network's layers rebuilt on the device, with their current weights (Linear, ReLU and
// GELU; throws std::invalid_argument naming any other layer).
engine::gpu::Sequential network_to_device(const Config& cfg, engine::Sequential& host,
                                          engine::gpu::Device& device);

// Fills result's steps, evaluation, parameter bytes and allocator counters (device bytes).
void train_on_cuda(const Config& cfg, const engine::Dataset& data, const engine::SampleLayout& task,
                   std::ostream* log, const engine::StepHooks& hooks, RunResult& result);

}  // namespace samples
