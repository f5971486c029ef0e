// The sample programs' common core: a configuration (one field per command-line switch), the
// three networks, and run(), which builds data and model, trains, evaluates, and optionally
// evaluates again after int8 quantization. The programs in apps/ only parse flags and print;
// tests call run() directly.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "../engine/model.h"
#include "../engine/trainer.h"
#include "leaks.h"

namespace samples {

enum class Net { Mlp, Cnn, Transformer };
enum class OptimizerKind { AdamW, Sgd };
enum class DeviceKind { Cpu, Cuda };

const char* net_name(Net net);
const char* device_name(DeviceKind device);

struct Config {
  Net net = Net::Mlp;
  int64_t steps = 300;
  uint64_t seed = 1;
  int64_t layers = 3;  // MLP: hidden layers; CNN: conv blocks (<= 4); transformer: blocks
  int64_t batch = 64;
  int64_t hidden = 128;         // MLP: width; CNN: channels of the first conv; transformer: C
  int64_t samples = 16384;      // training records
  int64_t eval_samples = 2048;  // held-out records, after the training ones
  OptimizerKind optimizer = OptimizerKind::AdamW;
  float lr = 2e-3f;
  // Memory techniques.
  bool pool = false;
  engine::DType dtype = engine::DType::F32;
  bool int8 = false;
  bool fuse = false;
  int checkpoint = 0;
  float density = 1.0f;  // --sparse D
  bool mmap_data = false;
  std::string data_file;  // --mmap-data path; empty: a temporary file, removed at exit
  Leak leak = Leak::None;
  int64_t log_every = 0;
  // Where to train (`--device`): the CUDA engine (cuda/) runs the MLP in f32; `--pool` selects
  // its caching allocator there, `--unified` managed memory.
  DeviceKind device = DeviceKind::Cpu;
  bool unified = false;
};

// Defaults that train each network to a useful accuracy in a few seconds.
Config default_config(Net net);

struct RunResult {
  std::vector<engine::StepRecord> steps;
  engine::Evaluation eval;                 // held-out, after training
  std::optional<engine::Evaluation> int8;  // held-out, after quantization (--int8)
  size_t param_bytes = 0;                  // after training, before quantization
  size_t int8_param_bytes = 0;             // after quantization
  size_t dataset_bytes = 0;
  engine::AllocatorStats alloc;  // at the end of training
  std::string architecture;      // one line per layer
  std::string device_memory;     // --device cuda: the device allocator's counters, one line

  float final_loss() const { return steps.empty() ? 0.0f : steps.back().loss; }
};

// The synthetic task of each network.
std::unique_ptr<engine::SampleGenerator> make_task(const Config& cfg);
// The network, its weights drawn from `rng`. Layers hold `ctx`, which must outlive them.
engine::Sequential build_network(const Config& cfg, engine::Context& ctx,
                                 const engine::SampleLayout& task, engine::Rng& rng);

// Throws std::invalid_argument naming the switch when a configuration is out of range, or asks
// the CUDA engine for what it does not do. Never touches the machine.
void validate(const Config& cfg);

// Whether this build has the CUDA engine (a CUDA toolkit was found when it was configured).
bool cuda_backend_built();
// Throws std::invalid_argument when the configured device cannot be used on this machine
// ("--device cuda: no CUDA device: <why>").
void check_device(const Config& cfg);

RunResult run(const Config& cfg, std::ostream* log = nullptr,
              const engine::StepHooks& extra_hooks = {});

}  // namespace samples
