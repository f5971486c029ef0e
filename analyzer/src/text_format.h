// Small text helpers shared by the report renderers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace memtide::analysis {

// "512 B", "1.5 KiB", "3.0 GiB".
std::string human_bytes(uint64_t bytes);

// Escapes text for HTML and XML alike (element content and double- or
// single-quoted attribute values): & < > " ' become references, and the
// control characters XML 1.0 forbids become '?'.
std::string escape_markup(std::string_view text);

}  // namespace memtide::analysis
