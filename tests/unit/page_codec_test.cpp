#include <gtest/gtest.h>

#include <random>

#include "memtide_common/page_codec.h"
#include "memtide_common/varint.h"

namespace memtide {
namespace {

std::vector<EventKind> all_kinds() {
  std::vector<EventKind> kinds;
  for (int v = 0; v < 256; ++v)
    if (is_known_event_kind(static_cast<uint8_t>(v))) kinds.push_back(static_cast<EventKind>(v));
  return kinds;
}

std::vector<EventRecord> random_stream(std::mt19937_64& rng, size_t n) {
  const std::vector<EventKind> kinds = all_kinds();
  std::vector<EventRecord> events(n);
  uint64_t seq = rng() >> 8, time = rng() >> 4;
  for (EventRecord& e : events) {
    e = EventRecord{};
    seq += 1 + rng() % 50;
    time += rng() % 100000;
    e.seq = seq;
    e.time_ns = time;
    // Mix nearby addresses, far ones and extremes so deltas take every sign and width.
    switch (rng() % 4) {
      case 0:
        e.address = 0x7f0000000000ull + (rng() % 4096) * 16;
        break;
      case 1:
        e.address = rng();
        break;
      case 2:
        e.address = 0;
        break;
      default:
        e.address = UINT64_MAX - rng() % 7;
        break;
    }
    e.size = rng() % 3 == 0 ? rng() : rng() % 1024;
    e.aux = rng() % 5 == 0 ? rng() : 0;
    e.stack = static_cast<uint32_t>(rng());
    e.scope = static_cast<uint32_t>(rng() % 100);
    e.kind = kinds[rng() % kinds.size()];
  }
  return events;
}

bool same(const EventRecord& a, const EventRecord& b) {
  return a.seq == b.seq && a.time_ns == b.time_ns && a.address == b.address && a.size == b.size &&
         a.aux == b.aux && a.stack == b.stack && a.scope == b.scope && a.kind == b.kind;
}

TEST(Varint, RoundTripsBoundaries) {
  for (uint64_t v :
       std::initializer_list<uint64_t>{0, 1, 127, 128, 16383, 16384, 1ull << 63, UINT64_MAX}) {
    uint8_t buffer[varint::kMaxBytes];
    size_t n = varint::put(buffer, v);
    const uint8_t* cursor = buffer;
    uint64_t back = 0;
    ASSERT_TRUE(varint::get(&cursor, buffer + n, back));
    EXPECT_EQ(back, v);
    EXPECT_EQ(cursor, buffer + n);
  }
  for (int64_t v : std::initializer_list<int64_t>{0, -1, 1, INT64_MIN, INT64_MAX})
    EXPECT_EQ(varint::unzigzag(varint::zigzag(v)), v);
}

TEST(Varint, RejectsTruncatedInput) {
  uint8_t buffer[2] = {0x80, 0x80};
  const uint8_t* cursor = buffer;
  uint64_t v;
  EXPECT_FALSE(varint::get(&cursor, buffer + 2, v));
}

TEST(PageCodec, RoundTripsRandomStreams) {
  std::mt19937_64 rng(20261127);
  for (size_t n : {1u, 2u, 17u, 1000u, 8192u}) {
    std::vector<EventRecord> events = random_stream(rng, n);
    std::vector<uint8_t> body, blob;
    size_t body_size = encode_page_body(events, body);
    ASSERT_TRUE(compress_page(body, body_size, 3, blob));
    std::vector<EventRecord> decoded;
    std::string error;
    ASSERT_TRUE(
        decode_stored_page(kPageEncodingZstd, blob.data(), blob.size(), body_size, decoded, error))
        << error;
    ASSERT_EQ(decoded.size(), n);
    for (size_t i = 0; i < n; ++i) ASSERT_TRUE(same(decoded[i], events[i])) << "event " << i;
  }
}

TEST(PageCodec, HeaderLayoutIsAsDocumented) {
  EventRecord e{};
  e.seq = 0x0102030405060708ull;
  e.time_ns = 0x1112131415161718ull;
  e.kind = EventKind::kMalloc;
  e.address = 0x40;
  e.size = 200;
  std::vector<uint8_t> body;
  size_t size = encode_page_body({&e, 1}, body);
  // 32-byte header, kind byte, seq, time, site (new: tag, size), address tag
  // + literal, the new site's stack code, scope, aux
  ASSERT_EQ(size, 32u + 1 + 1 + 1 + (1 + 2) + (1 + 2) + 1 + 1 + 1);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(body.data()), 4), "MTP4");
  EXPECT_EQ(body[4], 1);
  EXPECT_EQ(body[8], 0x08);
  EXPECT_EQ(body[15], 0x01);
  EXPECT_EQ(body[16], 0x18);
  EXPECT_EQ(body[24], 1);     // time unit 1
  EXPECT_EQ(body[28], 1);     // flags: the time column holds runs
  EXPECT_EQ(body[32], 1);     // kMalloc
  EXPECT_EQ(body[33], 0);     // seq delta from base
  EXPECT_EQ(body[34], 1);     // time: a run of one event at the base time
  EXPECT_EQ(body[35], 0);     // a new allocation site
  EXPECT_EQ(body[36], 0xc8);  // size 200 = 0xc8 0x01
  EXPECT_EQ(body[37], 0x01);
  EXPECT_EQ(body[38], 0);     // address: a literal follows
  EXPECT_EQ(body[39], 0x80);  // zigzag(0x40) = 0x80 -> two varint bytes
  EXPECT_EQ(body[40], 0x01);
  EXPECT_EQ(body[41], 1);  // the new site's stack code: nothing predicted, stack id 0 + 1
}

