// Suppression rules, like LeakSanitizer's and Valgrind's: known leaks and
// errors a team has decided to live with, reported as "suppressed" counts
// instead of failing a build.
//
// One rule per line; blank lines and lines starting with '#' are ignored:
//   CATEGORY:FIELD:PATTERN
// CATEGORY  definite, indirect, possible, reachable, not-freed, mismatch,
//           unknown-free, growth, gpu, or * for any
// FIELD     function, module or source (the file of a frame)
// PATTERN   a shell glob (fnmatch) matched against that field of any frame of
//           the stack, e.g. "definite:function:*ImportModule*"
#pragma once

#include <string>
#include <vector>

#include "memtide/analysis/report_data.h"

namespace memtide::analysis {

struct SuppressionRule {
  std::string category;  // "*" for any
  std::string field;     // "function", "module" or "source"
  std::string pattern;
  int line = 0;
};

class Suppressions {
 public:
  // Throws std::runtime_error naming the file and line of a malformed rule.
  static Suppressions parse(const std::string& text, const std::string& origin);
  static Suppressions load(const std::string& path);

  // True when a rule for `category` matches a frame of `frames`.
  bool matches(const std::string& category, const std::vector<ReportFrame>& frames) const;
  bool empty() const { return rules_.empty(); }
  const std::vector<SuppressionRule>& rules() const { return rules_; }

 private:
  std::vector<SuppressionRule> rules_;
};

}  // namespace memtide::analysis
