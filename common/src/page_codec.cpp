#include "memtide_common/page_codec.h"

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "memtide_common/varint.h"

namespace memtide {
namespace {

constexpr size_t kHeaderBytes = 32;
constexpr int kVarintColumns = 7;
constexpr size_t kAddressSlots = 1u << 14;  // power of two; grown for pages over half of it
constexpr uint64_t kAddressLiteral = 0;
constexpr uint64_t kAddressReused = 1;
constexpr uint64_t kSizeZero = 0, kSizeOfReferenced = 1, kSizeLiteralBase = 2;

// Where the next fresh heap block is likely to start: allocators carve new
// blocks one after another (glibc: the block's size plus an 8-byte header,
// rounded up to 16, at least 32 bytes), so a heap allocation's literal
// address is coded relative to the end of the previous fresh block (MTP2).
// Other literals stay relative to the previous literal.
struct FreshBlockBase {
  uint64_t next = 0;
  void after_fresh(const EventRecord& e) {
    uint64_t chunk = (e.size + 8 + 15) & ~uint64_t{15};
    if (chunk < 32 || e.size > (uint64_t{1} << 48)) chunk = 32;
    next = e.address + chunk;
  }
};

void put_u32(uint8_t* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}
void put_u64(uint8_t* p, uint64_t v) {
  std::memcpy(p, &v, 8);
}
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

bool is_heap_allocation(EventKind k) {
  const auto v = static_cast<uint8_t>(k);
  return v >= 1 && v <= 13;
}

bool is_heap_release(EventKind k) {
  return k == EventKind::kFree || k == EventKind::kDelete || k == EventKind::kDeleteArray ||
         k == EventKind::kReallocFree;
}

// The blocks most recently released in the page, a short last-in-first-out
// list per size class, as allocators keep them. Encoder and decoder evolve
// the same state event by event, so their predictions agree.
class ReuseModel {
 public:
  static constexpr uint64_t kMaxClassedSize = 16384;
  static constexpr size_t kClasses = (kMaxClassedSize + 23) / 16 + 1;
  static constexpr int kDepth = 16;

  ReuseModel() { std::fill(std::begin(count_), std::end(count_), uint8_t{0}); }

  static size_t size_class(uint64_t size) { return (size + 23) / 16; }

  // The block a heap allocation of this size would get: the latest released.
  bool predict(const EventRecord& e, uint64_t& address) const {
    if (!is_heap_allocation(e.kind) || e.size > kMaxClassedSize) return false;
    const size_t c = size_class(e.size);
    if (count_[c] == 0) return false;
    address = released_[c][count_[c] - 1];
    return true;
  }

  // `referenced`: the event the address referred back to, or null.
  void observe(const EventRecord& e, const EventRecord* referenced) {
    if (is_heap_allocation(e.kind)) {
      if (e.size <= kMaxClassedSize) take(size_class(e.size), e.address);
      return;
    }
    if (!is_heap_release(e.kind)) return;
    uint64_t block = e.size;
    if (referenced != nullptr &&
        (is_heap_allocation(referenced->kind) || referenced->kind == EventKind::kReallocInPlace))
      block = referenced->size;
    if (block == 0 || block > kMaxClassedSize) return;
    const size_t c = size_class(block);
    if (count_[c] == kDepth) {  // forget the oldest
      std::copy(released_[c] + 1, released_[c] + kDepth, released_[c]);
      --count_[c];
    }
    released_[c][count_[c]++] = e.address;
  }

 private:
  // The block is in use again: it leaves its class's list wherever it is.
  void take(size_t c, uint64_t address) {
    for (int i = count_[c] - 1; i >= 0; --i) {
      if (released_[c][i] != address) continue;
      std::copy(released_[c] + i + 1, released_[c] + count_[c], released_[c] + i);
      --count_[c];
      return;
    }
  }

  uint64_t released_[kClasses][kDepth];
  uint8_t count_[kClasses];
};

// The stack of the latest heap allocation of each size in the page: a site
// that allocates the same size again costs one small code.
class StackModel {
 public:
  StackModel() : slots_(kSlots, Slot{0, 0, false}) {}

