// Writing a suppression rule for one group of a report (memtide-gui's
// "suppress this"): the group's category in the rule syntax, and the frame
// that names the group best — the innermost frame that is the program's own,
// not memtide's agent and not the allocator entry point it intercepted.
// The rule's pattern is that frame's function, its glob characters escaped,
// so it matches the group (Suppressions::matches) and is read back by
// Suppressions::parse.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "memtide/analysis/report_data.h"

namespace memtide::analysis {

// The suppression category of a leak group's category ("not freed" and
// "not-freed" both give "not-freed"), of an error kind ("unknown free" gives
// "unknown-free") or "growth"; empty when it is none of them.
std::string suppression_category(const std::string& report_category);

// `pattern` with fnmatch's special characters (* ? [ and \) escaped.
std::string glob_literal(const std::string& pattern);

// The index in `frames` (innermost first) of the frame a rule should name;
// none when no frame is the program's.
std::optional<size_t> identifying_frame(const std::vector<ReportFrame>& frames);

// "CATEGORY:function:PATTERN" (or CATEGORY:module:PATTERN when the frame has
// no function name); none when the category is unknown or no frame fits.
std::optional<std::string> suppression_rule_for(const std::string& report_category,
                                                const std::vector<ReportFrame>& frames);

}  // namespace memtide::analysis
