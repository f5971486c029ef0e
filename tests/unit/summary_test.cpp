// describe_trace (no pass over the events) against summarize (one pass):
// the same run, span and counts from the tables alone.
#include <gtest/gtest.h>

#include "memtide/analysis/summary.h"
#include "synthetic_trace.h"

namespace memtide::analysis {
namespace {

TEST(DescribeTrace, TablesAloneGiveTheSpanAndCountsOfSummarize) {
  test::SyntheticTrace synthetic("describe_trace");
  synthetic.add(EventKind::kMalloc, 0x1000, 64);
  synthetic.add(EventKind::kStep, 0, 0, 1);
  synthetic.add(EventKind::kMalloc, 0x2000, 128);
  synthetic.add(EventKind::kFree, 0x1000, 0);
  TraceFile trace(synthetic.write());

  const TraceSummary quick = describe_trace(trace);
  const TraceSummary full = summarize(trace);
  EXPECT_EQ(quick.events, 4u);
  EXPECT_EQ(quick.first_time_ns, 1000u);  // the synthetic clock: 1000 ns per event
  EXPECT_EQ(quick.last_time_ns, 4000u);
  EXPECT_EQ(quick.events, full.events);
  EXPECT_EQ(quick.first_time_ns, full.first_time_ns);
  EXPECT_EQ(quick.last_time_ns, full.last_time_ns);
  EXPECT_EQ(quick.threads, 1u);
  ASSERT_EQ(quick.processes.size(), 1u);
  EXPECT_EQ(quick.processes[0].pid, 42);
  // What only a pass can tell stays empty.
  EXPECT_EQ(quick.steps, 0u);
  EXPECT_TRUE(quick.by_kind.empty());
  EXPECT_EQ(full.steps, 1u);
  EXPECT_EQ(full.unfreed_bytes, 128u);
  EXPECT_EQ(quick.unfreed_bytes, 0u);
}

TEST(Summarize, PeakLiveBlocksIsTheMostBlocksLiveAtOnce) {
  test::SyntheticTrace synthetic("peak_live_blocks");
  synthetic.add(EventKind::kMalloc, 0x1000, 64);
  synthetic.add(EventKind::kMalloc, 0x2000, 8);
  synthetic.add(EventKind::kMalloc, 0x3000, 8);  // three live
  synthetic.add(EventKind::kFree, 0x2000, 0);
  synthetic.add(EventKind::kFree, 0x3000, 0);
  synthetic.add(EventKind::kMalloc, 0x4000, 512);  // two live, but the most bytes
  synthetic.add(EventKind::kFree, 0x9000, 0);      // unknown: changes nothing
  TraceFile trace(synthetic.write());

  const TraceSummary s = summarize(trace);
  EXPECT_EQ(s.peak_live_blocks, 3u);
  EXPECT_EQ(s.peak_heap_bytes, 576u);
  EXPECT_EQ(s.unfreed_blocks, 2u);
  EXPECT_EQ(s.frees_of_unknown_pointers, 1u);
  EXPECT_NE(format_summary_text(s).find("at most 3 blocks live at once"), std::string::npos);
  EXPECT_NE(format_summary_json(s).find("\"peak_live_blocks\": 3"), std::string::npos)
      << format_summary_json(s);
}

}  // namespace
}  // namespace memtide::analysis
