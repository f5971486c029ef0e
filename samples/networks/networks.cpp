// The three sample networks. Every layer goes into one Sequential, so that each gets its own
// model.layers.<i> scope and checkpointing can cut anywhere between layers.
#include <memory>
#include <stdexcept>

#include "../engine/conv2d.h"
#include "../engine/embedding.h"
#include "../engine/linear.h"
#include "../engine/transformer_block.h"
#include "sample.h"
#include "tasks.h"

namespace samples {

using namespace engine;

namespace {

// MLP: (B, F) -> [Linear(H) + ReLU] x layers -> Linear(classes).
Sequential build_mlp(const Config& cfg, Context& ctx, const SampleLayout& task, Rng& rng) {
  Sequential m;
  int64_t in = task.input_shape[0];
  for (int64_t i = 0; i < cfg.layers; ++i) {
    if (cfg.fuse) {
      m.add(std::make_unique<Linear>(ctx, in, cfg.hidden, rng, Activation::ReLU, cfg.density));
    } else {
      m.add(std::make_unique<Linear>(ctx, in, cfg.hidden, rng, Activation::None, cfg.density));
      m.add(std::make_unique<ReLU>(ctx));
    }
    in = cfg.hidden;
  }
  m.add(std::make_unique<Linear>(ctx, in, task.classes, rng, Activation::None, cfg.density));
  return m;
}

// CNN: (B, 1, S, S) -> [Conv3x3 + ReLU + MaxPool2] x layers (channels H, 2H, 4H, ...)
//      -> Flatten -> Linear(classes).
Sequential build_cnn(const Config& cfg, Context& ctx, const SampleLayout& task, Rng& rng) {
  Sequential m;
  int64_t c = task.input_shape[0], size = task.input_shape[1], ch = cfg.hidden;
  for (int64_t i = 0; i < cfg.layers; ++i) {
    if (size % 2 != 0) {
      throw std::invalid_argument("cnn: too many conv blocks for a " +
                                  std::to_string(task.input_shape[1]) + " pixel image");
    }
    m.add(std::make_unique<Conv2d>(ctx, c, ch, 3, rng, cfg.fuse));
    if (!cfg.fuse) m.add(std::make_unique<ReLU>(ctx));
    m.add(std::make_unique<MaxPool2d>(ctx));
    c = ch;
    ch *= 2;
    size /= 2;
  }
  m.add(std::make_unique<Flatten>(ctx));
  m.add(std::make_unique<Linear>(ctx, c * size * size, task.classes, rng, Activation::None,
                                 cfg.density));
  return m;
}

// Transformer: tokens (B, T) -> Embedding -> TransformerBlock x layers -> LayerNorm
//              -> Linear(V), heads of size 16.
Sequential build_transformer(const Config& cfg, Context& ctx, const SampleLayout& task, Rng& rng) {
  if (cfg.hidden % 16 != 0)
    throw std::invalid_argument("transformer: --hidden must be a multiple of 16");
  Sequential m;
  const int64_t c = cfg.hidden;
  m.add(std::make_unique<Embedding>(ctx, task.classes, task.input_shape[0], c, rng));
  for (int64_t i = 0; i < cfg.layers; ++i) {
    m.add(std::make_unique<TransformerBlock>(ctx, c, c / 16, rng, cfg.fuse, cfg.density));
  }
  m.add(std::make_unique<LayerNorm>(ctx, c));
  m.add(std::make_unique<Linear>(ctx, c, task.classes, rng, Activation::None, cfg.density));
  return m;
}

}  // namespace

const char* net_name(Net net) {
  switch (net) {
    case Net::Mlp:
      return "mlp";
    case Net::Cnn:
      return "cnn";
    case Net::Transformer:
      return "transformer";
  }
  return "?";
}

const char* device_name(DeviceKind device) {
  return device == DeviceKind::Cuda ? "cuda" : "cpu";
}

Config default_config(Net net) {
  Config c;
  c.net = net;
  switch (net) {
    case Net::Mlp:
      break;  // the defaults in the struct
    case Net::Cnn:
      c.steps = 150;
      c.layers = 2;
      c.batch = 32;
      c.hidden = 8;
      c.samples = 4096;
      c.eval_samples = 512;
      c.lr = 3e-3f;
      break;
    case Net::Transformer:
      c.steps = 200;
      c.layers = 2;
      c.batch = 16;
      c.hidden = 32;
      c.samples = 4096;
      c.eval_samples = 256;
      c.lr = 3e-3f;
      break;
  }
  return c;
}

std::unique_ptr<SampleGenerator> make_task(const Config& cfg) {
  switch (cfg.net) {
    case Net::Mlp:
      return make_clusters_task(cfg.seed, 16, 4);
    case Net::Cnn:
      return make_strokes_task(cfg.seed, 16);
    case Net::Transformer:
      return make_echo_task(cfg.seed, 16, 16);
  }
  throw std::invalid_argument("unknown network");
}

Sequential build_network(const Config& cfg, Context& ctx, const SampleLayout& task, Rng& rng) {
  switch (cfg.net) {
    case Net::Mlp:
      return build_mlp(cfg, ctx, task, rng);
    case Net::Cnn:
      return build_cnn(cfg, ctx, task, rng);
    case Net::Transformer:
      return build_transformer(cfg, ctx, task, rng);
  }
  throw std::invalid_argument("unknown network");
}

}  // namespace samples
