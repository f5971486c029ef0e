// The HTML face of `memtide report`: one self-contained file (inline CSS,
// inline SVG, a few lines of inline JavaScript for sorting) that needs no
// network and shows everything with JavaScript disabled.
//
// Every string that came from a trace (symbols, paths, scopes, command lines,
// gate details) is treated as hostile and HTML-escaped, in SVG too; a
// Content-Security-Policy in the page admits only the report's own script and
// no outside resource, as a second line of defence.
//
//   ReportData data = ...;            // filled by the report command
//   std::ofstream("report.html") << render_html_report(data);
#pragma once

#include <cstddef>
#include <string>

#include "memtide/analysis/report_data.h"

namespace memtide::analysis {

// What keeps a report of a huge run small enough to open: the renderer shows
// at most this much and says how much it left out.
struct HtmlReportLimits {
  size_t max_table_rows = 200;        // leak, error and growth groups, per process
  size_t max_stack_frames = 64;       // frames shown per stack
  size_t max_timeline_points = 2000;  // per chart line, per process (min/max downsampling)
  size_t max_step_markers = 100;      // step lines drawn per chart (every k-th step beyond)
};

std::string render_html_report(const ReportData& data, const HtmlReportLimits& limits = {});

}  // namespace memtide::analysis
