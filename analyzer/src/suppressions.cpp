#include "memtide/analysis/suppressions.h"

#include <fnmatch.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace memtide::analysis {

namespace {

const char* const kCategories[] = {"*",         "definite", "indirect",     "possible", "reachable",
                                   "not-freed", "mismatch", "unknown-free", "growth",   "gpu"};

bool known_category(const std::string& c) {
  for (const char* k : kCategories)
    if (c == k) return true;
  return false;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

const std::string& field_of(const ReportFrame& f, const std::string& field) {
  if (field == "function") return f.function;
  if (field == "module") return f.module;
  return f.file;
}

}  // namespace

Suppressions Suppressions::parse(const std::string& text, const std::string& origin) {
  Suppressions s;
  std::istringstream in(text);
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    auto fail = [&](const std::string& why) {
      throw std::runtime_error(origin + ":" + std::to_string(number) + ": " + why + " in '" + line +
                               "' (expected CATEGORY:FIELD:PATTERN)");
    };
    if (b == std::string::npos) fail("missing ':'");
    SuppressionRule rule{trim(line.substr(0, a)), trim(line.substr(a + 1, b - a - 1)),
                         trim(line.substr(b + 1)), number};
    if (!known_category(rule.category)) fail("unknown category '" + rule.category + "'");
    if (rule.field != "function" && rule.field != "module" && rule.field != "source")
      fail("unknown field '" + rule.field + "' (function, module or source)");
    if (rule.pattern.empty()) fail("empty pattern");
    s.rules_.push_back(rule);
  }
  return s;
}

Suppressions Suppressions::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the suppressions file");
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

bool Suppressions::matches(const std::string& category,
                           const std::vector<ReportFrame>& frames) const {
  for (const SuppressionRule& rule : rules_) {
    if (rule.category != "*" && rule.category != category) continue;
    for (const ReportFrame& frame : frames)
      if (fnmatch(rule.pattern.c_str(), field_of(frame, rule.field).c_str(), 0) == 0) return true;
  }
  return false;
}

}  // namespace memtide::analysis
