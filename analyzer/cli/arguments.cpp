#include "arguments.h"

#include <cstdio>
#include <cstdlib>

#include "commands.h"

namespace memtide::cli {

const std::string* Arguments::value() {
  if (index_ + 1 >= args_.size()) {
    usage_error(current() + " needs a value");
    return nullptr;
  }
  return &args_[++index_];
}

std::optional<size_t> Arguments::positive_count() {
  const std::string option = current();
  const std::string* v = value();
  if (v == nullptr) return std::nullopt;
  char* end = nullptr;
  const unsigned long long n = strtoull(v->c_str(), &end, 10);
  if (v->empty() || *end || (*v)[0] == '-' || n == 0) {
    fprintf(stderr, "memtide %s: %s '%s': expected a positive count\n", command_, option.c_str(),
            v->c_str());
    return std::nullopt;
  }
  return size_t(n);
}

bool Arguments::symbol_option(std::vector<std::string>& search_paths, std::string& sysroot,
                              bool& ok) {
  const bool search = is("--search-path");
  if (!search && !is("--sysroot")) return false;
  const std::string* v = value();
  ok = v != nullptr;
  if (ok) {
    if (search)
      search_paths.push_back(*v);
    else
      sysroot = *v;
  }
  return true;
}

bool Arguments::unknown_option() {
  if (current().empty() || current()[0] != '-') return false;
  usage_error("unknown option '" + current() + "'");
  return true;
}

bool Arguments::take_single_file(std::string& file) {
  if (!file.empty()) {
    usage_error("one trace at a time (got '" + file + "' and '" + current() + "')");
    return false;
  }
  file = current();
  return true;
}

int Arguments::usage_error(const std::string& message) const {
  fprintf(stderr, "memtide %s: %s\n%s", command_, message.c_str(), usage_);
  return kExitUsage;
}

int print_for_trace(const char* command, const std::string& file,
                    const std::function<std::string(const analysis::TraceFile&)>& render) {
  try {
    analysis::TraceFile trace(file);
    fputs(render(trace).c_str(), stdout);
  } catch (const std::exception& e) {
    fprintf(stderr, "memtide %s: %s\n", command, e.what());
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace memtide::cli
