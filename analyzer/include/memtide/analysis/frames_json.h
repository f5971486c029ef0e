// The JSON form of a stack, the same in every command's --json output.
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "memtide/analysis/report_data.h"

namespace memtide::analysis {

inline nlohmann::ordered_json frames_json(const std::vector<ReportFrame>& frames) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const ReportFrame& f : frames)
    out.push_back({{"function", f.function},
                   {"file", f.file},
                   {"line", f.line},
                   {"module", f.module},
                   {"module_offset", f.module_offset},
                   {"inlined", f.inlined}});
  return out;
}

}  // namespace memtide::analysis
