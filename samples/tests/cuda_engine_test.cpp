// The CUDA engine against the CPU engine: the same layers, loss and training step, from the same
// numbers, agree within 1e-4; the MLP trains on the GPU and follows the CPU's loss curve; the
// caching allocator makes no cudaMalloc after the first step. Every test skips itself where no
// CUDA device can be used (the program is memtide-engine-cuda-test).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cuda/activations.h"
#include "cuda/cuda_check.h"
#include "cuda/linear.h"
#include "cuda/loss.h"
#include "cuda/optimizer.h"
#include "cuda/trainer.h"
#include "engine/loss.h"
#include "engine/optimizer.h"
#include "networks/cuda_sample.h"
#include "networks/sample.h"

namespace engine::gpu {
namespace {

constexpr float kTolerance = 1e-4f;

class CudaEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string problem = cuda_device_problem();
    if (!problem.empty()) GTEST_SKIP() << problem;
  }
  SystemAllocator host_;
  Context ctx_{host_, DType::F32};
};

Tensor random_tensor(const Shape& shape, Allocator& alloc, Rng& rng) {
  Tensor t = Tensor::empty(shape, DType::F32, alloc);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = rng.normal();
  return t;
}

// Element-wise |cpu - gpu| <= kTolerance * max(1, |cpu|), reporting the worst element.
void expect_close(const Tensor& cpu, const DeviceTensor& gpu, Allocator& alloc,
                  const std::string& what) {
  ASSERT_EQ(cpu.shape(), gpu.shape()) << what;
  const Tensor back = gpu.to_host(alloc);
  const float* a = cpu.data<float>();
  const float* b = back.data<float>();
  int64_t worst = 0;
  float worst_excess = -1.0f;
  for (int64_t i = 0; i < cpu.numel(); ++i) {
    const float excess = std::fabs(a[i] - b[i]) - kTolerance * std::max(1.0f, std::fabs(a[i]));
    if (excess > worst_excess) {
      worst_excess = excess;
      worst = i;
    }
  }
  EXPECT_LE(worst_excess, 0.0f) << what << ": element " << worst << " cpu " << a[worst] << " gpu "
                                << b[worst];
}

TEST_F(CudaEngine, LinearForwardAndBackwardMatchTheCpu) {
  Device device;
  Rng rng(7);
  for (Activation act : {Activation::None, Activation::ReLU}) {
    engine::Linear cpu_linear(ctx_, 19, 23, rng, act);
    std::vector<engine::Param*> cpu_params;
    cpu_linear.collect_params(cpu_params);
    // A bias of zeros would hide a bias added to the wrong elements.
    for (int64_t j = 0; j < 23; ++j) cpu_params[1]->value.data<float>()[j] = rng.normal();
    gpu::Linear gpu_linear(device, cpu_linear, act);
    const Tensor x = random_tensor({37, 19}, host_, rng);
    const Tensor dy = random_tensor({37, 23}, host_, rng);
    const std::string name = std::string("linear ") + activation_name(act);

    expect_close(cpu_linear.forward(x), gpu_linear.forward(DeviceTensor::from_host(x, device)),
                 host_, name + " y");
    expect_close(cpu_linear.backward(dy), gpu_linear.backward(DeviceTensor::from_host(dy, device)),
                 host_, name + " dx");
    std::vector<Param*> gpu_params;
    gpu_linear.collect_params(gpu_params);
    expect_close(cpu_params[0]->grad, gpu_params[0]->grad, host_, name + " dW");
    expect_close(cpu_params[1]->grad, gpu_params[1]->grad, host_, name + " db");
  }
}

TEST_F(CudaEngine, ActivationsMatchTheCpu) {
  Device device;
  Rng rng(11);
  const Tensor x = random_tensor({50, 41}, host_, rng);
  const Tensor dy = random_tensor({50, 41}, host_, rng);
  engine::ReLU relu_cpu(ctx_);
  gpu::ReLU relu_gpu(device);
  expect_close(relu_cpu.forward(x), relu_gpu.forward(DeviceTensor::from_host(x, device)), host_,
               "relu y");
  expect_close(relu_cpu.backward(dy), relu_gpu.backward(DeviceTensor::from_host(dy, device)), host_,
               "relu dx");
  engine::GELU gelu_cpu(ctx_);
  gpu::GELU gelu_gpu(device);
  expect_close(gelu_cpu.forward(x), gelu_gpu.forward(DeviceTensor::from_host(x, device)), host_,
               "gelu y");
  expect_close(gelu_cpu.backward(dy), gelu_gpu.backward(DeviceTensor::from_host(dy, device)), host_,
               "gelu dx");
}