TEST(PageCodec, RepeatedAddressesBecomeBackReferences) {
  // A loop that frees the block it allocated 4 events earlier, with the
  // allocator handing the same few addresses back: every address after the
  // first few is a back-reference, and the page round-trips exactly.
  std::vector<EventRecord> events;
  uint64_t seq = 100, time = 5000;
  for (int i = 0; i < 4000; ++i) {
    EventRecord e{};
    e.seq = seq++;
    time += 1000 * (i % 3);
    e.time_ns = time;
    e.kind = i % 2 ? EventKind::kFree : EventKind::kMalloc;
    e.address = 0x5000 + 0x40 * ((i / 2) % 5);
    e.size = e.kind == EventKind::kMalloc ? 24 : 0;
    events.push_back(e);
  }
  PageEncoder encoder;
  std::vector<uint8_t> body;
  size_t size = encoder.encode(events, 1000, body);
  // One byte per column per event, the time column aside: there, two of
  // every three events take a step, two bytes each (the run before it and
  // the step). Only the five distinct addresses are literals.
  EXPECT_LE(size, 32 + events.size() * 7 + events.size() * 4 / 3 + 2 + 5 * 4);
  std::vector<EventRecord> decoded;
  std::string error;
  ASSERT_TRUE(decode_page_body(body.data(), size, decoded, error)) << error;
  ASSERT_EQ(decoded.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) ASSERT_TRUE(same(decoded[i], events[i])) << i;
  // The same encoder serves the next page with a fresh table.
  size = encoder.encode({events.data() + 7, 100}, 1000, body);
  decoded.clear();
  ASSERT_TRUE(decode_page_body(body.data(), size, decoded, error)) << error;
  for (size_t i = 0; i < 100; ++i) ASSERT_TRUE(same(decoded[i], events[i + 7])) << i;
}

