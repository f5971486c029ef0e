#include "sample.h"

#include <memtide/annotate.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <ostream>
#include <stdexcept>

#include "../engine/arena.h"
#ifdef MEMTIDE_SAMPLES_CUDA
#include "cuda_sample.h"
#endif

namespace samples {

using namespace engine;

void validate(const Config& cfg) {
  auto need = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(what);
  };
  need(cfg.steps >= 1, "--steps must be at least 1");
  need(cfg.layers >= 1, "--layers must be at least 1");
  need(cfg.batch >= 1, "--batch must be at least 1");
  need(cfg.hidden >= 1, "--hidden must be at least 1");
  need(cfg.samples >= cfg.batch, "--samples must hold at least one batch");
  need(cfg.eval_samples >= 1, "--eval-samples must be at least 1");
  need(cfg.lr > 0.0f, "--lr must be positive");
  need(is_float(cfg.dtype), "--dtype must be f32, f16 or bf16");
  need(cfg.checkpoint >= 0, "--checkpoint must be >= 0");
  need(cfg.density > 0.0f && cfg.density <= 1.0f, "--sparse density must be in (0, 1]");
  need(cfg.net != Net::Transformer || cfg.hidden % 16 == 0,
       "--hidden must be a multiple of 16 for the transformer (heads of size 16)");
  need(cfg.net != Net::Cnn || cfg.layers <= 4, "--layers must be at most 4 for the cnn");
  need(!cfg.unified || cfg.device == DeviceKind::Cuda, "--unified needs --device cuda");
  if (cfg.device != DeviceKind::Cuda) return;
  need(cuda_backend_built(),
       "--device cuda: this build has no CUDA engine (no CUDA toolkit was found when it was "
       "configured)");
  need(cfg.net == Net::Mlp, "--device cuda runs the mlp network only");
  need(cfg.dtype == DType::F32, "--device cuda supports --dtype f32 only");
  need(!cfg.int8, "--int8 is not supported with --device cuda");
  need(cfg.checkpoint < 2, "--checkpoint is not supported with --device cuda");
  need(cfg.density == 1.0f, "--sparse is not supported with --device cuda");
  need(cfg.leak == Leak::None, "--leak is not supported with --device cuda");
}

bool cuda_backend_built() {
#ifdef MEMTIDE_SAMPLES_CUDA
  return true;
#else
  return false;
#endif
}

void check_device(const Config& cfg) {
  if (cfg.device != DeviceKind::Cuda) return;
#ifdef MEMTIDE_SAMPLES_CUDA
  if (const std::string problem = cuda_device_problem(); !problem.empty()) {
    throw std::invalid_argument("--device cuda: " + problem);
  }
#endif
}

namespace {

std::string temp_data_path(const Config& cfg) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/memtide-sample-" + net_name(cfg.net) + "-" +
         std::to_string(::getpid()) + ".bin";
}

// Chains two sets of hooks (the leak's and the caller's).
StepHooks combine(const StepHooks& a, const StepHooks& b) {
  StepHooks h;
  h.before_step = [a, b](int64_t s) {
    if (a.before_step) a.before_step(s);
    if (b.before_step) b.before_step(s);
  };
  h.after_loss = [a, b](int64_t s, const Tensor& logits, float loss) {
    if (a.after_loss) a.after_loss(s, logits, loss);
    if (b.after_loss) b.after_loss(s, logits, loss);
  };
  h.after_step = [a, b](int64_t s) {
    if (a.after_step) a.after_step(s);
    if (b.after_step) b.after_step(s);
  };
  return h;
}

size_t model_param_bytes(Sequential& model) {
  size_t bytes = 0;
  for (size_t i = 0; i < model.size(); ++i) bytes += model.layer(i).param_bytes();
  return bytes;
}

}  // namespace

RunResult run(const Config& cfg, std::ostream* log, const StepHooks& extra_hooks) {
  validate(cfg);
  RunResult result;
  const std::unique_ptr<SampleGenerator> task = make_task(cfg);
  const int64_t records = cfg.samples + cfg.eval_samples;

  Dataset data;
  {
    MEMTIDE_SCOPE("data/generate");
    data = cfg.mmap_data
               ? Dataset::mapped(*task, records,
                                 cfg.data_file.empty() ? temp_data_path(cfg) : cfg.data_file,
                                 /*remove_file=*/cfg.data_file.empty())
               : Dataset::in_memory(*task, records);
  }
  result.dataset_bytes = data.bytes();
#ifdef MEMTIDE_SAMPLES_CUDA
  if (cfg.device == DeviceKind::Cuda) {
    train_on_cuda(cfg, data, task->layout(), log, extra_hooks, result);
    return result;
  }
#endif

  // Declared before everything that holds tensors, so that it is destroyed after them.
  std::unique_ptr<Allocator> alloc;
  if (cfg.pool) {
    alloc = std::make_unique<ArenaAllocator>();
  } else {
    alloc = std::make_unique<SystemAllocator>();
  }
  Context ctx{*alloc, cfg.dtype};

  Rng init_rng(mix_seed(cfg.seed, 1));
  Sequential model = [&] {
    MEMTIDE_SCOPE("model/init");
    return build_network(cfg, ctx, task->layout(), init_rng);
  }();
  model.set_checkpoint_every(cfg.checkpoint);
  result.architecture = model.describe();

  std::unique_ptr<Optimizer> opt;
  if (cfg.optimizer == OptimizerKind::AdamW) {
    opt = std::make_unique<AdamW>(model.params(), *alloc, cfg.lr, 0.0f, 0.9f, 0.999f, 1e-8f,
                                  mix_seed(cfg.seed, 3));
  } else {
    opt = std::make_unique<Sgd>(model.params(), *alloc, cfg.lr, 0.9f, 0.0f, mix_seed(cfg.seed, 3));
  }

  DataLoader loader(data, 0, cfg.samples, cfg.batch, mix_seed(cfg.seed, 2));
  LoopOptions loop;
  loop.steps = cfg.steps;
  loop.log_every = cfg.log_every;
  loop.log = log;
  result.steps =
      train_loop(model, *opt, loader, ctx, loop, combine(leak_hooks(cfg.leak), extra_hooks));
  result.alloc = alloc->stats();
  result.param_bytes = model_param_bytes(model);

  result.eval = evaluate(model, data, cfg.samples, records, cfg.batch, ctx);
  if (cfg.int8) {
    {
      MEMTIDE_SCOPE("model/quantize");
      model.quantize_int8();
    }
    result.int8_param_bytes = model_param_bytes(model);
    result.int8 = evaluate(model, data, cfg.samples, records, cfg.batch, ctx);
  }
  return result;
}

}  // namespace samples
