#include "cli.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace samples {

namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T>
T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw UsageError(std::string(flag) + ": expected a number, got '" + std::string(text) + "'");
  }
  return value;
}

std::string format_number(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}

struct Option {
  const char* name;  // without the leading "--"
  const char* arg;   // placeholder of the value, or nullptr for a switch
  const char* help;
  std::function<void(Config&, std::string_view)> apply;
  std::function<std::string(const Config&)> show_default;  // may be empty
};

// Every switch in one table: used to parse and to print --help.
const std::vector<Option>& options() {
  static const std::vector<Option> table = {
      {"steps", "N", "training steps",
       [](Config& c, std::string_view v) { c.steps = parse_number<int64_t>("--steps", v); },
       [](const Config& c) { return std::to_string(c.steps); }},
      {"seed", "S", "seed of data and weights",
       [](Config& c, std::string_view v) { c.seed = parse_number<uint64_t>("--seed", v); },
       [](const Config& c) { return std::to_string(c.seed); }},
      {"layers", "N", "MLP hidden layers / CNN conv blocks (<= 4) / transformer blocks",
       [](Config& c, std::string_view v) { c.layers = parse_number<int64_t>("--layers", v); },
       [](const Config& c) { return std::to_string(c.layers); }},
      {"batch", "B", "batch size",
       [](Config& c, std::string_view v) { c.batch = parse_number<int64_t>("--batch", v); },
       [](const Config& c) { return std::to_string(c.batch); }},
      {"hidden", "H", "MLP width / CNN first channels / transformer width (multiple of 16)",
       [](Config& c, std::string_view v) { c.hidden = parse_number<int64_t>("--hidden", v); },
       [](const Config& c) { return std::to_string(c.hidden); }},
      {"samples", "N", "training records",
       [](Config& c, std::string_view v) { c.samples = parse_number<int64_t>("--samples", v); },
       [](const Config& c) { return std::to_string(c.samples); }},
      {"eval-samples", "N", "held-out records for the accuracy",
       [](Config& c, std::string_view v) {
         c.eval_samples = parse_number<int64_t>("--eval-samples", v);
       },
       [](const Config& c) { return std::to_string(c.eval_samples); }},
      {"optimizer", "adamw|sgd", "optimizer (sgd: momentum 0.9, try --lr 0.05)",
       [](Config& c, std::string_view v) {
         if (v == "adamw") {
           c.optimizer = OptimizerKind::AdamW;
         } else if (v == "sgd") {
           c.optimizer = OptimizerKind::Sgd;
         } else {
           throw UsageError("--optimizer: expected adamw or sgd, got '" + std::string(v) + "'");
         }
       },
       [](const Config&) { return std::string("adamw"); }},
      {"lr", "X", "learning rate",
       [](Config& c, std::string_view v) { c.lr = parse_number<float>("--lr", v); },
       [](const Config& c) { return format_number(c.lr); }},
      {"pool",
       nullptr,
       "allocate tensors from a pooled arena instead of one malloc each",
       [](Config& c, std::string_view) { c.pool = true; },
       {}},
      {"dtype", "f32|f16|bf16", "storage type of parameters and activations (math in f32)",
       [](Config& c, std::string_view v) {
         const auto d = engine::parse_dtype(v);
         if (!d || !engine::is_float(*d)) {
           throw UsageError("--dtype: expected f32, f16 or bf16, got '" + std::string(v) + "'");
         }
         c.dtype = *d;
       },
       [](const Config&) { return std::string("f32"); }},
      {"int8",
       nullptr,
       "after training, quantize weights to int8 and evaluate again",
       [](Config& c, std::string_view) { c.int8 = true; },
       {}},
      {"fuse",
       nullptr,
       "fuse Linear/Conv + bias + activation into one op",
       [](Config& c, std::string_view) { c.fuse = true; },
       {}},
      {"checkpoint", "K", "keep every K-th layer's input, recompute the rest in backward",
       [](Config& c, std::string_view v) { c.checkpoint = parse_number<int>("--checkpoint", v); },
       [](const Config&) { return std::string("0 (off)"); }},
      {"sparse", "D", "prune Linear weights to density D in (0, 1], stored as CSR",
       [](Config& c, std::string_view v) { c.density = parse_number<float>("--sparse", v); },
       [](const Config&) { return std::string("1 (dense)"); }},
      {"mmap-data",
       nullptr,
       "write the data set to a file and read it through mmap",
       [](Config& c, std::string_view) { c.mmap_data = true; },
       {}},
      {"data-file",
       "PATH",
       "file for --mmap-data (kept); default: a temporary file",
       [](Config& c, std::string_view v) { c.data_file = std::string(v); },
       {}},
      {"leak",
       "KIND",
       "plant a memory bug, one of: activation-cache, loss-history, workspace, "
       "new-free-mismatch, shared-ptr-cycle",
       [](Config& c, std::string_view v) {
         const auto k = parse_leak(v);
         if (!k) {
           throw UsageError("--leak: unknown kind '" + std::string(v) + "'; expected one of " +
                            leak_names());
         }
         c.leak = *k;
       },
       {}},
      {"device", "cpu|cuda",
       "where to train; cuda: the CUDA engine (mlp, f32), in a build with the CUDA toolkit",
       [](Config& c, std::string_view v) {
         if (v == "cpu") {
           c.device = DeviceKind::Cpu;
         } else if (v == "cuda") {
           c.device = DeviceKind::Cuda;
         } else {
           throw UsageError("--device: expected cpu or cuda, got '" + std::string(v) + "'");
         }
       },
       [](const Config&) { return std::string("cpu"); }},
      {"unified",
       nullptr,
       "with --device cuda: managed memory (cudaMallocManaged) with prefetch and advice hints",
       [](Config& c, std::string_view) { c.unified = true; },
       {}},
      {"log-every", "N", "print the loss every N steps (0: never)",
       [](Config& c, std::string_view v) { c.log_every = parse_number<int64_t>("--log-every", v); },
       [](const Config&) { return std::string("steps/10"); }},
  };
  return table;
}

