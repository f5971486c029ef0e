// "Suppress this": the rule written for a report group names the group's
// category and its innermost frame of the program's own, reads back through
// Suppressions::parse, and matches the group.
#include <gtest/gtest.h>

#include "memtide/analysis/suppression_rule.h"
#include "memtide/analysis/suppressions.h"

namespace memtide::analysis {
namespace {

ReportFrame frame(const std::string& function, const std::string& module) {
  ReportFrame f;
  f.function = function;
  f.module = module;
  return f;
}

TEST(SuppressionRule, NamesTheInnermostFrameOfTheProgram) {
  const std::vector<ReportFrame> frames = {
      frame("memtide::agent::hot::capture_stack(int)", "/opt/memtide/lib/libmemtide.so"),
      frame("operator new(unsigned long)", "/opt/memtide/lib/libmemtide.so"),
      frame("samples::plant_workspace_leak(unsigned long)", "/bin/train"),
      frame("main", "/bin/train")};
  EXPECT_EQ(identifying_frame(frames), 2u);
  const auto rule = suppression_rule_for("definite", frames);
  ASSERT_TRUE(rule);
  EXPECT_EQ(*rule, "definite:function:samples::plant_workspace_leak(unsigned long)");
  const Suppressions parsed = Suppressions::parse(*rule, "rule");
  ASSERT_EQ(parsed.rules().size(), 1u);
  EXPECT_EQ(parsed.rules()[0].category, "definite");
  EXPECT_EQ(parsed.rules()[0].field, "function");
  EXPECT_TRUE(parsed.matches("definite", frames));
  EXPECT_FALSE(parsed.matches("reachable", frames));
  EXPECT_FALSE(parsed.matches("definite", {frames[3]}));
}

TEST(SuppressionRule, GlobCharactersInTheNameMatchThemselvesOnly) {
  const std::vector<ReportFrame> frames = {frame("make<char*>[abi:cxx11](int?)", "/bin/a")};
  const auto rule = suppression_rule_for("not freed", frames);
  ASSERT_TRUE(rule);
  EXPECT_EQ(*rule, "not-freed:function:make<char\\*>\\[abi:cxx11](int\\?)");
  const Suppressions parsed = Suppressions::parse(*rule, "rule");
  EXPECT_TRUE(parsed.matches("not-freed", frames));
  EXPECT_FALSE(parsed.matches("not-freed", {frame("make<charX>[abi:cxx11](int?)", "/bin/a")}));
  EXPECT_FALSE(parsed.matches("not-freed", {frame("make<char*>a(int?)", "/bin/a")}));
}

TEST(SuppressionRule, CategoriesOfErrorsAndGrowthAndFramesWithoutNames) {
  EXPECT_EQ(suppression_category("unknown free"), "unknown-free");
  EXPECT_EQ(suppression_category("mismatch"), "mismatch");
  EXPECT_EQ(suppression_category("growth"), "growth");
  EXPECT_EQ(suppression_category("gpu"), "gpu");
  EXPECT_EQ(suppression_category("leak"), "");
  // No function name: the module names it.
  const std::vector<ReportFrame> unnamed = {frame("", "/usr/lib/libfoo.so")};
  EXPECT_EQ(suppression_rule_for("possible", unnamed), "possible:module:/usr/lib/libfoo.so");
  // Only the agent and the allocator: nothing to name.
  EXPECT_FALSE(suppression_rule_for("definite", {frame("malloc", "/lib/libmemtide.so.1")}));
  EXPECT_FALSE(suppression_rule_for("definite", {}));
  EXPECT_FALSE(suppression_rule_for("bogus", {frame("f", "/bin/a")}));
}

}  // namespace
}  // namespace memtide::analysis