TEST(PageCodec, AllocationReusingAFreedBlockOfItsClassCostsOneByte) {
  auto event = [](uint64_t seq, EventKind kind, uint64_t address, uint64_t size) {
    EventRecord e{};
    e.seq = seq;
    e.kind = kind;
    e.address = address;
    e.size = size;
    return e;
  };
  const std::vector<EventRecord> events = {
      event(1, EventKind::kMalloc, 0x1000, 24),   event(2, EventKind::kMalloc, 0x2000, 100),
      event(3, EventKind::kFree, 0x1000, 0),       // back-reference, block class of 24
      event(4, EventKind::kMalloc, 0x1000, 20),    // same class as 24: predicted reuse
      event(5, EventKind::kDelete, 0x2000, 100),   // sized delete: size by reference
      event(6, EventKind::kNew, 0x2000, 104),      // classes of 100 and 104 agree
      event(7, EventKind::kMunmap, 0x9000, 4096),  // a literal size for a deallocation
  };
  PageEncoder encoder;
  std::vector<uint8_t> body;
  size_t size = encoder.encode(events, 1, body);
  // The size column after header, kinds, seq and time (one run of 7 events
  // at time 0), the heap allocations' entries first: four new sites (tag 0
  // and size) of 24, 100, 20, 104; then the others': code 0 (free), code 1
  // (as referenced), 4096 + 2.
  const std::vector<uint8_t> sizes = {0, 24, 0, 100, 0, 20, 0, 104, 0, 1, 0x82, 0x20};
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + 47, body.begin() + 59), sizes);
  // The address column, the allocations' first: two literals, reuse (tag 1),
  // reuse (tag 1); then the others': back-reference 2 (tag 3),
  // back-reference 3 (tag 4) and a literal. The second literal is relative to
  // where the first block ends (0x1000 + 32): zigzag(0x2000 - 0x1020) = 0x1fc0.
  const std::vector<uint8_t> addresses = {0, 0x80, 0x40, 0, 0xc0, 0x3f, 1, 1, 3, 4, 0};
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + 59, body.begin() + 70), addresses);
  // After the munmap's literal (zigzag(0x9000 - 0x2000), 3 bytes), the stack
  // column: the four new sites' codes (stack 0 + 1), then the others' stacks.
  const std::vector<uint8_t> stacks = {1, 1, 1, 1, 0, 0, 0};
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + 73, body.begin() + 80), stacks);
  std::vector<EventRecord> decoded;
  std::string error;
  ASSERT_TRUE(decode_page_body(body.data(), size, decoded, error)) << error;
  for (size_t i = 0; i < events.size(); ++i) EXPECT_TRUE(same(decoded[i], events[i])) << i;
}

// Blocks carved one after another from fresh heap memory (glibc: size + 8
// rounded up to 16) cost one byte of address each after the first.
TEST(PageCodec, FreshBlocksCarvedInARowCostOneAddressByte) {
  std::vector<EventRecord> events;
  uint64_t address = 0x55555555a000ull;
  for (uint64_t i = 0; i < 4; ++i) {
    EventRecord e{};
    e.seq = i + 1;
    e.kind = EventKind::kMalloc;
    e.address = address;
    e.size = 40 + 16 * i;  // chunks of 48, 64, 80, 96 bytes
    events.push_back(e);
    address += (e.size + 8 + 15) / 16 * 16;
  }
  PageEncoder encoder;
  std::vector<uint8_t> body;
  const size_t size = encoder.encode(events, 1, body);
  // After the header, 4 kinds, 4 seq, 1 time (a run of 4 at time 0) and 4
  // new sites of 2 bytes: the first literal in full (7 varint bytes), then
  // zigzag(0) for each of the others.
  const size_t column = 32 + 4 + 4 + 1 + 4 * 2;
  EXPECT_EQ(body[column], 0);
  const std::vector<uint8_t> rest = {0, 0, 0, 0, 0, 0};
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + column + 8, body.begin() + column + 14), rest);
  std::vector<EventRecord> decoded;
  std::string error;
  ASSERT_TRUE(decode_page_body(body.data(), size, decoded, error)) << error;
  for (size_t i = 0; i < events.size(); ++i) EXPECT_TRUE(same(decoded[i], events[i])) << i;
}

