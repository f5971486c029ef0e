// Agent options: parsed from the environment by the agent, validated and
// documented by `memtide run`. The list itself lives in options.def.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace memtide {

struct Options {
#define MEMTIDE_OPTION_TYPE_string std::string
#define MEMTIDE_OPTION_TYPE_uint uint64_t
#define MEMTIDE_OPTION_TYPE_boolean bool
#define MEMTIDE_OPTION(field, env, type, def, help) MEMTIDE_OPTION_TYPE_##type field = def;
#include "memtide_common/options.def"
#undef MEMTIDE_OPTION
};

struct OptionInfo {
  const char* env_name;
  const char* type;
  std::string default_value;
  const char* help;
};

// Every option in declaration order, for --help and documentation.
std::vector<OptionInfo> option_list();

// Reads the options from `lookup(env_name)` (null when unset). Each invalid value
// is left at its default and described in `errors` ("MEMTIDE_X='v': why").
template <typename Lookup>
Options parse_options(Lookup&& lookup, std::vector<std::string>& errors);

// Validates one value; returns an empty string when fine, else the reason.
std::string check_option_value(const char* env_name, const char* value);

// Parses `value` for the option named env_name into `options`; false with
// `error` set when the value is invalid.
bool set_option(Options& options, const char* env_name, const char* value, std::string& error);

template <typename Lookup>
Options parse_options(Lookup&& lookup, std::vector<std::string>& errors) {
  Options options;
  for (const OptionInfo& info : option_list()) {
    const char* value = lookup(info.env_name);
    if (value == nullptr) continue;
    std::string error;
    if (!set_option(options, info.env_name, value, error)) errors.push_back(error);
  }
  return options;
}

}  // namespace memtide
