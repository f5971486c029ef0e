// A buffered writer of JSON text for exports that stream: the document is
// never held in memory, only a 64 KiB buffer. Strings from the trace (scope,
// mark and thread names are whatever the program passed) are escaped so that
// every document parses: quotes, backslashes and control characters escaped,
// invalid UTF-8 replaced by U+FFFD, and `<`, `>`, `&`, U+2028, U+2029 written
// as \u escapes so the JSON can also sit inside a <script> element.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace memtide::analysis {

class JsonStream {
 public:
  explicit JsonStream(std::ostream& out) : out_(out) { buffer_.reserve(kFlushAt + 4096); }
  ~JsonStream() { flush(); }
  JsonStream(const JsonStream&) = delete;
  JsonStream& operator=(const JsonStream&) = delete;

  // JSON text as is: punctuation and keys written by memtide itself.
  JsonStream& raw(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() >= kFlushAt) flush();
    return *this;
  }
  // A quoted, escaped string.
  JsonStream& string(std::string_view text);
  JsonStream& integer(int64_t value);
  JsonStream& unsigned_integer(uint64_t value);
  // A duration in nanoseconds as microseconds with three decimals: exact,
  // whatever the magnitude (no binary floating point on the way).
  JsonStream& microseconds(int64_t ns);

  void flush();

 private:
  static constexpr size_t kFlushAt = 64 * 1024;
  std::ostream& out_;
  std::string buffer_;
};

}  // namespace memtide::analysis
