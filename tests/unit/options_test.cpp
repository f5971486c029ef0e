#include <gtest/gtest.h>

#include <map>

#include "memtide_common/options.h"

namespace memtide {
namespace {

Options parse(const std::map<std::string, std::string>& env, std::vector<std::string>& errors) {
  return parse_options(
      [&](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      errors);
}

TEST(Options, DefaultsWhenUnset) {
  std::vector<std::string> errors;
  Options o = parse({}, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(o.output, "memtide.db");
  EXPECT_EQ(o.stack_depth, 64u);
  EXPECT_EQ(o.sample_ms, 10u);
  EXPECT_EQ(o.commit_ms, 100u);
  EXPECT_TRUE(o.follow);
  EXPECT_FALSE(o.free_stacks);
}

TEST(Options, ParsesEveryType) {
  std::vector<std::string> errors;
  Options o = parse({{"MEMTIDE_OUTPUT", "/tmp/x.db"},
                     {"MEMTIDE_STACK_DEPTH", "12"},
                     {"MEMTIDE_FOLLOW", "off"},
                     {"MEMTIDE_FREE_STACKS", "YES"},
                     {"MEMTIDE_RING_EVENTS", "4096"},
                     {"MEMTIDE_RING_MAX_EVENTS", "131072"}},
                    errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(o.ring_max_events, 131072u);
  EXPECT_EQ(o.output, "/tmp/x.db");
  EXPECT_EQ(o.stack_depth, 12u);
  EXPECT_FALSE(o.follow);
  EXPECT_TRUE(o.free_stacks);
  EXPECT_EQ(o.ring_events, 4096u);
}

TEST(Options, InvalidValuesKeepDefaultsAndSayWhy) {
  std::vector<std::string> errors;
  Options o = parse({{"MEMTIDE_STACK_DEPTH", "deep"},
                     {"MEMTIDE_RING_EVENTS", "5000"},
                     {"MEMTIDE_FOLLOW", "maybe"},
                     {"MEMTIDE_COMMIT_MS", "5"},
                     {"MEMTIDE_OUTPUT", ""},
                     {"MEMTIDE_RING_MAX_EVENTS", "2097152"}},
                    errors);
  EXPECT_EQ(o.stack_depth, 64u);
  EXPECT_EQ(o.ring_events, 16384u);
  EXPECT_EQ(o.ring_max_events, 65536u);
  EXPECT_TRUE(o.follow);
  EXPECT_EQ(o.commit_ms, 100u);
  EXPECT_EQ(o.output, "memtide.db");
  ASSERT_EQ(errors.size(), 6u);
  std::string all;
  for (auto& e : errors) all += e + "\n";
  EXPECT_NE(all.find("MEMTIDE_STACK_DEPTH='deep': expected a whole number"), std::string::npos);
  EXPECT_NE(all.find("MEMTIDE_RING_EVENTS='5000': expected a power of two"), std::string::npos);
  EXPECT_NE(all.find("MEMTIDE_RING_MAX_EVENTS='2097152': expected a power of two"),
            std::string::npos);
  EXPECT_NE(all.find("MEMTIDE_FOLLOW='maybe'"), std::string::npos);
  EXPECT_NE(all.find("MEMTIDE_COMMIT_MS='5': expected between 10 and 10000"), std::string::npos);
  EXPECT_NE(all.find("MEMTIDE_OUTPUT='': must not be empty"), std::string::npos);
}

TEST(Options, UnwinderIsOneOfTwoWords) {
  std::vector<std::string> errors;
  EXPECT_EQ(parse({}, errors).unwinder, "memtide");
  EXPECT_EQ(parse({{"MEMTIDE_UNWINDER", "libunwind"}}, errors).unwinder, "libunwind");
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(parse({{"MEMTIDE_UNWINDER", "frame-pointers"}}, errors).unwinder, "memtide");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("MEMTIDE_UNWINDER='frame-pointers': expected one of memtide, libunwind"),
            std::string::npos)
      << errors[0];
}

TEST(Options, CheckValueNamesUnknownOptions) {
  EXPECT_EQ(check_option_value("MEMTIDE_SAMPLE_MS", "20"), "");
  EXPECT_EQ(check_option_value("MEMTIDE_NOPE", "1"), "MEMTIDE_NOPE: not a memtide option");
  EXPECT_FALSE(option_list().empty());
  EXPECT_STREQ(option_list().front().env_name, "MEMTIDE_OUTPUT");
}

}  // namespace
}  // namespace memtide
