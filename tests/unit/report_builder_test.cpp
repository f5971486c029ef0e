// The report's aggregations on a synthetic trace: hand-made events, written
// as the agent writes them, with exactly known groups, errors and growth.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "memtide/analysis/report_builder.h"
#include "memtide_common/event.h"
#include "memtide_common/gpu_event.h"
#include "synthetic_trace.h"

namespace memtide::analysis {
namespace {

using test::SyntheticTrace;

// One run with a definite leak, a new[] freed by free, a free of an unknown
// pointer, a site that keeps a 50-byte block from each of steps 1..4, and a
// GPU block never freed.
std::string known_run(SyntheticTrace& t) {
  t.add(EventKind::kStep, 0, 0, 0);
  t.add(EventKind::kMalloc, 0x1000, 100);
  t.add(EventKind::kNewArray, 0x2000, 64);
  t.add(EventKind::kFree, 0x2000, 0);
  t.add(EventKind::kFree, 0x9999, 0);
  for (uint64_t step = 1; step <= 4; ++step) {
    t.add(EventKind::kStep, 0, 0, step);
    t.add(EventKind::kMalloc, 0x3000 + 0x100 * step, 50);
  }
  GpuAux aux;
  aux.device = 1;
  aux.api = GpuApi::kMemAlloc;
  t.add(EventKind::kCudaDevice, 0xd0000000, 4096, pack_gpu_aux(aux));
  t.classify(0x1000, 100, 1);
  for (uint64_t step = 1; step <= 4; ++step) t.classify(0x3000 + 0x100 * step, 50, 4);
  return t.write();
}

TEST(ReportBuilder, GroupsErrorsGrowthAndPeakOfAKnownRun) {
  SyntheticTrace t("known");
  const ReportData data = build_report({known_run(t)}, {});
  ASSERT_EQ(data.processes.size(), 1u);
  const ProcessReport& p = data.processes[0];
  EXPECT_EQ(p.pid, 42);
  EXPECT_TRUE(p.leak_scan_done);
  EXPECT_EQ(p.allocations, 7u);
  EXPECT_EQ(p.frees, 1u);
  EXPECT_EQ(p.peak_bytes, 300u);  // 100 + 4 x 50 after the 64-byte block went
  EXPECT_EQ(p.step_times_ns.size(), 5u);

  ASSERT_EQ(p.leaks.size(), 3u);
  EXPECT_EQ(p.leaks[0].category, "definite");
  EXPECT_EQ(p.leaks[0].bytes, 100u);
  EXPECT_EQ(p.leaks[0].blocks, 1u);
  EXPECT_EQ(p.leaks[1].category, "reachable");
  EXPECT_EQ(p.leaks[1].bytes, 200u);
  EXPECT_EQ(p.leaks[1].blocks, 4u);
  EXPECT_EQ(p.leaks[2].category, "gpu");
  EXPECT_EQ(p.leaks[2].device, "cuda:1");
  EXPECT_EQ(p.leaks[2].bytes, 4096u);
  EXPECT_EQ(leaked_bytes(p), 100u);

  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0].kind, "mismatch");
  EXPECT_EQ(p.errors[0].detail, "new[] freed by free");
  EXPECT_EQ(p.errors[0].count, 1u);
  EXPECT_EQ(p.errors[1].kind, "unknown free");
  EXPECT_EQ(p.errors[1].count, 1u);

  ASSERT_EQ(p.growth.size(), 1u);
  EXPECT_EQ(p.growth[0].steps, 4u);
  EXPECT_EQ(p.growth[0].live_bytes, 200u);
  EXPECT_EQ(p.growth[0].bytes_per_step, 50u);
}

TEST(ReportBuilder, GatesPassAndFailOnTheirThresholds) {
  SyntheticTrace t("gates");
  const std::string path = known_run(t);
  ReportOptions o;
  o.fail_on = {"definite", "indirect", "mismatch", "unknown-free", "growth", "gpu"};
  o.max_leaked_bytes = 99;
  o.max_peak_bytes = 300;
  const ReportData data = build_report({path}, o);
  EXPECT_FALSE(data.gates_passed);
  std::map<std::string, bool> passed;
  for (const GateVerdict& v : data.gates) passed[v.name] = v.passed;
  EXPECT_EQ(passed, (std::map<std::string, bool>{{"definite", false},
                                                 {"indirect", true},
                                                 {"mismatch", false},
                                                 {"unknown-free", false},
                                                 {"growth", false},
                                                 {"gpu", false},
                                                 {"max-leaked-bytes", false},
                                                 {"max-peak", true}}));
  o.fail_on = {"indirect", "possible"};
  o.max_leaked_bytes = 100;
  EXPECT_TRUE(build_report({path}, o).gates_passed);
}

TEST(ReportBuilder, WithoutTheScanLiveBlocksAreNotFreed) {
  SyntheticTrace t("noscan");
  t.add(EventKind::kMalloc, 0x1000, 10);
  t.add(EventKind::kNew, 0x2000, 20);
  const ReportData data = build_report({t.write()}, {});
  const ProcessReport& p = data.processes[0];
  EXPECT_FALSE(p.leak_scan_done);
  ASSERT_EQ(p.leaks.size(), 1u);
  EXPECT_EQ(p.leaks[0].category, "not-freed");
  EXPECT_EQ(p.leaks[0].bytes, 30u);
  EXPECT_EQ(leaked_bytes(p), 30u);
}

TEST(Suppressions, RulesMatchByCategoryFieldAndGlob) {
  const Suppressions s = Suppressions::parse(
      "# comment\n\ndefinite:function:*ImportModule*\n*:module:*libcudnn*\n", "rules");
  ASSERT_EQ(s.rules().size(), 2u);
  ReportFrame f;
  f.function = "PyImport_ImportModuleLevel";
  f.module = "/usr/lib/libpython3.so";
  EXPECT_TRUE(s.matches("definite", {f}));
  EXPECT_FALSE(s.matches("indirect", {f}));
  f.module = "/opt/lib/libcudnn_ops.so.9";
  EXPECT_TRUE(s.matches("growth", {ReportFrame{}, f}));
  EXPECT_THROW(Suppressions::parse("definite:function\n", "rules"), std::runtime_error);
  try {
    Suppressions::parse("ok:function:x\n", "rules");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "rules:1: unknown category 'ok' in 'ok:function:x' "
                 "(expected CATEGORY:FIELD:PATTERN)");
  }
}

}  // namespace
}  // namespace memtide::analysis