  // Column code for event e (heap allocations: 0 = as predicted, else stack + 1).
  uint64_t encode(const EventRecord& e) {
    if (!is_heap_allocation(e.kind)) return e.stack;
    Slot& slot = find(e.size);
    const uint64_t code = slot.used && slot.stack == e.stack ? 0 : uint64_t{e.stack} + 1;
    slot = Slot{e.size, e.stack, true};
    return code;
  }

  // Stack of event e from its code; false when the code predicts nothing.
  bool decode(const EventRecord& e, uint64_t code, uint32_t& stack) {
    if (!is_heap_allocation(e.kind)) {
      stack = static_cast<uint32_t>(code);
      return code <= UINT32_MAX;
    }
    Slot& slot = find(e.size);
    if (code == 0) {
      if (!slot.used) return false;
      stack = slot.stack;
    } else {
      if (code - 1 > UINT32_MAX) return false;
      stack = static_cast<uint32_t>(code - 1);
    }
    slot = Slot{e.size, stack, true};
    return true;
  }

 private:
  static constexpr size_t kSlots = 1024;  // direct-mapped by size: a miss costs a literal
  struct Slot {
    uint64_t size;
    uint32_t stack;
    bool used;
  };
  Slot& find(uint64_t size) {
    Slot& slot = slots_[(size * 0x9e3779b97f4a7c15ULL) >> 54];
    if (slot.used && slot.size != size) slot.used = false;
    return slot;
  }
  std::vector<Slot> slots_;
};

}  // namespace

// Kinds, one varint per column, and the address column's literal tag.
size_t page_body_bound(size_t n) {
  return kHeaderBytes + 2 * n + n * kVarintColumns * varint::kMaxBytes;
}

PageEncoder::PageEncoder() : slots_(kAddressSlots, Slot{0, 0}) {}

size_t encode_page_body(std::span<const EventRecord> events, std::vector<uint8_t>& body) {
  PageEncoder encoder;
  return encoder.encode(events, 1, body);
}

size_t PageEncoder::encode(std::span<const EventRecord> events, uint32_t time_unit,
                           std::vector<uint8_t>& body) {
  const uint32_t n = static_cast<uint32_t>(events.size());
  if (body.size() < page_body_bound(n)) body.resize(page_body_bound(n));
  if (time_unit == 0) time_unit = 1;
  for (size_t i = 1; i < n && time_unit > 1; ++i)
    if ((events[i].time_ns - events[i - 1].time_ns) % time_unit != 0) time_unit = 1;
  uint8_t* out = body.data();
  put_u32(out, kPageMagic);
  put_u32(out + 4, n);
  put_u64(out + 8, n ? events[0].seq : 0);
  put_u64(out + 16, n ? events[0].time_ns : 0);
  put_u32(out + 24, time_unit);
  put_u32(out + 28, 0);
  size_t pos = kHeaderBytes;
  for (const EventRecord& e : events) out[pos++] = static_cast<uint8_t>(e.kind);

  uint64_t prev = n ? events[0].seq : 0;
  for (const EventRecord& e : events) {
    pos += varint::put(out + pos, e.seq - prev);
    prev = e.seq;
  }
  prev = n ? events[0].time_ns : 0;
  for (const EventRecord& e : events) {
    const int64_t delta = static_cast<int64_t>(e.time_ns - prev) / static_cast<int64_t>(time_unit);
    pos += varint::put(out + pos, varint::zigzag(delta));
    prev = e.time_ns;
  }

  // Find each event's back-reference first: the size column refers to it.
  if (slots_.size() < 2 * size_t{n}) slots_.assign(std::bit_ceil(2 * size_t{n}), Slot{0, 0});
  if (++generation_ == 0) {  // wrapped: forget every stale slot
    std::fill(slots_.begin(), slots_.end(), Slot{0, 0});
    generation_ = 1;
  }
  reference_.assign(n, 0);
  const size_t mask = slots_.size() - 1;
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t address = events[i].address;
    size_t s = (address * 0x9e3779b97f4a7c15ULL) >> 40 & mask;
    // At most n addresses in a table of >= 2n slots: probing always ends.
    while (slots_[s].generation == generation_ && events[slots_[s].index].address != address)
      s = (s + 1) & mask;
    Slot& slot = slots_[s];
    if (slot.generation == generation_) reference_[i] = i - slot.index;
    slot = Slot{i, generation_};
  }

