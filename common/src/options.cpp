#include "memtide_common/options.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace memtide {
namespace {

bool parse_uint(const char* text, uint64_t& out) {
  if (text == nullptr || *text == '\0') return false;
  for (const char* p = text; *p; ++p)
    if (*p < '0' || *p > '9') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

bool parse_bool(const char* text, bool& out) {
  static const char* const truthy[] = {"1", "true", "yes", "on"};
  static const char* const falsy[] = {"0", "false", "no", "off"};
  for (const char* t : truthy)
    if (strcasecmp(text, t) == 0) return out = true, true;
  for (const char* f : falsy)
    if (strcasecmp(text, f) == 0) return out = false, true;
  return false;
}

// Range rules that the single list cannot express.
std::string check_range(const char* env, uint64_t v) {
  auto is = [env](const char* name) { return std::strcmp(env, name) == 0; };
  if (is("MEMTIDE_STACK_DEPTH") && v > 256) return "at most 256 frames";
  if (is("MEMTIDE_COMMIT_MS") && (v < 10 || v > 10000)) return "between 10 and 10000";
  if ((is("MEMTIDE_RING_EVENTS") || is("MEMTIDE_RING_MAX_EVENTS")) &&
      (v < 1024 || v > 1048576 || (v & (v - 1)) != 0))
    return "a power of two between 1024 and 1048576";
  if (is("MEMTIDE_TIME_RESOLUTION_NS") && (v < 1 || v > 1000000000))
    return "between 1 and 1000000000";
  if (is("MEMTIDE_ZSTD_LEVEL") && (v < 1 || v > 19)) return "between 1 and 19";
  return {};
}

// Options whose value is one of a few words.
std::string check_choice(const char* env, const char* value) {
  if (std::strcmp(env, "MEMTIDE_GPU") == 0) {
    for (const char* word : {"auto", "cupti", "hooks", "off"})
      if (std::strcmp(value, word) == 0) return {};
    return "one of auto, cupti, hooks, off";
  }
  if (std::strcmp(env, "MEMTIDE_UNWINDER") == 0) {
    for (const char* word : {"memtide", "libunwind"})
      if (std::strcmp(value, word) == 0) return {};
    return "one of memtide, libunwind";
  }
  return {};
}

std::string quote(const char* env, const char* value, const std::string& why) {
  return std::string(env) + "='" + value + "': " + why;
}

}  // namespace

std::vector<OptionInfo> option_list() {
  std::vector<OptionInfo> list;
#define MEMTIDE_OPTION_DEFAULT_string(def) std::string(def)
#define MEMTIDE_OPTION_DEFAULT_uint(def) std::to_string(def)
#define MEMTIDE_OPTION_DEFAULT_boolean(def) std::string((def) ? "1" : "0")
#define MEMTIDE_OPTION(field, env, type, def, help) \
  list.push_back({env, #type, MEMTIDE_OPTION_DEFAULT_##type(def), help});
#include "memtide_common/options.def"
#undef MEMTIDE_OPTION
  return list;
}

bool set_option(Options& options, const char* env_name, const char* value, std::string& error) {
#define MEMTIDE_SET_string(field, env)                            \
  if (*value == '\0') {                                           \
    error = quote(env, value, "must not be empty");               \
    return false;                                                 \
  }                                                               \
  if (std::string why = check_choice(env, value); !why.empty()) { \
    error = quote(env, value, "expected " + why);                 \
    return false;                                                 \
  }                                                               \
  options.field = value;                                          \
  return true;
#define MEMTIDE_SET_uint(field, env)                              \
  uint64_t parsed = 0;                                            \
  if (!parse_uint(value, parsed)) {                               \
    error = quote(env, value, "expected a whole number");         \
    return false;                                                 \
  }                                                               \
  if (std::string why = check_range(env, parsed); !why.empty()) { \
    error = quote(env, value, "expected " + why);                 \
    return false;                                                 \
  }                                                               \
  options.field = parsed;                                         \
  return true;
#define MEMTIDE_SET_boolean(field, env)                                    \
  bool parsed = false;                                                     \
  if (!parse_bool(value, parsed)) {                                        \
    error = quote(env, value, "expected 1/0, true/false, yes/no, on/off"); \
    return false;                                                          \
  }                                                                        \
  options.field = parsed;                                                  \
  return true;
#define MEMTIDE_OPTION(field, env, type, def, help) \
  if (std::strcmp(env_name, env) == 0) {            \
    MEMTIDE_SET_##type(field, env)                  \
  }
#include "memtide_common/options.def"
#undef MEMTIDE_OPTION
  error = std::string(env_name) + ": not a memtide option";
  return false;
}

std::string check_option_value(const char* env_name, const char* value) {
  Options scratch;
  std::string error;
  set_option(scratch, env_name, value, error);
  return error;
}

}  // namespace memtide
