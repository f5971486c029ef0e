#include "memtide_common/page_codec.h"

#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>

#include "memtide_common/varint.h"

namespace memtide {
namespace {

constexpr size_t kHeaderBytes = 32;
constexpr int kVarintColumns = 7;
constexpr size_t kAddressSlots = 1u << 14;  // at least; a power of two
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

  // Forgets every block, addresses included (see PageEncoder::State).
  void clear() {
    std::memset(released_, 0, sizeof released_);
    std::memset(count_, 0, sizeof count_);
  }

  static size_t size_class(uint64_t size) { return (size + 23) / 16; }

  // The block a heap allocation of this size would get: the latest released.
  bool predict(const EventRecord& e, uint64_t& address) const {
    if (!is_heap_allocation(e.kind) || e.size > kMaxClassedSize) return false;
    const size_t c = size_class(e.size);
    if (count_[c] == 0) return false;
    address = released_[c][count_[c] - 1];
    return true;
  }

  // `referenced`: the event the address referred back to (anything with its
  // kind and size), or null.
  template <typename Referenced>
  void observe(const EventRecord& e, const Referenced* referenced) {
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

  // A heap allocation coded another way (as a recent site): the model still
  // learns its stack, as the decoder's does.
  void observe(const EventRecord& e) { find(e.size) = Slot{e.size, e.stack, true}; }

  void clear() { std::fill(slots_.begin(), slots_.end(), Slot{0, 0, false}); }

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

// The (size, stack) pairs of the page's latest heap allocations, most
// recent first (MTP4): a program allocates from a few sites in turn, and a
// recent site costs one small code for both fields.
class SiteModel {
 public:
  static constexpr uint32_t kSites = 16;
  static constexpr uint64_t kNewSite = 0;

  void clear() { count_ = 0; }

  // Code of a heap allocation's site: its 1-based rank among the recent sites
  // (then moved to the front), or kNewSite (then added at the front).
  uint64_t encode(uint64_t size, uint32_t stack) {
    for (uint32_t k = 0; k < count_; ++k) {
      if (sites_[k].size != size || sites_[k].stack != stack) continue;
      move_to_front(k);
      return k + 1;
    }
    add(size, stack);
    return kNewSite;
  }

  // The site a code other than kNewSite names; false when there is none.
  bool decode(uint64_t code, uint64_t& size, uint32_t& stack) {
    if (code == kNewSite || code > count_) return false;
    move_to_front(static_cast<uint32_t>(code - 1));
    size = sites_[0].size;
    stack = sites_[0].stack;
    return true;
  }

  void add(uint64_t size, uint32_t stack) {
    if (count_ < kSites) ++count_;
    std::copy_backward(sites_, sites_ + count_ - 1, sites_ + count_);
    sites_[0] = Site{size, stack};
  }

 private:
  struct Site {
    uint64_t size;
    uint32_t stack;
  };
  void move_to_front(uint32_t k) {
    const Site site = sites_[k];
    std::copy_backward(sites_, sites_ + k, sites_ + k + 1);
    sites_[0] = site;
  }
  Site sites_[kSites];
  uint32_t count_ = 0;
};

}  // namespace

// Kinds, one varint per column, and the address column's literal tag.
size_t page_body_bound(size_t n) {
  return kHeaderBytes + 2 * n + n * kVarintColumns * varint::kMaxBytes;
}

// A column being written: varints appended to a growing byte buffer. Grown
// with realloc, not std::vector: room is reserved for the worst case (ten
// bytes a value), and untouched room costs address space, not memory.
class ColumnBuffer {
 public:
  ColumnBuffer() = default;
  ColumnBuffer(const ColumnBuffer&) = delete;
  ColumnBuffer& operator=(const ColumnBuffer&) = delete;
  ~ColumnBuffer() { std::free(bytes_); }

  void clear() { used_ = 0; }
  // Room for `values` more varints; false when memory is exhausted.
  bool reserve_more(size_t values, size_t max_bytes_per_value) {
    const size_t need = used_ + values * max_bytes_per_value;
    if (need <= capacity_) return true;
    const size_t capacity = std::max(need, capacity_ * 2);
    auto* grown = static_cast<uint8_t*>(std::realloc(bytes_, capacity));
    if (grown == nullptr) return false;
    bytes_ = grown;
    capacity_ = capacity;
    return true;
  }
  void put(uint64_t v) { used_ += varint::put(bytes_ + used_, v); }
  void put_byte(uint8_t b) { bytes_[used_++] = b; }
  size_t size() const { return used_; }
  size_t copy_to(uint8_t* out) const {
    if (used_ != 0) std::memcpy(out, bytes_, used_);
    return used_;
  }