void print_help(Net net, const char* program) {
  const Config d = default_config(net);
  std::printf("usage: %s [options]\n\n", program);
  std::printf(
      "Trains the sample %s of memtide's reference engine on a synthetic task and prints\n"
      "the loss, the held-out accuracy and a last line:\n"
      "  summary net=... steps=... final_loss=... accuracy=... [int8_accuracy=...]\n\n"
      "options (--name VALUE or --name=VALUE):\n",
      net_name(net));
  for (const Option& o : options()) {
    std::string left = std::string("  --") + o.name + (o.arg ? std::string(" ") + o.arg : "");
    std::printf("%-30s %s", left.c_str(), o.help);
    if (o.show_default) std::printf(" [%s]", o.show_default(d).c_str());
    std::printf("\n");
  }
  std::printf("%-30s %s\n\n", "  --help", "this text");
  std::printf("exit status: 0 success, 1 the run failed, 2 bad command line\n");
}

Config parse(Net net, int argc, char** argv, bool* help) {
  Config c = default_config(net);
  bool log_every_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      *help = true;
      return c;
    }
    if (a.substr(0, 2) != "--") throw UsageError("unexpected argument '" + std::string(a) + "'");
    a.remove_prefix(2);
    std::string_view value;
    bool has_value = false;
    if (const size_t eq = a.find('='); eq != std::string_view::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    const Option* opt = nullptr;
    for (const Option& o : options()) {
      if (a == o.name) opt = &o;
    }
    if (!opt) throw UsageError("unknown option '--" + std::string(a) + "' (see --help)");
    if (opt->arg && !has_value) {
      if (i + 1 >= argc) throw UsageError("--" + std::string(a) + " needs a value " + opt->arg);
      value = argv[++i];
    } else if (!opt->arg && has_value) {
      throw UsageError("--" + std::string(a) + " takes no value");
    }
    opt->apply(c, value);
    log_every_set |= a == "log-every";
  }
  if (!log_every_set) c.log_every = std::max<int64_t>(1, c.steps / 10);
  return c;
}