// Traces written before MTP2 keep decoding: in an MTP1 body every address
// literal is relative to the previous literal, allocations included.
TEST(PageCodec, Mtp1BodiesStillDecode) {
  const std::vector<uint8_t> body = {
      'M', 'T',  'P',  '1',  2, 0, 0, 0,  // magic, 2 events
      7,   0,    0,    0,    0, 0, 0, 0,  // base seq 7
      0,   0,    0,    0,    0, 0, 0, 0,  // base time 0
      1,   0,    0,    0,    0, 0, 0, 0,  // time unit 1, reserved
      1,   1,                             // kinds: malloc, malloc
      0,   1,                             // seq deltas
      0,   0,                             // time deltas
      64,  64,                            // sizes
      0,   0x80, 0x80, 0x08,              // literal zigzag(0x10000) from 0
      0,   0x80, 0x80, 0x08,              // literal zigzag(0x10000) from the previous literal
      1,   1,                             // stacks: id 0 each (code id + 1)
      0,   0,                             // scopes
      0,   0};                            // aux
  std::vector<EventRecord> decoded;
  std::string error;
  ASSERT_TRUE(decode_page_body(body.data(), body.size(), decoded, error)) << error;
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].address, 0x10000u);
  EXPECT_EQ(decoded[1].address, 0x20000u);
  EXPECT_EQ(decoded[1].seq, 8u);
  EXPECT_EQ(decoded[1].size, 64u);
}

// The events of AllocationReusingAFreedBlockOfItsClassCostsOneByte, with
// time unit 1000, one event per microsecond and stacks 5 6 0 5 7 6 8, as an
// older encoder wrote them into `body`, decode exactly.
void expect_reference_page(const std::vector<uint8_t>& body) {
  std::vector<EventRecord> decoded;
  std::string error;
  ASSERT_TRUE(decode_page_body(body.data(), body.size(), decoded, error)) << error;
  ASSERT_EQ(decoded.size(), 7u);
  const uint64_t addresses[] = {0x1000, 0x2000, 0x1000, 0x1000, 0x2000, 0x2000, 0x9000};
  const uint64_t sizes[] = {24, 100, 0, 20, 100, 104, 4096};
  const uint32_t stacks[] = {5, 6, 0, 5, 7, 6, 8};
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(decoded[i].seq, i + 1) << i;
    EXPECT_EQ(decoded[i].time_ns, 1000 * (i + 1)) << i;
    EXPECT_EQ(decoded[i].address, addresses[i]) << i;
    EXPECT_EQ(decoded[i].size, sizes[i]) << i;
    EXPECT_EQ(decoded[i].stack, stacks[i]) << i;
  }
  EXPECT_EQ(decoded[6].kind, EventKind::kMunmap);
}

// Traces written before MTP3 keep decoding: an MTP2 body has its size,
// address and stack columns in event order. This one was written by the MTP2
// encoder for the events of AllocationReusingAFreedBlockOfItsClassCostsOneByte
// (time unit 1000, one event per microsecond, stacks 5 6 0 5 7 6 8).
TEST(PageCodec, Mtp2BodiesStillDecode) {
  const std::vector<uint8_t> body = {
      77,  84,  80, 50, 7,  0,  0,   0, 1,   0,   0,   0,   0,  0, 0,   0,  //
      232, 3,   0,  0,  0,  0,  0,   0, 232, 3,   0,   0,   0,  0, 0,   0,  //
      1,   1,   32, 1,  33, 10, 49,  0, 1,   1,   1,   1,   1,  1, 0,   2,  //
      2,   2,   2,  2,  2,  24, 100, 0, 20,  1,   104, 130, 32, 0, 128, 64,
      0,   192, 63, 3,  1,  4,  1,   0, 128, 192, 3,   6,   7,  0, 6,   7,  //
      7,   8,   0,  0,  0,  0,  0,   0, 0,   0,   0,   0,   0,  0, 0,   0};
  expect_reference_page(body);
}

