// Folded stacks: the block replay (block_replay.h) hands every heap block to
// a sink that sums the chosen weight per stack (and scope); the distinct
// stacks are symbolized once at the end and written as sorted lines.
#include "memtide/analysis/folded_export.h"

#include <charconv>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>

#include "block_replay.h"
#include "exports/scope_names.h"
#include "stack_frames.h"

namespace memtide::analysis {

bool parse_folded_weight(const std::string& word, FoldedWeight& out) {
  if (word == "bytes")
    out = FoldedWeight::kBytes;
  else if (word == "count")
    out = FoldedWeight::kCount;
  else if (word == "peak")
    out = FoldedWeight::kPeakBytes;
  else if (word == "leaked")
    out = FoldedWeight::kLeakedBytes;
  else
    return false;
  return true;
}

namespace {

bool is_heap(AllocFamily family) {
  return family == AllocFamily::kMalloc || family == AllocFamily::kNew ||
         family == AllocFamily::kNewArray;
}

// Pass one of --by peak: only the replay's own peak bookkeeping is wanted.
class IgnoreBlocks : public BlockSink {
 public:
  void block(const Block&, const BlockEnd&) override {}
  void unmatched_free(const EventRecord&, int64_t) override {}
  void step(int64_t, const EventRecord&, int64_t, int64_t) override {}
};

// Sums the weight of each heap block under its stack (and scope).
class WeightPerStack : public BlockSink {
 public:
  static constexpr uint64_t kAtEnd = std::numeric_limits<uint64_t>::max();

  WeightPerStack(FoldedWeight weight, bool by_scope, int64_t peak_bytes, uint64_t peak_seq)
      : weight_(weight), by_scope_(by_scope), peak_bytes_(peak_bytes), peak_seq_(peak_seq) {}

  // The event being replayed: a block replaced at its address (its free was
  // lost) ends there, at no free event of its own.
  void set_current_seq(uint64_t seq) { current_seq_ = seq; }

  void block(const Block& block, const BlockEnd& end) override {
    if (!is_heap(block.family)) return;
    const uint64_t weight = weight_of(block, end);
    if (weight == 0) return;
    const uint64_t key = (by_scope_ ? uint64_t(block.scope) << 32 : 0) | block.stack;
    weights_[key] += weight;
  }
  void unmatched_free(const EventRecord&, int64_t) override {}
  void step(int64_t, const EventRecord&, int64_t, int64_t) override {}

  const std::unordered_map<uint64_t, uint64_t>& weights() const { return weights_; }

 private:
  uint64_t weight_of(const Block& block, const BlockEnd& end) const {
    switch (weight_) {
      case FoldedWeight::kBytes:
        return block.size;
      case FoldedWeight::kCount:
        return 1;
      case FoldedWeight::kLeakedBytes:
        return end.freed == nullptr ? block.size : 0;
      case FoldedWeight::kPeakBytes: {
        if (peak_bytes_ <= 0) return 0;
        const uint64_t end_seq = end.freed ? end.freed->seq : current_seq_;
        return block.seq <= peak_seq_ && end_seq > peak_seq_ ? block.size : 0;
      }
    }
    return 0;
  }

  FoldedWeight weight_;
  bool by_scope_;
  int64_t peak_bytes_;
  uint64_t peak_seq_;
  uint64_t current_seq_ = kAtEnd;
  std::unordered_map<uint64_t, uint64_t> weights_;
};

// One frame of a folded line: `;` would split the frame and a newline the
// line, so they (and every other control character) are replaced.
void append_frame(std::string& line, std::string_view name, std::string_view suffix = {}) {
  if (!line.empty()) line += ';';
  if (name.empty()) name = "[unnamed]";
  for (char c : name) {
    if (c == ';')
      line += ':';
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      line += ' ';
    else
      line += c;
  }
  line += suffix;
}

std::string folded_line(uint32_t stack, uint32_t scope, const ScopeNames* scopes,
                        StackFrames& frames) {
  std::string line;
  if (scopes)
    for (const std::string* component : scopes->components(scope)) append_frame(line, *component);
  const std::vector<ReportFrame>& stack_frames = frames.stack(stack);
  if (stack_frames.empty()) append_frame(line, "[no stack]");
  for (auto frame = stack_frames.rbegin(); frame != stack_frames.rend(); ++frame) {
    const std::string_view suffix = frame->inlined ? "_[i]" : "";
    if (frame->function.empty())
      append_frame(line, frame_address_label(*frame), suffix);
    else
      append_frame(line, frame->function, suffix);
  }
  return line;
}

// Replays every event into `replay`, telling `sink` which event is current.
uint64_t replay_trace(const TraceFile& trace, BlockReplay& replay, WeightPerStack* sink) {
  uint64_t events = 0;
  trace.for_each_event([&](const EventRecord& e, int64_t thread_id) {
    ++events;
    if (sink) sink->set_current_seq(e.seq);
    replay.event(e, thread_id);
  });
  if (sink) sink->set_current_seq(WeightPerStack::kAtEnd);
  return events;
}

}  // namespace

FoldedStats write_folded_stacks(const TraceFile& trace, const FoldedOptions& options,
                                std::ostream& out) {
  FoldedStats stats;
  IndexStats peak;
  if (options.weight == FoldedWeight::kPeakBytes) {
    // The peak is known only once the whole trace is read; the second pass
    // then takes the blocks live at that event.
    IgnoreBlocks ignore;
    BlockReplay first(ignore);
    stats.events += replay_trace(trace, first, nullptr);
    peak = first.finish();
  }
  WeightPerStack sink(options.weight, options.with_scopes, peak.peak_heap_bytes, peak.peak_seq);
  BlockReplay replay(sink);
  stats.events += replay_trace(trace, replay, &sink);
  const IndexStats totals = replay.finish();
  stats.peak_heap_bytes = totals.peak_heap_bytes;

  StackFrames frames(trace, {options.search_paths, options.sysroot});
  std::unique_ptr<ScopeNames> scopes;
  if (options.with_scopes) scopes = std::make_unique<ScopeNames>(trace);
  // Distinct stack ids can read the same once symbolized (two call sites of
  // one function): merged, so each line is one distinct stack.
  std::map<std::string, uint64_t> lines;
  for (const auto& [key, weight] : sink.weights())
    lines[folded_line(uint32_t(key), uint32_t(key >> 32), scopes.get(), frames)] += weight;

  std::string text;
  for (const auto& [line, weight] : lines) {
    text.append(line).append(" ").append(std::to_string(weight)).append("\n");
    stats.total_weight += weight;
    if (text.size() >= 64 * 1024) {
      out << text;
      text.clear();
    }
  }
  out << text;
  stats.lines = lines.size();
  stats.missing_modules = frames.missing_modules();
  try {
    frames.save();
  } catch (const TraceError& e) {
    stats.symbol_cache_error = e.what();
  }
  return stats;
}

}  // namespace memtide::analysis
