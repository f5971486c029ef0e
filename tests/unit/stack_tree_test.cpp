// Call trees on a synthetic trace whose every number is worked out by hand:
// top-down and bottom-up, each measure, and the time-range, scope and
// leak-category restrictions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "memtide/analysis/stack_tree.h"
#include "memtide/analysis/temporaries.h"
#include "memtide_common/event.h"
#include "synthetic_trace.h"

namespace memtide::analysis {
namespace {

using test::SyntheticTrace;

// Stacks (innermost first):
//   3: fill (inlined into alloc_a), alloc_a, train, main
//   4: alloc_b, main
//   5: alloc_b, train, main        (the same call instruction as 4)
// Scopes: 1 model, 2 model/layer, 3 modelx (a name that only starts alike).
// Events, live heap bytes after each:
//   1 malloc 0x100 100 stack 3 scope 2       100
//   2 malloc 0x200 200 stack 4 scope 1       300
//   3 malloc 0x300 300 stack 5 scope 3       600
//   4 free 0x100                             500
//   5 malloc 0x400  40 stack 3               540
//   6 free 0x400          (a temporary)      500
//   7 malloc 0x500 1000 no stack            1500  the peak
//   8 free 0x500          (a temporary)      500
//   9 malloc 0x600  60 stack 5 scope 2       560
//  10 free 0x300                             260
// Live at the end: 0x200 (definitely lost) and 0x600 (not scanned).
std::string write_trace(SyntheticTrace& t) {
  t.sql(
      "INSERT INTO stack_nodes VALUES(1, 0, 4096), (2, 1, 8192), (3, 2, 12288), (4, 1, 16384), "
      "(5, 2, 16384);"
      "CREATE TABLE symbols(ip INTEGER NOT NULL, depth INTEGER NOT NULL, function TEXT, file "
      "TEXT, line INTEGER, module TEXT NOT NULL, module_offset INTEGER NOT NULL, inlined INTEGER "
      "NOT NULL, PRIMARY KEY(ip, depth)) WITHOUT ROWID;"
      "INSERT INTO meta VALUES('symbols_format', 1);"
      "INSERT INTO symbols VALUES(4096, 0, 'main', 'main.cc', 5, '/bin/synthetic', 4095, 0),"
      "(8192, 0, 'train', 'train.cc', 20, '/bin/synthetic', 8191, 0),"
      "(12288, 0, 'fill', 'fill.h', 7, '/bin/synthetic', 12287, 1),"
      "(12288, 1, 'alloc_a', 'a.cc', 3, '/bin/synthetic', 12287, 0),"
      "(16384, 0, 'alloc_b', 'b.cc', 10, '/lib/libb.so', 16383, 0);"
      "INSERT INTO strings VALUES(1, 'model'), (2, 'layer'), (3, 'modelx');"
      "INSERT INTO scopes VALUES(1, 0, 1, 1, 'annotate'), (2, 1, 2, 2, 'annotate'), "
      "(3, 0, 3, 1, 'annotate');");
  t.add(EventKind::kMalloc, 0x100, 100, 0, 3, 2);
  t.add(EventKind::kMalloc, 0x200, 200, 0, 4, 1);
  t.add(EventKind::kMalloc, 0x300, 300, 0, 5, 3);
  t.add(EventKind::kFree, 0x100, 0);
  t.add(EventKind::kMalloc, 0x400, 40, 0, 3);
  t.add(EventKind::kFree, 0x400, 0);
  t.add(EventKind::kMalloc, 0x500, 1000, 0, 0);
  t.add(EventKind::kFree, 0x500, 0);
  t.add(EventKind::kMalloc, 0x600, 60, 0, 5, 2);
  t.add(EventKind::kFree, 0x300, 0);
  t.classify(0x200, 200, 1);
  return t.write();
}

StackTrees trees(const std::string& path, StackMeasure measure,
                 void (*restrict)(StackTreeOptions&) = nullptr) {
  StackTreeOptions options;
  options.measure = measure;
  if (restrict) restrict(options);
  return build_stack_trees(TraceFile(path), options);
}

// "label (self/inclusive)" of a node and its children, depth first.
std::string outline(const CallTree& tree, uint32_t id) {
  const CallTreeNode& n = tree.nodes[id];
  std::string out = n.label + " " + std::to_string(n.self) + "/" + std::to_string(n.inclusive);
  if (n.children.empty()) return out;
  out += " [";
  for (size_t i = 0; i < n.children.size(); ++i)
    out += (i ? ", " : "") + outline(tree, n.children[i]);
  return out + "]";
}

std::string outline(const CallTree& tree) {
  std::string out;
  for (size_t i = 0; i < tree.roots.size(); ++i)
    out += (i ? "; " : "") + outline(tree, tree.roots[i]);
  return out;
}

TEST(StackTree, AllocatedBytesTopDownAndBottomUp) {
  SyntheticTrace t("stack_tree_allocated");
  const StackTrees r = trees(write_trace(t), StackMeasure::kAllocatedBytes);
  EXPECT_EQ(r.weights.total, 1700u);
  EXPECT_EQ(r.top_down.total, 1700u);
  EXPECT_EQ(outline(r.top_down),
            "[no stack] 1000/1000; main 0/700 [train 0/500 [alloc_b 360/360, alloc_a 0/140 "
            "[fill 140/140]], alloc_b 200/200]");
  EXPECT_EQ(outline(r.bottom_up),
            "[no stack] 1000/1000; alloc_b 0/560 [train 0/360 [main 360/360], main 200/200]; "
            "fill 0/140 [alloc_a 0/140 [train 0/140 [main 140/140]]]");
}

TEST(StackTree, NodesKeepFramesRowsAndDepths) {
  SyntheticTrace t("stack_tree_nodes");
  const StackTrees r = trees(write_trace(t), StackMeasure::kAllocatedBytes);
  const CallTree& tree = r.top_down;
  const CallTreeNode& main = tree.nodes[tree.roots[1]];
  EXPECT_EQ(main.row, 1u);
  EXPECT_EQ(main.depth, 0u);
  EXPECT_EQ(main.parent, CallTreeNode::kNoParent);
  EXPECT_EQ(main.blocks, 5u);  // 0x100, 0x200, 0x300, 0x400, 0x600
  const CallTreeNode& alloc_b = tree.nodes[main.children[1]];
  EXPECT_EQ(alloc_b.frame.file, "b.cc");
  EXPECT_EQ(alloc_b.frame.line, 10);
  EXPECT_EQ(alloc_b.frame.module, "/lib/libb.so");
  EXPECT_EQ(alloc_b.row, 1u);
  EXPECT_EQ(alloc_b.parent, tree.roots[1]);
  const CallTreeNode& train = tree.nodes[main.children[0]];
  const CallTreeNode& fill = tree.nodes[tree.nodes[train.children[1]].children[0]];
  EXPECT_TRUE(fill.frame.inlined);
  EXPECT_EQ(fill.depth, 3u);
  EXPECT_EQ(fill.frame.file, "fill.h");
}

TEST(StackTree, CountAndTemporaries) {
  SyntheticTrace t("stack_tree_count");
  const std::string path = write_trace(t);
  const StackTrees count = trees(path, StackMeasure::kAllocations);
  EXPECT_EQ(outline(count.top_down),
            "main 0/5 [train 0/4 [alloc_a 0/2 [fill 2/2], alloc_b 2/2], alloc_b 1/1]; "
            "[no stack] 1/1");
  const StackTrees temporaries = trees(path, StackMeasure::kTemporaries);
  EXPECT_EQ(outline(temporaries.top_down),
            "[no stack] 1/1; main 0/1 [train 0/1 [alloc_a 0/1 [fill 1/1]]]");
  // The same rule as `memtide top`, which follows the events instead.
  EXPECT_EQ(temporaries.weights.total, top_allocations(TraceFile(path), {}).temporaries);
}

TEST(StackTree, PeakOfTheRunAndOfATimeRange) {
  SyntheticTrace t("stack_tree_peak");
  const std::string path = write_trace(t);
  const StackTrees run = trees(path, StackMeasure::kPeakBytes);
  EXPECT_EQ(run.weights.peak_seq, 7u);
  EXPECT_EQ(run.weights.peak_time_ns, 7000u);
  EXPECT_EQ(outline(run.top_down),
            "[no stack] 1000/1000; main 0/500 [train 0/300 [alloc_b 300/300], alloc_b 200/200]");

  // Events 9 and 10: the range's peak is after event 9, with 0x200 and 0x300
  // allocated before the range.
  const StackTrees late = trees(path, StackMeasure::kPeakBytes, [](StackTreeOptions& o) {
    o.has_time_range = true;
    o.start_ns = 8500;
    o.end_ns = 10500;
  });
  EXPECT_EQ(late.weights.peak_seq, 9u);
  EXPECT_EQ(outline(late.top_down), "main 0/560 [train 0/360 [alloc_b 360/360], alloc_b 200/200]");

  // Events 4 to 6 only lower the live bytes: the peak is when the range began.
  const StackTrees falling = trees(path, StackMeasure::kPeakBytes, [](StackTreeOptions& o) {
    o.has_time_range = true;
    o.start_ns = 3500;
    o.end_ns = 6500;
  });
  EXPECT_EQ(falling.weights.peak_seq, 3u);
  EXPECT_EQ(falling.weights.total, 600u);

  const StackTrees empty = trees(path, StackMeasure::kPeakBytes, [](StackTreeOptions& o) {
    o.has_time_range = true;
    o.start_ns = 20000;
    o.end_ns = 30000;
  });
  EXPECT_EQ(empty.weights.total, 0u);
  EXPECT_TRUE(empty.top_down.roots.empty());
}

TEST(StackTree, TimeRangeKeepsTheBlocksAllocatedInIt) {
  SyntheticTrace t("stack_tree_range");
  const StackTrees r =
      trees(write_trace(t), StackMeasure::kAllocatedBytes, [](StackTreeOptions& o) {
        o.has_time_range = true;
        o.start_ns = 2000;  // events 2 to 5
        o.end_ns = 6000;
      });
  EXPECT_EQ(r.weights.total, 540u);
  EXPECT_EQ(outline(r.top_down),
            "main 0/540 [train 0/340 [alloc_b 300/300, alloc_a 0/40 [fill 40/40]], alloc_b "
            "200/200]");
}

TEST(StackTree, ScopeKeepsItsBlocksAndThoseOfScopesUnderIt) {
  SyntheticTrace t("stack_tree_scope");
  const std::string path = write_trace(t);
  const StackTrees model =
      trees(path, StackMeasure::kAllocatedBytes, [](StackTreeOptions& o) { o.scope = "model"; });
  EXPECT_EQ(model.weights.total, 360u);  // 0x100, 0x200, 0x600; not modelx's 0x300
  const StackTrees layer = trees(path, StackMeasure::kAllocatedBytes,
                                 [](StackTreeOptions& o) { o.scope = "model/layer"; });
  EXPECT_EQ(outline(layer.top_down),
            "main 0/160 [train 0/160 [alloc_a 0/100 [fill 100/100], alloc_b 60/60]]");
  const StackTrees peak =
      trees(path, StackMeasure::kPeakBytes, [](StackTreeOptions& o) { o.scope = "model"; });
  EXPECT_EQ(peak.weights.peak_seq, 7u);  // the run's peak, the scope's share of it
  EXPECT_EQ(outline(peak.top_down), "main 0/200 [alloc_b 200/200]");
}

TEST(StackTree, LeaksByCategory) {
  SyntheticTrace t("stack_tree_leaks");
  const std::string path = write_trace(t);
  const StackTrees all = trees(path, StackMeasure::kLeakedBytes);
  EXPECT_TRUE(all.weights.leak_scan_done);
  EXPECT_EQ(outline(all.top_down), "main 0/260 [alloc_b 200/200, train 0/60 [alloc_b 60/60]]");
  const StackTrees definite = trees(path, StackMeasure::kLeakedBytes,
                                    [](StackTreeOptions& o) { o.leak_category = "definite"; });
  EXPECT_EQ(outline(definite.top_down), "main 0/200 [alloc_b 200/200]");
  const StackTrees unscanned = trees(path, StackMeasure::kLeakedBytes,
                                     [](StackTreeOptions& o) { o.leak_category = "not-freed"; });
  EXPECT_EQ(outline(unscanned.top_down), "main 0/60 [train 0/60 [alloc_b 60/60]]");
  const StackTrees scoped = trees(path, StackMeasure::kLeakedBytes, [](StackTreeOptions& o) {
    o.leak_category = "definite";
    o.scope = "model/layer";
  });
  EXPECT_EQ(scoped.weights.total, 0u);
  EXPECT_THROW(trees(path, StackMeasure::kLeakedBytes,
                     [](StackTreeOptions& o) { o.leak_category = "lost"; }),
               TraceError);
}

TEST(StackTree, BuildsFromGivenFrames) {
  // Two call sites of one function at different lines merge into one node
  // that keeps the file and drops the line.
  const std::vector<ReportFrame> a = {{"leaf", "l.cc", 1, "m", 1, false},
                                      {"caller", "c.cc", 10, "m", 2, false}};
  const std::vector<ReportFrame> b = {{"leaf", "l.cc", 1, "m", 1, false},
                                      {"caller", "c.cc", 12, "m", 3, false}};
  const std::vector<ReportFrame> none;
  const StackFramesOf frames = [&](uint32_t stack) -> const std::vector<ReportFrame>& {
    return stack == 1 ? a : stack == 2 ? b : none;
  };
  const CallTree tree = build_call_tree({{1, 5, 1}, {2, 7, 2}}, frames, TreeDirection::kTopDown);
  EXPECT_EQ(outline(tree), "caller 0/12 [leaf 12/12]");
  EXPECT_EQ(tree.nodes[tree.roots[0]].frame.file, "c.cc");
  EXPECT_EQ(tree.nodes[tree.roots[0]].frame.line, 0);
  EXPECT_EQ(tree.nodes[tree.roots[0]].blocks, 3u);
}

TEST(StackTree, MeasureNames) {
  for (StackMeasure m :
       {StackMeasure::kPeakBytes, StackMeasure::kAllocatedBytes, StackMeasure::kAllocations,
        StackMeasure::kLeakedBytes, StackMeasure::kTemporaries}) {
    StackMeasure parsed = StackMeasure::kPeakBytes;
    EXPECT_TRUE(parse_stack_measure(stack_measure_name(m), parsed));
    EXPECT_EQ(parsed, m);
  }
  StackMeasure unused;
  EXPECT_FALSE(parse_stack_measure("bytes", unused));
  EXPECT_FALSE(is_byte_measure(StackMeasure::kTemporaries));
  EXPECT_TRUE(is_byte_measure(StackMeasure::kPeakBytes));
}

}  // namespace
}  // namespace memtide::analysis
