// GPU recording against the fake CUDA driver and runtime (tests/fake_cuda):
// one allocation of every kind, reached through a runtime's
// cuGetProcAddress, a library's own lookup and direct libcuda calls, must
// come out as exactly these events, once each.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "memtide_common/gpu_event.h"

namespace memtide::test {
namespace {

constexpr uint64_t KiB = 1024, MiB = 1024 * KiB;

struct Expected {
  EventKind kind;
  uint64_t size;  // 0 for frees, which carry no size
  uint32_t device;
  GpuApi api;
  std::string object;  // "" = none
};

std::vector<Event> gpu_events(const std::vector<Event>& events) {
  std::vector<Event> out;
  for (const Event& e : events)
    if (is_gpu_event(e.record.kind)) out.push_back(e);
  return out;
}

std::string object_name(const std::string& db, const GpuAux& aux) {
  if (aux.object == 0) return "";
  return query_text(db, "SELECT value FROM strings WHERE id = " + std::to_string(aux.object));
}

const std::vector<Expected> kEveryKind = {
    {EventKind::kCudaDevice, 1 * MiB, 0, GpuApi::kMemAlloc, ""},
    {EventKind::kCudaDevice, 1024 * 10, 0, GpuApi::kMemAllocPitch, ""},
    {EventKind::kCudaManaged, 2 * MiB, 1, GpuApi::kMemAllocManaged, ""},
    {EventKind::kCudaPinned, 64 * KiB, 1, GpuApi::kMemHostAlloc, ""},
    {EventKind::kCudaPinned, 128 * KiB, 1, GpuApi::kMemHostAlloc, ""},
    {EventKind::kCudaPinned, 4 * KiB, 1, GpuApi::kMemAllocHost, ""},
    {EventKind::kCudaAsync, 3 * MiB, 1, GpuApi::kMemAllocAsync, "stream 0x1234"},
    {EventKind::kCudaAsync, 5000, 1, GpuApi::kMemAllocFromPoolAsync, "pool 0x5678"},
    {EventKind::kCudaCapturedAlloc, 7 * MiB, 1, GpuApi::kMemAllocAsync, "stream 0x9999"},
    {EventKind::kCudaCapturedFree, 0, 1, GpuApi::kMemFreeAsync, "stream 0x9999"},
    {EventKind::kCudaFailed, 2ull << 40, 1, GpuApi::kMemAlloc, ""},
    {EventKind::kCudaReserve, 8 * MiB, kGpuDeviceUnknown, GpuApi::kMemAddressReserve, ""},
    {EventKind::kCudaVmmCreate, 2 * MiB, 1, GpuApi::kMemCreate, ""},
    {EventKind::kCudaVmmCreate, 2 * MiB, 1, GpuApi::kMemCreate, ""},
    {EventKind::kCudaVmmMap, 2 * MiB, 1, GpuApi::kMemMap, "handle"},
    {EventKind::kCudaVmmMap, 2 * MiB, 1, GpuApi::kMemMap, "handle"},
    {EventKind::kCudaVmmUnmap, 4 * MiB, 1, GpuApi::kMemUnmap, ""},
    {EventKind::kCudaVmmRelease, 0, 1, GpuApi::kMemRelease, ""},
    {EventKind::kCudaVmmRelease, 0, 1, GpuApi::kMemRelease, ""},
    {EventKind::kCudaReserveFree, 8 * MiB, 1, GpuApi::kMemAddressFree, ""},
    {EventKind::kCudaDevice, 4 * MiB, 1, GpuApi::kMemAlloc, ""},
    {EventKind::kCudaFree, 0, 1, GpuApi::kMemFree, ""},
    {EventKind::kCudaFree, 0, 1, GpuApi::kMemFree, ""},
    {EventKind::kCudaFree, 0, 1, GpuApi::kMemFree, ""},
    {EventKind::kCudaFreeHost, 0, 1, GpuApi::kMemFreeHost, ""},
    {EventKind::kCudaFreeHost, 0, 1, GpuApi::kMemFreeHost, ""},
    {EventKind::kCudaFreeHost, 0, 1, GpuApi::kMemFreeHost, ""},
    {EventKind::kCudaFreeAsync, 0, 1, GpuApi::kMemFreeAsync, "stream 0x1234"},
    {EventKind::kCudaFreeAsync, 0, 1, GpuApi::kMemFreeAsync, "stream 0x1234"},
};

void expect_every_kind(const std::string& db) {
  const std::vector<Event> all = read_events(db);
  const std::vector<Event> events = gpu_events(between_marks(db, all));
  ASSERT_EQ(events.size(), kEveryKind.size());
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE("GPU event " + std::to_string(i) + ": " + event_kind_name(events[i].record.kind));
    const EventRecord& e = events[i].record;
    const Expected& want = kEveryKind[i];
    const GpuAux aux = unpack_gpu_aux(e.aux);
    EXPECT_EQ(e.kind, want.kind);
    if (want.size != 0) {
      EXPECT_EQ(e.size, want.size);
    }
    EXPECT_EQ(aux.device, want.device);
    EXPECT_EQ(aux.api, want.api) << gpu_api_name(aux.api);
    const std::string object = object_name(db, aux);
    EXPECT_EQ(object.substr(0, want.object.size()), want.object);
    EXPECT_EQ(want.object.empty(), object.empty()) << object;
    if (want.kind == EventKind::kCudaFailed) {
      EXPECT_EQ(aux.result, 2u);  // out of memory
    }
  }
  // Every allocation has a stack, and it reaches the program's function.
  const auto& first = events[0].record;
  EXPECT_NE(first.stack, 0u);
  const std::vector<std::string> frames = stack_functions(db, first.stack);
  EXPECT_NE(std::find(frames.begin(), frames.end(), "layer_forward"), frames.end());
  EXPECT_EQ(
      query_text(db, "SELECT path FROM scope_paths WHERE id = " + std::to_string(first.scope)),
      "layer.0/forward");
  EXPECT_EQ(events[1].record.scope, first.scope);
  EXPECT_EQ(events[2].record.scope, 0u);
  // The library that found the driver on its own is named in its stack.
  const std::vector<std::string> blas = stack_functions(db, events[20].record.stack);
  EXPECT_NE(std::find(blas.begin(), blas.end(), "fake_blas_create"), blas.end());
  EXPECT_EQ(query_int(db,
                      "SELECT coalesce(sum(value), 0) FROM counters "
                      "WHERE name = 'gpu_unknown_frees'"),
            0);
  // The last sample: device 1 still holds the library's 4 MiB workspace.
  EXPECT_EQ(query_int(db,
                      "SELECT live_device_bytes FROM gpu_samples WHERE device = 1 "
                      "ORDER BY time_ns DESC LIMIT 1"),
            static_cast<int64_t>(4 * MiB));
  EXPECT_EQ(query_int(db,
                      "SELECT live_pinned_bytes + live_managed_bytes + live_async_bytes + "
                      "live_physical_bytes FROM gpu_samples WHERE device = 1 "
                      "ORDER BY time_ns DESC LIMIT 1"),
            0);
}

std::string program(const std::string& name) {
  return program_path(name);
}

TEST(GpuRecording, HooksSeeEveryKindOnceThroughEveryLookupPath) {
  const std::string db = scratch_dir("gpu_hooks") + "/run.db";
  RunOptions options;
  options.env["MEMTIDE_GPU"] = "hooks";
  RunResult r = run_traced(db, {program("gpu_every_kind")}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_every_kind(db);
  EXPECT_EQ(query_text(db, "SELECT value FROM meta WHERE key = 'gpu_mode'"), "hooks");
  // The runtime's 10 allocation entry points and the library's 2, through
  // cuGetProcAddress; the program's own calls bind to the exported wrappers.
  EXPECT_EQ(query_int(db, "SELECT value FROM counters WHERE name = 'gpu_wrapped_lookups'"), 12);
}

TEST(GpuRecording, AutoModeUsesTheHooks) {
  const std::string db = scratch_dir("gpu_auto") + "/run.db";
  RunResult r = run_traced(db, {program("gpu_every_kind")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_every_kind(db);
  EXPECT_EQ(query_text(db, "SELECT value FROM meta WHERE key = 'gpu_requested'"), "auto");
  EXPECT_EQ(query_text(db, "SELECT value FROM meta WHERE key = 'gpu_mode'"), "hooks");
}

TEST(GpuRecording, PerThreadStreamVariantsAreWrappedToo) {
  const std::string db = scratch_dir("gpu_ptsz") + "/run.db";
  RunOptions options;
  options.env["FAKE_CUDART_PER_THREAD"] = "1";
  RunResult r = run_traced(db, {program("gpu_every_kind")}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_every_kind(db);
}

TEST(GpuRecording, CuptiWithoutAUsableDriverFallsBackToTheHooks) {
  // The fake driver loads memtide as its injection library, like the real
  // one, but CUPTI cannot work against it: memtide says so and records with
  // the hooks, losing nothing.
  const std::string db = scratch_dir("gpu_cupti_fallback") + "/run.db";
  RunOptions options;
  options.env["MEMTIDE_GPU"] = "cupti";
  RunResult r = run_traced(db, {program("gpu_every_kind")}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_every_kind(db);
  EXPECT_EQ(query_text(db, "SELECT value FROM meta WHERE key = 'gpu_mode'"), "hooks");
  const std::string detail = query_text(db, "SELECT value FROM meta WHERE key = 'gpu_detail'");
  EXPECT_EQ(detail.rfind("hooks: CUPTI", 0), 0u) << detail;
}

TEST(GpuRecording, OffRecordsNoGpuEventsAndLeavesTheProgramAlone) {
  const std::string db = scratch_dir("gpu_off") + "/run.db";
  RunOptions options;
  options.env["MEMTIDE_GPU"] = "off";
  RunResult r = run_traced(db, {program("gpu_every_kind")}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(gpu_events(read_events(db)).empty());
  EXPECT_EQ(query_text(db, "SELECT value FROM meta WHERE key = 'gpu_mode'"), "off");
  EXPECT_EQ(query_int(db, "SELECT value FROM counters WHERE name = 'gpu_wrapped_lookups'"), 0);
}

TEST(GpuRecording, DlsymNextStaysRelativeToItsCaller) {
  const std::string db = scratch_dir("gpu_rtld_next") + "/run.db";
  RunResult r = run_traced(db, {program("gpu_every_kind")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // From the program, the next object is the preloaded agent; from a library
  // loaded after the agent, it is libc.
  EXPECT_NE(r.out.find("next malloc from main: libmemtide.so"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("next malloc from fake_blas: libc.so.6"), std::string::npos) << r.out;
}

TEST(GpuRecording, ReconciliationSplitsDriverBytesIntoPoolsAndTheRest) {
  const std::string dir = scratch_dir("gpu_pool");
  const std::string db = dir + "/run.db";
  RunResult r = run_traced(db, {program("gpu_pool")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  RunResult gpu = run_command({cli_path(), "gpu", "--json", "--at-mark", "check", db});
  ASSERT_EQ(gpu.exit_code, 0) << gpu.err;
  // At the marker, the same split as at the end (nothing changes in between).
  const nlohmann::json at = nlohmann::json::parse(gpu.out)["at_mark"]["0"]["reconciliation"];
  EXPECT_EQ(at["driver_bytes"].get<uint64_t>(), 6u * MiB);
  ASSERT_EQ(at["pools"].size(), 1u) << at.dump(2);
  EXPECT_EQ(at["pools"][0]["name"], "fake-caching");
  EXPECT_EQ(at["pools"][0]["segments"].get<uint64_t>(), 1u);
  EXPECT_EQ(at["pools"][0]["reserved_bytes"].get<uint64_t>(), 4u * MiB);
  EXPECT_EQ(at["pools"][0]["in_use_bytes"].get<uint64_t>(), MiB + 256 * KiB);
  EXPECT_EQ(at["outside_pools_by_origin"]["gpu_pool"].get<uint64_t>(), 2u * MiB);
  // Exact numbers, from the text rendering of the end state.
  RunResult text = run_command({cli_path(), "gpu", db});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("driver-level bytes live at end: 6291456"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("pool fake-caching             1 segments, 4194304 bytes reserved, "
                          "1310720 in use"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("outside pools, from gpu_pool"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("2097152 bytes"), std::string::npos) << text.out;
}

// memtide diff measures each device's peak as memtide peak does, and its
// --max-peak-increase gate holds for every device, not only the host heap.
TEST(GpuRecording, DiffGatesEachDevicesPeak) {
  const std::string dir = scratch_dir("gpu_diff");
  const std::string every_kind = dir + "/every_kind.db", pool = dir + "/pool.db";
  ASSERT_EQ(run_traced(every_kind, {program("gpu_every_kind")}).exit_code, 0);
  ASSERT_EQ(run_traced(pool, {program("gpu_pool")}).exit_code, 0);
  auto device_peaks = [](const std::string& db) {
    RunResult peak = run_command({cli_path(), "peak", "--json", db});
    EXPECT_EQ(peak.exit_code, 0) << peak.err;
    std::map<std::string, uint64_t> out;
    const nlohmann::json parsed = nlohmann::json::parse(peak.out);
    for (const auto& device : parsed["devices"])
      out[device["measure"].get<std::string>()] = device["moment"]["bytes"].get<uint64_t>();
    return out;
  };
  const auto peaks_a = device_peaks(every_kind), peaks_b = device_peaks(pool);
  ASSERT_TRUE(peaks_a.count("cuda:0") && peaks_b.count("cuda:0"));
  ASSERT_NE(peaks_a.at("cuda:0"), peaks_b.at("cuda:0"));
  // The run with the lower device peak is the base: the new one grew.
  const bool a_lower = peaks_a.at("cuda:0") < peaks_b.at("cuda:0");
  const std::string base = a_lower ? every_kind : pool, candidate = a_lower ? pool : every_kind;
  const auto& base_peaks = a_lower ? peaks_a : peaks_b;
  const auto& new_peaks = a_lower ? peaks_b : peaks_a;

  const std::string json = dir + "/diff.json";
  RunResult grew = run_command(
      {cli_path(), "diff", base, candidate, "--max-peak-increase", "0%", "--json", json});
  EXPECT_EQ(grew.exit_code, 1) << grew.out << grew.err;
  std::ifstream json_file(json);
  const nlohmann::json d = nlohmann::json::parse(json_file);
  for (const auto& [device, bytes] : base_peaks)
    EXPECT_EQ(d["base"]["device_peak_bytes"][device].get<uint64_t>(), bytes) << device;
  for (const auto& [device, bytes] : new_peaks)
    EXPECT_EQ(d["new"]["device_peak_bytes"][device].get<uint64_t>(), bytes) << device;
  bool device_gate_failed = false;
  for (const auto& gate : d["gates"])
    if (gate["name"] == "max-peak-increase cuda:0")
      device_gate_failed = !gate["passed"].get<bool>();
  EXPECT_TRUE(device_gate_failed) << d["gates"].dump(2);
  EXPECT_NE(grew.out.find("cuda:0 peak bytes"), std::string::npos) << grew.out;

  // A run against itself passes every gate, the device's included.
  RunResult same =
      run_command({cli_path(), "diff", candidate, candidate, "--max-peak-increase", "0%"});
  EXPECT_EQ(same.exit_code, 0) << same.out;
  EXPECT_NE(same.out.find("pass max-peak-increase cuda:0"), std::string::npos) << same.out;
}

// memtide layers --device: the GPU's blocks, the pool's sub-allocations with
// them (its reserve is on the GPU), and host memory apart; the two add up to
// the layers of every memory together.
TEST(GpuRecording, LayersOfOneDevice) {
  const std::string db = scratch_dir("gpu_layers_device") + "/run.db";
  ASSERT_EQ(run_traced(db, {program("gpu_pool")}).exit_code, 0);
  auto layers = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {cli_path(), "layers", "--json", db};
    argv.insert(argv.end(), extra.begin(), extra.end());
    RunResult r = run_command(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  };
  const nlohmann::json all = layers({}), gpu = layers({"--device", "cuda:0"}),
                       host = layers({"--device", "host"});
  EXPECT_EQ(gpu["device"], "cuda:0");
  EXPECT_EQ(host["device"], "host");
  // Three sub-allocations of the pool (1.75 MiB in all) and one 2 MiB block
  // of the program's own, all outside any scope.
  EXPECT_EQ(gpu["unscoped"]["allocations"].get<uint64_t>(), 4u);
  EXPECT_EQ(gpu["unscoped"]["bytes"].get<uint64_t>(), 1835008u + 2u * MiB);
  ASSERT_EQ(gpu["pools"].size(), 1u);
  EXPECT_EQ(gpu["pools"][0]["sub_bytes"].get<uint64_t>(), 1835008u);
  EXPECT_EQ(host["pools"].size(), 0u);
  EXPECT_EQ(host["unscoped"]["bytes"].get<uint64_t>() + gpu["unscoped"]["bytes"].get<uint64_t>(),
            all["unscoped"]["bytes"].get<uint64_t>());
  EXPECT_EQ(run_command({cli_path(), "layers", db, "--device", "gpu0"}).exit_code, 2);
}

TEST(GpuRecording, NoDriverLeavesAValidHostTrace) {
  const std::string db = scratch_dir("gpu_no_driver") + "/run.db";
  RunOptions options;
  options.env["FAKE_CUDA_DRIVER"] = "/nonexistent/libcuda.so.1";
  for (const char* mode : {"auto", "cupti"}) {
    SCOPED_TRACE(mode);
    options.env["MEMTIDE_GPU"] = mode;
    RunResult r = run_traced(db, {program("gpu_no_driver")}, options);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::vector<Event> events = between_marks(db, read_events(db));
    EXPECT_TRUE(gpu_events(events).empty());
    // The program's own block (the failed driver load allocates too).
    uint64_t block = 0;
    for (const Event& e : events)
      if (e.record.kind == EventKind::kMalloc && e.record.size == 4096) block = e.record.address;
    ASSERT_NE(block, 0u);
    EXPECT_EQ(std::count_if(events.begin(), events.end(),
                            [block](const Event& e) {
                              return e.record.kind == EventKind::kFree && e.record.address == block;
                            }),
              1);
    EXPECT_EQ(query_int(db, "SELECT value FROM meta WHERE key = 'ended_cleanly'"), 1);
    const std::string detail = query_text(db, "SELECT value FROM meta WHERE key = 'gpu_detail'");
    EXPECT_FALSE(detail.empty());
  }
}

}  // namespace
}  // namespace memtide::test