 private:
  uint8_t* bytes_ = nullptr;
  size_t used_ = 0, capacity_ = 0;
};

// Everything the encoder carries from one event of a page to the next.
struct PageEncoder::State {
  // Latest event index per address, for back-references. A 4-byte slot
  // holds the index + 1 in its low index_bits and a tag of the address's hash
  // above them, so that a probe reads the event (a cache miss in a large
  // page) only when the tag matches: for a page of 32Ki events the table is
  // 256 KiB. With slots of index and page generation (8 bytes) and a read of
  // the event per probe, the writer's encoding of the malloc/free storm took
  // 70% more perf samples than with pages of 8Ki events (by hand, perf
  // record -F 4000 on bench-storm). Emptied at each page.
  std::vector<uint32_t> slots;
  uint32_t index_bits = 1;
  int slot_shift = 64;
  uint32_t max_events = 0;
  // What a back-reference needs of each earlier event of the page, in three
  // arrays: 17 bytes an event where the writer kept 64-byte records for the
  // whole page.
  std::vector<uint64_t> past_addresses, past_sizes;
  std::vector<EventKind> past_kinds;
  struct Referenced {
    EventKind kind;
    uint64_t size;
  };

  uint32_t time_unit = 1;
  uint32_t count = 0;            // events added since begin()
  uint32_t unchanged_times = 0;  // events since the last time step
  uint64_t base_seq = 0, base_time = 0;
  uint64_t previous_seq = 0, previous_time = 0;
  uint64_t previous_literal = 0;
  ReuseModel reuse;
  FreshBlockBase fresh;
  StackModel stacks;
  SiteModel sites;

  // The size, address and stack columns hold the heap allocations' entries
  // first and the other events' after them: the two kinds of entry follow
  // different patterns, and kept apart each compresses better. A heap
  // allocation's entry in the size column is its site; only a new site has
  // an entry in the stack column.
  enum Part { kAllocations = 0, kOthers = 1 };
  ColumnBuffer kinds, seqs, sizes[2], addresses[2], stack_codes[2], scopes, auxes;
  // The time column both ways; the page keeps the shorter (kPageTimeRuns).
  ColumnBuffer time_runs, time_deltas;

  // Every column but the time column, in body order after it.
  std::array<ColumnBuffer*, 8> columns_after_time() {
    return {&sizes[0],       &sizes[1],       &addresses[0], &addresses[1],
            &stack_codes[0], &stack_codes[1], &scopes,       &auxes};
  }

  // The models hold addresses of the program's blocks. In the agent, the
  // encoder lives in the heap between batches, where the leak scan would take
  // them for pointers that keep a leaked block reachable: they are wiped
  // whenever a page is done.
  void forget_addresses() {
    previous_literal = 0;
    reuse.clear();
    fresh = FreshBlockBase();
    std::fill(past_addresses.begin(), past_addresses.begin() + count, 0);
  }

  void reset(uint32_t unit, uint32_t events) {
    forget_addresses();
    time_unit = unit == 0 ? 1 : unit;
    count = 0;
    unchanged_times = 0;
    stacks.clear();
    sites.clear();
    for (ColumnBuffer* c : columns_after_time()) c->clear();
    for (ColumnBuffer* c : {&kinds, &seqs, &time_runs, &time_deltas}) c->clear();
    // At most `events` addresses in a table of >= 2 * events slots: probing
    // always ends.
    max_events = events;
    const size_t capacity = std::max(kAddressSlots, std::bit_ceil(2 * size_t{events}));
    if (slots.size() != capacity)
      slots.assign(capacity, 0);
    else
      std::fill(slots.begin(), slots.end(), 0u);
    index_bits = static_cast<uint32_t>(std::bit_width(events));
    slot_shift = 64 - std::countr_zero(capacity);
    if (past_addresses.size() < events) {
      past_addresses.resize(events);
      past_sizes.resize(events);
      past_kinds.resize(events);
    }
  }

