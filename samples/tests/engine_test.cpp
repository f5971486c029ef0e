// Unit tests of the engine's parts: tensors, allocators, dtypes, int8, CSR, data sets, and
// checkpointing's gradients.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <vector>

#include "engine/arena.h"
#include "engine/csr.h"
#include "engine/dataset.h"
#include "engine/int8.h"
#include "engine/linear.h"
#include "engine/loss.h"
#include "engine/model.h"
#include "networks/tasks.h"

namespace engine {
namespace {

TEST(Tensor, CopiesShareBytesAndTheLastOneFrees) {
  SystemAllocator alloc;
  {
    Tensor a = Tensor::zeros({4, 8}, DType::F32, alloc);
    EXPECT_EQ(alloc.stats().blocks, 1);
    // 64-byte header + 128 bytes of data.
    EXPECT_EQ(alloc.stats().live_bytes, 64 + 4 * 8 * 4);
    Tensor b = a;
    Tensor v = a.view({32});
    EXPECT_EQ(a.use_count(), 3);
    EXPECT_EQ(b.data<float>(), a.data<float>());
    EXPECT_EQ(v.shape(), Shape({32}));
    EXPECT_EQ(alloc.stats().blocks, 1);
    a = Tensor();
    EXPECT_EQ(b.use_count(), 2);
    EXPECT_EQ(alloc.stats().live_bytes, 192);
  }
  EXPECT_EQ(alloc.stats().live_bytes, 0);
  EXPECT_EQ(alloc.stats().system_calls, 2);  // one aligned_alloc, one free
}

TEST(Tensor, TypedAccessIsChecked) {
  SystemAllocator alloc;
  Tensor t = Tensor::empty({2}, DType::I32, alloc);
  EXPECT_THROW(t.data<float>(), std::logic_error);
  EXPECT_THROW(t.view({3}), std::invalid_argument);
  EXPECT_EQ(Shape({2, 3, 4}).strides()[0], 12);
  EXPECT_EQ(Shape({2, 3, 4}).rows(), 6);
}

TEST(Arena, BestFitAndCoalescing) {
  ArenaAllocator arena(4096);
  void* a = arena.allocate(1024);
  void* b = arena.allocate(1024);
  void* c = arena.allocate(1024);
  EXPECT_EQ(static_cast<char*>(b) - static_cast<char*>(a), 1024);
  EXPECT_EQ(arena.chunk_count(), 1u);
  EXPECT_EQ(arena.largest_free_range(), 1024u);
  arena.deallocate(a, 1024);
  arena.deallocate(c, 1024);  // merges with the tail: 2048 free at the end
  EXPECT_EQ(arena.largest_free_range(), 2048u);
  // Best fit: 1000 bytes go to the 1024 hole at the start, not the 2048 range.
  void* d = arena.allocate(1000);
  EXPECT_EQ(d, a);
  arena.deallocate(d, 1000);
  arena.deallocate(b, 1024);  // all three ranges merge back into one
  EXPECT_EQ(arena.largest_free_range(), 4096u);
  EXPECT_EQ(arena.stats().system_calls, 1);
  // Larger than a chunk: a chunk of its own.
  void* big = arena.allocate(10000);
  EXPECT_EQ(arena.chunk_count(), 2u);
  arena.deallocate(big, 10000);
  EXPECT_EQ(arena.stats().live_bytes, 0);
}

TEST(Arena, ReusesMemoryWithoutSystemCalls) {
  ArenaAllocator arena(1 << 16);
  for (int round = 0; round < 100; ++round) {
    Tensor a = Tensor::empty({100}, DType::F32, arena);
    Tensor b = Tensor::empty({300}, DType::F32, arena);
    Tensor c = Tensor::empty({50}, DType::F16, arena);
  }
  EXPECT_EQ(arena.stats().system_calls, 1);
  EXPECT_EQ(arena.stats().blocks, 300);
  EXPECT_EQ(arena.stats().live_bytes, 0);
}

TEST(DType, HalfAndBfloatRoundTrip) {
  const float in[5] = {1.0f, -2.5f, 65504.0f, 1.0f / 3.0f, 0.0f};
  uint16_t half[5], bf[5];
  float out[5];
  narrow_from_f32(in, half, DType::F16, 5);
  widen_to_f32(half, DType::F16, out, 5);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.5f);
  EXPECT_EQ(out[2], 65504.0f);
  EXPECT_NEAR(out[3], 1.0f / 3.0f, 1.0f / 3.0f / 2048.0f);  // 11 significant bits
  narrow_from_f32(in, bf, DType::BF16, 5);
  widen_to_f32(bf, DType::BF16, out, 5);
  EXPECT_EQ(out[1], -2.5f);
  EXPECT_NEAR(out[3], 1.0f / 3.0f, 1.0f / 3.0f / 256.0f);  // 8 significant bits
  EXPECT_EQ(parse_dtype("bf16"), DType::BF16);
  EXPECT_FALSE(parse_dtype("f64").has_value());
}

TEST(DType, StochasticRoundingIsUnbiased) {
  // 1 + 2^-10 lies a quarter of the way between two bf16 neighbours (1 and 1 + 2^-7 is the
  // spacing above 1, so it is 1/8 of the way): rounding up one time in eight, on average.
  const float v = 1.0f + 0x1.0p-10f;
  Rng rng(3);
  double sum = 0.0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const uint16_t bits = bf16_bits_stochastic(v, rng.next_u32() >> 16);
    float back;
    widen_to_f32(&bits, DType::BF16, &back, 1);
    EXPECT_TRUE(back == 1.0f || back == 1.0f + 0x1.0p-7f);
    sum += back;
  }
  EXPECT_NEAR(sum / n, static_cast<double>(v), 2e-5);
}

