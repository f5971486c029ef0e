#include "live_layout.h"

namespace memtide::analysis {

LiveLayout::LiveLayout()
    : spaces_{Blocks(&nodes_), Blocks(&nodes_), Blocks(&nodes_), Blocks(&nodes_)} {}

const LiveBlock* LiveLayout::find(Space space, uint64_t address) const {
  auto it = spaces_[space].find(address);
  return it == spaces_[space].end() ? nullptr : &it->second;
}

LiveLayout::Blocks::const_iterator LiveLayout::containing(Space space, uint64_t address) const {
  const Blocks& blocks = spaces_[space];
  auto it = blocks.upper_bound(address);
  if (it == blocks.begin()) return blocks.end();
  --it;
  return address - it->first < it->second.size ? it : blocks.end();
}

size_t LiveLayout::live_blocks() const {
  size_t n = 0;
  for (const Blocks& b : spaces_) n += b.size();
  return n;
}

std::optional<LiveBlock> LiveLayout::put(Space space, uint64_t address, const LiveBlock& block) {
  auto [it, inserted] = spaces_[space].try_emplace(address, block);
  if (logging_) log_.push_back({space, !inserted, true, address, it->second, block});
  if (inserted) return std::nullopt;
  const LiveBlock replaced = it->second;
  it->second = block;
  return replaced;
}

std::optional<LiveBlock> LiveLayout::take(Space space, uint64_t address) {
  Blocks& blocks = spaces_[space];
  auto it = blocks.find(address);
  if (it == blocks.end()) return std::nullopt;
  const LiveBlock taken = it->second;
  if (logging_) log_.push_back({space, true, false, address, taken, {}});
  blocks.erase(it);
  return taken;
}

void LiveLayout::start_log() {
  log_.clear();
  logging_ = true;
}

void LiveLayout::stop_log() {
  log_.clear();
  log_.shrink_to_fit();
  logging_ = false;
}

void LiveLayout::apply(Space space, uint64_t address, bool present, const LiveBlock& block) {
  if (present)
    spaces_[space].insert_or_assign(address, block);
  else
    spaces_[space].erase(address);
}

void LiveLayout::undo() {
  for (auto c = log_.rbegin(); c != log_.rend(); ++c)
    apply(c->space, c->address, c->had_before, c->before);
}

void LiveLayout::redo() {
  for (const Change& c : log_) apply(c.space, c.address, c.has_after, c.after);
}

}  // namespace memtide::analysis