// A program allocates from a few sites in turn: an allocation from one of
// the 16 latest (size, stack) pairs costs one code for both, its rank.
TEST(PageCodec, RecentAllocationSitesCostOneCode) {
  struct Site {
    uint64_t size;
    uint32_t stack;
  };
  const Site a{16, 3}, b{48, 4}, c{16, 5};
  const Site order[] = {a, b, c, a, a, b};
  std::vector<EventRecord> events;
  for (const Site& site : order) {
    EventRecord e{};
    e.seq = events.size() + 1;
    e.kind = EventKind::kNew;
    e.address = 0x1000 + 0x100 * events.size();
    e.size = site.size;
    e.stack = site.stack;
    events.push_back(e);
  }
  PageEncoder encoder;
  std::vector<uint8_t> body;
  const size_t size = encoder.encode(events, 1, body);
  // After the header, 6 kinds, 6 seq, 1 time: three new sites (tag 0 and
  // size), then a by rank 3, a by rank 1, b by rank 3.
  const std::vector<uint8_t> sites = {0, 16, 0, 48, 0, 16, 3, 1, 3};
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + 45, body.begin() + 54), sites);
  // After six address literals of 3 bytes, the stack column holds the new
  // sites' stack codes only: id + 1, as no earlier allocation of the size
  // had the same stack.
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + 72, body.begin() + 75),
            std::vector<uint8_t>({4, 5, 6}));
  EXPECT_EQ(size, 75u + 6 + 6);  // scopes and aux
  std::vector<EventRecord> decoded;
  std::string error;
  ASSERT_TRUE(decode_page_body(body.data(), size, decoded, error)) << error;
  for (size_t i = 0; i < events.size(); ++i) EXPECT_TRUE(same(decoded[i], events[i])) << i;
  // A rank past the sites seen so far is corrupt.
  body[51] = 4;
  decoded.clear();
  EXPECT_FALSE(decode_page_body(body.data(), size, decoded, error));
  EXPECT_NE(error.find("allocation site 4, which it has not seen, at event 3"), std::string::npos)
      << error;
}

// Traces written before MTP4 keep decoding: an MTP3 body has a time delta
// per event. This one was written by the MTP3 encoder for the same events as
// Mtp2BodiesStillDecode.
TEST(PageCodec, Mtp3BodiesStillDecode) {
  const std::vector<uint8_t> body = {
      77,  84,  80, 51, 7,  0,  0,   0,  1,   0,   0, 0,   0,  0, 0,   0,   //
      232, 3,   0,  0,  0,  0,  0,   0,  232, 3,   0, 0,   0,  0, 0,   0,   //
      1,   1,   32, 1,  33, 10, 49,  0,  1,   1,   1, 1,   1,  1, 0,   2,   //
      2,   2,   2,  2,  2,  24, 100, 20, 104, 0,   1, 130, 32, 0, 128, 64,  //
      0,   192, 63, 1,  1,  3,  4,   0,  128, 192, 3, 6,   7,  6, 7,   0,   //
      7,   8,   0,  0,  0,  0,  0,   0,  0,   0,   0, 0,   0,  0, 0,   0};
  expect_reference_page(body);
}