  // Distance back to the page's previous event at the same address (0: none).
  uint32_t back_reference(uint64_t address, uint32_t i) {
    const uint64_t hash = address * 0x9e3779b97f4a7c15ULL;
    const size_t mask = slots.size() - 1;
    const uint32_t index_mask = (1u << index_bits) - 1;
    const uint32_t tag = static_cast<uint32_t>(hash >> 8) << index_bits;
    for (size_t s = hash >> slot_shift;; s = (s + 1) & mask) {
      const uint32_t slot = slots[s];
      if (slot == 0) {
        slots[s] = tag | (i + 1);
        return 0;
      }
      const uint32_t index = (slot & index_mask) - 1;
      if ((slot & ~index_mask) == tag && past_addresses[index] == address) {
        slots[s] = tag | (i + 1);
        return i - index;
      }
    }
  }

  void put_time(uint64_t time_ns) {
    const int64_t elapsed = static_cast<int64_t>(time_ns - previous_time);
    const int64_t steps = elapsed / static_cast<int64_t>(time_unit);
    time_deltas.put(varint::zigzag(steps));
    if (steps == 0) {
      ++unchanged_times;
    } else {
      time_runs.put(unchanged_times);
      time_runs.put(varint::zigzag(steps));
      unchanged_times = 0;
    }
    previous_time = time_ns;
  }

  // A heap allocation's size and stack: a recent site's rank, or a new site
  // followed by its size and the stack model's code.
  void put_site(const EventRecord& e) {
    const uint64_t site = sites.encode(e.size, e.stack);
    sizes[kAllocations].put(site);
    if (site == SiteModel::kNewSite) {
      sizes[kAllocations].put(e.size);
      stack_codes[kAllocations].put(stacks.encode(e));
    } else {
      stacks.observe(e);
    }
  }

  void put_address(const EventRecord& e, Part part, uint32_t reference) {
    ColumnBuffer& address = addresses[part];
    uint64_t predicted = 0;
    if (reuse.predict(e, predicted) && predicted == e.address) {
      address.put(kAddressReused);
    } else if (reference) {
      address.put(uint64_t{reference} + 1);
    } else {
      address.put(kAddressLiteral);
      const bool heap = part == kAllocations;
      const uint64_t base = heap ? fresh.next : previous_literal;
      address.put(varint::zigzag(static_cast<int64_t>(e.address - base)));
      previous_literal = e.address;
      if (heap) fresh.after_fresh(e);
    }
  }

  bool add(std::span<const EventRecord> batch) {
    const size_t n = batch.size();
    if (n == 0) return true;
    if (count + n > max_events) return false;  // the table has no room for their indexes
    // Every time delta must be a whole number of units.
    uint64_t previous = count == 0 ? batch[0].time_ns : previous_time;
    for (const EventRecord& e : batch) {
      if (static_cast<int64_t>(e.time_ns - previous) % static_cast<int64_t>(time_unit) != 0)
        return false;
      previous = e.time_ns;
    }
    bool room = kinds.reserve_more(n, 1);
    for (ColumnBuffer* c :
         {&seqs, &time_deltas, &sizes[1], &stack_codes[0], &stack_codes[1], &scopes, &auxes})
      room = room && c->reserve_more(n, varint::kMaxBytes);
    // A site code and for a new site its size; a run and a step.
    for (ColumnBuffer* c : {&sizes[kAllocations], &time_runs})
      room = room && c->reserve_more(n, 2 * varint::kMaxBytes);
    // A tag and a literal at most per address.
    for (ColumnBuffer* c : {&addresses[0], &addresses[1]})
      room = room && c->reserve_more(n, 2 * varint::kMaxBytes);
    if (!room) return false;
    if (count == 0) {
      base_seq = previous_seq = batch[0].seq;
      base_time = previous_time = batch[0].time_ns;
    }
    for (const EventRecord& e : batch) {
      const uint32_t i = count;
      kinds.put_byte(static_cast<uint8_t>(e.kind));
      seqs.put(e.seq - previous_seq);
      previous_seq = e.seq;
      put_time(e.time_ns);
      const Part part = is_heap_allocation(e.kind) ? kAllocations : kOthers;
      const uint32_t reference = back_reference(e.address, i);
      Referenced earlier{};
      const Referenced* referenced = nullptr;
      if (reference) {
        earlier = Referenced{past_kinds[i - reference], past_sizes[i - reference]};
        referenced = &earlier;
      }
      past_addresses[i] = e.address;
      past_sizes[i] = e.size;
      past_kinds[i] = e.kind;
      if (part == kAllocations) {
        put_site(e);
      } else {
        uint64_t size_code = e.size;
        if (is_deallocation(e.kind)) {
          if (e.size == 0)
            size_code = kSizeZero;
          else if (referenced != nullptr && referenced->size == e.size)
            size_code = kSizeOfReferenced;
          else
            size_code = e.size + kSizeLiteralBase;
        }
        sizes[kOthers].put(size_code);
        stack_codes[kOthers].put(e.stack);
      }
      put_address(e, part, reference);
      reuse.observe(e, referenced);
      scopes.put(e.scope);
      auxes.put(e.aux);
      ++count;
    }
    return true;
  }

