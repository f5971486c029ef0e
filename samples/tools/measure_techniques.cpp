// Runs the sample MLP under memtide with and without each memory technique
// and prints, as a Markdown table, what the traces show. samples/measure.sh
// puts the table into samples/README.md.
//
//   measure_techniques MEMTIDE_CLI SAMPLES_DIR WORK_DIR
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "technique_metrics.h"

using memtide::EventKind;
using memtide::samples_metrics::TechniqueTrace;

namespace {

std::string g_cli, g_samples, g_work;

TechniqueTrace traced(const std::string& name, const std::string& switches) {
  const std::string db = g_work + "/" + name + ".db";
  const std::string command = "'" + g_cli + "' run --quiet -o '" + db + "' -- '" + g_samples +
                              "/memtide-sample-mlp' " + switches + " > /dev/null";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "measure_techniques: failed: %s\n", command.c_str());
    std::exit(1);
  }
  return TechniqueTrace(db);
}

std::string kib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f KiB", bytes / 1024.0);
  return text;
}

std::string change(double without, double with) {
  char text[32];
  std::snprintf(text, sizeof text, "%+.0f%%", without > 0 ? (with / without - 1) * 100 : 0.0);
  return text;
}

void row(const std::string& technique, const std::string& measure, const std::string& without,
         const std::string& with, double a, double b) {
  std::printf("| %s | %s | %s | %s | %s |\n", technique.c_str(), measure.c_str(), without.c_str(),
              with.c_str(), change(a, b).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: measure_techniques MEMTIDE_CLI SAMPLES_DIR WORK_DIR\n");
    return 2;
  }
  g_cli = argv[1];
  g_samples = argv[2];
  g_work = argv[3];
  std::filesystem::create_directories(g_work);

  const std::string base = "--steps 6";
  TechniqueTrace f32 = traced("f32", base);
  TechniqueTrace f16 = traced("f16", base + " --dtype f16");
  TechniqueTrace bf16 = traced("bf16", base + " --dtype bf16");
  TechniqueTrace deep = traced("deep", base + " --layers 8");
  TechniqueTrace ckpt = traced("ckpt", base + " --layers 8 --checkpoint 4");
  TechniqueTrace fused = traced("fused", base + " --layers 8 --fuse");
  TechniqueTrace pool = traced("pool", base + " --pool");
  TechniqueTrace sparse = traced("sparse", base + " --sparse 0.1");
  TechniqueTrace int8 = traced("int8", base + " --int8");
  TechniqueTrace mapped = traced("mmap", base + " --mmap-data");

  std::printf("| technique (switch) | measured in the trace | without | with | change |\n");
  std::printf("|---|---|---|---|---|\n");
  auto params = [](const TechniqueTrace& t) { return t.heap_bytes_kept_from("model/init"); };
  row("f16 storage (`--dtype f16`)", "parameter bytes after `model/init`", kib(params(f32)),
      kib(params(f16)), params(f32), params(f16));
  row("f16 storage (`--dtype f16`)", "activation bytes kept for backward (step 2)",
      kib(f32.activations_kept_for_backward(2)), kib(f16.activations_kept_for_backward(2)),
      f32.activations_kept_for_backward(2), f16.activations_kept_for_backward(2));
  row("bf16 storage (`--dtype bf16`)", "parameter bytes after `model/init`", kib(params(f32)),
      kib(params(bf16)), params(f32), params(bf16));
  row("checkpointing (`--layers 8 --checkpoint 4`)", "peak live activation bytes in backward",
      kib(deep.backward_activation_peak(2)), kib(ckpt.backward_activation_peak(2)),
      deep.backward_activation_peak(2), ckpt.backward_activation_peak(2));
  row("fusion (`--layers 8 --fuse`)", "peak live activation bytes in backward",
      kib(deep.backward_activation_peak(2)), kib(fused.backward_activation_peak(2)),
      deep.backward_activation_peak(2), fused.backward_activation_peak(2));
  const double calls_plain = f32.allocator_calls_between_steps(2, 5) / 3.0;
  const double calls_pool = pool.allocator_calls_between_steps(2, 5) / 3.0;
  char plain_text[32], pool_text[32];
  std::snprintf(plain_text, sizeof plain_text, "%.1f", calls_plain);
  std::snprintf(pool_text, sizeof pool_text, "%.1f", calls_pool);
  row("pooled arena (`--pool`)", "allocator calls per step (steps 2–4)", plain_text, pool_text,
      calls_plain, calls_pool);
  const uint64_t tensors_plain = f32.peak_of(EventKind::kAlignedAlloc, EventKind::kFree);
  const uint64_t tensors_pool = pool.peak_of(EventKind::kPoolAlloc, EventKind::kPoolFree);
  row("pooled arena (`--pool`)", "peak of live tensor blocks (pool blocks with the pool)",
      kib(tensors_plain), kib(tensors_pool), tensors_plain, tensors_pool);
  const uint64_t reserve = pool.peak_of(EventKind::kAlignedAlloc, EventKind::kFree);
  row("pooled arena (`--pool`)", "memory held for tensors (the pool's reserve)", kib(tensors_plain),
      kib(reserve), tensors_plain, reserve);
  row("sparse weights (`--sparse 0.1`)", "parameter bytes after `model/init`", kib(params(f32)),
      kib(params(sparse)), params(f32), params(sparse));
  const uint64_t quantized = int8.heap_bytes_allocated_in("model/quantize");
  row("int8 inference (`--int8`)",
      "f32 weights and gradients after `model/init` vs the int8 model from `model/quantize`",
      kib(params(f32)), kib(quantized), params(f32), quantized);
  const uint64_t data_heap = f32.largest_heap_block_under("data/");
  const uint64_t data_mapped = mapped.largest_heap_block_under("data/");
  row("mapped dataset (`--mmap-data`)", "largest heap block under `data/`", kib(data_heap),
      kib(data_mapped), data_heap, data_mapped);
  std::printf(
      "\nThe `--mmap-data` run maps the dataset file: %d file-backed mapping(s) of 1 MB or "
      "more in its trace, none in the others.\n",
      mapped.file_mappings(1000000));
  return 0;
}