TEST_F(CudaEngine, CrossEntropyMatchesTheCpu) {
  Device device;
  Rng rng(5);
  const Tensor logits = random_tensor({64, 10}, host_, rng);
  Tensor targets = Tensor::empty({64}, DType::I32, host_);
  for (int i = 0; i < 64; ++i) targets.data<int32_t>()[i] = (i * 7) % 10;
  Tensor dlogits_cpu;
  const float loss_cpu = engine::cross_entropy(logits, targets, &dlogits_cpu);
  DeviceTensor dlogits_gpu;
  const float loss_gpu = gpu::cross_entropy(DeviceTensor::from_host(logits, device),
                                            DeviceTensor::from_host(targets, device), &dlogits_gpu);
  EXPECT_NEAR(loss_gpu, loss_cpu, kTolerance);
  expect_close(dlogits_cpu, dlogits_gpu, host_, "dlogits");
  targets.data<int32_t>()[3] = 10;  // outside [0, V)
  EXPECT_THROW(gpu::cross_entropy(DeviceTensor::from_host(logits, device),
                                  DeviceTensor::from_host(targets, device), nullptr),
               std::runtime_error);
}

// One step of the sample MLP — forward, loss, backward, optimizer — on both engines from the
// same weights and batch: the losses and every updated parameter agree.
TEST_F(CudaEngine, OneTrainingStepMatchesTheCpu) {
  for (samples::OptimizerKind kind : {samples::OptimizerKind::Sgd, samples::OptimizerKind::AdamW}) {
    samples::Config cfg = samples::default_config(samples::Net::Mlp);
    cfg.optimizer = kind;
    const auto task = samples::make_task(cfg);
    Dataset data = Dataset::in_memory(*task, cfg.batch);
    DataLoader loader(data, 0, cfg.batch, cfg.batch, 1);
    const Batch batch = loader.next(ctx_);

    Device device(DeviceOptions{.caching = true});
    Rng rng(mix_seed(cfg.seed, 1));
    engine::Sequential cpu_model = samples::build_network(cfg, ctx_, task->layout(), rng);
    gpu::Sequential gpu_model = samples::network_to_device(cfg, cpu_model, device);
    const float lr = kind == samples::OptimizerKind::Sgd ? 0.05f : cfg.lr;
    std::unique_ptr<engine::Optimizer> cpu_opt;
    std::unique_ptr<gpu::Optimizer> gpu_opt;
    if (kind == samples::OptimizerKind::Sgd) {
      cpu_opt = std::make_unique<engine::Sgd>(cpu_model.params(), host_, lr);
      gpu_opt = std::make_unique<gpu::Sgd>(gpu_model.params(), device, lr);
    } else {
      cpu_opt = std::make_unique<engine::AdamW>(cpu_model.params(), host_, lr);
      gpu_opt = std::make_unique<gpu::AdamW>(gpu_model.params(), device, lr);
    }

    Tensor dlogits_cpu;
    const float loss_cpu =
        engine::cross_entropy(cpu_model.forward(batch.inputs), batch.targets, &dlogits_cpu);
    cpu_model.backward(dlogits_cpu);
    cpu_opt->step();
    const DeviceBatch on_device = upload(batch, device);
    DeviceTensor dlogits_gpu;
    const float loss_gpu =
        gpu::cross_entropy(gpu_model.forward(on_device.inputs), on_device.targets, &dlogits_gpu);
    gpu_model.backward(dlogits_gpu);
    gpu_opt->step();

    EXPECT_NEAR(loss_gpu, loss_cpu, kTolerance);
    const std::vector<engine::Param*> cpu_params = cpu_model.params();
    const std::vector<Param*> gpu_params = gpu_model.params();
    ASSERT_EQ(cpu_params.size(), gpu_params.size());
    for (size_t i = 0; i < cpu_params.size(); ++i) {
      const std::string name = std::string(kind == samples::OptimizerKind::Sgd ? "sgd" : "adamw") +
                               " param " + std::to_string(i) + " " + cpu_params[i]->name;
      expect_close(cpu_params[i]->value, gpu_params[i]->value, host_, name);
      expect_close(cpu_params[i]->grad, gpu_params[i]->grad, host_, name + " grad");
    }
    size_t param_bytes = 0;
    for (const Param* p : gpu_params) param_bytes += p->value.nbytes();
    EXPECT_EQ(gpu_opt->state_bytes(),
              (kind == samples::OptimizerKind::Sgd ? 1 : 2) * param_bytes);  // f32 state
  }
}

