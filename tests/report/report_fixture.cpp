// Writes the HTML report of a hand-made training run to the path given:
// a trainer and a data-loader child, leaks, growth, errors, a long timeline
// (downsampled by the renderer), and hostile strings everywhere a trace can
// put text. Each hostile payload, if it ever ran, would set
// data-pwned on <html>; check-in-chromium.sh looks for it.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "memtide/analysis/html_report.h"

namespace memtide::analysis {
namespace {

constexpr const char* kScriptPayload =
    "<script>document.documentElement.dataset.pwned='script'</script>";
constexpr const char* kImagePayload =
    "\"><img src=x onerror=\"document.documentElement.dataset.pwned='img'\">";
constexpr const char* kSvgPayload =
    "'><svg onload=\"document.documentElement.dataset.pwned='svg'\">";
constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kSecond = 1000000000;

ReportFrame frame(std::string function, std::string file, int line,
                  std::string module = "/opt/train/bin/train-mlp", uint64_t offset = 0x4a1c0) {
  return {std::move(function), std::move(file), line, std::move(module), offset, false};
}

std::vector<ReportFrame> allocation_stack(std::string caller, std::string file, int line) {
  return {frame("malloc", "", 0, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x9a2f0),
          frame("operator new(unsigned long)", "", 0, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                0xb1e3c),
          frame(std::move(caller), std::move(file), line),
          frame("Trainer::step(Batch const&)", "src/trainer.cpp", 142),
          frame("main", "src/main.cpp", 57)};
}

// A slow leak on top of a per-step sawtooth of activations, in heap and on
// the GPU, sampled every millisecond for 6 s: more points than the chart keeps.
void add_timeline(ProcessReport& p, int steps, uint64_t points) {
  uint64_t step_ns = 6 * kSecond / uint64_t(steps);
  for (int s = 0; s < steps; ++s)
    p.step_times_ns.push_back(p.start_time_ns + uint64_t(s) * step_ns);
  for (uint64_t i = 0; i < points; ++i) {
    uint64_t t = i * 6 * kSecond / points;
    double in_step = double(t % step_ns) / double(step_ns);
    double activations = std::sin(in_step * M_PI);
    TimelinePoint point;
    point.time_ns = p.start_time_ns + t;
    point.heap_bytes = 180 * kMiB + t / kSecond * 24 * kMiB + uint64_t(activations * 90 * kMiB);
    point.mmap_bytes = 64 * kMiB;
    point.gpu_bytes = 300 * kMiB + uint64_t(activations * 160 * kMiB);
    point.rss_bytes = i % 10 == 0 ? point.heap_bytes + point.mmap_bytes + 40 * kMiB : 0;
    p.timeline.push_back(point);
  }
  p.peak_bytes = 0;
  for (const TimelinePoint& point : p.timeline) {
    if (point.heap_bytes > p.peak_bytes)
      p.peak_bytes = point.heap_bytes, p.peak_time_ns = point.time_ns;
  }
}

ProcessReport trainer() {
  ProcessReport p;
  p.pid = 41207;
  p.trace_path = std::string("/tmp/runs/") + kImagePayload + ".db";
  p.command_line = std::string("./train-mlp --epochs 3 --name ") + kScriptPayload;
  p.end_reason = "exit(0)";
  p.ended_cleanly = true;
  p.leak_scan_done = true;
  p.duration_seconds = 6.02;
  p.allocations = 1843221;
  p.frees = 1843090;
  p.start_time_ns = 5 * kSecond;
  add_timeline(p, 48, 6000);

  LeakGroup leak{"definite",
                 24 * kMiB,
                 48,
                 "train/epoch/step/optimizer",
                 allocation_stack("Adam::moments_for(Tensor const&)", "src/optim/adam.cpp", 88),
                 false,
                 "host"};
  p.leaks.push_back(leak);
  leak = {"definite",
          3 * kMiB + 512,
          7,
          std::string("train/") + kScriptPayload,
          allocation_stack(kScriptPayload, std::string("src/") + kImagePayload + ".cpp", 13),
          false,
          "host"};
  p.leaks.push_back(leak);
  leak = {"indirect",
          1536 * 1024,
          96,
          "train/epoch/step/forward",
          allocation_stack("Graph::node<Linear>(int, int)", "src/graph.h", 211),
          false,
          "host"};
  leak.frames[2].inlined = true;
  p.leaks.push_back(leak);
  leak = {"possible", 262144,     1, "", allocation_stack("CudaPool::carve(unsigned long)", "", 0),
          false,      kSvgPayload};
  leak.frames[2].module = std::string("/opt/") + kImagePayload + "/libpool.so";
  p.leaks.push_back(leak);
  leak = {"reachable", 65536, 4, "", allocation_stack("Logger::instance()", "src/log.cpp", 19),
          false,       "host"};
  p.leaks.push_back(leak);
  leak = {"definite", 4096, 1, "", allocation_stack("_dl_init", "", 0), true, "host"};
  p.leaks.push_back(leak);
  p.suppressed_blocks = 1;
  p.suppressed_bytes = 4096;

  p.growth.push_back(
      {"train/epoch/step/optimizer",
       allocation_stack("Adam::moments_for(Tensor const&)", "src/optim/adam.cpp", 88), 512 * 1024,
       47, 24 * kMiB});
  p.growth.push_back(
      {kSvgPayload, allocation_stack(kImagePayload, "src/history.cpp", 40), 4096, 47, 192 * 1024});
  p.errors.push_back({"mismatch", "new[] freed by delete", 3,
                      allocation_stack("Batch::Batch(int)", "src/data.cpp", 77)});
  p.errors.push_back({"unknown free", std::string("free of 0xdeadbeef ") + kSvgPayload, 1,
                      allocation_stack("Tokenizer::~Tokenizer()", "src/tokenizer.cpp", 31)});
  return p;
}

ProcessReport data_loader() {
  ProcessReport p;
  p.pid = 41213;
  p.parent_pid = 41207;
  p.command_line = "./train-mlp --loader-worker 0";
  p.end_reason = "killed by SIGTERM";
  p.ended_cleanly = false;
  p.leak_scan_done = false;
  p.duration_seconds = 5.4;
  p.allocations = 20311;
  p.frees = 20200;
  p.start_time_ns = 5 * kSecond + 300000000;
  for (uint64_t i = 0; i < 60; ++i) {
    uint64_t heap = 12 * kMiB + i * 96 * 1024;
    p.timeline.push_back({p.start_time_ns + i * 90000000, heap, 0, 0, heap + 20 * kMiB});
  }
  p.peak_bytes = p.timeline.back().heap_bytes;
  p.peak_time_ns = p.timeline.back().time_ns;
  p.leaks.push_back({"not freed", 5 * kMiB + 640 * 1024, 111, "loader/prefetch",
                     allocation_stack("Prefetcher::fill(int)", "src/prefetch.cpp", 64), false,
                     "host"});
  return p;
}

ReportData report() {
  ReportData data;
  data.title = std::string("train-mlp ") + kScriptPayload;
  data.memtide_version = "0.4.0";
  data.gates_passed = false;
  data.gates = {
      {"max-peak", true, "peak 405.0 MiB under the limit of 1.0 GiB"},
      {"definite", false, "55 definitely lost blocks (27.0 MiB) in 2 groups"},
      {std::string("growth ") + kImagePayload, false,
       std::string("Adam::moments_for grew 512 KiB per step for 47 steps ") + kSvgPayload}};
  data.processes = {trainer(), data_loader()};
  return data;
}

}  // namespace
}  // namespace memtide::analysis

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s OUTPUT.html\n", argv[0]);
    return 2;
  }
  std::ofstream out(argv[1], std::ios::binary);
  out << memtide::analysis::render_html_report(memtide::analysis::report());
  if (!out.flush()) {
    fprintf(stderr, "%s: cannot write the report\n", argv[1]);
    return 1;
  }
  return 0;
}
