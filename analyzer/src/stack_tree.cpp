// Call trees from weighed stacks: each stack's frames walked outermost first
// (top-down) or innermost first (bottom-up) into a trie whose nodes merge
// the frames of one function under one parent, as heaptrack and hotspot do.
#include "memtide/analysis/stack_tree.h"

#include <algorithm>
#include <unordered_map>

#include "stack_frames.h"

namespace memtide::analysis {

namespace {

// What makes two frames one node: the function and its module, or for an
// unsymbolized frame its address; an inlined call stays apart from a real one.
std::string frame_key(const ReportFrame& frame) {
  std::string key = frame.inlined ? "i" : "f";
  if (frame.function.empty()) {
    key += frame.module;
    key += '\0';
    key += std::to_string(frame.module_offset);
  } else {
    key += frame.function;
    key += '\0';
    key += frame.module;
  }
  return key;
}

class TreeBuilder {
 public:
  explicit TreeBuilder(CallTree& tree) : tree_(tree) {}

  void add(const std::vector<ReportFrame>& frames, TreeDirection direction,
           const StackWeight& weight) {
    uint32_t node = CallTreeNode::kNoParent;
    auto visit = [&](const ReportFrame& frame) {
      node = child(node, frame);
      tree_.nodes[node].inclusive += weight.weight;
      tree_.nodes[node].blocks += weight.blocks;
    };
    if (frames.empty()) {
      visit(no_stack_frame());
    } else if (direction == TreeDirection::kTopDown) {
      for (auto f = frames.rbegin(); f != frames.rend(); ++f) visit(*f);
    } else {
      for (const ReportFrame& f : frames) visit(f);
    }
    tree_.nodes[node].self += weight.weight;
    tree_.total += weight.weight;
  }

  // Children and roots largest first (then by label, so equal weights keep
  // one order from run to run), with their rows and depths.
  void finish() {
    auto larger = [this](uint32_t a, uint32_t b) {
      const CallTreeNode &x = tree_.nodes[a], &y = tree_.nodes[b];
      if (x.inclusive != y.inclusive) return x.inclusive > y.inclusive;
      return x.label < y.label;
    };
    std::sort(tree_.roots.begin(), tree_.roots.end(), larger);
    for (CallTreeNode& node : tree_.nodes)
      std::sort(node.children.begin(), node.children.end(), larger);
    for (uint32_t row = 0; row < tree_.roots.size(); ++row) number(tree_.roots[row], row, 0);
  }

 private:
  static const ReportFrame& no_stack_frame() {
    static const ReportFrame frame{"[no stack]", "", 0, "", 0, false};
    return frame;
  }

  uint32_t child(uint32_t parent, const ReportFrame& frame) {
    std::string key = std::to_string(parent) + '\n' + frame_key(frame);
    auto [it, added] = index_.try_emplace(std::move(key), uint32_t(tree_.nodes.size()));
    if (!added) {
      CallTreeNode& node = tree_.nodes[it->second];
      // Call sites at several lines of one function: the file stays, the line goes.
      if (node.frame.line != frame.line) node.frame.line = 0;
      if (node.frame.file != frame.file) node.frame.file.clear();
      return it->second;
    }
    CallTreeNode node;
    node.frame = frame;
    node.label = frame.function.empty() ? frame_address_label(frame) : frame.function;
    node.parent = parent;
    tree_.nodes.push_back(std::move(node));
    if (parent == CallTreeNode::kNoParent)
      tree_.roots.push_back(it->second);
    else
      tree_.nodes[parent].children.push_back(it->second);
    return it->second;
  }

  // Iterative: stacks can be deeper than the thread's stack allows recursion.
  void number(uint32_t root, uint32_t row, uint32_t depth) {
    std::vector<uint32_t> pending{root};
    tree_.nodes[root].row = row;
    tree_.nodes[root].depth = depth;
    while (!pending.empty()) {
      const uint32_t id = pending.back();
      pending.pop_back();
      const CallTreeNode& node = tree_.nodes[id];
      for (uint32_t r = 0; r < node.children.size(); ++r) {
        CallTreeNode& child = tree_.nodes[node.children[r]];
        child.row = r;
        child.depth = node.depth + 1;
        pending.push_back(node.children[r]);
      }
    }
  }

  CallTree& tree_;
  std::unordered_map<std::string, uint32_t> index_;
};

}  // namespace

CallTree build_call_tree(const std::vector<StackWeight>& stacks, const StackFramesOf& frames_of,
                         TreeDirection direction) {
  CallTree tree;
  TreeBuilder builder(tree);
  for (const StackWeight& weight : stacks) builder.add(frames_of(weight.stack), direction, weight);
  builder.finish();
  return tree;
}

StackTrees build_stack_trees(const TraceFile& trace, const StackTreeOptions& options) {
  StackTrees out;
  out.options = options;
  out.weights = weigh_stacks(trace, options);
  StackFrames frames(trace, {options.search_paths, options.sysroot});
  const StackFramesOf frames_of = [&frames](uint32_t stack) -> const std::vector<ReportFrame>& {
    return frames.stack(stack);
  };
  out.top_down = build_call_tree(out.weights.stacks, frames_of, TreeDirection::kTopDown);
  out.bottom_up = build_call_tree(out.weights.stacks, frames_of, TreeDirection::kBottomUp);
  out.missing_modules = frames.missing_modules();
  try {
    frames.save();
  } catch (const TraceError& e) {
    out.symbol_cache_error = e.what();
  }
  return out;
}

}  // namespace memtide::analysis
