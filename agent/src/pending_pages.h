// The writer's pages in the making. The writer takes events from a thread's
// ring in batches and gathers the batches of one thread into one page of up
// to kPageEvents events: a ring stays small (1 MiB per thread by default)
// while pages get large, and a large page costs fewer bytes per event in the
// trace: zstd and the codec's back-references see more of the stream, and a
// page's zstd frame, row header and unfilled last overflow page in SQLite
// are shared by more events. Measured by hand on bench-tiny-new-delete with
// the MTP3 codec (docs/ARCHITECTURE.md, Writer): pages of 32Ki events took
// the trace from 0.71 to 0.53 bytes per event; pages of 64Ki saved 0.02 more
// but made the run a sixth slower: closing a page (compressing it) is a
// pause in draining, and the rings filled up during it.
//
// Each batch is encoded as it arrives, so no copy of a page's events is kept
// and closing a page only compresses it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "memtide_common/event.h"
#include "memtide_common/page_codec.h"

namespace memtide::agent {

struct ThreadRing;

// Events of one thread, drained from its ring and not yet written.
struct PendingPage {
  const ThreadRing* ring = nullptr;  // nullptr: the slot is free
  uint32_t count = 0;
  uint64_t first_seq = 0, first_time_ns = 0, last_seq = 0, last_time_ns = 0;
  PageEncoder encoder;
};

// Where finished pages go: the writer makes each a row of `pages`.
class PageSink {
 public:
  virtual ~PageSink() = default;
  // `body` holds the page's body in its first `body_size` bytes.
  virtual void write_page(const PendingPage& page, const std::vector<uint8_t>& body,
                          size_t body_size) = 0;
  // Events that could not be encoded for want of memory.
  virtual void drop_events(uint64_t count) = 0;
};

class PendingPages {
 public:
  static constexpr uint32_t kPageEvents = 32768;
  // Up to this many threads fill pages at once; a further thread's batch
  // first writes out the fuller page. Each costs up to 1.5 MiB (the
  // encoder's columns, address table and what back-references need).
  static constexpr int kSlots = 2;

  explicit PendingPages(PageSink& sink) : sink_(sink) {}
  PendingPages(const PendingPages&) = delete;
  PendingPages& operator=(const PendingPages&) = delete;

  // The page `ring`'s next batch goes to: its own, a free slot, or the
  // fullest slot's once that page is written.
  PendingPage& page_for(const ThreadRing* ring);
  // Events the page can still take (at least 1).
  static uint32_t room(const PendingPage& page) { return kPageEvents - page.count; }
  // Adds a batch (at most room(page) events, in seq order) just drained from
  // the page's ring, and writes the page once it is full. `time_unit`: every
  // time is a whole number of units apart (the writer rounds them so).
  void add(PendingPage& page, std::span<const EventRecord> batch, uint32_t time_unit);
  // Writes `ring`'s page, if it has one, and frees its slot.
  void write(const ThreadRing* ring);

 private:
  void write(PendingPage& page);

  PageSink& sink_;
  PendingPage slots_[kSlots];
  std::vector<uint8_t> body_;
};

}  // namespace memtide::agent