// Events come faster than the time unit: the time column stores runs of
// events at an unchanged time and the steps between them.
TEST(PageCodec, TimeColumnStoresRunsOfUnchangedTimes) {
  const int64_t steps[] = {0, 0, 0, 2, -1, 0, 0, 1, 0, 0};  // units of 1000 ns
  std::vector<EventRecord> events;
  uint64_t time = 50000;
  for (size_t i = 0; i < std::size(steps); ++i) {
    EventRecord e{};
    e.seq = i + 1;
    e.kind = EventKind::kMunmap;
    time += static_cast<uint64_t>(steps[i] * 1000);
    e.time_ns = time;
    events.push_back(e);
  }
  PageEncoder encoder;
  std::vector<uint8_t> body;
  const size_t size = encoder.encode(events, 1000, body);
  // Header, 10 kinds, 10 seq deltas; then: a run of 3, step zz(2) = 4, a run
  // of 0, step zz(-1) = 1, a run of 2, step zz(1) = 2, and the last run of 2.
  const std::vector<uint8_t> column = {3, 4, 0, 1, 2, 2, 2};
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + 52, body.begin() + 59), column);
  std::vector<EventRecord> decoded;
  std::string error;
  ASSERT_TRUE(decode_page_body(body.data(), size, decoded, error)) << error;
  ASSERT_EQ(decoded.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_TRUE(same(decoded[i], events[i])) << i;
  // A page that ends on a step has no last run.
  size_t shorter = encoder.encode({events.data(), 8}, 1000, body);
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + 48, body.begin() + 54),
            std::vector<uint8_t>({3, 4, 0, 1, 2, 2}));
  decoded.clear();
  ASSERT_TRUE(decode_page_body(body.data(), shorter, decoded, error)) << error;
  EXPECT_EQ(decoded[7].time_ns, events[7].time_ns);
  // A run past the page's last event is corrupt.
  body[48] = 9;
  decoded.clear();
  EXPECT_FALSE(decode_page_body(body.data(), shorter, decoded, error));
  EXPECT_NE(error.find("past its last event"), std::string::npos) << error;
}

// A page where every event takes a time step keeps a zz step per event
// (header flag 0), which is shorter than a run of 0 before every step.
TEST(PageCodec, TimeColumnKeepsStepsWhereRunsWouldBeLonger) {
  std::vector<EventRecord> events;
  for (uint32_t i = 0; i < 5; ++i) {
    EventRecord e{};
    e.seq = i + 1;
    e.kind = EventKind::kMunmap;
    e.time_ns = 7000 + 3000 * i;
    events.push_back(e);
  }
  PageEncoder encoder;
  std::vector<uint8_t> body;
  const size_t size = encoder.encode(events, 1000, body);
  EXPECT_EQ(body[28], 0);  // flags: steps, not runs
  // After the header, 5 kinds and 5 seq deltas: 0, then zz(3) = 6 four times.
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + 42, body.begin() + 47),
            std::vector<uint8_t>({0, 6, 6, 6, 6}));
  std::vector<EventRecord> decoded;
  std::string error;
  ASSERT_TRUE(decode_page_body(body.data(), size, decoded, error)) << error;
  for (size_t i = 0; i < events.size(); ++i) EXPECT_TRUE(same(decoded[i], events[i])) << i;
  body[28] = 4;  // a flag this memtide does not know
  EXPECT_FALSE(decode_page_body(body.data(), size, decoded, error));
  EXPECT_NE(error.find("unknown flags 4"), std::string::npos) << error;
}

// The writer encodes a page a batch at a time and keeps no copy of the
// events; the body is the same as one encoded whole, and back-references
// reach events of earlier batches.
TEST(PageCodec, EncodingInBatchesEqualsEncodingWhole) {
  std::mt19937_64 rng(99);
  std::vector<EventRecord> events = random_stream(rng, 5000);
  for (EventRecord& e : events) e.time_ns -= e.time_ns % 1000;
  PageEncoder whole, batched;
  std::vector<uint8_t> expected, body;
  const size_t expected_size = whole.encode(events, 1000, expected);
  batched.begin(1000, 5000);
  for (uint32_t from = 0; from < events.size();) {
    const uint32_t to = std::min<uint32_t>(from + 1 + static_cast<uint32_t>(rng() % 900), 5000);
    // Each batch from a buffer of its own, overwritten once added.
    std::vector<EventRecord> batch(events.begin() + from, events.begin() + to);
    ASSERT_TRUE(batched.add(batch));
    std::fill(batch.begin(), batch.end(), EventRecord{});
    from = to;
  }
  EXPECT_EQ(batched.added(), 5000u);
  EXPECT_FALSE(batched.add({events.data(), 1}));  // past max_events
  const size_t size = batched.finish(body);
  ASSERT_EQ(size, expected_size);
  EXPECT_TRUE(std::equal(body.begin(), body.begin() + size, expected.begin()));
  EXPECT_EQ(body[24], 232);  // the time unit, 1000, held: every delta is a multiple
}

