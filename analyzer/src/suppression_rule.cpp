#include "memtide/analysis/suppression_rule.h"

#include <array>
#include <string_view>

namespace memtide::analysis {

namespace {

// Functions through which a program reaches the allocator: a rule naming one
// of them would suppress every leak of the program.
constexpr std::array<std::string_view, 14> kAllocatorEntries = {
    "malloc",         "calloc",         "realloc",         "reallocarray",     "free",
    "posix_memalign", "aligned_alloc",  "memalign",        "valloc",           "pvalloc",
    "operator new",   "operator new[]", "operator delete", "operator delete[]"};

bool is_agent(const ReportFrame& f) {
  const size_t slash = f.module.rfind('/');
  const std::string_view file =
      std::string_view(f.module).substr(slash == std::string::npos ? 0 : slash + 1);
  return file.substr(0, 12) == "libmemtide.s" || f.function.rfind("memtide::agent::", 0) == 0;
}

bool is_allocator_entry(const ReportFrame& f) {
  const std::string_view name = f.function;
  for (std::string_view entry : kAllocatorEntries)
    if (name == entry || (name.substr(0, entry.size()) == entry && name.size() > entry.size() &&
                          name[entry.size()] == '('))
      return true;
  return false;
}

}  // namespace

std::string suppression_category(const std::string& c) {
  if (c == "not freed" || c == "not-freed") return "not-freed";
  if (c == "unknown free" || c == "unknown-free") return "unknown-free";
  for (const char* known :
       {"definite", "indirect", "possible", "reachable", "mismatch", "growth", "gpu"})
    if (c == known) return c;
  return "";
}

std::string glob_literal(const std::string& pattern) {
  std::string out;
  for (char c : pattern) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::optional<size_t> identifying_frame(const std::vector<ReportFrame>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    const ReportFrame& f = frames[i];
    if (is_agent(f) || is_allocator_entry(f)) continue;
    if (f.function.empty() && f.module.empty()) continue;
    return i;
  }
  return std::nullopt;
}

std::optional<std::string> suppression_rule_for(const std::string& report_category,
                                                const std::vector<ReportFrame>& frames) {
  const std::string category = suppression_category(report_category);
  const std::optional<size_t> frame = identifying_frame(frames);
  if (category.empty() || !frame) return std::nullopt;
  const ReportFrame& f = frames[*frame];
  // Surrounding blanks would be trimmed away by the parser.
  const bool by_function =
      !f.function.empty() && f.function.front() != ' ' && f.function.back() != ' ';
  const std::string& value = by_function ? f.function : f.module;
  return category + ":" + (by_function ? "function" : "module") + ":" + glob_literal(value);
}

}  // namespace memtide::analysis