  size_t assemble(std::vector<uint8_t>& body) {
    // Runs end with the run of events after the last step.
    uint8_t last_run[varint::kMaxBytes];
    const size_t last_run_bytes = unchanged_times ? varint::put(last_run, unchanged_times) : 0;
    const bool runs = time_runs.size() + last_run_bytes <= time_deltas.size();
    size_t size = kHeaderBytes + kinds.size() + seqs.size() +
                  (runs ? time_runs.size() + last_run_bytes : time_deltas.size());
    for (const ColumnBuffer* c : columns_after_time()) size += c->size();
    if (body.size() < size) body.resize(size);
    uint8_t* out = body.data();
    put_u32(out, kPageMagic);
    put_u32(out + 4, count);
    put_u64(out + 8, count ? base_seq : 0);
    put_u64(out + 16, count ? base_time : 0);
    put_u32(out + 24, time_unit);
    put_u32(out + 28, runs ? kPageTimeRuns : 0);
    size_t pos = kHeaderBytes;
    pos += kinds.copy_to(out + pos);
    pos += seqs.copy_to(out + pos);
    if (runs) {
      pos += time_runs.copy_to(out + pos);
      std::memcpy(out + pos, last_run, last_run_bytes);
      pos += last_run_bytes;
    } else {
      pos += time_deltas.copy_to(out + pos);
    }
    for (const ColumnBuffer* c : columns_after_time()) pos += c->copy_to(out + pos);
    return pos;
  }
};

PageEncoder::PageEncoder() : state_(new State()) {}
PageEncoder::~PageEncoder() {
  delete state_;
}

void PageEncoder::begin(uint32_t time_unit, uint32_t max_events) {
  state_->reset(time_unit, max_events);
}

bool PageEncoder::add(std::span<const EventRecord> batch) {
  return state_->add(batch);
}

uint32_t PageEncoder::added() const {
  return state_->count;
}

size_t PageEncoder::finish(std::vector<uint8_t>& body) {
  const size_t size = state_->assemble(body);
  state_->forget_addresses();
  return size;
}

size_t PageEncoder::encode(std::span<const EventRecord> events, uint32_t time_unit,
                           std::vector<uint8_t>& body) {
  if (time_unit == 0) time_unit = 1;
  // Signed: a time may go back (records of another clock), by whole units.
  for (size_t i = 1; i < events.size() && time_unit > 1; ++i)
    if (static_cast<int64_t>(events[i].time_ns - events[i - 1].time_ns) %
            static_cast<int64_t>(time_unit) !=
        0)
      time_unit = 1;
  begin(time_unit, static_cast<uint32_t>(events.size()));
  if (!add(events)) return 0;
  return finish(body);
}

size_t encode_page_body(std::span<const EventRecord> events, std::vector<uint8_t>& body) {
  PageEncoder encoder;
  return encoder.encode(events, 1, body);
}

bool decode_page_body(const uint8_t* body, size_t size, std::vector<EventRecord>& out,
                      std::string& error) {
  if (size < kHeaderBytes) {
    error = "page body of " + std::to_string(size) + " bytes is shorter than its header";
    return false;
  }
  const uint32_t magic = get_u32(body);
  if (magic != kPageMagic && magic != kPageMagicV3 && magic != kPageMagicV2 &&
      magic != kPageMagicV1) {
    error = "page body does not start with the MTP4 (or MTP3, MTP2, MTP1) magic";
    return false;
  }
  const bool fresh_block_literals = magic != kPageMagicV1;
  const bool split = magic == kPageMagic || magic == kPageMagicV3;
  // MTP4: heap allocations' sizes and stacks as sites, and times as runs
  // where the page says so.
  const uint32_t flags = get_u32(body + 28);
  if (magic == kPageMagic && (flags & ~kPageTimeRuns) != 0) {
    error = "page has unknown flags " + std::to_string(flags);
    return false;
  }
  const bool time_runs = magic == kPageMagic && (flags & kPageTimeRuns) != 0;
  const bool sites_coded = magic == kPageMagic;
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
  for (uint32_t i = 0; i < n;) {
    if (time_runs) {
      // A run of events at the time before them, then (unless the run ends
      // the page) a step.
      if (!varint::get(&p, end, v)) return truncated("time");
      if (v > n - i)
        return fail("page has a run of " + std::to_string(v) + " unchanged times at event " +
                    std::to_string(i) + ", past its last event");
      for (const uint32_t run_end = i + static_cast<uint32_t>(v); i < run_end; ++i)
        events[i].time_ns = prev;
      if (i == n) break;
    }
    if (!varint::get(&p, end, v)) return truncated("time");
    if (time_runs && v == 0) return fail("page has a time step of 0 at event " + std::to_string(i));
    events[i++].time_ns = prev += static_cast<uint64_t>(varint::unzigzag(v) * int64_t(time_unit));
  }
  // A split column is read through two cursors: the heap allocations'
  // entries from its start, the others' from where those end (found by
  // skipping the first part's entries, which the first cursor then reads:
  // it ends where the second began, and the column where the second ends).
  uint32_t allocations = 0;
  for (uint32_t i = 0; i < n; ++i) allocations += is_heap_allocation(events[i].kind);
  const uint8_t* first_part = p;
  const uint8_t* second_part = p;
  // What a heap allocation's entry in the first part is: one varint, an
  // address (a literal follows tag 0), a site (a size follows a new site),
  // or, in the stack column of a page with sites, nothing for a known site.
  enum class Entries { kPlain, kAddress, kSite, kNewSiteStack };
  uint32_t new_sites = 0;
  auto begin_column = [&](Entries entries) {
    first_part = second_part = p;
    if (!split) return true;
    const uint32_t first_part_entries = entries == Entries::kNewSiteStack ? new_sites : allocations;
    for (uint32_t k = 0; k < first_part_entries; ++k) {
      if (!varint::get(&second_part, end, v)) return false;
      const bool more = (entries == Entries::kAddress && v == kAddressLiteral) ||
                        (entries == Entries::kSite && v == SiteModel::kNewSite);
      if (more && !varint::get(&second_part, end, v)) return false;
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
  StackModel stacks;
  SiteModel sites;
  // With sites, a heap allocation's stack is read from the stack column
  // (a new site) or is that of the event that made its site (site_origin,
  // an earlier event): the site model's order depends on the codes alone.
  // The decoder's site model holds that event in place of the stack.
  std::vector<uint32_t> site_origin(sites_coded ? n : 0);
  if (!begin_column(sites_coded ? Entries::kSite : Entries::kPlain)) return truncated("size");
  for (uint32_t i = 0; i < n; ++i) {
    EventRecord& e = events[i];
    if (sites_coded && is_heap_allocation(e.kind)) {
      if (!get(i, v)) return truncated("size");
      if (v == SiteModel::kNewSite) {
        if (!get(i, e.size)) return truncated("size");
        site_origin[i] = i;
        sites.add(e.size, i);
        ++new_sites;
      } else if (uint32_t origin = 0; sites.decode(v, e.size, origin)) {
        site_origin[i] = origin;
      } else {
        return fail("page names allocation site " + std::to_string(v) +
                    ", which it has not seen, at event " + std::to_string(i));
      }
      continue;
    }
    if (!get(i, size_codes[i])) return truncated("size");
    if (!is_deallocation(e.kind)) e.size = size_codes[i];
  }
  end_column();
  std::vector<uint32_t> reference(n, 0);
  ReuseModel model;
  FreshBlockBase fresh;
  prev = 0;
  if (!begin_column(Entries::kAddress)) return truncated("address");
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
  if (!begin_column(sites_coded ? Entries::kNewSiteStack : Entries::kPlain))
    return truncated("stack");
  for (uint32_t i = 0; i < n; ++i) {
    EventRecord& e = events[i];
    if (sites_coded && is_heap_allocation(e.kind) && site_origin[i] != i) {
      e.stack = events[site_origin[i]].stack;
      stacks.observe(e);
      continue;
    }
    if (!get(i, v)) return truncated("stack");
    if (!stacks.decode(e, v, e.stack))
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
