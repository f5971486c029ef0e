// The summary page's model: every number it shows equals the CLI's JSON for
// the same trace, and the model passes QAbstractItemModelTester.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <map>

#include "gui_test_support.h"
#include "models/summary_model.h"

namespace memtide::gui {
namespace {

using test::cliJson;
using test::fixture;

qulonglong raw(const SummaryModel& model, const QString& key) {
  const QModelIndex index = model.findKey(key);
  EXPECT_TRUE(index.isValid()) << "no summary item " << key.toStdString();
  return model.data(index, SummaryModel::kRawValueRole).toULongLong();
}

TEST(SummaryModel, PassesTheModelTester) {
  SummaryModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  model.setOverview(test::overview("train.db"));
  EXPECT_GE(model.rowCount(), 5);
  model.setOverview(nullptr);
  EXPECT_EQ(model.rowCount(), 0);
  model.setOverview(test::overview("checkpoint.db"));
}

TEST(SummaryModel, NumbersEqualTheCliJson) {
  SummaryModel model;
  model.setOverview(test::overview("train.db"));
  const std::string trace = fixture("train.db");

  const nlohmann::json info = cliJson({"info", "--json", trace});
  EXPECT_EQ(raw(model, "run.events"), info["events"].get<uint64_t>());
  EXPECT_EQ(raw(model, "run.steps"), info["steps"].get<uint64_t>());
  EXPECT_EQ(raw(model, "run.steps"), 12u);
  EXPECT_EQ(raw(model, "run.threads"), info["threads"].get<uint64_t>());

  const nlohmann::json peak = cliJson({"peak", "--json", trace});
  EXPECT_EQ(raw(model, "peak.host"), peak["host"]["moment"]["bytes"].get<uint64_t>());
  EXPECT_GT(raw(model, "peak.host"), 0u);

  // Leaks by category, summed from the report's groups.
  const nlohmann::json report = cliJson({"report", trace, "--json", "/dev/stdout"});
  std::map<std::string, uint64_t> bytes;
  for (const auto& group : report["processes"][0]["leaks"])
    if (!group["suppressed"].get<bool>())
      bytes[group["category"].get<std::string>()] += group["bytes"].get<uint64_t>();
  ASSERT_TRUE(bytes.count("definite")) << "the fixture plants a definite leak";
  for (const auto& [category, total] : bytes)
    EXPECT_EQ(raw(model, QString::fromStdString("leaks." + category + ".bytes")), total)
        << category;

  // The gate the GUI applies by default is the CLI's --fail-on definite.
  const nlohmann::json gated =
      cliJson({"report", trace, "--json", "/dev/stdout", "--fail-on", "definite"});
  ASSERT_EQ(gated["gates"].size(), 1u);
  const QModelIndex gate = model.findKey("gate.definite");
  ASSERT_TRUE(gate.isValid());
  EXPECT_EQ(model.data(gate, SummaryModel::kRawValueRole).toBool(),
            gated["gates"][0]["passed"].get<bool>());
  EXPECT_FALSE(gated["gates"][0]["passed"].get<bool>());

  // Top layers: the largest depth-1 scopes by subtree peak, as `memtide layers`.
  const nlohmann::json layers = cliJson({"layers", "--json", trace});
  uint64_t best = 0;
  std::string best_path;
  for (const auto& scope : layers["scopes"])
    if (scope["depth"].get<int>() == 1 &&
        scope["subtree"]["peak_live_bytes"].get<uint64_t>() > best) {
      best = scope["subtree"]["peak_live_bytes"].get<uint64_t>();
      best_path = scope["path"].get<std::string>();
    }
  ASSERT_FALSE(best_path.empty());
  EXPECT_EQ(raw(model, QString::fromStdString("layer." + best_path)), best);
}

// A run killed with SIGKILL: the summary says it ended without a final
// flush, the exit scan did not run, and what was live is "not freed", with
// the same bytes as the CLI's report of the same trace.
TEST(SummaryModel, AKilledRunSaysSoAndKeepsWhatWasRecorded) {
  SummaryModel model;
  model.setOverview(test::overview("killed.db"));
  const QModelIndex end = model.findKey("run.end");
  ASSERT_TRUE(end.isValid());
  EXPECT_TRUE(model.data(end.siblingAtColumn(SummaryModel::kValue))
                  .toString()
                  .startsWith("without a final flush"));
  EXPECT_TRUE(model.findKey("leaks.scan").isValid());
  const nlohmann::json info = cliJson({"info", "--json", fixture("killed.db")});
  EXPECT_FALSE(info["ended_cleanly"].get<bool>());
  EXPECT_EQ(raw(model, "run.events"), info["events"].get<uint64_t>());
  EXPECT_GT(raw(model, "run.steps"), 0u);
  const nlohmann::json report = cliJson({"report", fixture("killed.db"), "--json", "/dev/stdout"});
  uint64_t not_freed = 0;
  for (const auto& group : report["processes"][0]["leaks"]) {
    EXPECT_EQ(group["category"], "not-freed");
    not_freed += group["bytes"].get<uint64_t>();
  }
  EXPECT_GT(not_freed, 0u);
  EXPECT_EQ(raw(model, "leaks.not-freed.bytes"), not_freed);
}

TEST(SummaryModel, EveryLinkNamesAPage) {
  SummaryModel model;
  model.setOverview(test::overview("train.db"));
  for (const auto& section : model.sections())
    for (const auto& item : section.items)
      if (item.link.isValid()) {
        EXPECT_EQ(item.link.scheme(), QStringLiteral("memtide")) << item.key.toStdString();
        EXPECT_FALSE(item.link.host().isEmpty()) << item.key.toStdString();
      }
}

}  // namespace
}  // namespace memtide::gui
