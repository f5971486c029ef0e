#include "memtide_common/page_codec.h"

#include <zstd.h>

#include <cstring>

#include "memtide_common/varint.h"

namespace memtide {
namespace {

constexpr size_t kHeaderBytes = 24;
constexpr int kVarintColumns = 7;

void put_u32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put_u64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint32_t get_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

size_t page_body_bound(size_t n) { return kHeaderBytes + n + n * kVarintColumns * varint::kMaxBytes; }

size_t encode_page_body(std::span<const EventRecord> events, std::vector<uint8_t>& body) {
  const size_t n = events.size();
  if (body.size() < page_body_bound(n)) body.resize(page_body_bound(n));
  uint8_t* out = body.data();
  put_u32(out, kPageMagic);
  put_u32(out + 4, static_cast<uint32_t>(n));
  put_u64(out + 8, n ? events[0].seq : 0);
  put_u64(out + 16, n ? events[0].time_ns : 0);
  size_t pos = kHeaderBytes;
  for (const EventRecord& e : events) out[pos++] = static_cast<uint8_t>(e.kind);

  uint64_t prev = n ? events[0].seq : 0;
  for (const EventRecord& e : events) {
    pos += varint::put(out + pos, e.seq - prev);
    prev = e.seq;
  }
  prev = n ? events[0].time_ns : 0;
  for (const EventRecord& e : events) {
    pos += varint::put(out + pos, varint::zigzag(static_cast<int64_t>(e.time_ns - prev)));
    prev = e.time_ns;
  }
  prev = 0;
  for (const EventRecord& e : events) {
    pos += varint::put(out + pos, varint::zigzag(static_cast<int64_t>(e.address - prev)));
    prev = e.address;
  }
  for (const EventRecord& e : events) pos += varint::put(out + pos, e.size);
  for (const EventRecord& e : events) pos += varint::put(out + pos, e.stack);
  for (const EventRecord& e : events) pos += varint::put(out + pos, e.scope);
  for (const EventRecord& e : events) pos += varint::put(out + pos, e.aux);
  return pos;
}

bool decode_page_body(const uint8_t* body, size_t size, std::vector<EventRecord>& out,
                      std::string& error) {
  if (size < kHeaderBytes) {
    error = "page body of " + std::to_string(size) + " bytes is shorter than its header";
    return false;
  }
  if (get_u32(body) != kPageMagic) {
    error = "page body does not start with the MTP1 magic";
    return false;
  }
  const uint32_t n = get_u32(body + 4);
  if (n == 0 || n > kMaxPageEvents || kHeaderBytes + n > size) {
    error = "page claims " + std::to_string(n) + " events, which its " + std::to_string(size) +
            " bytes cannot hold";
    return false;
  }
  const size_t first = out.size();
  out.resize(first + n);
  EventRecord* events = out.data() + first;
  std::memset(static_cast<void*>(events), 0, sizeof(EventRecord) * n);
  const uint8_t* p = body + kHeaderBytes;
  const uint8_t* end = body + size;
  for (uint32_t i = 0; i < n; ++i) {
    if (!is_known_event_kind(p[i])) {
      error = "page holds unknown event kind " + std::to_string(p[i]) + " at event " +
              std::to_string(i);
      out.resize(first);
      return false;
    }
    events[i].kind = static_cast<EventKind>(p[i]);
  }
  p += n;

  auto fail = [&](const char* column) {
    error = std::string("page is truncated in its ") + column + " column";
    out.resize(first);
    return false;
  };
  uint64_t v = 0;
  uint64_t prev = get_u64(body + 8);
  for (uint32_t i = 0; i < n; ++i) {
    if (!varint::get(&p, end, v)) return fail("seq");
    events[i].seq = prev += v;
  }
  prev = get_u64(body + 16);
  for (uint32_t i = 0; i < n; ++i) {
    if (!varint::get(&p, end, v)) return fail("time");
    events[i].time_ns = prev += static_cast<uint64_t>(varint::unzigzag(v));
  }
  prev = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (!varint::get(&p, end, v)) return fail("address");
    events[i].address = prev += static_cast<uint64_t>(varint::unzigzag(v));
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!varint::get(&p, end, events[i].size)) return fail("size");
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!varint::get(&p, end, v) || v > UINT32_MAX) return fail("stack");
    events[i].stack = static_cast<uint32_t>(v);
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!varint::get(&p, end, v) || v > UINT32_MAX) return fail("scope");
    events[i].scope = static_cast<uint32_t>(v);
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!varint::get(&p, end, events[i].aux)) return fail("aux");
  }
  if (p != end) {
    error = "page has " + std::to_string(end - p) + " bytes after its last column";
    out.resize(first);
    return false;
  }
  return true;
}

bool compress_page(const std::vector<uint8_t>& body, size_t body_size, int level,
                   std::vector<uint8_t>& blob) {
  size_t bound = ZSTD_compressBound(body_size);
  if (blob.size() < bound) blob.resize(bound);
  size_t written = ZSTD_compress(blob.data(), blob.size(), body.data(), body_size, level);
  if (ZSTD_isError(written)) return false;
  blob.resize(written);
  return true;
}

PageCompressor::PageCompressor() : context_(ZSTD_createCCtx()) {}
PageCompressor::~PageCompressor() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(context_)); }

bool PageCompressor::compress(const std::vector<uint8_t>& body, size_t body_size, int level,
                              std::vector<uint8_t>& blob) {
  if (context_ == nullptr) return compress_page(body, body_size, level, blob);
  size_t bound = ZSTD_compressBound(body_size);
  if (blob.size() < bound) blob.resize(bound);
  size_t written = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(context_), blob.data(), blob.size(),
                                     body.data(), body_size, level);
  if (ZSTD_isError(written)) return false;
  blob.resize(written);
  return true;
}

bool decode_stored_page(int encoding, const void* blob, size_t blob_size, size_t body_size,
                        std::vector<EventRecord>& out, std::string& error) {
  if (encoding != kPageEncodingZstd) {
    error = "page encoding " + std::to_string(encoding) + " is not known to this memtide";
    return false;
  }
  if (body_size > page_body_bound(kMaxPageEvents)) {
    error = "page body size " + std::to_string(body_size) + " is implausible";
    return false;
  }
  unsigned long long content = ZSTD_getFrameContentSize(blob, blob_size);
  if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN ||
      content != body_size) {
    error = "page data is not a zstd frame of the recorded size";
    return false;
  }
  std::vector<uint8_t> body(body_size);
  size_t got = ZSTD_decompress(body.data(), body.size(), blob, blob_size);
  if (ZSTD_isError(got) || got != body_size) {
    error = std::string("page data does not decompress: ") +
            (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short output");
    return false;
  }
  return decode_page_body(body.data(), body.size(), out, error);
}

}  // namespace memtide