samples::Config mlp_on_cuda(int64_t steps) {
  samples::Config cfg = samples::default_config(samples::Net::Mlp);
  cfg.steps = steps;
  cfg.device = samples::DeviceKind::Cuda;
  return cfg;
}

TEST_F(CudaEngine, MlpTrainsAndFollowsTheCpuLossCurve) {
  samples::Config cfg = mlp_on_cuda(60);
  cfg.pool = true;
  const samples::RunResult on_gpu = samples::run(cfg);
  cfg.device = samples::DeviceKind::Cpu;
  const samples::RunResult on_cpu = samples::run(cfg);
  ASSERT_EQ(on_gpu.steps.size(), 60u);
  EXPECT_NEAR(on_gpu.steps[0].loss, on_cpu.steps[0].loss, kTolerance);
  for (size_t i = 0; i < on_gpu.steps.size(); ++i) {
    EXPECT_NEAR(on_gpu.steps[i].loss, on_cpu.steps[i].loss, 1e-3) << "step " << i + 1;
  }
  EXPECT_LT(on_gpu.final_loss(), 0.5f * on_gpu.steps[0].loss);
  EXPECT_NEAR(on_gpu.eval.accuracy, on_cpu.eval.accuracy, 0.01);
  EXPECT_GT(on_gpu.eval.accuracy, 0.8);
  EXPECT_EQ(on_gpu.param_bytes, on_cpu.param_bytes);
}

// The allocator changes where bytes live, never the numbers; the caching allocator (`--pool`)
// stops calling cudaMalloc/cudaFree once the first step has sized it, the direct one calls them
// for every tensor.
TEST_F(CudaEngine, EveryMemoryModeTrainsTheSameAndCachingStopsCallingCudaMalloc) {
  std::vector<float> reference;
  for (bool unified : {false, true}) {
    for (bool caching : {false, true}) {
      samples::Config cfg = mlp_on_cuda(6);
      cfg.pool = caching;
      cfg.unified = unified;
      const samples::RunResult r = samples::run(cfg);
      const std::string mode =
          std::string(caching ? "caching" : "direct") + (unified ? " managed" : " device");
      ASSERT_EQ(r.steps.size(), 6u) << mode;
      if (reference.empty()) {
        for (const auto& s : r.steps) reference.push_back(s.loss);
      }
      for (size_t i = 0; i < r.steps.size(); ++i) {
        EXPECT_NEAR(r.steps[i].loss, reference[i], 1e-5) << mode << " step " << i + 1;
      }
      for (size_t i = 1; i < r.steps.size(); ++i) {
        if (caching) {
          EXPECT_EQ(r.steps[i].system_calls, 0) << mode << " step " << i + 1;
        } else {
          EXPECT_GT(r.steps[i].system_calls, 20) << mode << " step " << i + 1;
        }
      }
      EXPECT_NE(r.device_memory.find(caching ? "allocator=cuda-caching" : "allocator=cuda-direct"),
                std::string::npos)
          << r.device_memory;
      EXPECT_NE(r.device_memory.find(unified ? "memory=managed" : "memory=device"),
                std::string::npos)
          << r.device_memory;
    }
  }
}

TEST_F(CudaEngine, DeviceTensorsRoundTripInEveryMemoryMode) {
  Rng rng(3);
  const Tensor x = random_tensor({33, 17}, host_, rng);
  for (bool unified : {false, true}) {
    for (bool caching : {false, true}) {
      Device device(DeviceOptions{.caching = caching, .unified = unified});
      const DeviceTensor d = DeviceTensor::from_host(x, device);
      const Tensor back = d.to_host(host_);
      EXPECT_TRUE(std::equal(x.data<float>(), x.data<float>() + x.numel(), back.data<float>()))
          << "caching " << caching << " unified " << unified;
      const Tensor zeros = DeviceTensor::zeros({5}, DType::F32, device).to_host(host_);
      for (int i = 0; i < 5; ++i) EXPECT_EQ(zeros.data<float>()[i], 0.0f);
      EXPECT_EQ(device.allocator().stats().in_use_bytes,
                caching ? 33 * 17 * 4 / 512 * 512 + 512 : 33 * 17 * 4);
    }
  }
}

}  // namespace
}  // namespace engine::gpu
