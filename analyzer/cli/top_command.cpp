// `memtide top`: allocation stacks and scopes by bytes, count or temporaries.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "arguments.h"
#include "commands.h"
#include "memtide/analysis/frames_json.h"
#include "memtide/analysis/temporaries.h"

namespace memtide::cli {

namespace {
constexpr const char* kUsage =
    "usage: memtide top FILE [--by bytes|count|temporaries] [--limit N] [--json]\n"
    "                        [--search-path DIR]... [--sysroot DIR]\n"
    "  Allocation stacks and scopes ranked by bytes allocated, by allocations, or by\n"
    "  temporaries: allocations freed by the allocating thread's very next heap\n"
    "  event, with no other allocation or free in between.\n"
    "Exit status: 0 on success, 2 for a usage error or an unreadable trace.\n";

using analysis::AllocationSite;

const char* order_name(analysis::SiteOrder o) {
  switch (o) {
    case analysis::SiteOrder::kBytes:
      return "bytes";
    case analysis::SiteOrder::kCount:
      return "count";
    case analysis::SiteOrder::kTemporaries:
      return "temporaries";
  }
  return "";
}

std::string function_of(const AllocationSite& s) {
  for (const analysis::ReportFrame& f : s.frames) {
    if (f.function.empty()) continue;
    std::string out = f.function;
    if (!f.file.empty()) out += " (" + f.file + ":" + std::to_string(f.line) + ")";
    return out;
  }
  return s.frames.empty() ? "(no stack)" : s.frames.front().module;
}

nlohmann::ordered_json sites_json(const std::vector<AllocationSite>& sites, bool stacks) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const AllocationSite& s : sites) {
    nlohmann::ordered_json j = {{"memory", s.memory}};
    if (stacks) {
      j["stack"] = s.stack;
      j["frames"] = analysis::frames_json(s.frames);
    } else {
      j["scope"] = s.scope;
    }
    j["allocations"] = s.allocations;
    j["bytes"] = s.bytes;
    j["temporaries"] = s.temporaries;
    j["temporary_bytes"] = s.temporary_bytes;
    out.push_back(std::move(j));
  }
  return out;
}

std::string render_json(const analysis::TopAllocations& t) {
  nlohmann::ordered_json j;
  j["trace"] = t.trace;
  j["by"] = order_name(t.order);
  j["events"] = t.events;
  j["allocations"] = t.allocations;
  j["bytes"] = t.bytes;
  j["temporaries"] = t.temporaries;
  j["temporary_bytes"] = t.temporary_bytes;
  j["stacks"] = sites_json(t.stacks, true);
  j["scopes"] = sites_json(t.scopes, false);
  j["missing_modules"] = t.missing_modules;
  return j.dump(2) + "\n";
}

std::string render_text(const analysis::TopAllocations& t) {
  char line[512];
  std::string out = "trace: " + t.trace + "\n";
  snprintf(line, sizeof line,
           "%llu allocations, %llu bytes; %llu temporaries (%llu bytes); ranked by %s\n",
           (unsigned long long)t.allocations, (unsigned long long)t.bytes,
           (unsigned long long)t.temporaries, (unsigned long long)t.temporary_bytes,
           order_name(t.order));
  out += line;
  auto table = [&](const char* title, const std::vector<AllocationSite>& sites, bool stacks) {
    snprintf(line, sizeof line, "\n%s\n  %14s %10s %10s %14s  %-8s %s\n", title, "bytes", "allocs",
             "temps", "temp bytes", "memory", stacks ? "allocated in" : "scope");
    out += line;
    for (const AllocationSite& s : sites) {
      snprintf(line, sizeof line, "  %14llu %10llu %10llu %14llu  %-8s ",
               (unsigned long long)s.bytes, (unsigned long long)s.allocations,
               (unsigned long long)s.temporaries, (unsigned long long)s.temporary_bytes,
               s.memory.c_str());
      out += line + (stacks ? function_of(s) : (s.scope.empty() ? "(no scope)" : s.scope)) + "\n";
    }
  };
  table("by stack:", t.stacks, true);
  table("by scope:", t.scopes, false);
  for (const std::string& m : t.missing_modules) out += "missing binary: " + m + "\n";
  return out;
}

}  // namespace

int top_command(const std::vector<std::string>& args) {
  bool json = false;
  std::string file;
  analysis::TopOptions options;
  bool ok = true;
  Arguments a("top", kUsage, args);
  while (a.next()) {
    if (a.is("--help") || a.is("-h")) {
      fputs(kUsage, stdout);
      return kExitOk;
    } else if (a.is("--json")) {
      json = true;
    } else if (a.is("--by")) {
      const std::string* v = a.value();
      if (!v) return kExitUsage;
      if (*v == "bytes")
        options.order = analysis::SiteOrder::kBytes;
      else if (*v == "count")
        options.order = analysis::SiteOrder::kCount;
      else if (*v == "temporaries")
        options.order = analysis::SiteOrder::kTemporaries;
      else {
        fprintf(stderr, "memtide top: --by '%s': expected bytes, count or temporaries\n",
                v->c_str());
        return kExitUsage;
      }
    } else if (a.is("--limit")) {
      const std::optional<size_t> n = a.positive_count();
      if (!n) return kExitUsage;
      options.max_sites = *n;
    } else if (a.symbol_option(options.search_paths, options.sysroot, ok)) {
      if (!ok) return kExitUsage;
    } else if (a.unknown_option() || !a.take_single_file(file)) {
      return kExitUsage;
    }
  }
  if (file.empty()) return a.usage_error("no trace file given");
  return print_for_trace("top", file, [&](const analysis::TraceFile& trace) {
    const analysis::TopAllocations t = analysis::top_allocations(trace, options);
    return json ? render_json(t) : render_text(t);
  });
}

}  // namespace memtide::cli