  // The size, address and stack columns hold the heap allocations' entries
  // first and the other events' after them (MTP3): the two kinds of entry
  // follow different patterns, and kept apart each compresses better.
  // One part holds at most an address tag and a literal per event.
  const size_t others_bound = size_t{n} * 2 * varint::kMaxBytes;
  if (others_.size() < others_bound) others_.resize(others_bound);
  size_t other = 0;
  auto end_split_column = [&] {
    std::memcpy(out + pos, others_.data(), other);
    pos += other;
    other = 0;
  };
  auto put = [&](const EventRecord& e, uint64_t v) {
    if (is_heap_allocation(e.kind))
      pos += varint::put(out + pos, v);
    else
      other += varint::put(others_.data() + other, v);
  };
  for (uint32_t i = 0; i < n; ++i) {
    const EventRecord& e = events[i];
    uint64_t code = e.size;
    if (is_deallocation(e.kind)) {
      if (e.size == 0)
        code = kSizeZero;
      else if (reference_[i] && events[i - reference_[i]].size == e.size)
        code = kSizeOfReferenced;
      else
        code = e.size + kSizeLiteralBase;
    }
    put(e, code);
  }
  end_split_column();

  ReuseModel model;
  FreshBlockBase fresh;
  prev = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const EventRecord& e = events[i];
    uint64_t predicted = 0;
    if (model.predict(e, predicted) && predicted == e.address) {
      put(e, kAddressReused);
    } else if (reference_[i]) {
      put(e, uint64_t{reference_[i]} + 1);
    } else {
      put(e, kAddressLiteral);
      const bool heap = is_heap_allocation(e.kind);
      const uint64_t base = heap ? fresh.next : prev;
      put(e, varint::zigzag(static_cast<int64_t>(e.address - base)));
      prev = e.address;
      if (heap) fresh.after_fresh(e);
    }
    model.observe(e, reference_[i] ? &events[i - reference_[i]] : nullptr);
  }
  end_split_column();
  StackModel stacks;
  for (const EventRecord& e : events) put(e, stacks.encode(e));
  end_split_column();
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
  const uint32_t magic = get_u32(body);
  if (magic != kPageMagic && magic != kPageMagicV2 && magic != kPageMagicV1) {
    error = "page body does not start with the MTP3 (or MTP2, MTP1) magic";
    return false;
  }
  const bool fresh_block_literals = magic != kPageMagicV1;
  const bool split = magic == kPageMagic;
  const uint32_t n = get_u32(body + 4);
  const uint32_t time_unit = get_u32(body + 24);
  if (time_unit == 0) {
    error = "page has a time unit of 0";
    return false;
  }
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
  auto fail = [&](const std::string& why) {
    error = why;
    out.resize(first);
    return false;
  };
  for (uint32_t i = 0; i < n; ++i) {
    if (!is_known_event_kind(p[i]))
      return fail("page holds unknown event kind " + std::to_string(p[i]) + " at event " +
                  std::to_string(i));
    events[i].kind = static_cast<EventKind>(p[i]);
  }
  p += n;

  auto truncated = [&](const char* column) {
    return fail(std::string("page is truncated in its ") + column + " column");
  };
  uint64_t v = 0;
  uint64_t prev = get_u64(body + 8);
  for (uint32_t i = 0; i < n; ++i) {
    if (!varint::get(&p, end, v)) return truncated("seq");
    events[i].seq = prev += v;
  }
  prev = get_u64(body + 16);
  for (uint32_t i = 0; i < n; ++i) {
    if (!varint::get(&p, end, v)) return truncated("time");
    events[i].time_ns = prev += static_cast<uint64_t>(varint::unzigzag(v) * int64_t(time_unit));
  }
  // A split column is read through two cursors: the heap allocations'
  // entries from its start, the others' from where those end (found by
  // skipping the first part's entries, which the first cursor then reads:
  // it ends where the second began, and the column where the second ends).
  uint32_t allocations = 0;
  for (uint32_t i = 0; i < n; ++i) allocations += is_heap_allocation(events[i].kind);
  const uint8_t* first_part = p;
  const uint8_t* second_part = p;
  auto begin_column = [&](bool address) {
    first_part = second_part = p;
    if (!split) return true;
    for (uint32_t k = 0; k < allocations; ++k) {
      if (!varint::get(&second_part, end, v)) return false;
      if (address && v == kAddressLiteral && !varint::get(&second_part, end, v)) return false;
    }
    return true;
  };
  auto get = [&](uint32_t i, uint64_t& value) {
    const uint8_t*& cursor =
        !split || is_heap_allocation(events[i].kind) ? first_part : second_part;
    return varint::get(&cursor, end, value);
  };
  auto end_column = [&] { p = split ? second_part : first_part; };
  // Deallocation size codes are resolved once addresses (and so references) are known.
  std::vector<uint64_t> size_codes(n);
  if (!begin_column(false)) return truncated("size");
  for (uint32_t i = 0; i < n; ++i) {
    if (!get(i, size_codes[i])) return truncated("size");
    if (!is_deallocation(events[i].kind)) events[i].size = size_codes[i];
  }
  end_column();
  std::vector<uint32_t> reference(n, 0);
  ReuseModel model;
  FreshBlockBase fresh;
  prev = 0;
  if (!begin_column(true)) return truncated("address");
  for (uint32_t i = 0; i < n; ++i) {
    if (!get(i, v)) return truncated("address");
    if (v == kAddressReused) {
      uint64_t predicted = 0;
      if (!model.predict(events[i], predicted))
        return fail("page predicts a reused block with nothing to reuse at event " +
                    std::to_string(i));
      events[i].address = predicted;
    } else if (v != kAddressLiteral) {
      const uint64_t distance = v - 1;
      if (distance > i)
        return fail("page has an address back-reference before its first event at event " +
                    std::to_string(i));
      reference[i] = static_cast<uint32_t>(distance);
      events[i].address = events[i - distance].address;
    } else {
      if (!get(i, v)) return truncated("address");
      const bool heap = fresh_block_literals && is_heap_allocation(events[i].kind);
      events[i].address = (heap ? fresh.next : prev) + static_cast<uint64_t>(varint::unzigzag(v));
      prev = events[i].address;
      if (heap) fresh.after_fresh(events[i]);
    }
    if (is_deallocation(events[i].kind)) {
      const uint64_t code = size_codes[i];
      if (code == kSizeOfReferenced) {
        if (reference[i] == 0)
          return fail("page gives a size by reference with no reference at event " +
                      std::to_string(i));
        events[i].size = events[i - reference[i]].size;
      } else {
        events[i].size = code == kSizeZero ? 0 : code - kSizeLiteralBase;
      }
    }
    model.observe(events[i], reference[i] ? &events[i - reference[i]] : nullptr);
  }
  end_column();
  StackModel stacks;
  if (!begin_column(false)) return truncated("stack");
  for (uint32_t i = 0; i < n; ++i) {
    if (!get(i, v)) return truncated("stack");
    if (!stacks.decode(events[i], v, events[i].stack))
      return fail("page has a stack code with nothing to predict at event " + std::to_string(i));
  }
  end_column();
  for (uint32_t i = 0; i < n; ++i) {
    if (!varint::get(&p, end, v) || v > UINT32_MAX) return truncated("scope");
    events[i].scope = static_cast<uint32_t>(v);
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!varint::get(&p, end, events[i].aux)) return truncated("aux");
  }
  if (p != end) return fail("page has " + std::to_string(end - p) + " bytes after its last column");
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
PageCompressor::~PageCompressor() {
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(context_));
}

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
  std::vector<uint8_t> body;
  if (!decompress_frame(blob, blob_size, body_size, "page data", body, error)) return false;
  return decode_page_body(body.data(), body.size(), out, error);
}

bool decompress_frame(const void* blob, size_t blob_size, size_t body_size, const char* what,
                      std::vector<uint8_t>& body, std::string& error) {
  const unsigned long long content = ZSTD_getFrameContentSize(blob, blob_size);
  if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN ||
      content != body_size) {
    error = std::string(what) + " is not a zstd frame of the recorded size";
    return false;
  }
  body.resize(body_size);
  const size_t got = ZSTD_decompress(body.data(), body.size(), blob, blob_size);
  if (ZSTD_isError(got) || got != body_size) {
    error = std::string(what) + " does not decompress: " +
            (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short output");
    return false;
  }
  return true;
}

}  // namespace memtide
