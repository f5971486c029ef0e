#include "pending_pages.h"

namespace memtide::agent {

PendingPage& PendingPages::page_for(const ThreadRing* ring) {
  PendingPage* free_slot = nullptr;
  PendingPage* fullest = &slots_[0];
  for (PendingPage& page : slots_) {
    if (page.ring == ring) return page;
    if (page.ring == nullptr && free_slot == nullptr) free_slot = &page;
    if (page.count > fullest->count) fullest = &page;
  }
  if (free_slot == nullptr) {
    write(*fullest);
    free_slot = fullest;
  }
  free_slot->ring = ring;
  return *free_slot;
}

void PendingPages::add(PendingPage& page, std::span<const EventRecord> batch, uint32_t time_unit) {
  if (batch.empty()) return;
  if (page.count == 0) page.encoder.begin(time_unit, kPageEvents);
  if (!page.encoder.add(batch)) {
    // Out of memory for the encoding, or (never with the writer's rounded
    // times) a time off the unit: write what the page holds, and try the
    // batch again as a page of its own, with unit 1.
    const ThreadRing* ring = page.ring;
    write(page);
    page.ring = ring;
    page.encoder.begin(1, kPageEvents);
    if (!page.encoder.add(batch)) {
      sink_.drop_events(batch.size());
      return;
    }
  }
  if (page.count == 0) {
    page.first_seq = batch.front().seq;
    page.first_time_ns = batch.front().time_ns;
  }
  page.last_seq = batch.back().seq;
  page.last_time_ns = batch.back().time_ns;
  page.count += static_cast<uint32_t>(batch.size());
  if (page.count == kPageEvents) {
    const ThreadRing* ring = page.ring;
    write(page);
    page.ring = ring;
  }
}

void PendingPages::write(const ThreadRing* ring) {
  for (PendingPage& page : slots_)
    if (page.ring == ring) write(page);
}

void PendingPages::write(PendingPage& page) {
  if (page.count != 0) sink_.write_page(page, body_, page.encoder.finish(body_));
  page.count = 0;
  page.ring = nullptr;
}

}  // namespace memtide::agent