// "mlp: 300 steps, batch 64, dtype f32, pool, ..." — the switches in effect.
std::string describe(const Config& c) {
  std::string s = std::string(net_name(c.net)) + ": " + std::to_string(c.steps) + " steps, batch " +
                  std::to_string(c.batch) + ", dtype " + engine::dtype_name(c.dtype);
  if (c.pool) s += ", pool";
  if (c.fuse) s += ", fused";
  if (c.checkpoint >= 2) s += ", checkpoint every " + std::to_string(c.checkpoint);
  if (c.density < 1.0f) s += ", density " + format_number(c.density);
  if (c.int8) s += ", int8 eval";
  if (c.mmap_data) s += ", mmap data";
  if (c.leak != Leak::None) s += std::string(", LEAK ") + leak_name(c.leak);
  if (c.device != DeviceKind::Cpu) s += std::string(", device ") + device_name(c.device);
  if (c.unified) s += ", unified memory";
  return s;
}

// "timing step_ms_median=0.7123 steps_timed=295": the steady-state step time,
// leaving out the first steps (first-touch faults, cold caches, lazy library
// loads), for overhead measurements that cancel start-up out.
std::string describe_step_times(const std::vector<engine::StepRecord>& steps) {
  const size_t skip = std::min<size_t>(5, steps.size() / 2);
  std::vector<int64_t> times;
  for (size_t i = skip; i < steps.size(); ++i) times.push_back(steps[i].wall_ns);
  if (times.empty()) return "timing steps_timed=0";
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  char line[96];
  std::snprintf(line, sizeof line, "timing step_ms_median=%.4f steps_timed=%zu",
                static_cast<double>(times[times.size() / 2]) / 1e6, times.size());
  return line;
}

}  // namespace

int sample_main(Net net, int argc, char** argv) {
  const char* program = argc > 0 ? argv[0] : "memtide-sample";
  Config cfg;
  try {
    bool help = false;
    cfg = parse(net, argc, argv, &help);
    if (help) {
      print_help(net, program);
      return 0;
    }
    validate(cfg);
    check_device(cfg);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  }
  try {
    std::printf("%s\n", describe(cfg).c_str());
    std::fflush(stdout);
    RunResult r = run(cfg, &std::cout);
    std::printf("eval loss %.6f accuracy %.4f\n", r.eval.loss, r.eval.accuracy);
    if (r.int8) {
      std::printf("int8 eval loss %.6f accuracy %.4f (parameters %zu -> %zu bytes)\n", r.int8->loss,
                  r.int8->accuracy, r.param_bytes, r.int8_param_bytes);
    }
    int64_t calls = 0, peak = 0;
    for (const auto& s : r.steps) {
      calls += s.system_calls;
      peak = std::max(peak, s.peak_live);
    }
    std::printf(
        "memory param_bytes=%zu peak_live_bytes=%lld allocator_calls_per_step=%.1f "
        "dataset_bytes=%zu dataset=%s\n",
        r.param_bytes, static_cast<long long>(peak),
        static_cast<double>(calls) / static_cast<double>(r.steps.size()), r.dataset_bytes,
        cfg.mmap_data ? "mmap" : "heap");
    if (!r.device_memory.empty()) std::printf("%s\n", r.device_memory.c_str());
    std::printf("%s\n", describe_step_times(r.steps).c_str());
    std::printf("summary net=%s steps=%lld final_loss=%.6f accuracy=%.4f", net_name(net),
                static_cast<long long>(cfg.steps), static_cast<double>(r.final_loss()),
                r.eval.accuracy);
    if (r.int8) std::printf(" int8_accuracy=%.4f", r.int8->accuracy);
    std::printf(" param_bytes=%zu", r.param_bytes);
    if (cfg.device != DeviceKind::Cpu) std::printf(" device=%s", device_name(cfg.device));
    std::printf("\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace samples