// A batch with a time off the page's unit is refused whole; the page so far
// is intact.
TEST(PageCodec, BatchWithATimeOffTheUnitIsRefused) {
  std::vector<EventRecord> events(4);
  for (uint32_t i = 0; i < 4; ++i) {
    events[i].seq = i + 1;
    events[i].kind = EventKind::kMunmap;
    events[i].time_ns = 1000 * (i + 1);
  }
  events[3].time_ns = 3500;
  PageEncoder encoder;
  encoder.begin(1000, 8);
  ASSERT_TRUE(encoder.add({events.data(), 2}));
  EXPECT_FALSE(encoder.add({events.data() + 2, 2}));
  EXPECT_EQ(encoder.added(), 2u);
  std::vector<uint8_t> body;
  const size_t size = encoder.finish(body);
  std::vector<EventRecord> decoded;
  std::string error;
  ASSERT_TRUE(decode_page_body(body.data(), size, decoded, error)) << error;
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[1].time_ns, 2000u);
}

TEST(PageCodec, TimeUnitFallsBackWhenDeltasAreNotMultiples) {
  std::vector<EventRecord> events(3);
  for (int i = 0; i < 3; ++i) {
    events[i].seq = i;
    events[i].kind = EventKind::kMalloc;
  }
  events[0].time_ns = 1000;
  events[1].time_ns = 3000;
  events[2].time_ns = 3500;  // not a multiple of 1000 apart
  PageEncoder encoder;
  std::vector<uint8_t> body;
  size_t size = encoder.encode(events, 1000, body);
  EXPECT_EQ(body[24], 1);
  std::vector<EventRecord> decoded;
  std::string error;
  ASSERT_TRUE(decode_page_body(body.data(), size, decoded, error)) << error;
  EXPECT_EQ(decoded[2].time_ns, 3500u);
}

TEST(PageCodec, RejectsCorruptBodies) {
  std::mt19937_64 rng(7);
  std::vector<EventRecord> events = random_stream(rng, 100);
  std::vector<uint8_t> body;
  size_t size = encode_page_body(events, body);
  std::vector<EventRecord> out;
  std::string error;
  EXPECT_FALSE(decode_page_body(body.data(), size - 3, out, error));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  EXPECT_TRUE(out.empty());
  std::vector<uint8_t> bad(body.begin(), body.begin() + size);
  bad[0] = 'X';
  EXPECT_FALSE(decode_page_body(bad.data(), bad.size(), out, error));
  EXPECT_NE(error.find("magic"), std::string::npos);
  bad[0] = 'M';
  bad[32] = 0xee;  // an unknown kind byte
  EXPECT_FALSE(decode_page_body(bad.data(), bad.size(), out, error));
  EXPECT_NE(error.find("unknown event kind 238"), std::string::npos) << error;
  EXPECT_FALSE(decode_stored_page(kPageEncodingZstd, body.data(), size, size, out, error));
  EXPECT_NE(error.find("zstd"), std::string::npos) << error;
  EXPECT_FALSE(decode_stored_page(9, body.data(), size, size, out, error));
  EXPECT_NE(error.find("encoding 9"), std::string::npos) << error;
}

}  // namespace
}  // namespace memtide
