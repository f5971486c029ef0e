// Walking a command's arguments the same way in every command: options with
// values, counts, the one trace file, and each problem said as
// "memtide COMMAND: ..." with the usage text (exit status 2).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "memtide/analysis/trace_file.h"

namespace memtide::cli {

class Arguments {
 public:
  Arguments(const char* command, const char* usage, const std::vector<std::string>& args)
      : command_(command), usage_(usage), args_(args) {}

  // Moves to the next argument; false after the last.
  bool next() { return ++index_ < args_.size(); }
  const std::string& current() const { return args_[index_]; }
  bool is(const char* option) const { return current() == option; }

  // The value after the current option; null (after saying so) when missing.
  const std::string* value();
  // The value as a count of at least 1; empty (after saying so) otherwise.
  std::optional<size_t> positive_count();
  // --search-path DIR and --sysroot DIR, which every symbolizing command
  // takes: true when the current argument is one of them; `ok` turns false
  // (after saying so) when its value is missing.
  bool symbol_option(std::vector<std::string>& search_paths, std::string& sysroot, bool& ok);
  // For an argument that is neither a known option nor a file: true (after
  // saying so) when it looks like an option.
  bool unknown_option();
  // Takes the current argument as the command's one trace; false (after
  // saying so) for a second one.
  bool take_single_file(std::string& file);
  // Says `message` with the usage; returns the usage exit status.
  int usage_error(const std::string& message) const;

 private:
  const char* command_;
  const char* usage_;
  const std::vector<std::string>& args_;
  size_t index_ = size_t(-1);
};

// Opens `file`, prints what `render` makes of it; an unreadable trace is an
// input error (exit status 2) named on stderr.
int print_for_trace(const char* command, const std::string& file,
                    const std::function<std::string(const analysis::TraceFile&)>& render);

}  // namespace memtide::cli
