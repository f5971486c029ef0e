#include "json_stream.h"

#include <charconv>

namespace memtide::analysis {

namespace {

constexpr const char* kHex = "0123456789abcdef";

void append_u_escape(std::string& out, uint32_t code_unit) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(code_unit >> shift) & 0xf];
}

// Length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 when it is not one.
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k)
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  return length;
}

}  // namespace

JsonStream& JsonStream::string(std::string_view text) {
  buffer_ += '"';
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          buffer_ += "\\\"";
          break;
        case '\\':
          buffer_ += "\\\\";
          break;
        case '\n':
          buffer_ += "\\n";
          break;
        case '\t':
          buffer_ += "\\t";
          break;
        case '<':
        case '>':
        case '&':
          append_u_escape(buffer_, c);
          break;
        default:
          if (c < 0x20 || c == 0x7f)
            append_u_escape(buffer_, c);
          else
            buffer_ += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      buffer_ += "\\ufffd";
      ++i;
    } else if (length == 3 && c == 0xe2 && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(text[i + 2]) & 0xfe) == 0xa8) {
      // U+2028, U+2029: valid JSON, but line breaks to JavaScript.
      append_u_escape(buffer_, 0x2028 + (static_cast<unsigned char>(text[i + 2]) & 1));
      i += length;
    } else {
      buffer_.append(text.substr(i, length));
      i += length;
    }
  }
  buffer_ += '"';
  if (buffer_.size() >= kFlushAt) flush();
  return *this;
}

JsonStream& JsonStream::integer(int64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  return raw(std::string_view(digits, result.ptr - digits));
}

JsonStream& JsonStream::unsigned_integer(uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  return raw(std::string_view(digits, result.ptr - digits));
}

JsonStream& JsonStream::microseconds(int64_t ns) {
  // Magnitude as unsigned so that INT64_MIN has one too.
  const uint64_t magnitude = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  if (ns < 0) raw("-");
  unsigned_integer(magnitude / 1000);
  const uint64_t fraction = magnitude % 1000;
  const char decimals[5] = {'.', char('0' + fraction / 100), char('0' + fraction / 10 % 10),
                            char('0' + fraction % 10), 0};
  return raw(decimals);
}

void JsonStream::flush() {
  if (buffer_.empty()) return;
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_.clear();
}

}  // namespace memtide::analysis
