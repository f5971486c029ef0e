#include "pending_pages.h"

#include <gtest/gtest.h>

#include <vector>

namespace memtide::agent {
namespace {

// Pages as the writer would store them, decoded back.
struct WrittenPage {
  const ThreadRing* ring;
  uint64_t first_seq, last_seq;
  std::vector<EventRecord> events;
};

class RecordingSink : public PageSink {
 public:
  void write_page(const PendingPage& page, const std::vector<uint8_t>& body,
                  size_t body_size) override {
    WrittenPage written{page.ring, page.first_seq, page.last_seq, {}};
    std::string error;
    EXPECT_TRUE(decode_page_body(body.data(), body_size, written.events, error)) << error;
    EXPECT_EQ(written.events.size(), page.count);
    pages.push_back(written);
  }
  void drop_events(uint64_t count) override { dropped += count; }
  std::vector<WrittenPage> pages;
  uint64_t dropped = 0;
};

// Distinct ring identities: PendingPages only compares them.
const ThreadRing* ring(int n) {
  static char rings[4];
  return reinterpret_cast<const ThreadRing*>(&rings[n]);
}

// `n` frees of distinct blocks with consecutive seqs from `seq`, a
// microsecond apart.
std::vector<EventRecord> batch(uint64_t seq, uint32_t n) {
  std::vector<EventRecord> events(n);
  for (uint32_t i = 0; i < n; ++i) {
    events[i].seq = seq + i;
    events[i].time_ns = 1000 * (seq + i);
    events[i].kind = EventKind::kFree;
    events[i].address = 0x10000 + 16 * (seq + i);
  }
  return events;
}

TEST(PendingPages, BatchesOfOneThreadFillAPageThatIsWrittenWhenFull) {
  RecordingSink sink;
  PendingPages pending(sink);
  PendingPage& page = pending.page_for(ring(0));
  pending.add(page, batch(1, 30000), 1000);
  EXPECT_TRUE(sink.pages.empty());
  EXPECT_EQ(PendingPages::room(page), 2768u);
  pending.add(page, batch(30001, 2768), 1000);  // fills it: written at once
  ASSERT_EQ(sink.pages.size(), 1u);
  EXPECT_EQ(sink.pages[0].ring, ring(0));
  EXPECT_EQ(sink.pages[0].first_seq, 1u);
  EXPECT_EQ(sink.pages[0].last_seq, 32768u);
  for (uint32_t i = 0; i < 32768; ++i) ASSERT_EQ(sink.pages[0].events[i].seq, i + 1u) << i;
  EXPECT_EQ(sink.pages[0].events[32767].address, 0x10000u + 16 * 32768);
  // The slot stays the thread's, empty.
  EXPECT_EQ(&pending.page_for(ring(0)), &page);
  EXPECT_EQ(page.count, 0u);
  pending.add(page, batch(32769, 10), 1000);
  pending.write(ring(0));
  ASSERT_EQ(sink.pages.size(), 2u);
  EXPECT_EQ(sink.pages[1].first_seq, 32769u);
  EXPECT_EQ(sink.pages[1].events.size(), 10u);
  EXPECT_EQ(page.ring, nullptr);
  EXPECT_EQ(sink.dropped, 0u);
}

TEST(PendingPages, AThirdThreadWritesTheFullerPageFirst) {
  RecordingSink sink;
  PendingPages pending(sink);
  pending.add(pending.page_for(ring(0)), batch(1, 100), 1000);
  pending.add(pending.page_for(ring(1)), batch(101, 300), 1000);
  EXPECT_TRUE(sink.pages.empty());
  PendingPage& third = pending.page_for(ring(2));
  ASSERT_EQ(sink.pages.size(), 1u);
  EXPECT_EQ(sink.pages[0].ring, ring(1));
  EXPECT_EQ(sink.pages[0].events.size(), 300u);
  EXPECT_EQ(third.ring, ring(2));
  EXPECT_EQ(third.count, 0u);
  // The first thread's page is still pending, and written with its ring.
  pending.write(ring(0));
  ASSERT_EQ(sink.pages.size(), 2u);
  EXPECT_EQ(sink.pages[1].ring, ring(0));
  EXPECT_EQ(sink.pages[1].last_seq, 100u);
  pending.write(ring(3));  // no page: nothing written
  EXPECT_EQ(sink.pages.size(), 2u);
}

// A batch whose times are off the page's unit (the writer's are not) starts
// a page of its own, with unit 1: nothing is lost.
TEST(PendingPages, ABatchOffTheTimeUnitStartsAPageOfItsOwn) {
  RecordingSink sink;
  PendingPages pending(sink);
  PendingPage& page = pending.page_for(ring(0));
  pending.add(page, batch(1, 5), 1000);
  std::vector<EventRecord> odd = batch(6, 5);
  odd[2].time_ns += 1;
  pending.add(page, odd, 1000);
  ASSERT_EQ(sink.pages.size(), 1u);
  EXPECT_EQ(sink.pages[0].events.size(), 5u);
  pending.write(ring(0));
  ASSERT_EQ(sink.pages.size(), 2u);
  EXPECT_EQ(sink.pages[1].events[2].time_ns, odd[2].time_ns);
  EXPECT_EQ(sink.dropped, 0u);
}

}  // namespace
}  // namespace memtide::agent
