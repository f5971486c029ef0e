#include "leak_classifier.h"

namespace memtide::agent {
namespace {

uint64_t hash_line(uint64_t line) {
  return (line * 0x9e3779b97f4a7c15ull) >> 17;
}

}  // namespace

bool LeakClassifier::prepare(const LiveBlock* blocks, size_t count) {
  blocks_ = blocks;
  count_ = count;
  reading_ = -1;
  if (!flags_.resize_zeroed(count)) return false;
  for (size_t i = 0; i < count; ++i) flags_[i] = kUnreached;
  large_.clear();
  stack_.clear();
  lowest_ = count ? blocks[0].address : 0;
  highest_ = 0;
  // Distinct lines: blocks come in address order, so a line shared with the
  // previous block is counted once.
  uint64_t lines = 0, last_counted = UINT64_MAX;
  for (size_t i = 0; i < count; ++i) {
    if (end_of(i) > highest_) highest_ = end_of(i);
    const uint64_t first = blocks[i].address >> kLineShift, last = (end_of(i) - 1) >> kLineShift;
    if (last - first + 1 > kMaxLineSpan) {
      if (!large_.push_back(static_cast<uint32_t>(i))) return false;
      continue;
    }
    lines += last - first + 1 - (first == last_counted ? 1 : 0);
    last_counted = last;
  }
  uint64_t capacity = 1024;
  while (capacity < lines * 2) capacity *= 2;
  lines_.clear();
  if (!lines_.resize_zeroed(capacity)) return false;
  line_mask_ = capacity - 1;
  for (size_t i = 0; i < count; ++i) {
    const uint64_t first = blocks[i].address >> kLineShift, last = (end_of(i) - 1) >> kLineShift;
    if (last - first + 1 > kMaxLineSpan) continue;
    for (uint64_t line = first; line <= last; ++line) insert_line(line, i);
  }
  return true;
}

// Blocks come in address order: the first block stored for a line is the
// lowest one that overlaps it.
bool LeakClassifier::insert_line(uint64_t line, uint64_t block) {
  for (uint64_t i = hash_line(line) & line_mask_;; i = (i + 1) & line_mask_) {
    LineSlot& slot = lines_[i];
    if (slot.line_plus_one == line + 1) return false;
    if (slot.line_plus_one == 0) {
      slot = LineSlot{line + 1, block};
      return true;
    }
  }
}

int64_t LeakClassifier::find_block(uint64_t pointer) const {
  if (pointer < lowest_ || pointer >= highest_) return -1;
  const uint64_t line = pointer >> kLineShift;
  for (uint64_t i = hash_line(line) & line_mask_;; i = (i + 1) & line_mask_) {
    const LineSlot& slot = lines_[i];
    if (slot.line_plus_one == 0) break;
    if (slot.line_plus_one != line + 1) continue;
    for (uint64_t j = slot.first_block; j < count_ && blocks_[j].address <= pointer; ++j)
      if (pointer < end_of(j)) return static_cast<int64_t>(j);
    break;
  }
  // Blocks spanning many lines are not in the map: the last one starting at
  // or below the pointer is the only candidate.
  size_t low = 0, high = large_.size();
  while (low < high) {
    const size_t mid = (low + high) / 2;
    if (blocks_[large_[mid]].address <= pointer)
      low = mid + 1;
    else
      high = mid;
  }
  if (low == 0) return -1;
  const uint32_t candidate = large_[low - 1];
  return pointer < end_of(candidate) ? static_cast<int64_t>(candidate) : -1;
}

void LeakClassifier::reset() {
  for (size_t i = 0; i < count_; ++i) flags_[i] &= kUnreadable;
  stack_.clear();
  reading_ = -1;
}

void LeakClassifier::reach(uint64_t pointer, bool from_definite) {
  const int64_t found = find_block(pointer);
  if (found < 0) return;
  const size_t i = static_cast<size_t>(found);
  bool at_start = pointer == blocks_[i].address;
  if (!at_start) {
    const Interior meaning = interior_meaning(i, pointer);
    if (meaning == Interior::kIgnore) return;
    at_start = meaning == Interior::kStart;
  }
  const uint8_t reached = at_start && from_definite ? kReachable : kPossible;
  const uint8_t now = state(i);
  if (now == kUnreached || (now == kPossible && reached == kReachable)) {
    set_state(i, reached);
    stack_.push_back(static_cast<uint32_t>(i));
  }
}

void LeakClassifier::scan_words(uint64_t begin, uint64_t end, bool from_definite) {
  const uint64_t span = highest_ - lowest_;
  for (uint64_t p = (begin + 7) & ~uint64_t(7); p + 8 <= end; p += 8) {
    const uint64_t value = *reinterpret_cast<const uint64_t*>(p);
    if (value - lowest_ < span) reach(value, from_definite);
  }
}

void LeakClassifier::scan_root_words(const uint64_t* words, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (words[i] - lowest_ < highest_ - lowest_) reach(words[i], true);
}

void LeakClassifier::scan_root_range(uint64_t begin, uint64_t end) {
  if (count_ != 0) scan_words(begin, end, true);
}

void LeakClassifier::flood() {
  while (!stack_.empty()) {
    const uint32_t i = stack_.back();
    stack_.pop_back();
    if (flags_[i] & kUnreadable) continue;
    reading_ = i;
    scan_words(blocks_[i].address, blocks_[i].address + blocks_[i].size, state(i) == kReachable);
    reading_ = -1;
  }
}

void LeakClassifier::scan_for_clique(size_t index, size_t leader) {
  const uint64_t begin = blocks_[index].address, end = begin + blocks_[index].size;
  const uint64_t span = highest_ - lowest_;
  for (uint64_t p = (begin + 7) & ~uint64_t(7); p + 8 <= end; p += 8) {
    const uint64_t value = *reinterpret_cast<const uint64_t*>(p);
    if (value - lowest_ >= span) continue;
    const int64_t found = find_block(value);
    if (found < 0 || static_cast<size_t>(found) == leader || state(found) != kUnreached) continue;
    if (value != blocks_[found].address &&
        interior_meaning(static_cast<size_t>(found), value) == Interior::kIgnore)
      continue;
    set_state(found, kIndirect);
    stack_.push_back(static_cast<uint32_t>(found));
  }
}

void LeakClassifier::classify_unreached() {
  for (size_t leader = 0; leader < count_; ++leader) {
    if (state(leader) != kUnreached) continue;
    stack_.push_back(static_cast<uint32_t>(leader));
    while (!stack_.empty()) {
      const uint32_t i = stack_.back();
      stack_.pop_back();
      if (flags_[i] & kUnreadable) continue;
      reading_ = i;
      scan_for_clique(i, leader);
      reading_ = -1;
    }
  }
}

LeakCategory LeakClassifier::category(size_t index) const {
  switch (state(index)) {
    case kReachable:
      return LeakCategory::kReachable;
    case kPossible:
      return LeakCategory::kPossible;
    case kIndirect:
      return LeakCategory::kIndirect;
    default:
      return LeakCategory::kDefinite;
  }
}

}  // namespace memtide::agent