TEST(Int8, ProductErrorIsBoundedByTheScales) {
  SystemAllocator alloc;
  Rng rng(5);
  const int64_t n = 4, in = 64, out = 8;
  std::vector<float> x(static_cast<size_t>(n * in)), w(static_cast<size_t>(out * in));
  for (float& v : x) v = rng.normal();
  for (float& v : w) v = rng.normal();
  const Int8Rows q = quantize_rows(w.data(), out, in, alloc);
  EXPECT_EQ(q.q.nbytes(), static_cast<size_t>(out * in));  // 1 byte per weight
  std::vector<float> y(static_cast<size_t>(n * out));
  int8_matmul_forward(y.data(), x.data(), q, n, in, out, alloc);
  double err2 = 0.0, ref2 = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t o = 0; o < out; ++o) {
      double exact = 0.0, max_x = 0.0, max_w = 0.0;
      for (int64_t k = 0; k < in; ++k) {
        const double xv = x[static_cast<size_t>(i * in + k)],
                     wv = w[static_cast<size_t>(o * in + k)];
        exact += xv * wv;
        max_x = std::max(max_x, std::fabs(xv));
        max_w = std::max(max_w, std::fabs(wv));
      }
      // Each factor is off by at most half its step (max/127/2), so each term by at most
      // max_x*max_w*(1/127 + 1/(4*127^2)).
      const double bound = static_cast<double>(in) * max_x * max_w * (1.0 / 127 + 0.25 / 127 / 127);
      const double got = y[static_cast<size_t>(i * out + o)];
      EXPECT_NEAR(got, exact, bound);
      err2 += (got - exact) * (got - exact);
      ref2 += exact * exact;
    }
  }
  // Typical error is far below the worst case: rounding errors are independent and cancel.
  EXPECT_LT(std::sqrt(err2 / ref2), 0.02);
}

TEST(Csr, PruneKeepsTheLargestEntriesOfEachRow) {
  SystemAllocator alloc;
  const float w[2 * 5] = {0.1f, -3.0f, 0.2f,  2.0f, -0.05f,  //
                          1.0f, 0.0f,  -1.5f, 0.3f, 0.2f};
  Tensor values;
  const CsrPattern p = csr_prune(w, 2, 5, 0.4f, alloc, &values);
  ASSERT_EQ(p.nnz, 4);
  const int32_t* rp = p.row_ptr.data<int32_t>();
  const int32_t* ci = p.col_idx.data<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(rp, rp + 3), (std::vector<int32_t>{0, 2, 4}));
  EXPECT_EQ(std::vector<int32_t>(ci, ci + 4), (std::vector<int32_t>{1, 3, 0, 2}));
  EXPECT_EQ(std::vector<float>(values.data<float>(), values.data<float>() + 4),
            (std::vector<float>{-3.0f, 2.0f, 1.0f, -1.5f}));
  // The product with the pruned matrix equals the dense product with zeros in place.
  const float x[5] = {1, 2, 3, 4, 5};
  float y[2];
  csr_matmul_forward(y, x, p, values.data<float>(), 1);
  EXPECT_FLOAT_EQ(y[0], -3.0f * 2 + 2.0f * 4);
  EXPECT_FLOAT_EQ(y[1], 1.0f * 1 - 1.5f * 3);
}

TEST(Dataset, MappedFileHoldsTheSameRecordsAsMemory) {
  auto task = samples::make_clusters_task(9, 16, 4);
  const Dataset mem = Dataset::in_memory(*task, 100);
  const std::string path =
      ::testing::TempDir() + "memtide-dataset-test-" + std::to_string(::getpid()) + ".bin";
  {
    const Dataset mapped = Dataset::mapped(*task, 100, path, /*remove_file=*/true);
    EXPECT_TRUE(mapped.is_mapped());
    EXPECT_FALSE(mem.is_mapped());
    ASSERT_EQ(mapped.bytes(), mem.bytes());
    EXPECT_EQ(std::memcmp(mapped.record(0), mem.record(0), mem.bytes()), 0);
    EXPECT_TRUE(std::ifstream(path).good());
    // The mapping shows in the process's map list under the file's name.
    std::ifstream maps("/proc/self/maps");
    std::string line;
    bool found = false;
    while (std::getline(maps, line)) found |= line.find(path) != std::string::npos;
    EXPECT_TRUE(found);
  }
  EXPECT_FALSE(std::ifstream(path).good()) << "the temporary file must go with the data set";
}

// Checkpointing must give the same gradients as keeping everything: it only moves when
// activations are computed.
TEST(Checkpoint, SameGradientsAsWithout) {
  auto grads = [](int every) {
    SystemAllocator alloc;
    Context ctx{alloc, DType::F32};
    Rng rng(1);
    Sequential m;
    for (int i = 0; i < 5; ++i) m.add(std::make_unique<Linear>(ctx, 6, 6, rng, Activation::GELU));
    m.set_checkpoint_every(every);
    Tensor x = Tensor::empty({3, 6}, DType::F32, alloc);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = rng.normal();
    Tensor y = m.forward(x);
    Tensor dy = Tensor::empty(y.shape(), DType::F32, alloc);
    for (int64_t i = 0; i < dy.numel(); ++i) dy.data<float>()[i] = rng.normal();
    m.backward(dy);
    std::vector<float> all;
    for (Param* p : m.params()) {
      all.insert(all.end(), p->grad.data<float>(), p->grad.data<float>() + p->grad.numel());
    }
    return all;
  };
  const std::vector<float> base = grads(0);
  EXPECT_EQ(grads(2), base);
  EXPECT_EQ(grads(3), base);
  EXPECT_EQ(grads(5), base);
}

}  // namespace
}  // namespace engine
