// memtide layers, peak and top on a program with a hand-computed schedule
// (tests/programs/scope_schedule.cpp) and on the sample engine's techniques.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"

namespace memtide::test {
namespace {

using nlohmann::json;

RunResult memtide(std::vector<std::string> args) {
  args.insert(args.begin(), cli_path());
  return run_command(args);
}

json run_json(std::vector<std::string> args) {
  RunResult r = memtide(std::move(args));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

const json& row(const json& rows, const std::string& key, const std::string& value) {
  for (const json& r : rows)
    if (r[key] == value) return r;
  static const json none;
  ADD_FAILURE() << "no row with " << key << " = " << value;
  return none;
}

std::string traced_schedule(const std::string& name) {
  const std::string db = scratch_dir(name) + "/run.db";
  RunResult run = run_traced(db, {program_path("scope_schedule")});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return db;
}

// The expected numbers, block by block, are in scope_schedule.cpp's comments.
TEST(Layers, EveryScopeOfTheScheduleHasItsExactNumbers) {
  const std::string db = traced_schedule("layers_schedule");
  const json j = run_json({"layers", db, "--json"});
  const json& scopes = j["scopes"];
  ASSERT_EQ(scopes.size(), 5u) << j.dump(1);

  const json& setup = row(scopes, "path", "setup");
  EXPECT_EQ(setup["phase"], "setup");
  EXPECT_EQ(setup["own"]["allocations"], 1);  // the arena is the pool's reserve
  EXPECT_EQ(setup["own"]["bytes"], 128);
  EXPECT_EQ(setup["own"]["outliving_bytes"], 128);
  EXPECT_EQ(setup["own"]["outliving_freed_in"][0]["scope"], "(no scope)");
  EXPECT_EQ(setup["own"]["live_at_step_end_bytes"], 128);

  const json& forward = row(scopes, "path", "model.layers.0/forward");
  EXPECT_EQ(forward["layer"], "model.layers.0");
  EXPECT_EQ(forward["phase"], "forward");
  EXPECT_EQ(forward["depth"], 1);
  const json& own = forward["own"];
  EXPECT_EQ(own["allocations"], 2);
  EXPECT_EQ(own["bytes"], 1000 + (1 << 20));
  EXPECT_EQ(own["peak_live_bytes"], 1 << 20);
  EXPECT_EQ(own["outliving_bytes"], 1000 + (1 << 20));
  EXPECT_EQ(own["outliving_blocks"], 2);
  ASSERT_EQ(own["outliving_freed_in"].size(), 2u);
  EXPECT_EQ(own["outliving_freed_in"][0]["scope"], "(no scope)");
  EXPECT_EQ(own["outliving_freed_in"][0]["bytes"], 1 << 20);
  EXPECT_EQ(own["outliving_freed_in"][1]["scope"], "model.layers.0/backward");
  EXPECT_EQ(own["outliving_freed_in"][1]["bytes"], 1000);
  EXPECT_EQ(own["live_at_step_end_bytes"], 0);
  // The activation lived through a 3 ms sleep: the larger of two lifetimes.
  EXPECT_GE(own["p95_lifetime_ns"].get<uint64_t>(), 2880000u);
  EXPECT_LE(own["median_lifetime_ns"].get<uint64_t>(), own["p95_lifetime_ns"].get<uint64_t>());

  const json& sub = forward["subtree"];
  EXPECT_EQ(sub["allocations"], 5);
  EXPECT_EQ(sub["bytes"], 1000 + (1 << 20) + 300 + 200 + 4096);
  EXPECT_EQ(sub["pool_bytes"], 4096);
  EXPECT_EQ(sub["peak_live_bytes"], 1 << 20);
  // The weight is freed inside forward: it outlives matmul only.
  EXPECT_EQ(sub["outliving_bytes"], 1000 + 4096 + (1 << 20));
  EXPECT_EQ(sub["outliving_blocks"], 3);
  EXPECT_EQ(sub["outliving_freed_in"][1]["scope"], "model.layers.0/backward");
  EXPECT_EQ(sub["outliving_freed_in"][1]["bytes"], 1000 + 4096);

  const json& matmul = row(scopes, "path", "model.layers.0/forward/matmul");
  EXPECT_EQ(matmul["depth"], 2);
  EXPECT_EQ(matmul["phase"], "forward");
  EXPECT_EQ(matmul["parent"], forward["id"]);
  EXPECT_EQ(matmul["own"]["allocations"], 3);
  EXPECT_EQ(matmul["own"]["bytes"], 300 + 200 + 4096);
  EXPECT_EQ(matmul["own"]["peak_live_bytes"], 200 + 4096);
  EXPECT_EQ(matmul["own"]["outliving_bytes"], 200 + 4096);
  EXPECT_EQ(matmul["own"]["outliving_freed_in"][0]["scope"], "model.layers.0/backward");
  EXPECT_EQ(matmul["own"]["outliving_freed_in"][0]["bytes"], 4096);
  EXPECT_EQ(matmul["own"]["outliving_freed_in"][1]["scope"], "model.layers.0/forward");
  EXPECT_EQ(matmul["own"]["outliving_freed_in"][1]["bytes"], 200);

  const json& backward = row(scopes, "path", "model.layers.0/backward");
  EXPECT_EQ(backward["own"]["allocations"], 2);
  EXPECT_EQ(backward["own"]["bytes"], 500);
  EXPECT_EQ(backward["own"]["peak_live_bytes"], 500);
  EXPECT_EQ(backward["own"]["outliving_bytes"], 0);

  const json& optimizer = row(scopes, "path", "optimizer/step");
  EXPECT_EQ(optimizer["phase"], "optimizer");
  EXPECT_EQ(optimizer["own"]["outliving_freed_in"][0]["scope"], "(not freed)");
  EXPECT_EQ(optimizer["own"]["live_at_step_end_bytes"], 500);

  const json& pool = row(j["pools"], "name", "test.arena");
  EXPECT_EQ(pool["sub_allocations"], 1);
  EXPECT_EQ(pool["sub_bytes"], 4096);
  EXPECT_EQ(pool["backing_blocks"], 1);
  EXPECT_EQ(pool["reserve_peak_bytes"], 65536);
  // The step-0 block allocated outside every scope is live when step 1 begins.
  EXPECT_GE(j["unscoped"]["live_at_step_end_bytes"].get<uint64_t>(), 64u);
}

TEST(Layers, StepAndPhaseFiltersAndTheFlatView) {
  const std::string db = traced_schedule("layers_filters");
  const json step1 = run_json({"layers", db, "--step", "1", "--json"});
  EXPECT_EQ(step1["step"], 1);
  ASSERT_EQ(step1["scopes"].size(), 2u) << step1.dump(1);
  EXPECT_EQ(row(step1["scopes"], "path", "model.layers.0/forward")["own"]["bytes"], 1 << 20);
  EXPECT_EQ(row(step1["scopes"], "path", "optimizer/step")["own"]["bytes"], 500);

  const json backward = run_json({"layers", db, "--phase", "backward", "--json"});
  ASSERT_EQ(backward["scopes"].size(), 1u);
  EXPECT_EQ(backward["scopes"][0]["path"], "model.layers.0/backward");

  const json flat = run_json({"layers", db, "--flat", "--sort", "bytes", "--json"});
  EXPECT_EQ(flat["view"], "flat");
  EXPECT_EQ(flat["scopes"][0]["path"], "model.layers.0/forward");
  EXPECT_EQ(flat["scopes"][1]["path"], "model.layers.0/forward/matmul");

  RunResult tree = memtide({"layers", db});
  ASSERT_EQ(tree.exit_code, 0) << tree.err;
  EXPECT_NE(tree.out.find("\n  matmul "), std::string::npos) << tree.out;  // indented child
}

TEST(Peak, ThePeakItsMomentAndWhatWasLive) {
  const std::string db = traced_schedule("peak_schedule");
  const json j = run_json({"peak", db, "--json"});
  const json& host = j["host"];
  const json& moment = host["moment"];
  EXPECT_EQ(moment["step"], 1);
  EXPECT_EQ(moment["scope"], "model.layers.0/forward");
  EXPECT_EQ(moment["thread_id"], 1);
  // What the program itself holds at its peak: the big block, the arena
  // (as the pool's reserve) and the config; the rest is the runtime's.
  const json& big = row(host["by_scope"], "scope", "model.layers.0/forward");
  EXPECT_EQ(big["bytes"], 1 << 20);
  EXPECT_EQ(big["memory"], "heap");
  const json& reserve = row(host["by_scope"], "memory", "pool reserve test.arena");
  EXPECT_EQ(reserve["bytes"], 65536);
  EXPECT_EQ(reserve["scope"], "setup");
  for (const json& g : host["by_scope"])
    if (g["scope"] == "setup" && g["memory"] == "heap") {
      EXPECT_EQ(g["bytes"], 128);
    }
  EXPECT_TRUE(host["inside_pools"].empty());  // the sub-allocation was freed in step 0
  const json& top_stack = host["by_stack"][0];
  EXPECT_EQ(top_stack["bytes"], 1 << 20);
  EXPECT_NE(top_stack["frames"][0]["function"].get<std::string>().find("allocate_big"),
            std::string::npos);

  // Peak of each step: before the first, the runtime's blocks, the config
  // and the arena; step 0 adds the activation and the temporary at once.
  const uint64_t peak = moment["bytes"];
  const uint64_t before = peak - (1 << 20);
  ASSERT_EQ(j["steps"].size(), 3u);
  EXPECT_EQ(j["steps"][0]["step"], -1);
  EXPECT_EQ(j["steps"][0]["host_bytes"], before);
  EXPECT_EQ(j["steps"][1]["host_bytes"], before + 1000 + 300);
  EXPECT_EQ(j["steps"][2]["host_bytes"], peak);
  EXPECT_EQ(j["total"]["moment"]["bytes"], peak);  // no GPU
  EXPECT_EQ(row(j["phases"], "phase", "forward")["moment"]["bytes"], peak);
  EXPECT_EQ(row(j["phases"], "phase", "backward")["moment"]["bytes"], before + 500);
  const json& pool = row(j["pools"], "name", "test.arena");
  EXPECT_EQ(pool["sub_peak_bytes"], 4096);
  EXPECT_EQ(pool["reserve_peak_bytes"], 65536);
}

const json& stack_row(const json& stacks, const std::string& function) {
  for (const json& s : stacks)
    for (const json& f : s["frames"]) {
      if (f["function"].get<std::string>().find(function) != std::string::npos) return s;
      break;  // innermost frame only
    }
  static const json none;
  ADD_FAILURE() << "no stack allocated in " << function;
  return none;
}

TEST(Top, TemporariesByStackAndScope) {
  const std::string db = traced_schedule("top_schedule");
  const json j = run_json({"top", db, "--by", "temporaries", "--limit", "100", "--json"});
  EXPECT_EQ(j["by"], "temporaries");
  // heaptrack's definition: the free is the thread's next heap event. The
  // big block (then a scope exit) and the kept block (then a step) are
  // temporaries too; the two gradients are not (each has another call between).
  EXPECT_EQ(stack_row(j["stacks"], "make_temporary")["temporaries"], 1);
  EXPECT_EQ(stack_row(j["stacks"], "make_temporary")["temporary_bytes"], 300);
  EXPECT_EQ(stack_row(j["stacks"], "allocate_big")["temporaries"], 1);
  EXPECT_EQ(stack_row(j["stacks"], "allocate_kept")["temporary_bytes"], 64);
  for (const json& s : j["stacks"])
    for (const char* never : {"allocate_gradient", "allocate_weight", "allocate_activation"})
      EXPECT_EQ(s["frames"][0]["function"].get<std::string>().find(never), std::string::npos);
  const json& matmul = row(j["scopes"], "scope", "model.layers.0/forward/matmul");
  EXPECT_EQ(matmul["memory"], "heap");
  EXPECT_EQ(matmul["allocations"], 2);
  EXPECT_EQ(matmul["bytes"], 500);
  EXPECT_EQ(matmul["temporaries"], 1);

  const json by_count = run_json({"top", db, "--by", "count", "--limit", "100", "--json"});
  // Two calls of allocate_gradient from two lines of main: two stacks.
  int gradients = 0, gradient_bytes = 0;
  for (const json& s : by_count["stacks"]) {
    if (s["frames"].empty() || s["frames"][0]["function"].get<std::string>().find(
                                   "allocate_gradient") == std::string::npos)
      continue;
    gradients += s["allocations"].get<int>();
    gradient_bytes += s["bytes"].get<int>();
    EXPECT_EQ(s["temporaries"], 0);
  }
  EXPECT_EQ(gradients, 2);
  EXPECT_EQ(gradient_bytes, 500);
  const json& backward = row(by_count["scopes"], "scope", "model.layers.0/backward");
  EXPECT_EQ(backward["allocations"], 2);
  EXPECT_EQ(backward["temporaries"], 0);
  const json& pooled = row(by_count["scopes"], "memory", "pool");
  EXPECT_EQ(pooled["scope"], "model.layers.0/forward/matmul");
  EXPECT_EQ(pooled["bytes"], 4096);
}

TEST(Layers, UsageErrorsExitTwoWithAClearMessage) {
  const std::string db = traced_schedule("layers_usage");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"layers"}, "no trace file"},
      {{"layers", db, "--sort", "colour"}, "unknown column"},
      {{"layers", db, "--step", "x"}, "expected a step number"},
      {{"layers", db, db}, "one trace at a time"},
      {{"layers", "/nonexistent.db"}, "/nonexistent.db"},
      {{"peak", db, "--max-groups", "0"}, "positive count"},
      {{"peak", db, "--bogus"}, "unknown option"},
      {{"top", db, "--by", "size"}, "expected bytes, count or temporaries"},
      {{"top"}, "no trace file"},
  };
  for (const auto& [args, message] : cases) {
    RunResult r = memtide(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << message;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  }
}

#ifdef MEMTIDE_HAVE_SAMPLES
std::string sample_trace(const std::string& name, std::vector<std::string> args) {
  const std::string db = scratch_dir("layers_sample_" + name) + "/run.db";
  args.insert(args.begin(), std::string(MEMTIDE_SAMPLES_DIR) + "/memtide-sample-mlp");
  RunResult run = run_traced(db, args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return db;
}

TEST(LayersOnSamples, CheckpointingLowersTheBackwardPeakAndDiffNamesTheLayers) {
  const std::string plain = sample_trace("plain", {"--steps", "3", "--layers", "8"});
  const std::string ckpt =
      sample_trace("ckpt", {"--steps", "3", "--layers", "8", "--checkpoint", "4"});
  auto backward_peak = [](const std::string& db) {
    return row(run_json({"peak", db, "--json"})["phases"], "phase", "backward")["moment"]["bytes"]
        .get<uint64_t>();
  };
  auto backward_high_water = [](const std::string& db) {
    return row(run_json({"layers", db, "--json"})["phases"], "phase",
               "backward")["measures"]["high_water_bytes"]
        .get<uint64_t>();
  };
  EXPECT_LT(backward_peak(ckpt), backward_peak(plain));
  EXPECT_LT(backward_high_water(ckpt), backward_high_water(plain));

  const std::string out = scratch_dir("layers_sample_diff") + "/diff.json";
  RunResult diff = memtide({"diff", plain, ckpt, "--json", out});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_NE(diff.out.find("layers that changed"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("/recompute (new)"), std::string::npos) << diff.out;
}

TEST(LayersOnSamples, PoolMovesTensorBytesIntoSubAllocationsWithTheSameLayerTotals) {
  const std::string plain = sample_trace("nopool", {"--steps", "3"});
  const std::string pooled = sample_trace("pool", {"--steps", "3", "--pool"});
  const json a = run_json({"layers", plain, "--json"});
  const json b = run_json({"layers", pooled, "--json"});
  EXPECT_TRUE(a["pools"].empty());
  ASSERT_EQ(b["pools"].size(), 1u);
  EXPECT_GT(b["pools"][0]["reserve_peak_bytes"].get<uint64_t>(), 0u);
  int layers = 0;
  for (const json& r : a["scopes"]) {
    if (r["layer"].get<std::string>().rfind("model.layers.", 0) != 0) continue;
    ++layers;
    const json& same = row(b["scopes"], "path", r["path"]);
    EXPECT_EQ(same["subtree"]["bytes"], r["subtree"]["bytes"]) << r["path"];
    EXPECT_EQ(r["subtree"]["pool_bytes"], 0) << r["path"];
    EXPECT_EQ(same["subtree"]["pool_bytes"], same["subtree"]["bytes"]) << r["path"];
  }
  EXPECT_GE(layers, 8);
}
#endif

}  // namespace
}  // namespace memtide::test
