// memtide frag on programs of known layout: a heap region fragmented on
// purpose (and compacted), the sample engine's pooled arena, the allocator
// overhead against the agent's samples, and the command line.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <regex>

#include "harness.h"

namespace memtide::test {
namespace {

using nlohmann::json;

// tests/programs/fragmenter.c
constexpr uint64_t kBlocks = 32, kBlockBytes = 1000, kPinBytes = 200;

// glibc's chunk for a request (x86-64): what separates two adjacent blocks.
uint64_t chunk(uint64_t bytes) {
  return std::max<uint64_t>(32, (bytes + 8 + 15) & ~uint64_t(15));
}

// The agent sampling every `ms` milliseconds.
RunOptions sampling_every(const char* ms) {
  RunOptions o;
  o.env["MEMTIDE_SAMPLE_MS"] = ms;
  return o;
}

RunResult memtide(std::vector<std::string> args) {
  args.insert(args.begin(), cli_path());
  return run_command(args);
}

json frag_json(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"frag", "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = memtide(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

const json* extent_holding(const json& state, uint64_t address) {
  for (const json& e : state["arena_extents"])
    if (e["start"].get<uint64_t>() <= address && address < e["end"].get<uint64_t>()) return &e;
  return nullptr;
}

struct RegionTrace {
  std::string db;
  std::vector<Event> events;
  std::map<uint64_t, uint64_t> live_at_mark;  // the region's blocks and the pin: address -> size
  uint64_t first_address = 0;
  uint64_t pin_seq = 0;    // the last allocation before the frees: the heap peak
  uint64_t mark_time = 0;  // of "fragmented"
};

RegionTrace traced_region(const std::string& name, const std::vector<std::string>& mode) {
  RegionTrace t;
  t.db = scratch_dir("frag_" + name) + "/run.db";
  std::vector<std::string> argv = {program_path("fragmenter"), "--hold-ms", "40"};
  argv.insert(argv.end(), mode.begin(), mode.end());
  RunResult run = run_traced(t.db, argv, sampling_every("1"));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  t.events = read_events(t.db);
  std::vector<uint64_t> allocated;
  for (const Event& e : between_marks(t.db, t.events, "region", "fragmented")) {
    const EventRecord& r = e.record;
    if (r.kind == EventKind::kMalloc) {
      t.live_at_mark[r.address] = r.size;
      allocated.push_back(r.address);
      t.pin_seq = r.seq;
    } else if (r.kind == EventKind::kFree) {
      t.live_at_mark.erase(r.address);
    }
  }
  EXPECT_EQ(allocated.size(), kBlocks + 1);
  // A fresh arena carves the blocks one after another: chunk by chunk.
  for (size_t i = 1; i < allocated.size(); ++i)
    EXPECT_EQ(allocated[i] - allocated[i - 1], chunk(kBlockBytes)) << "block " << i;
  t.first_address = allocated.empty() ? 0 : allocated.front();
  const int64_t mark = query_int(t.db, "SELECT id FROM strings WHERE value = 'fragmented'");
  for (const Event& e : t.events)
    if (e.record.kind == EventKind::kMark && int64_t(e.record.aux) == mark)
      t.mark_time = e.record.time_ns;
  return t;
}

struct Holes {
  uint64_t count = 0, free_bytes = 0, largest = 0;
};

// The holes between the live blocks, from their addresses and glibc's chunks.
Holes holes_between(const std::map<uint64_t, uint64_t>& live) {
  Holes h;
  for (auto it = live.begin(); std::next(it) != live.end(); ++it) {
    const uint64_t gap = std::next(it)->first - (it->first + chunk(it->second));
    if (gap == 0) continue;
    ++h.count;
    h.free_bytes += gap;
    h.largest = std::max(h.largest, gap);
  }
  return h;
}

TEST(Frag, EveryOtherBlockFreedLeavesOneHoleEach) {
  const RegionTrace t = traced_region("every_other", {});
  ASSERT_EQ(t.live_at_mark.size(), kBlocks / 2 + 1);
  const Holes expected = holes_between(t.live_at_mark);
  EXPECT_EQ(expected.count, kBlocks / 2);
  EXPECT_EQ(expected.free_bytes, kBlocks / 2 * chunk(kBlockBytes));
  EXPECT_EQ(expected.largest, chunk(kBlockBytes));

  const json j = frag_json({t.db, "--at-mark", "fragmented"});
  ASSERT_EQ(j["states"].size(), 1u);
  const json& state = j["states"][0];
  EXPECT_EQ(state["label"], "at mark fragmented");
  const json* extent = extent_holding(state, t.first_address);
  ASSERT_NE(extent, nullptr) << state.dump(2);
  // The thread's arena holds the region and the pin, nothing else traced.
  EXPECT_EQ((*extent)["start"].get<uint64_t>(), t.first_address);
  const json& h = (*extent)["holes"];
  EXPECT_EQ(h["live_blocks"].get<uint64_t>(), kBlocks / 2 + 1);
  EXPECT_EQ(h["holes"].get<uint64_t>(), expected.count);
  EXPECT_EQ(h["free_bytes"].get<uint64_t>(), expected.free_bytes);
  EXPECT_EQ(h["largest_hole"].get<uint64_t>(), expected.largest);
  EXPECT_DOUBLE_EQ(h["fragmentation"].get<double>(), 1.0 - 1.0 / double(kBlocks / 2));
  EXPECT_EQ(h["used_bytes"].get<uint64_t>(), kBlocks / 2 * chunk(kBlockBytes) + chunk(kPinBytes));

  // Every kept block but the first sits between two holes: freeing one would
  // make a hole of three chunks. Of equal holes the lowest address comes first.
  const json pins =
      frag_json({t.db, "--at-mark", "fragmented", "--top", "100"})["states"][0]["pinning"];
  std::vector<json> in_region;
  for (const json& p : pins)
    if (p["address"].get<uint64_t>() >= t.first_address &&
        p["address"].get<uint64_t>() < (*extent)["end"].get<uint64_t>())
      in_region.push_back(p);
  ASSERT_EQ(in_region.size(), kBlocks / 2 + 1);
  const json& top = in_region[0];
  EXPECT_EQ(top["extent"], "heap arena");
  EXPECT_EQ(top["size"].get<uint64_t>(), kBlockBytes);
  EXPECT_EQ(top["address"].get<uint64_t>(), t.first_address + 2 * chunk(kBlockBytes));
  EXPECT_EQ(top["merged_hole"].get<uint64_t>(), 3 * chunk(kBlockBytes));
  ASSERT_FALSE(top["frames"].empty());
  EXPECT_EQ(top["frames"][0]["function"], "allocate_region");
  const auto three_chunks = std::count_if(in_region.begin(), in_region.end(), [](const json& p) {
    return p["merged_hole"].get<uint64_t>() == 3 * chunk(kBlockBytes);
  });
  EXPECT_EQ(three_chunks, int64_t(kBlocks / 2 - 1));

  // --at the marker's time sees the same layout.
  const json at = frag_json({t.db, "--at", std::to_string(t.mark_time)});
  ASSERT_EQ(at["states"].size(), 1u);
  const json* same = extent_holding(at["states"][0], t.first_address);
  ASSERT_NE(same, nullptr);
  EXPECT_EQ((*same)["holes"], h);
}

TEST(Frag, CompactedRegionHasOneHoleAndNoFragmentation) {
  const RegionTrace t = traced_region("compact", {"--compact"});
  ASSERT_EQ(t.live_at_mark.size(), kBlocks / 2 + 1);
  const Holes expected = holes_between(t.live_at_mark);
  EXPECT_EQ(expected.count, 1u);
  EXPECT_EQ(expected.free_bytes, kBlocks / 2 * chunk(kBlockBytes));

  const json j = frag_json({t.db, "--at-mark", "fragmented"});
  const json* extent = extent_holding(j["states"][0], t.first_address);
  ASSERT_NE(extent, nullptr);
  const json& h = (*extent)["holes"];
  EXPECT_EQ(h["holes"].get<uint64_t>(), 1u);
  EXPECT_EQ(h["free_bytes"].get<uint64_t>(), expected.free_bytes);
  EXPECT_EQ(h["largest_hole"].get<uint64_t>(), expected.free_bytes);
  EXPECT_EQ(h["fragmentation"].get<double>(), 0.0);
}

TEST(Frag, PeakStateIsTheLayoutBeforeTheFrees) {
  const RegionTrace t = traced_region("peak", {});
  const json j = frag_json({t.db, "--at-peak"});
  ASSERT_EQ(j["states"].size(), 1u);
  const json& peak = j["states"][0];
  EXPECT_EQ(peak["label"], "peak");
  EXPECT_EQ(j["peak"]["seq"].get<uint64_t>(), t.pin_seq);
  EXPECT_EQ(peak["seq"].get<uint64_t>(), t.pin_seq);
  EXPECT_EQ(peak["live_heap_bytes"], j["peak"]["heap_bytes"]);
  const json* extent = extent_holding(peak, t.first_address);
  ASSERT_NE(extent, nullptr);
  EXPECT_EQ((*extent)["holes"]["live_blocks"].get<uint64_t>(), kBlocks + 1);
  EXPECT_EQ((*extent)["holes"]["holes"].get<uint64_t>(), 0u);
}

// One overhead point per sample; each the agent's mallinfo2 figures over the
// live requested heap bytes replayed up to the sample's time.
TEST(Frag, OverheadHasOnePointPerSampleAgainstReplayedLiveBytes) {
  const RegionTrace t = traced_region("overhead", {});
  const json j = frag_json({t.db});
  const json& points = j["overhead"];
  const int64_t samples = query_int(t.db, "SELECT count(*) FROM samples");
  ASSERT_GE(samples, 3);  // 1 ms samples over a 40 ms hold
  ASSERT_EQ(int64_t(points.size()), samples);

  std::map<uint64_t, uint64_t> live;
  uint64_t live_bytes = 0;
  size_t next = 0;
  auto check_until = [&](uint64_t time_ns) {
    for (; next < points.size() && points[next]["time_ns"].get<uint64_t>() < time_ns; ++next) {
      const json& p = points[next];
      SCOPED_TRACE("sample " + std::to_string(next));
      EXPECT_EQ(p["live_heap_bytes"].get<uint64_t>(), live_bytes);
      const std::string row =
          " FROM samples ORDER BY time_ns LIMIT 1 OFFSET " + std::to_string(next);
      EXPECT_EQ(p["rss_bytes"].get<int64_t>(), query_int(t.db, "SELECT rss_bytes" + row));
      if (p["arena_bytes"].is_null()) continue;
      const int64_t arena = query_int(t.db, "SELECT heap_arena_bytes" + row);
      const int64_t mapped = query_int(t.db, "SELECT heap_mmap_bytes" + row);
      EXPECT_EQ(p["arena_bytes"].get<int64_t>(), arena);
      EXPECT_EQ(p["mmapped_bytes"].get<int64_t>(), mapped);
      EXPECT_DOUBLE_EQ(p["heap_ratio"].get<double>(), double(arena + mapped) / double(live_bytes));
    }
  };
  for (const Event& e : t.events) {
    check_until(e.record.time_ns);
    const EventRecord& r = e.record;
    if ((is_allocation(r.kind) && uint8_t(r.kind) <= 13) || r.kind == EventKind::kReallocInPlace) {
      if (r.kind == EventKind::kReallocInPlace && live.count(r.address))
        live_bytes -= live[r.address];
      live[r.address] = r.size;
      live_bytes += r.size;
    } else if (uint8_t(r.kind) >= 32 && uint8_t(r.kind) <= 35 && live.count(r.address)) {
      live_bytes -= live[r.address];
      live.erase(r.address);
    }
  }
  check_until(UINT64_MAX);
  EXPECT_EQ(next, points.size());
}

#ifdef MEMTIDE_HAVE_SAMPLES

std::string sample_mlp() {
  return std::string(MEMTIDE_SAMPLES_DIR) + "/memtide-sample-mlp";
}

uint64_t printed(const std::string& out, const std::string& key) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(out, m, std::regex(key + "=([0-9]+)"))) << key << " in " << out;
  return m.empty() ? 0 : std::stoull(m[1]);
}

// At the heap peak the arena and mapped chunks hold more than the program
// asked for, but not absurdly more, on a real training run.
TEST(Frag, OverheadAtThePeakOfATrainingRunIsSane) {
  const std::string db = scratch_dir("frag_overhead_mlp") + "/run.db";
  RunResult run = run_traced(db, {sample_mlp(), "--steps", "3"}, sampling_every("2"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json j = frag_json({db});
  EXPECT_EQ(int64_t(j["overhead"].size()), query_int(db, "SELECT count(*) FROM samples"));
  ASSERT_FALSE(j["overhead_at_peak"].is_null());
  const double ratio = j["overhead_at_peak"]["heap_ratio"].get<double>();
  EXPECT_GE(ratio, 1.0);
  EXPECT_LE(ratio, 8.0);
}

// The engine's pooled arena: one 4 MiB chunk (its reserve, samples/README.md)
// holds every tensor; the pool's peak in use is the engine's own peak. The
// arena lives for the training steps only, under a millisecond each: 40 of
// them keep it alive across several 2 ms samples even when the machine is
// busy (with 3, a loaded machine sometimes sampled none while it lived).
TEST(Frag, PooledArenaReserveAndUseMatchTheEngine) {
  const std::string db = scratch_dir("frag_pool") + "/run.db";
  RunResult run = run_traced(db, {sample_mlp(), "--pool", "--steps", "40"}, sampling_every("2"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const uint64_t engine_peak = printed(run.out, "peak_live_bytes");
  const uint64_t chunk_bytes = 4u << 20;
  const json j = frag_json({db});
  ASSERT_EQ(j["pools"].size(), 1u);
  const json& pool = j["pools"][0];
  EXPECT_EQ(pool["name"], "engine.arena");
  EXPECT_EQ(pool["peak_in_use_bytes"].get<uint64_t>(), engine_peak);
  EXPECT_EQ(pool["peak_segment_bytes"].get<uint64_t>(), chunk_bytes);
  EXPECT_TRUE(pool["destroyed"].get<bool>());

  size_t with_pool = 0;
  for (const json& point : j["series"]) {
    for (const json& p : point["pools"]) {
      ++with_pool;
      EXPECT_EQ(p["backing"], "heap");
      EXPECT_EQ(p["segments"].get<uint64_t>(), 1u);
      EXPECT_EQ(p["reserved_bytes"].get<uint64_t>(), chunk_bytes);
      EXPECT_EQ(p["holes"]["span_bytes"].get<uint64_t>(), chunk_bytes);
      EXPECT_EQ(p["holes"]["used_bytes"], p["in_use_bytes"]);
      EXPECT_LE(p["in_use_bytes"].get<uint64_t>(), engine_peak);
      EXPECT_EQ(p["holes"]["used_bytes"].get<uint64_t>() + p["holes"]["free_bytes"].get<uint64_t>(),
                chunk_bytes);
      EXPECT_LE(p["releasable_bytes"].get<uint64_t>(), p["holes"]["free_bytes"].get<uint64_t>());
    }
  }
  EXPECT_GT(with_pool, 0u);
  // The arena gave its chunk back when it died.
  const json& end = j["states"][1];
  EXPECT_EQ(end["label"], "end");
  EXPECT_TRUE(end["pools"].empty()) << end["pools"].dump();
}

#endif  // MEMTIDE_HAVE_SAMPLES

TEST(Frag, UsageErrorsExitTwoWithAMessage) {
  const RegionTrace t = traced_region("usage", {});
  const std::vector<std::vector<std::string>> bad = {
      {"frag"},
      {"frag", t.db, "--bogus"},
      {"frag", t.db, "--at"},
      {"frag", t.db, "--at", "soon"},
      {"frag", t.db, "--at", "5", "--at-peak"},
      {"frag", t.db, "--at-mark", "no such marker"},
      {"frag", t.db, t.db},
      {"frag", t.db, "--points", "-1"},
      {"frag", t.db + ".missing"},
  };
  for (const auto& args : bad) {
    RunResult r = memtide(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << joined;
    EXPECT_NE(r.err.find("memtide frag: "), std::string::npos) << joined << ": " << r.err;
  }
  RunResult help = memtide({"frag", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: memtide frag"), std::string::npos);
  RunResult text = memtide({"frag", t.db});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("heap arena"), std::string::npos);
  // Every form of --json parses, with the states asked for.
  EXPECT_EQ(frag_json({t.db})["states"].size(), 2u);
  EXPECT_EQ(frag_json({t.db, "--at-peak", "--points", "3"})["series"].size(), 3u);
  EXPECT_EQ(frag_json({t.db, "--at", "0", "--top", "0"})["states"][0]["pinning"].size(), 0u);
}

}  // namespace
}  // namespace memtide::test
