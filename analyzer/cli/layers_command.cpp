// `memtide layers`: lifetimes by scope, as a tree with subtree totals or a
// flat table of each scope's own numbers, sortable by any column.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>

#include "arguments.h"
#include "commands.h"
#include "memtide/analysis/scope_lifetimes.h"

namespace memtide::cli {

namespace {
constexpr const char* kUsage =
    "usage: memtide layers FILE [--tree|--flat] [--sort COLUMN] [--phase NAME] [--step N] "
    "[--from NS] [--to NS] [--device host|cuda:N] [--json]\n"
    "  Per scope (a layer x phase, e.g. model.layers.3/forward): allocations, bytes,\n"
    "  peak of its live blocks, the process's high-water mark during it, median and\n"
    "  p95 lifetime, bytes that outlived the scope (and where they were freed), and\n"
    "  bytes still live when the step ended. --tree (default) indents by depth with\n"
    "  subtree totals; --flat lists each scope's own numbers. --step N counts only\n"
    "  blocks allocated during step N; --from/--to NS count only blocks allocated\n"
    "  at or after / before NS (absolute trace time, the time_ns of other --json\n"
    "  output); --device counts only blocks in host memory or on GPU N (a pool's\n"
    "  sub-allocations where its reserve is); --phase NAME keeps scopes of that phase.\n"
    "  COLUMN: path, allocations, bytes, pool-bytes, peak, high-water, median, p95,\n"
    "  outliving, step-end (largest first; path alphabetical).\n"
    "Exit status: 0 on success, 2 for a usage error or an unreadable trace.\n";

using analysis::ScopeMeasures;
using analysis::ScopeRow;

using Column = std::function<uint64_t(const ScopeMeasures&)>;

const std::map<std::string, Column>& columns() {
  static const std::map<std::string, Column> all = {
      {"allocations", [](const ScopeMeasures& m) { return m.allocations; }},
      {"bytes", [](const ScopeMeasures& m) { return m.bytes; }},
      {"pool-bytes", [](const ScopeMeasures& m) { return m.pool_bytes; }},
      {"peak", [](const ScopeMeasures& m) { return m.peak_live_bytes; }},
      {"high-water", [](const ScopeMeasures& m) { return m.high_water_bytes; }},
      {"median", [](const ScopeMeasures& m) { return m.median_lifetime_ns; }},
      {"p95", [](const ScopeMeasures& m) { return m.p95_lifetime_ns; }},
      {"outliving", [](const ScopeMeasures& m) { return m.outliving_bytes; }},
      {"step-end", [](const ScopeMeasures& m) { return m.live_at_step_end_bytes; }},
  };
  return all;
}

nlohmann::ordered_json measures_json(const ScopeMeasures& m) {
  nlohmann::ordered_json freed = nlohmann::ordered_json::array();
  for (const analysis::FreedIn& f : m.outliving_freed_in)
    freed.push_back({{"scope", f.scope}, {"bytes", f.bytes}, {"blocks", f.blocks}});
  return {{"allocations", m.allocations},
          {"bytes", m.bytes},
          {"pool_bytes", m.pool_bytes},
          {"peak_live_bytes", m.peak_live_bytes},
          {"high_water_bytes", m.high_water_bytes},
          {"median_lifetime_ns", m.median_lifetime_ns},
          {"p95_lifetime_ns", m.p95_lifetime_ns},
          {"outliving_bytes", m.outliving_bytes},
          {"outliving_blocks", m.outliving_blocks},
          {"outliving_freed_in", freed},
          {"live_at_step_end_bytes", m.live_at_step_end_bytes}};
}

std::string render_json(const analysis::ScopeLifetimes& l, const std::vector<const ScopeRow*>& rows,
                        bool tree) {
  nlohmann::ordered_json j;
  j["trace"] = l.trace;
  j["step"] = l.step ? nlohmann::ordered_json(*l.step) : nlohmann::ordered_json(nullptr);
  j["from_ns"] = l.from_ns ? nlohmann::ordered_json(*l.from_ns) : nlohmann::ordered_json(nullptr);
  j["to_ns"] = l.to_ns ? nlohmann::ordered_json(*l.to_ns) : nlohmann::ordered_json(nullptr);
  j["device"] = l.device ? nlohmann::ordered_json(analysis::memory_name(*l.device))
                         : nlohmann::ordered_json(nullptr);
  j["view"] = tree ? "tree" : "flat";
  j["events"] = l.events;
  j["scopes"] = nlohmann::ordered_json::array();
  for (const ScopeRow* r : rows)
    j["scopes"].push_back({{"id", r->id},
                           {"parent", r->parent},
                           {"depth", r->depth},
                           {"name", r->name},
                           {"path", r->path},
                           {"layer", r->layer},
                           {"phase", r->phase},
                           {"own", measures_json(r->own)},
                           {"subtree", measures_json(r->subtree)}});
  j["unscoped"] = measures_json(l.unscoped);
  j["phases"] = nlohmann::ordered_json::array();
  for (const analysis::PhaseRow& p : l.phases)
    j["phases"].push_back({{"phase", p.phase}, {"measures", measures_json(p.measures)}});
  j["pools"] = nlohmann::ordered_json::array();
  for (const analysis::PoolUsage& p : l.pools)
    j["pools"].push_back({{"id", p.id},
                          {"name", p.name},
                          {"sub_allocations", p.sub_allocations},
                          {"sub_bytes", p.sub_bytes},
                          {"sub_peak_live_bytes", p.sub_peak_live_bytes},
                          {"backing_blocks", p.backing_blocks},
                          {"reserve_peak_bytes", p.reserve_peak_bytes}});
  return j.dump(2) + "\n";
}

std::string text_row(const std::string& label, const ScopeMeasures& m, const std::string& phase) {
  char line[512];
  snprintf(line, sizeof line, "%-44s %8llu %12llu %12llu %12llu %10llu %10llu %12llu %12llu  %s\n",
           label.c_str(), (unsigned long long)m.allocations, (unsigned long long)m.bytes,
           (unsigned long long)m.peak_live_bytes, (unsigned long long)m.high_water_bytes,
           (unsigned long long)m.median_lifetime_ns, (unsigned long long)m.p95_lifetime_ns,
           (unsigned long long)m.outliving_bytes, (unsigned long long)m.live_at_step_end_bytes,
           phase.c_str());
  std::string out = line;
  if (!m.outliving_freed_in.empty()) {
    out += std::string(46, ' ') + "outlived, freed in:";
    for (const analysis::FreedIn& f : m.outliving_freed_in)
      out += " " + f.scope + " (" + std::to_string(f.bytes) + " B)";
    out += "\n";
  }
  return out;
}

std::string render_text(const analysis::ScopeLifetimes& l, const std::vector<const ScopeRow*>& rows,
                        bool tree) {
  char header[512];
  snprintf(header, sizeof header, "%-44s %8s %12s %12s %12s %10s %10s %12s %12s  %s\n",
           tree ? "scope (subtree totals)" : "scope (own numbers)", "allocs", "bytes", "peak",
           "high-water", "median ns", "p95 ns", "outliving", "step-end", "phase");
  std::string out = "trace: " + l.trace + "\n";
  if (l.step) out += "blocks allocated during step " + std::to_string(*l.step) + "\n";
  if (l.device) out += "blocks in " + analysis::memory_name(*l.device) + " memory\n";
  if (l.from_ns || l.to_ns)
    out += "blocks allocated from " + (l.from_ns ? std::to_string(*l.from_ns) : "the start") +
           " to " + (l.to_ns ? std::to_string(*l.to_ns) : "the end") + " ns\n";
  out += std::string("\n") + header;
  for (const ScopeRow* r : rows) {
    const std::string label =
        tree ? std::string(size_t(2 * std::max(0, r->depth - 1)), ' ') + r->name : r->path;
    out += text_row(label, tree ? r->subtree : r->own, r->phase);
  }
  out += text_row("(no scope)", l.unscoped, "");
  if (!l.phases.empty()) out += "\nby phase (own numbers of its scopes; peak over all at once):\n";
  for (const analysis::PhaseRow& p : l.phases) out += text_row("  " + p.phase, p.measures, p.phase);
  if (!l.pools.empty())
    out += "\npools (backing blocks are the reserve, not in the scopes above):\n";
  for (const analysis::PoolUsage& p : l.pools) {
    char line[512];
    snprintf(line, sizeof line,
             "  %-30s %8llu sub-allocations, %llu bytes, peak %llu live; reserve: %llu blocks, "
             "peak %llu bytes\n",
             p.name.c_str(), (unsigned long long)p.sub_allocations, (unsigned long long)p.sub_bytes,
             (unsigned long long)p.sub_peak_live_bytes, (unsigned long long)p.backing_blocks,
             (unsigned long long)p.reserve_peak_bytes);
    out += line;
  }
  return out;
}

// Rows in output order: the tree with siblings sorted by `column` (subtree
// numbers), or a flat list sorted by it (own numbers). A phase filter keeps
// matching rows, and in a tree their ancestors too.
std::vector<const ScopeRow*> order_rows(const analysis::ScopeLifetimes& l, bool tree,
                                        const std::string& column, const std::string& phase) {
  std::map<uint32_t, const ScopeRow*> by_id;
  for (const ScopeRow& r : l.scopes) by_id[r.id] = &r;
  std::map<uint32_t, bool> keep;
  for (const ScopeRow& r : l.scopes) {
    if (!phase.empty() && r.phase != phase) continue;
    keep[r.id] = true;
    if (!tree) continue;
    for (auto it = by_id.find(r.parent); it != by_id.end(); it = by_id.find(it->second->parent))
      keep[it->first] = true;
  }
  auto before = [&](const ScopeRow* a, const ScopeRow* b) {
    if (column.empty() || column == "path") return column.empty() ? false : a->path < b->path;
    const Column& get = columns().at(column);
    const uint64_t x = get(tree ? a->subtree : a->own), y = get(tree ? b->subtree : b->own);
    return x > y;
  };
  std::vector<const ScopeRow*> out;
  if (!tree) {
    for (const ScopeRow& r : l.scopes)
      if (keep.count(r.id)) out.push_back(&r);
    std::stable_sort(out.begin(), out.end(), before);
    return out;
  }
  std::map<uint32_t, std::vector<const ScopeRow*>> children;  // 0: top level
  for (const ScopeRow& r : l.scopes)
    if (keep.count(r.id)) children[by_id.count(r.parent) ? r.parent : 0].push_back(&r);
  for (auto& [parent, list] : children) std::stable_sort(list.begin(), list.end(), before);
  std::function<void(uint32_t)> walk = [&](uint32_t parent) {
    auto it = children.find(parent);
    if (it == children.end()) return;
    for (const ScopeRow* r : it->second) {
      out.push_back(r);
      walk(r->id);
    }
  };
  walk(0);
  return out;
}

}  // namespace

int layers_command(const std::vector<std::string>& args) {
  bool json = false, tree = true;
  std::string column, phase, file;
  analysis::ScopeLifetimesOptions options;
  Arguments a("layers", kUsage, args);
  while (a.next()) {
    if (a.is("--help") || a.is("-h")) {
      fputs(kUsage, stdout);
      return kExitOk;
    } else if (a.is("--json")) {
      json = true;
    } else if (a.is("--tree") || a.is("--flat")) {
      tree = a.is("--tree");
    } else if (a.is("--sort")) {
      const std::string* v = a.value();
      if (!v) return kExitUsage;
      if (*v != "path" && !columns().count(*v))
        return a.usage_error("--sort '" + *v + "': unknown column");
      column = *v;
    } else if (a.is("--phase")) {
      const std::string* v = a.value();
      if (!v) return kExitUsage;
      phase = *v;
    } else if (a.is("--step")) {
      const std::string* v = a.value();
      if (!v) return kExitUsage;
      char* end = nullptr;
      const long long step = strtoll(v->c_str(), &end, 10);
      if (v->empty() || *end) {
        fprintf(stderr, "memtide layers: --step '%s': expected a step number\n", v->c_str());
        return kExitUsage;
      }
      options.step = step;
    } else if (a.is("--device")) {
      const std::string* v = a.value();
      if (!v) return kExitUsage;
      options.device = analysis::parse_memory_name(*v);
      if (!options.device) {
        fprintf(stderr, "memtide layers: --device '%s': expected host or cuda:N\n", v->c_str());
        return kExitUsage;
      }
    } else if (a.is("--from") || a.is("--to")) {
      const bool from = a.is("--from");
      const std::string* v = a.value();
      if (!v) return kExitUsage;
      char* end = nullptr;
      const unsigned long long ns = strtoull(v->c_str(), &end, 10);
      if (v->empty() || *end || (*v)[0] == '-') {
        fprintf(stderr, "memtide layers: %s '%s': expected a time in ns\n",
                from ? "--from" : "--to", v->c_str());
        return kExitUsage;
      }
      (from ? options.from_ns : options.to_ns) = ns;
    } else if (a.unknown_option() || !a.take_single_file(file)) {
      return kExitUsage;
    }
  }
  if (file.empty()) return a.usage_error("no trace file given");
  if (column.empty() && !tree) column = "peak";
  return print_for_trace("layers", file, [&](const analysis::TraceFile& trace) {
    const analysis::ScopeLifetimes l = analysis::scope_lifetimes(trace, options);
    const auto rows = order_rows(l, tree, column, phase);
    return json ? render_json(l, rows, tree) : render_text(l, rows, tree);
  });
}

}  // namespace memtide::cli
